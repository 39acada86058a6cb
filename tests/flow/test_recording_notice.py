"""The recording notice on the memory PBX: played before the caller joins
the queue; nobody rings and nothing is queued until it has been heard; a
hang-up during it is logged; a notice that never ends does not keep the
caller out; a restart during it plays it again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from callflow.db.models import Interaction
from callflow.routing.notice import NOTICE_LIMIT, notice_id
from tests.flow.conftest import DIRECTORY, Center, build_center, restarted

NOTICED = DIRECTORY.replace(
    'name = "support"\n',
    'name = "support"\nrecording = "always"\nrecording_notice = "conf-now-recording"\n',
    1,
)


@pytest.fixture
async def center(tmp_path: Path) -> AsyncIterator[Center]:
    built, db = await build_center(tmp_path, NOTICED)
    await built.start()
    await built.login("agent1")
    yield built
    await built.close()
    await db.close()


async def interactions(center: Center) -> list[Interaction]:
    async with center.db.session() as session:
        return list((await session.exec(select(Interaction))).all())


async def test_the_caller_hears_the_notice_before_anyone_rings(center: Center) -> None:
    customer = await center.pbx.call(["queue", "support"], caller="5550100")
    assert center.pbx.channels[customer].answered
    assert center.pbx.playbacks == {notice_id(customer): customer}
    assert ("play", customer, "sound:conf-now-recording") in center.pbx.commands
    assert not center.pbx.ringing() and not center.routing.calls
    assert not await interactions(center)
    await center.pbx.finish_playback(notice_id(customer))
    await center.answer("agent1")
    assert center.routing.calls[customer].agent == "agent1"
    (row,) = await interactions(center)
    assert row.caller_number == "5550100" and row.queue == "support"
    assert center.pbx.ops("answer") == [("answer", customer)]  # answered once


async def test_a_queue_without_a_notice_rings_the_agent_at_once(center: Center) -> None:
    await center.login("agent3")
    customer = await center.pbx.call(["queue", "sales"])
    assert not center.pbx.playbacks
    center.leg_of("agent3")
    assert customer in center.routing.calls


async def test_a_hang_up_during_the_notice_is_logged_and_leaves_nothing(center: Center) -> None:
    customer = await center.pbx.call(["queue", "support"], caller="5550100")
    await center.pbx.hangup_phone(customer)
    (entry,) = await center.log("notice_hangup")
    assert (entry.channel_id, entry.queue, entry.detail) == (
        customer, "support", {"caller": "5550100"},
    )  # fmt: skip
    assert not await interactions(center) and not center.pbx.ringing()
    assert center.sizes()["timers"] == 0 and not center.routing.calls


async def test_a_notice_that_never_ends_lets_the_caller_in_after_its_limit(
    center: Center,
) -> None:
    customer = await center.pbx.call(["queue", "support"])
    await center.pbx.advance(NOTICE_LIMIT - 1)
    assert not center.pbx.ringing()
    await center.pbx.advance(2)
    assert not center.pbx.playbacks  # stopped
    center.leg_of("agent1")
    assert customer in center.routing.calls


async def test_a_queue_removed_during_the_notice_hands_the_caller_back_named(
    center: Center,
) -> None:
    customer = await center.pbx.call(["queue", "support"])
    del center.routing.queues["support"]
    await center.pbx.finish_playback(notice_id(customer))
    variables = center.pbx.channels[customer].variables
    assert variables["CALLFLOW_RESULT"] == "error"
    assert "unknown queue 'support'" in variables["CALLFLOW_ERROR"]


async def test_a_restart_during_the_notice_plays_it_again(tmp_path: Path) -> None:
    first, db = await build_center(tmp_path, NOTICED)
    await first.start()
    await first.login("agent1")
    customer = await first.pbx.call(["queue", "support"])
    again = await restarted(first, db)
    try:
        await again.pbx.advance(0.1)  # the router starts callers it never saw
        assert again.pbx.playbacks == {notice_id(customer): customer}
        await again.pbx.finish_playback(notice_id(customer))
        await again.answer("agent1")
        assert again.routing.calls[customer].agent == "agent1"
    finally:
        await again.close()
        await db.close()
