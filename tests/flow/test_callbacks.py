"""Queued callback on the memory PBX with its virtual clock: the caller
asks with keys and hangs up, a virtual caller keeps their place, the agent
is rung first and the customer called from the agent's call; retries, the
order of callers and callbacks, cancel and reschedule, restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from callflow.db.engine import Database
from callflow.db.models import Callback, Interaction
from callflow.routing.agent_state import AgentEvent, AgentState
from callflow.routing.call_state import CallState
from callflow.telephony.memory_model import MemChannel
from callflow.telephony.port import TelephonyError
from tests.flow.conftest import DIRECTORY, Center, build_center, restarted

POLICY = 'callback = { offer = "always", attempts = 2, retry_every = 120, short_answer = 4 }\n'
WITH_CALLBACK = DIRECTORY.replace('name = "support"\n', f'name = "support"\n{POLICY}', 1)
LOCAL = "Local/{}@callflow-callback"


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Center, Database]]:
    center, db = await build_center(tmp_path, WITH_CALLBACK)
    await center.start()
    await center.login("agent1")
    await center.routing.agent_action("agent1", AgentEvent.PAUSE, "break")
    yield center, db
    await center.close()
    await db.close()


@pytest.fixture
def center(setup: tuple[Center, Database]) -> Center:
    return setup[0]


async def ask_callback(center: Center, caller: str, keys: str = "11") -> str:
    """A caller joins support, hears the offer, presses ``keys`` and is
    thanked and hung up; returns their channel."""
    customer = await center.pbx.call(["queue", "support"], caller=caller)
    return await press(center, customer, keys)


async def press(center: Center, customer: str, keys: str = "11") -> str:
    assert any("digits:1" in op[-1] for op in center.pbx.ops("play") if op[1] == customer)
    await center.pbx.dtmf(customer, keys)
    await center.pbx.finish_playbacks(customer)  # the thanks end: callflow hangs up
    assert customer not in center.pbx.channels
    return customer


def customer_leg(center: Center, number: str) -> MemChannel:
    legs = [c for c in center.pbx.ringing() if c.originated_to == LOCAL.format(number)]
    assert len(legs) == 1, f"{number} is called {len(legs)} times"
    return legs[0]


async def callbacks(center: Center) -> list[Callback]:
    async with center.db.session() as session:
        return list((await session.exec(select(Callback).order_by(col(Callback.id)))).all())


async def free_agent1(center: Center) -> None:
    await center.routing.agent_action("agent1", AgentEvent.UNPAUSE)
    await center.pbx.settle()


async def test_a_caller_asks_with_keys_and_is_called_back_after_the_agent_answers(
    center: Center,
) -> None:
    asking = await ask_callback(center, "5550100")
    first = await center.interaction(asking)
    assert first.outcome == "callback" and first.ended_at is not None
    (row,) = await callbacks(center)
    assert (row.number, row.state, row.asked_in) == ("5550100", "waiting", first.id)

    await free_agent1(center)
    leg = center.leg_of("agent1")  # the agent's phone rings first: the preview
    assert leg.caller_number.startswith('"Callback')
    assert not [c for c in center.pbx.ringing() if (c.originated_to or "").startswith("Local/")]
    await center.pbx.pick_up(leg.id)
    ringback = [op for op in center.pbx.ops("play") if op[1] == leg.id]
    assert ringback and "tone:ring" in ringback[-1][-1]  # the agent hears it ring
    customer = customer_leg(center, "5550100")
    await center.pbx.pick_up(customer.id)

    bridge = center.pbx.bridges[center.pbx.channels[leg.id].bridge or ""]
    assert set(bridge.channels) == {leg.id, customer.id}  # they talk
    call = center.routing.calls[customer.id]
    assert call.state is CallState.CONNECTED and call.agent == "agent1"
    record = await center.interaction(customer.id)
    assert record.callback_of == first.id and record.agent == "agent1"

    await center.pbx.advance(60)
    await center.pbx.hangup_phone(customer.id)
    (row,) = await callbacks(center)
    assert (row.state, row.attempts, row.agent) == ("done", 1, "agent1")
    assert (await center.interaction(customer.id)).outcome == "answered"
    assert center.state("agent1") is AgentState.WRAP_UP
    await center.pbx.advance(10)
    assert center.sizes()["calls"] == 0 and center.sizes()["bridges"] == 0


async def test_the_caller_may_key_another_number(center: Center) -> None:
    await ask_callback(center, "5550100", keys="125550199#1")
    (row,) = await callbacks(center)
    assert row.number == "5550199"


async def test_a_number_that_is_none_is_refused_and_the_caller_waits_on(center: Center) -> None:
    customer = await center.pbx.call(["queue", "support"], caller="5550100")
    await center.pbx.dtmf(customer, "12")
    for _ in range(3):
        await center.pbx.dtmf(customer, "12#")  # two digits: no phone number
    invalid = [op for op in center.pbx.ops("play") if "check-number-dial-again" in op[-1]]
    assert len(invalid) == 2  # the third try ends the menu
    assert not await callbacks(center)
    assert center.routing.calls[customer].state is CallState.WAITING
    await free_agent1(center)
    center.leg_of("agent1")  # the caller is served as before
    await center.pbx.hangup_phone(customer)


async def test_a_number_the_site_does_not_call_back_is_refused(center: Center) -> None:
    customer = await center.pbx.call(["queue", "support"], caller="+33140000000")
    await center.pbx.dtmf(customer, "1")  # the caller ID is international: not offered
    plays = [op for op in center.pbx.ops("play") if op[1] == customer]
    assert "vm-enter-num-to-call" in plays[-1][-1]
    await center.pbx.dtmf(customer, "0033140000000#")  # 13 digits: allowed
    await center.pbx.dtmf(customer, "1")
    await center.pbx.finish_playbacks(customer)
    (row,) = await callbacks(center)
    assert row.number == "0033140000000"


async def test_waiting_callers_and_callbacks_are_served_in_the_order_they_came(
    center: Center,
) -> None:
    first = await center.pbx.call(["queue", "support"], caller="5550101")
    await center.pbx.advance(5)
    second = await center.pbx.call(["queue", "support"], caller="5550102")
    await center.pbx.advance(5)
    third = await center.pbx.call(["queue", "support"], caller="5550103")
    await center.pbx.advance(5)
    await press(center, second)  # after the third caller joined: keeps its place
    await ask_callback(center, "5550104")
    served = []
    await free_agent1(center)
    for _ in range(4):
        leg = center.leg_of("agent1")
        await center.pbx.pick_up(leg.id)
        locals_ = [c for c in center.pbx.ringing() if (c.originated_to or "").startswith("Local/")]
        if locals_:
            served.append((locals_[0].originated_to or "").split("@")[0].removeprefix("Local/"))
            await center.pbx.pick_up(locals_[0].id)
            await center.pbx.hangup_phone(locals_[0].id)
        else:
            channel = next(c for c in (first, third) if c in center.routing.calls
                           and center.routing.calls[c].state is CallState.CONNECTED)  # fmt: skip
            served.append(center.pbx.channels[channel].caller_number)
            await center.pbx.hangup_phone(channel)
        await center.pbx.advance(10)  # the wrap-up
    assert served == ["5550101", "5550102", "5550103", "5550104"]


async def test_a_customer_who_does_not_answer_is_called_again_then_given_up(
    center: Center,
) -> None:
    await ask_callback(center, "5550100")
    await free_agent1(center)
    await center.answer("agent1")
    await center.pbx.reject(customer_leg(center, "5550100").id, 19)  # no answer
    assert center.state("agent1") is AgentState.AVAILABLE  # free at once
    (row,) = await callbacks(center)
    assert (row.state, row.attempts) == ("retry_wait", 1)
    assert not center.pbx.ringing()

    await center.pbx.advance(119)
    assert not center.pbx.ringing()  # not before the policy's spacing
    await center.pbx.advance(2)
    await center.answer("agent1")
    await center.pbx.reject(customer_leg(center, "5550100").id, 17)  # busy
    (row,) = await callbacks(center)
    assert (row.state, row.attempts) == ("failed", 2)
    assert row.reason == "busy after 2 attempt(s)"
    record = (await interactions(center))[-1]
    assert record.outcome == "callback_failed" and record.ended_at is not None
    attempts = await center.log("callback_attempt")
    assert [e.detail["outcome"] for e in attempts] == ["no_answer", "busy"]
    assert center.sizes()["calls"] == 0 and center.sizes()["bridges"] == 0


async def test_an_answer_too_short_to_be_the_customer_is_retried(center: Center) -> None:
    await ask_callback(center, "5550100")
    await free_agent1(center)
    await center.answer("agent1")
    customer = customer_leg(center, "5550100")
    await center.pbx.pick_up(customer.id)
    await center.pbx.advance(2)
    await center.pbx.hangup_phone(customer.id)  # a machine hangs up after 2 s
    (row,) = await callbacks(center)
    assert (row.state, row.attempts) == ("retry_wait", 1)
    (attempt,) = await center.log("callback_attempt")
    assert attempt.detail["outcome"] == "short"


async def test_the_agent_may_cancel_or_reschedule_a_callback(center: Center) -> None:
    await ask_callback(center, "5550100")
    await ask_callback(center, "5550200")
    first, second = await callbacks(center)
    service = center.routing.callbacks
    assert service is not None
    await service.cancel(first.id or 0, "solved by email", "agent1")
    later = datetime.fromtimestamp(center.pbx.now() + 3600, UTC)
    await service.reschedule(second.id or 0, later, "customer asked for 1 pm", "agent1")
    await free_agent1(center)
    assert not center.pbx.ringing()  # nothing waits now
    cancelled, scheduled = await callbacks(center)
    assert (cancelled.state, cancelled.reason) == ("cancelled", "solved by email (agent1)")
    assert scheduled.state == "scheduled"
    await center.pbx.advance(3600)
    center.leg_of("agent1")  # due: it waits again, at its old place


async def test_a_callback_waits_on_across_a_restart(setup: tuple[Center, Database]) -> None:
    center, db = setup
    await ask_callback(center, "5550100")
    again = await restarted(center, db)
    try:
        await again.routing.agent_action("agent1", AgentEvent.UNPAUSE)
        await again.pbx.settle()
        await again.answer("agent1")
        customer_leg(again, "5550100")
    finally:
        await again.close()


async def test_an_attempt_ringing_when_callflow_stops_is_counted_and_retried(
    setup: tuple[Center, Database],
) -> None:
    center, db = setup
    await ask_callback(center, "5550100")
    await free_agent1(center)
    await center.answer("agent1")
    leg = customer_leg(center, "5550100")
    again = await restarted(center, db)
    try:
        assert leg.id not in again.pbx.channels  # not called twice at once
        (row,) = await callbacks(again)
        assert (row.state, row.attempts) == ("retry_wait", 1)
    finally:
        await again.close()


async def interactions(center: Center) -> list[Interaction]:
    async with center.db.session() as session:
        return list((await session.exec(select(Interaction).order_by(col(Interaction.id)))).all())


async def test_a_second_request_from_the_same_number_keeps_the_first(center: Center) -> None:
    await ask_callback(center, "5550100")
    await ask_callback(center, "5550100")  # the same customer asks again
    (row,) = await callbacks(center)
    (kept,) = await center.log("callback_kept")
    assert kept.detail["callback"] == row.id and "already has callback" in kept.detail["why"]


async def test_a_customer_who_calls_again_and_is_answered_needs_no_callback(
    center: Center,
) -> None:
    await ask_callback(center, "5550100")
    again = await center.pbx.call(["queue", "support", "5"], caller="5550100")  # ahead
    await free_agent1(center)
    assert center.leg_of("agent1").caller_number == '"" <5550100>'  # the live caller first
    await center.answer("agent1")
    (row,) = await callbacks(center)
    answered = await center.interaction(again)
    assert (row.state, row.reason) == (
        "cancelled",
        f"called again: answered in call {answered.id} (called_again)",
    )
    await center.pbx.hangup_phone(again)
    await center.pbx.advance(10)
    assert not center.pbx.ringing()  # nobody calls the customer back now


async def test_the_offer_waits_for_the_queue_threshold(tmp_path: Path) -> None:
    policy = 'callback = { offer = "long_wait", threshold = 100 }\n'
    text = DIRECTORY.replace('name = "support"\n', f'name = "support"\n{policy}', 1)
    center, db = await build_center(tmp_path, text)
    await center.start()
    await center.login("agent1")
    try:
        first = await center.pbx.call(["queue", "support"], caller="5550101")
        await center.answer("agent1")  # one call known: a 10 s handle time
        await center.pbx.advance(30)
        await center.pbx.hangup_phone(first)  # 30 s talk + 10 s wrap-up
        await center.pbx.advance(10)
        await center.pbx.call(["queue", "support"], caller="5550100")
        await center.answer("agent1")  # busy for about 40 s more
        quick = await center.pbx.call(["queue", "support"], caller="5550102")
        await center.pbx.dtmf(quick, "1")
        assert not any(op[1] == quick for op in center.pbx.ops("play"))  # not offered
        assert quick not in center.routing.callbacks.requests.menu.menus  # type: ignore[union-attr]
        for number in ("5550103", "5550104"):  # each caller ahead adds 40 s
            await center.pbx.call(["queue", "support"], caller=number)
        late = await center.pbx.call(["queue", "support"], caller="5550105")
        await press(center, late)  # the estimated wait passes 100 s: offered
        assert [r.number for r in await callbacks(center)] == ["5550105"]
    finally:
        await center.close()
        await db.close()


HOURS = (  # Easter Monday 2027 is a holiday
    'hours = { zone = "Europe/Paris", mon = "09:00-17:00", tue = "09:00-17:00", '
    'fri = "09:00-17:00", holidays = ["2027-03-29"] }\n'
)


async def closed_center(tmp_path: Path) -> tuple[Center, Database]:
    text = DIRECTORY.replace(
        'name = "support"\n', f'name = "support"\n{POLICY}{HOURS}closed_target = "x,s,1"\n', 1
    )
    center, db = await build_center(tmp_path, text)
    await center.start()
    await center.login("agent1")
    return center, db


async def test_a_closed_queue_offers_a_callback_at_the_next_opening_across_a_clock_change(
    tmp_path: Path,
) -> None:
    center, db = await closed_center(tmp_path)
    try:
        # Friday 26 March 2027, 17:30 in Paris: closed until Tuesday (Monday
        # is a holiday), and the clocks go forward on Sunday
        await center.pbx.advance(70 * 86400 + 8.5 * 3600)
        assert (
            datetime.fromtimestamp(center.pbx.now(), UTC).isoformat().startswith("2027-03-26T16:30")
        )
        first = await center.pbx.call(["queue", "support"], caller="5550101")
        assert center.pbx.channels[first].answered  # offered a callback, not sent on
        await center.pbx.dtmf(first, "11")
        await center.pbx.finish_playbacks(first)
        await center.pbx.advance(60)
        await ask_closed(center, "5550102")
        rows = await callbacks(center)
        assert [(r.number, r.state) for r in rows] == [
            ("5550101", "scheduled"), ("5550102", "scheduled")
        ]  # fmt: skip
        opens = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 summer time in Paris
        assert {r.due_at for r in rows} == {opens}
        await center.pbx.advance(opens.timestamp() - center.pbx.now() - 1)
        assert not center.pbx.ringing()
        await center.pbx.advance(1)
        served = []
        for _ in range(2):
            await center.answer("agent1")
            served.append(next(c for c in center.pbx.ringing()).originated_to)
            local = next(c for c in center.pbx.ringing())
            await center.pbx.pick_up(local.id)
            await center.pbx.advance(30)
            await center.pbx.hangup_phone(local.id)
            await center.pbx.advance(10)
        assert served == [LOCAL.format("5550101"), LOCAL.format("5550102")]
    finally:
        await center.close()
        await db.close()


async def ask_closed(center: Center, caller: str) -> None:
    customer = await center.pbx.call(["queue", "support"], caller=caller)
    await center.pbx.dtmf(customer, "11")
    await center.pbx.finish_playbacks(customer)
    assert customer not in center.pbx.channels


async def test_a_closed_queues_caller_who_does_not_ask_goes_to_the_closed_target(
    tmp_path: Path,
) -> None:
    center, db = await closed_center(tmp_path)
    try:
        await center.pbx.advance(8.5 * 3600)  # Friday 17:30
        customer = await center.pbx.call(["queue", "support"], caller="5550101")
        await center.pbx.advance(29)
        assert center.pbx.channels[customer].continued is None
        await center.pbx.advance(2)
        assert center.pbx.channels[customer].continued == ("x", "s", 1)
        assert center.pbx.channels[customer].variables["CALLFLOW_RESULT"] == "closed"
        assert not await callbacks(center)
    finally:
        await center.close()
        await db.close()


async def test_the_standby_taking_over_finds_the_callbacks_where_they_were(
    setup: tuple[Center, Database],
) -> None:
    """A takeover rebuilds from the database and Asterisk like a restart
    (``resync``): a waiting callback keeps its place ahead of a later caller,
    one in its retry spacing keeps its time."""
    center, db = setup
    await ask_callback(center, "5550100")
    await center.pbx.advance(5)
    later = await center.pbx.call(["queue", "support"], caller="5550300")
    standby = await restarted(center, db)
    try:
        await standby.routing.agent_action("agent1", AgentEvent.UNPAUSE)
        await standby.pbx.settle()
        assert standby.leg_of("agent1").caller_number.startswith('"Callback')
        await standby.answer("agent1")
        await standby.pbx.reject(customer_leg(standby, "5550100").id, 19)
        (row,) = await callbacks(standby)
        assert row.state == "retry_wait"
        standby.leg_of("agent1")  # then the later caller
        assert later in standby.routing.calls
    finally:
        await standby.close()


async def test_a_number_the_dial_context_refuses_fails_the_callback_at_once(
    center: Center,
) -> None:
    await ask_callback(center, "5550100")
    await free_agent1(center)
    leg = center.leg_of("agent1")
    center.pbx.fail_next("originate", TelephonyError("originate", 500, "No such extension"))
    await center.pbx.pick_up(leg.id)
    (row,) = await callbacks(center)
    assert row.state == "failed" and "not dialled: No such extension" in row.reason
    assert center.state("agent1") is AgentState.AVAILABLE
    assert leg.id not in center.pbx.channels


async def test_a_callback_waiting_when_its_queue_closes_waits_for_the_opening(
    tmp_path: Path,
) -> None:
    center, db = await closed_center(tmp_path)
    try:
        await center.routing.agent_action("agent1", AgentEvent.PAUSE, "break")
        await center.pbx.advance(7.5 * 3600)  # Friday 16:30 in Paris: open
        await ask_callback(center, "5550100")
        await center.pbx.advance(45 * 60)  # 17:15: closed
        await center.routing.agent_action("agent1", AgentEvent.UNPAUSE)
        await center.pbx.settle()
        assert not center.pbx.ringing()  # not called back after hours
        await center.pbx.advance((2 * 24 + 15.75) * 3600 - 60)  # Monday 08:59
        assert not center.pbx.ringing()
        await center.pbx.advance(70)  # the queue opens (checked each minute): called back
        await center.answer("agent1")
        customer_leg(center, "5550100")
    finally:
        await center.close()
        await db.close()


async def test_the_agents_keys_do_nothing_while_the_customer_is_being_called(
    center: Center,
) -> None:
    await ask_callback(center, "5550100")
    await free_agent1(center)
    leg = await center.answer("agent1")
    assert center.routing.conversation_of_leg(leg) is None  # nobody to transfer or hold
    assert center.routing.conversation_of_agent("agent1") is None
    customer = customer_leg(center, "5550100")
    await center.pbx.pick_up(customer.id)
    assert center.routing.conversation_of_agent("agent1") is not None
