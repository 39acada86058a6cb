"""The in-memory PBX's call recordings (Asterisk's MixMonitor): a channel's
audio under a name (and each direction alone), muted, stopped, ended by the
hang-up. With ``recordings_dir`` set, an ended recording leaves silent WAVs
as long as the (virtual) time it ran — muted time included, as Asterisk
writes silence then — so the features' file handling runs as on Asterisk's
files."""

from __future__ import annotations

import asyncio
import wave
from dataclasses import dataclass
from pathlib import Path

from callflow.telephony.memory_model import MemChannel
from callflow.telephony.port import NotFound


@dataclass
class MemRecording:
    channel_id: str
    files: list[str]  # the mixed one first, then said / heard
    started: float
    muted: bool = False


class MemoryRecordings:
    """Mixed into ``MemoryPbx``; the attributes below are its."""

    channels: dict[str, MemChannel]
    recordings_dir: Path | None
    live: dict[str, MemRecording]  # by channel id

    def now(self) -> float:  # MemoryPbx's
        raise NotImplementedError

    async def _command(self, operation: str, *detail: str) -> None:  # MemoryPbx's
        raise NotImplementedError

    def _recorded(self, channel_id: str, operation: str) -> MemChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise NotFound(operation, 404, f"Channel not found: {channel_id}")
        return channel

    async def record_call(
        self, channel_id: str, name: str, *, said: str | None = None, heard: str | None = None
    ) -> None:
        await self._command("record_call", channel_id, name)
        self._recorded(channel_id, "record_call")
        files = [name, *(f for f in (said, heard) if f is not None)]
        self.live[channel_id] = MemRecording(channel_id, files, self.now())

    async def mute_call_recording(self, channel_id: str, muted: bool) -> None:
        await self._command("mute_call_recording", channel_id, str(muted))
        self._recorded(channel_id, "mute_call_recording")
        recording = self.live.get(channel_id)
        if recording is not None:  # none: nothing to mute (Asterisk says Success)
            recording.muted = muted

    async def stop_call_recording(self, channel_id: str) -> bool:
        await self._command("stop_call_recording", channel_id)
        if channel_id not in self.channels or channel_id not in self.live:
            return False
        await self._end(channel_id)
        return True

    async def _recording_gone(self, channel_id: str) -> None:
        """A channel gone: its recording ends with it, files closed."""
        if channel_id in self.live:
            await self._end(channel_id)

    async def _end(self, channel_id: str) -> None:
        recording = self.live.pop(channel_id)
        if self.recordings_dir is not None:
            seconds = max(0.0, self.now() - recording.started)
            for name in recording.files:
                await asyncio.to_thread(_silence, self.recordings_dir / f"{name}.wav", seconds)


def _silence(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))
