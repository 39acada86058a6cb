"""Recording on the memory PBX: the queue's policy, one file per segment
across an attended transfer, a new segment after a blind one, pauses for
card numbers (muted), the file's facts, split voices, failures that are
told, and a restart in the middle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from callflow.db.models import Recording
from callflow.recording.service import RecordingError
from callflow.routing.transfers import Target
from callflow.telephony.port import TelephonyError
from tests.flow.conftest import DIRECTORY, Center, build_center, restarted

RECORDED = DIRECTORY.replace(
    'name = "support"\n', 'name = "support"\nrecording = "always"\n', 1
).replace(
    'name = "sales"\n', 'name = "sales"\nrecording = "on_demand"\nrecording_split = true\n', 1
)


@pytest.fixture
async def center(tmp_path: Path) -> AsyncIterator[Center]:
    built, db = await build_center(tmp_path, RECORDED)
    await built.start()
    yield built
    await built.close()
    await db.close()


async def rows(center: Center) -> list[Recording]:
    await center.pbx.settle()
    await center.recordings.finished()
    async with center.db.session() as session:
        return list((await session.exec(select(Recording).order_by(col(Recording.id)))).all())


async def _talking(center: Center, queue: str = "support", agent: str = "agent1") -> str:
    await center.login(agent)
    customer = await center.pbx.call(["queue", queue], caller="5550100")
    await center.answer(agent)
    return customer


async def test_an_always_queue_records_the_conversation_from_the_answer_to_the_end(
    center: Center,
) -> None:
    customer = await _talking(center)
    interaction = center.routing.calls[customer].interaction_id
    assert list(center.pbx.live) == [customer]  # the customer's channel: what they say and hear
    assert not [b for b in center.pbx.bridges.values() if len(b.channels) > 2]  # no recorder
    await center.pbx.advance(12)
    await center.pbx.hangup_phone(customer)
    (row,) = await rows(center)
    assert (row.state, row.interaction_id, row.segment, row.agent) == (
        "done", interaction, 1, "agent1",
    )  # fmt: skip
    assert row.duration == 12.0 and row.size and row.sha256 and len(row.token) >= 32
    assert not center.pbx.live
    assert [e.kind for e in await center.log("recording_started")] == ["recording_started"]


async def test_a_pause_mutes_the_card_number_and_marks_the_gap(center: Center) -> None:
    customer = await _talking(center)
    await center.pbx.advance(5)
    assert await center.recordings.pause("agent1", True) == "paused"
    assert center.pbx.live[customer].muted
    await center.pbx.advance(20)  # the card number: silence in the file
    assert await center.recordings.pause("agent1", False) == "recording"
    assert not center.pbx.live[customer].muted
    await center.pbx.advance(5)
    await center.pbx.hangup_phone(customer)
    (row,) = await rows(center)
    assert row.duration == 30.0  # the file keeps the call's length
    (gap,) = row.pauses
    assert gap["at"] < gap["until"]


async def test_an_attended_transfer_stays_in_one_segment_and_a_blind_one_starts_the_next(
    center: Center,
) -> None:
    customer = await _talking(center)
    await center.login("agent2")
    await center.routing.consults.start("agent1", "agent2")
    await center.pbx.settle()
    await center.answer("agent2")
    await center.routing.consults.complete("agent1")
    assert len(center.pbx.live) == 1  # the same recording goes on
    await center.routing.transfers.blind("agent2", Target(queue="support"))
    await center.pbx.settle()
    assert not center.pbx.live  # the customer left the bridge: segment 1 ends
    await center.pbx.advance(11)  # agent1's wrap-up ends: they take the call again
    await center.answer("agent1")
    assert len(center.pbx.live) == 1
    await center.pbx.hangup_phone(customer)
    segments = [(r.segment, r.state) for r in await rows(center)]
    assert segments == [(1, "done"), (2, "done")]


async def test_on_demand_records_only_when_asked_with_each_voice_on_its_own_too(
    center: Center,
) -> None:
    customer = await _talking(center, "sales", "agent3")
    assert not center.pbx.live
    with pytest.raises(RecordingError, match="not being recorded"):
        await center.recordings.pause("agent3", True)
    assert await center.recordings.start("agent3") == "recording"
    await center.pbx.settle()
    (files,) = [r.files for r in center.pbx.live.values()]
    assert [f.rsplit("-", 1)[1] for f in files[1:]] == ["customer", "agent"]  # and mixed
    await center.pbx.advance(3)
    await center.recordings.stop("agent3")
    kinds = [(r.kind, r.state) for r in await rows(center)]
    assert kinds == [("mixed", "done"), ("customer", "done"), ("agent", "done")]
    await center.pbx.hangup_phone(customer)


async def test_always_is_not_started_or_stopped_by_hand(center: Center) -> None:
    await _talking(center)
    with pytest.raises(RecordingError, match="not started by hand"):
        await center.recordings.start("agent1")
    with pytest.raises(RecordingError, match="pause it instead"):
        await center.recordings.stop("agent1")


async def test_a_recording_asterisk_refuses_is_told_and_the_call_still_connects(
    center: Center,
) -> None:
    await center.login("agent1")
    center.pbx.fail_next("record_call", TelephonyError("MixMonitor", None, "disk full"))
    customer = await center.pbx.call(["queue", "support"], caller="5550100")
    await center.answer("agent1")
    assert center.routing.calls[customer].agent == "agent1"  # talking, unrecorded
    (row,) = await rows(center)
    assert row.state == "failed" and "disk full" in (row.problem or "")
    (failed,) = await center.log("recording_failed")
    assert "disk full" in failed.detail["problem"]


async def test_a_file_that_is_not_there_is_reported_missing(center: Center) -> None:
    customer = await _talking(center)
    center.pbx.recordings_dir = None  # Asterisk wrote nowhere callflow looks
    await center.pbx.hangup_phone(customer)
    (row,) = await rows(center)
    assert row.state == "missing" and "is missing" in (row.problem or "")


async def test_after_a_restart_a_paused_recording_is_adopted_still_paused(
    tmp_path: Path,
) -> None:
    first, db = await build_center(tmp_path, RECORDED)
    await first.start()
    customer = await _talking(first)
    await first.recordings.pause("agent1", True)
    again = await restarted(first, db)
    interaction = again.routing.calls[customer].interaction_id
    assert again.recordings.live[interaction].state.value == "paused"
    assert await again.recordings.pause("agent1", False) == "recording"
    await again.pbx.hangup_phone(customer)
    (row,) = await rows(again)
    assert row.state == "done"
    await again.close()
    await db.close()


async def test_a_call_that_ended_while_callflow_was_away_has_its_recording_read(
    tmp_path: Path,
) -> None:
    first, db = await build_center(tmp_path, RECORDED)
    await first.start()
    customer = await _talking(first)
    await first.pbx.advance(4)
    again = await restarted(first, db, gone=(customer,))
    (row,) = await rows(again)
    assert (row.state, row.duration) == ("done", 4.0)
    await again.close()
    await db.close()


async def test_retention_removes_files_past_the_queues_days_on_its_own_schedule(
    center: Center,
) -> None:
    center.routing.queues["support"].retention_days = 2
    customer = await _talking(center)
    await center.pbx.hangup_phone(customer)
    (row,) = await rows(center)
    folder = center.services.settings.recording.dir
    assert folder is not None and (folder / f"{row.name}.wav").exists()
    await center.pbx.advance(2 * 86400 - 3600)  # hourly runs: not two days old yet
    assert (folder / f"{row.name}.wav").exists()
    await center.pbx.advance(2 * 3600)
    assert not (folder / f"{row.name}.wav").exists()
    (purged,) = await rows(center)
    assert purged.purged_at is not None and purged.state == "done"  # the record stays
    center.routing.queues["support"].retention_days = 0  # 0 keeps for ever
    customer = await center.pbx.call(["queue", "support"], caller="5550101")
    await center.answer("agent1")
    await center.pbx.hangup_phone(customer)
    await center.pbx.advance(30 * 86400)
    kept = (await rows(center))[-1]
    assert (folder / f"{kept.name}.wav").exists() and kept.purged_at is None


async def test_star_seven_on_the_phone_pauses_and_resumes_with_beeps(center: Center) -> None:
    customer = await _talking(center)
    leg = center.routing.calls[customer].agent_leg
    assert leg is not None
    await center.pbx.dtmf(leg, "*7")
    interaction = center.routing.calls[customer].interaction_id
    assert center.recordings.live[interaction].state.value == "paused"
    played = [op[2] for op in center.pbx.ops("play") if op[1] == leg]
    assert played[-1] == "sound:beep"
    await center.pbx.dtmf(leg, "*7")
    assert center.recordings.live[interaction].state.value == "recording"
    played = [op[2] for op in center.pbx.ops("play") if op[1] == leg]
    assert played[-1] == "sound:beep,sound:beep"
    assert center.routing.transfer_keys.keying == {}  # not taken for anything else
    await center.pbx.hangup_phone(customer)
