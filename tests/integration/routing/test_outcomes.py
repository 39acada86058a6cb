"""RONA, wrap-up, abandon, overflow, exit key, priority, and the offer race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from callflow.app import App
from callflow.routing.agent_state import AgentEvent, AgentState
from callflow.routing.hours import DAYS
from callflow.routing.store import epoch
from tests.harness.poll import poll_until
from tests.harness.sipp import Sipp, media_phone
from tests.integration.conftest import StartCallflow, agent_port
from tests.integration.routing.helpers import (
    directory,
    ended,
    interactions,
    log_kinds,
    login,
    state,
)


async def test_ring_no_answer_pauses_the_agent_and_moves_the_call_on(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(
        directory({"rona": {"ring_timeout": 3}}, {"a1": {"rona": 1}, "a2": {"rona": 2}})
    )
    await login(app, "a1", "a2")
    sleepy = await sipp.agent(agent_port("a1"), answer=False)
    awake = await sipp.agent(agent_port("a2"), talk_ms=500)
    caller = await sipp.customer("qrona")
    for peer in (sleepy, awake, caller):
        assert await peer.wait(30) == 0, peer.errors
    (row,) = await ended(app, 1)
    assert row.agent == "a2" and row.outcome == "answered"
    agent = app.services.routing.agents["a1"]
    assert agent.state is AgentState.PAUSED and agent.reason == "rona"
    assert (await log_kinds(app, agent="a1"))[-3:] == ["offer", "ringnoanswer", "pause"]


async def test_a_phone_back_after_an_offer_it_missed_rings_briefly_then_takes_the_next_call(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    """The agent's phone was away when a caller was offered to it, and the
    caller gave up. Asterisk keeps sending that INVITE (up to 32 s) and
    cancels it once the phone is back and rings: the phone stops ringing and
    the next caller is answered on it."""
    app = await start_callflow(directory({"back": {"ring_timeout": 30}}, {"a1": {"back": 1}}))
    await login(app, "a1")
    gave_up = await sipp.customer("qback", hang_up_after_ms=1000)
    assert await gave_up.wait(30) == 0, gave_up.errors
    (first,) = await ended(app, 1)
    assert first.outcome == "abandoned" and first.offered_at is not None
    phone = await media_phone(sipp, agent_port("a1"), "agent")
    await poll_until(lambda: phone.log_lines("cancelled"), timeout=20, message="the old offer")
    caller = await sipp.customer("qback", caller="5550002", hang_up_after_ms=1000)
    assert await caller.wait(30) == 0, caller.errors
    _, second = await ended(app, 2)
    assert second.agent == "a1" and second.outcome == "answered"
    await phone.finished()
    assert len(phone.times("answer")) == 1


async def test_wrap_up_holds_the_agent_back_from_the_next_call(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(directory({"wrap": {"wrapup": 3}}, {"a1": {"wrap": 1}}))
    await login(app, "a1")
    phone = await sipp.agent(agent_port("a1"), talk_ms=400, calls=2)
    first = await sipp.customer("qwrap", caller="5550001")
    assert await first.wait(30) == 0, first.errors
    await poll_until(lambda: state(app, "a1") is AgentState.WRAP_UP, message="wrap-up")
    second = await sipp.customer("qwrap", caller="5550002")
    assert await second.wait(30) == 0, second.errors
    assert await phone.wait(30) == 0, phone.errors
    one, two = await ended(app, 2)
    assert one.ended_at is not None and two.answered_at is not None
    # the second caller waited for the wrap-up, not just for the first call
    assert epoch(two.answered_at) - epoch(one.ended_at) >= 3.0


async def test_caller_hanging_up_while_waiting_is_recorded_as_abandoned(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(directory({"ab": {}}, {"a1": {"ab": 1}}))
    await login(app, "a1")
    await app.services.routing.agent_action("a1", _pause(), "meeting")
    caller = await sipp.customer("qab", hang_up_after_ms=1500)
    assert await caller.wait(30) == 0, caller.errors
    (row,) = await ended(app, 1)
    assert row.outcome == "abandoned" and row.agent is None
    abandon = [e for e in await app.services.events.of_kind("abandon")]
    assert len(abandon) == 1 and 1.0 <= abandon[0].detail["wait"] <= 5.0
    assert abandon[0].detail["position"] == 1


async def test_max_wait_overflows_into_the_next_queue_where_an_agent_answers(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(
        directory(
            {"first": {"max_wait": 2, "overflow": "queue:second"}, "second": {}},
            {"a1": {"first": 1}, "a2": {"second": 1}},
        )
    )
    await login(app, "a1", "a2")
    await app.services.routing.agent_action("a1", _pause(), "busy")
    phone = await sipp.agent(agent_port("a2"), talk_ms=300)
    caller = await sipp.customer("qfirst")
    assert await caller.wait(30) == 0, caller.errors
    assert await phone.wait(30) == 0, phone.errors
    (row,) = await ended(app, 1)
    assert (row.queue, row.overflowed_from, row.agent) == ("second", "first", "a2")
    overflow = await app.services.events.of_kind("overflow")
    assert overflow[0].detail == {"from_queue": "first", "reason": "max_wait"}


async def test_no_agent_logged_in_sends_the_caller_to_the_overflow_target(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(
        directory({"empty": {"overflow": "callflow-test-exit,s,1"}}, {"a1": {"empty": 1}})
    )
    caller = await sipp.customer("qempty")  # the target plays a beep and hangs up
    assert await caller.wait(30) == 0, caller.errors
    (row,) = await ended(app, 1)
    assert row.outcome == "overflowed"
    (event,) = await app.services.events.of_kind("exitempty")
    assert event.detail["target"] == "callflow-test-exit,s,1"


async def test_max_wait_without_a_target_times_out_to_the_next_priority(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(directory({"tmo": {"max_wait": 2}}, {"a1": {"tmo": 1}}))
    await login(app, "a1")
    await app.services.routing.agent_action("a1", _pause(), "busy")
    caller = await sipp.customer("qtmo")  # [callflow-after] says "try later", hangs up
    assert await caller.wait(40) == 0, caller.errors
    (row,) = await ended(app, 1)
    assert row.outcome == "timed_out"


async def test_exit_key_leaves_the_queue_for_its_dialplan_target(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(
        directory(
            {"key": {"exit_key": "0", "exit_target": "callflow-test-exit,s,1"}}, {"a1": {"key": 1}}
        )
    )
    await login(app, "a1")
    await app.services.routing.agent_action("a1", _pause(), "busy")
    caller = await sipp.customer("qkey", digits="0")
    assert await caller.wait(30) == 0, caller.errors
    (row,) = await ended(app, 1)
    assert row.outcome == "exited"


async def test_two_simultaneous_calls_never_reach_the_same_agent(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(directory({"race": {}}, {"a1": {"race": 1}, "a2": {"race": 1}}))
    await login(app, "a1", "a2")
    phones = [await sipp.agent(agent_port(a), ring_ms=500, talk_ms=1500) for a in ("a1", "a2")]
    callers = await asyncio.gather(
        sipp.customer("qrace", caller="5550001"), sipp.customer("qrace", caller="5550002")
    )
    for peer in [*phones, *callers]:
        assert await peer.wait(30) == 0, peer.errors
    rows = await ended(app, 2)
    assert sorted(r.agent or "" for r in rows) == ["a1", "a2"]
    offers = [e for e in await app.services.events.of_kind("offer")]
    # each agent was offered exactly one call: no double offer, no re-offer
    assert sorted(e.agent or "" for e in offers) == ["a1", "a2"]


async def test_higher_priority_callers_are_served_first_then_by_arrival(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(directory({"prio": {}}, {"a1": {"prio": 1}}))
    await login(app, "a1")
    await app.services.routing.agent_action("a1", _pause(), "busy")
    callers = []
    for service, caller_id in (("qprio", "5550001"), ("qprio", "5550002"), ("qprio-5", "5550003")):
        callers.append(await sipp.customer(service, caller=caller_id, bye_timeout_ms=60000))
        queued = len(callers)
        await poll_until(lambda: _waiting(app) == queued, message="caller queued")  # noqa: B023
    phone = await sipp.agent(agent_port("a1"), talk_ms=200, calls=3)
    await app.services.routing.agent_action("a1", _unpause())
    for peer in [phone, *callers]:
        assert await peer.wait(60) == 0, peer.errors
    rows = sorted(await ended(app, 3), key=lambda r: epoch(r.answered_at))
    assert [r.caller_number for r in rows] == ["5550003", "5550001", "5550002"]


def _waiting(app: App) -> int:
    return len(app.services.routing.calls)


def _pause() -> AgentEvent:
    return AgentEvent.PAUSE


def _unpause() -> AgentEvent:
    return AgentEvent.UNPAUSE


async def test_waiting_callers_hear_their_position_and_the_hold_time_periodically(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(directory({"ann": {"announce_every": 2}}, {"a1": {"ann": 1}}))
    await login(app, "a1")
    await app.services.routing.agent_action("a1", _pause(), "busy")
    first = await sipp.customer("qann", caller="5550001", hang_up_after_ms=5500)
    await poll_until(lambda: _waiting(app) == 1, message="first caller queued")
    second = await sipp.customer("qann", caller="5550002", hang_up_after_ms=5000)
    for peer in (first, second):
        assert await peer.wait(30) == 0, peer.errors
    announcements = await app.services.events.of_kind("announce")
    by_caller: dict[int, list[object]] = {}
    for event in announcements:
        by_caller.setdefault(event.interaction_id or 0, []).append(event.detail["position"])
    first_id, second_id = sorted(by_caller)
    assert len(by_caller[first_id]) >= 2  # every 2 s while waiting
    assert set(by_caller[first_id]) == {1}
    assert set(by_caller[second_id]) == {2}


async def test_a_caller_of_a_closed_queue_goes_to_its_closed_target_unanswered(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    other_day = DAYS[(datetime.now(UTC).weekday() + 3) % 7]  # open then, closed all today
    text = directory(
        {"shut": {"closed_target": "callflow-test-exit,s,1"}}, {"a1": {"shut": 1}}
    ).replace('name = "shut"\n', f'name = "shut"\nhours = {{ {other_day} = "09:00-17:00" }}\n')
    app = await start_callflow(text)
    await login(app, "a1")
    caller = await sipp.customer("qshut")  # the target plays a beep and hangs up
    assert await caller.wait(30) == 0, caller.errors
    (event,) = await app.services.events.of_kind("closed")
    assert (event.queue, event.detail["target"]) == ("shut", "callflow-test-exit,s,1")
    assert event.detail["opens"] is not None
    assert not await interactions(app)  # never answered, never queued
    assert state(app, "a1") is AgentState.AVAILABLE
