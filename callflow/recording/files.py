"""What a finished recording's file holds: size, duration, checksum.

Asterisk writes the file; callflow only reads it once it is finished (in a
worker thread: a long call's file is megabytes). A file that is not there
or not a WAV Asterisk could have written is reported as such.
"""

from __future__ import annotations

import hashlib
import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileFacts:
    size: int
    duration: float  # seconds of audio
    channels: int
    sha256: str


class FileProblem(Exception):
    """The file is missing or unreadable; the message says which and where."""


def inspect(path: Path) -> FileFacts:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileProblem(f"{path} is missing") from None
    except OSError as error:
        raise FileProblem(f"{path} cannot be read: {error.strerror}") from None
    try:
        with wave.open(str(path), "rb") as audio:
            frames, rate, channels = audio.getnframes(), audio.getframerate(), audio.getnchannels()
    except (wave.Error, EOFError, OSError) as error:
        raise FileProblem(f"{path} is not a readable WAV file ({error})") from None
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return FileFacts(size, frames / rate if rate else 0.0, channels, digest.hexdigest())


WAV_HEADER = 44  # bytes before the audio in the WAV files Asterisk writes


def closed(path: Path) -> bool:
    """Whether the writer has finished the file: Asterisk writes a WAV's
    length into its header only when it closes it."""
    try:
        size = path.stat().st_size
        with wave.open(str(path), "rb") as audio:
            data = audio.getnframes() * audio.getsampwidth() * audio.getnchannels()
    except (OSError, wave.Error, EOFError):
        return False
    return data == size - WAV_HEADER


def matches(path: Path, sha256: str) -> bool:
    """Whether the file is still the one that was recorded."""
    try:
        return inspect(path).sha256 == sha256
    except FileProblem:
        return False
