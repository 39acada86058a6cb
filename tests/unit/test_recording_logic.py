from __future__ import annotations

import wave
from pathlib import Path

import pytest

from callflow.fsm import InvalidTransition
from callflow.recording.files import FileProblem, closed, inspect, matches
from callflow.recording.state import (
    Policy,
    SegmentEvent,
    SegmentState,
    segment_machine,
    starts_recording,
)


def test_a_segment_pauses_resumes_stops_and_is_done_once_asterisk_finished_it() -> None:
    machine = segment_machine("x")
    assert machine.fire(SegmentEvent.PAUSE) is SegmentState.PAUSED
    assert machine.fire(SegmentEvent.RESUME) is SegmentState.RECORDING
    assert machine.fire(SegmentEvent.STOP) is SegmentState.STOPPING
    assert machine.fire(SegmentEvent.FINISHED) is SegmentState.DONE
    with pytest.raises(InvalidTransition):
        machine.fire(SegmentEvent.PAUSE)


def test_a_paused_segment_ended_by_a_hang_up_is_done() -> None:
    machine = segment_machine("x", SegmentState.PAUSED)
    assert machine.fire(SegmentEvent.FINISHED) is SegmentState.DONE


def test_a_file_is_closed_only_once_its_header_counts_all_its_audio(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    assert not closed(path)  # not there yet
    _wav(path, 1.0)
    assert closed(path)
    with path.open("ab") as more:  # Asterisk still writing: the header lags
        more.write(b"\0\0" * 800)
    assert not closed(path)


def test_always_records_on_demand_only_when_asked_and_never_never() -> None:
    assert starts_recording(Policy.ALWAYS, asked=False)
    assert not starts_recording(Policy.ON_DEMAND, asked=False)
    assert starts_recording(Policy.ON_DEMAND, asked=True)
    assert not starts_recording(Policy.NEVER, asked=True)


def _wav(path: Path, seconds: float, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * channels * int(8000 * seconds))


def test_a_files_size_duration_channels_and_checksum_are_read_and_a_change_is_seen(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.wav"
    _wav(path, 1.5, channels=2)
    facts = inspect(path)
    assert (facts.duration, facts.channels, facts.size) == (1.5, 2, path.stat().st_size)
    assert matches(path, facts.sha256)
    path.write_bytes(path.read_bytes()[:-2] + b"\1\1")
    assert not matches(path, facts.sha256)


def test_a_missing_or_broken_file_is_named() -> None:
    with pytest.raises(FileProblem, match="is missing"):
        inspect(Path("/nonexistent/a.wav"))


def test_a_file_that_is_not_a_wav_is_named(tmp_path: Path) -> None:
    (tmp_path / "b.wav").write_bytes(b"not audio")
    with pytest.raises(FileProblem, match="not a readable WAV"):
        inspect(tmp_path / "b.wav")


def test_doctor_names_a_recording_directory_that_is_missing_or_not_writable(
    tmp_path: Path,
) -> None:
    from callflow.doctor import Verdict, recording_check
    from callflow.settings import RecordingSettings, Settings

    def check(folder: Path | None) -> tuple[Verdict, str]:
        settings = Settings.model_construct(recording=RecordingSettings(dir=folder))
        found = recording_check(settings)
        return found.verdict, found.detail

    assert check(None) == (Verdict.OK, "recording off (recording.dir is not set)")
    assert check(tmp_path / "nope") == (
        Verdict.FAIL, f"{tmp_path / 'nope'} is not a directory: nothing is recorded",
    )  # fmt: skip
    verdict, detail = check(tmp_path)
    assert verdict is Verdict.OK and "is writable" in detail
