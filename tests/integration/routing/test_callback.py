"""Queued callback on real Asterisk: a SIPp customer asks with keys and is
hung up; when the agent is free the agent's phone rings first, then the
customer's; both hear each other. A customer who does not answer is called
again per the queue's policy, then the callback fails; the order of
waiting callers and callbacks is kept."""

from __future__ import annotations

import time

import pytest
from sqlmodel import col, select

from callflow.app import App
from callflow.db.models import Callback
from callflow.routing.agent_state import AgentEvent
from callflow.settings import Settings
from tests.harness.ari_probe import AriProbe
from tests.harness.poll import poll_until
from tests.harness.rtp import AGENT_HZ, CUSTOMER_HZ
from tests.harness.sipp import Sipp, media_phone
from tests.integration.conftest import StartCallflow, agent_port
from tests.integration.phone.helpers import hears
from tests.integration.routing.helpers import directory, ended, login

RINGBACK_HZ = 440.0  # Asterisk's "ring" indication (440 + 480 Hz)
CUSTOMER_PHONE = "a4"  # the test dialplan rings this SIPp phone for any number


@pytest.fixture(autouse=True)
def callback_context(settings: Settings) -> None:
    settings.callback.context = "callflow-test-callback"
    settings.callback.ring_timeout = 5


def _queue(**policy: object) -> str:
    fields = ", ".join(
        f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}"
        for k, v in {"offer": "always", **policy}.items()
    )
    return directory({"cb": {"ring_timeout": 20}}, {"a1": {"cb": 1}}).replace(
        'name = "cb"\n', f'name = "cb"\ncallback = {{ {fields} }}\n'
    )


async def _callbacks(app: App) -> list[Callback]:
    async with app.services.db.session() as session:
        return list((await session.exec(select(Callback).order_by(col(Callback.id)))).all())


async def _asked(app: App, count: int) -> list[Callback]:
    async def enough() -> list[Callback] | None:
        rows = await _callbacks(app)
        return rows if len(rows) >= count else None

    rows = await poll_until(enough, timeout=20, message=f"{count} callback(s) asked for")
    assert rows is not None
    return rows


async def _paused(app: App) -> None:
    await app.services.routing.agent_action("a1", AgentEvent.PAUSE, "busy")


async def _unpause(app: App) -> None:
    await app.services.routing.agent_action("a1", AgentEvent.UNPAUSE)


async def test_the_agent_is_rung_first_then_the_customer_and_they_hear_each_other(
    start_callflow: StartCallflow, sipp: Sipp, ari_probe: AriProbe
) -> None:
    app = await start_callflow(_queue(short_answer=1))
    await login(app, "a1")
    await _paused(app)
    asking = await sipp.customer("qcb", caller="5550177", digits="11", wait_ms=1500)
    assert await asking.wait(30) == 0, asking.errors  # keyed, thanked, hung up by the PBX
    (row,) = await _asked(app, 1)
    assert (row.number, row.state) == ("5550177", "waiting")

    agent = await media_phone(sipp, agent_port("a1"), "agent", tone=AGENT_HZ, ring_ms=300)
    customer = await media_phone(sipp, agent_port(CUSTOMER_PHONE), "customer",
                                 tone=CUSTOMER_HZ, ring_ms=1500)  # fmt: skip
    await _unpause(app)
    await agent.connected()
    rung = time.time()
    await hears(agent.rtp, RINGBACK_HZ, rung)  # the agent hears the customer's phone ring
    await customer.connected()
    (agent_answer,) = agent.times("answer")
    (customer_rings,) = customer.times("invite")
    assert agent_answer < customer_rings  # the agent first, then the customer
    talking = time.time()
    await hears(customer.rtp, AGENT_HZ, talking)
    await hears(agent.rtp, CUSTOMER_HZ, talking)
    await poll_until(lambda: time.time() - talking > 1.5, message="a real conversation")
    await ari_probe.hangup(next(c["id"] for c in await ari_probe.channels()
                                if c["id"].startswith("callflow-callback-")))  # fmt: skip
    await customer.finished()
    await agent.finished()
    rows = await ended(app, 2)
    asked_in, called = rows
    assert asked_in.outcome == "callback"
    assert (called.callback_of, called.agent, called.outcome) == (asked_in.id, "a1", "answered")

    async def done() -> Callback | None:
        (row,) = await _callbacks(app)
        return row if row.state == "done" else None

    finished = await poll_until(done, message="the callback done")  # written after the end
    assert finished is not None and finished.attempts == 1


async def test_a_customer_who_does_not_answer_is_called_again_then_the_callback_fails(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(_queue(attempts=2, retry_every=10))
    await login(app, "a1")
    await _paused(app)
    asking = await sipp.customer("qcb", caller="5550178", digits="11", wait_ms=1500)
    assert await asking.wait(30) == 0, asking.errors
    agent = await sipp.agent(agent_port("a1"), calls=2)  # answers, waits for the BYE
    away = await sipp.agent(agent_port(CUSTOMER_PHONE), answer=False, calls=2)
    await _unpause(app)

    async def failed() -> Callback | None:
        (row,) = await _callbacks(app)
        return row if row.state == "failed" else None

    row = await poll_until(failed, timeout=60, message="the callback given up")
    assert row is not None and row.attempts == 2
    assert row.reason.startswith("no_answer after 2 attempt(s)")
    attempts = await app.services.events.of_kind("callback_attempt")
    gap = (attempts[1].at - attempts[0].at).total_seconds()
    assert [a.detail["outcome"] for a in attempts] == ["no_answer", "no_answer"]
    assert gap >= 10  # the queue's spacing
    for phone in (agent, away):
        assert await phone.wait(30) == 0, phone.errors


async def test_waiting_callers_and_a_callback_are_served_in_the_order_they_came(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(_queue(short_answer=1))
    await login(app, "a1")
    await _paused(app)
    first = await sipp.customer("qcb", caller="5550001", bye_timeout_ms=90000)
    await poll_until(lambda: len(app.services.routing.calls) == 1, message="first queued")
    asking = await sipp.customer("qcb", caller="5550002", digits="11", wait_ms=1500)
    assert await asking.wait(30) == 0, asking.errors
    third = await sipp.customer("qcb", caller="5550003", bye_timeout_ms=90000)
    await poll_until(lambda: len(app.services.routing.calls) == 3, message="all three wait")
    agent = await sipp.agent(agent_port("a1"), talk_ms=2500, calls=3)
    customer = await sipp.agent(agent_port(CUSTOMER_PHONE), talk_ms=0)
    await _unpause(app)
    for peer in (first, third, agent):
        assert await peer.wait(60) == 0, peer.errors
    rows = [r for r in await ended(app, 4, timeout=60) if r.outcome == "answered"]
    served = sorted(rows, key=lambda r: r.answered_at or r.entered_at)
    assert [r.caller_number for r in served] == ["5550001", "5550002", "5550003"]
    assert await customer.wait(30) == 0, customer.errors
