"""Skills routing on real Asterisk: the requirement comes from the dialplan
(a channel variable an IVR set, passed as the queue's third argument), and
the SIP phones that ring are the ones with the skills."""

from __future__ import annotations

from callflow.app import App
from tests.harness.poll import poll_until
from tests.harness.sipp import Sipp
from tests.integration.conftest import StartCallflow, agent_port
from tests.integration.routing.helpers import ended, login

DIRECTORY = """
[skills]
billing = "Invoices and payments"
spanish = "Speaks Spanish"

[[queues]]
name = "skills"
wrapup = 0
announce_every = 0
escalation = [{ after = 4, lower = 1 }]

[[agents]]
name = "a1"
endpoint = "PJSIP/a1"
queues = { skills = 1 }
skills = { billing = 2 }

[[agents]]
name = "a2"
endpoint = "PJSIP/a2"
queues = { skills = 1 }
skills = { spanish = 2 }

[[agents]]
name = "a3"
endpoint = "PJSIP/a3"
queues = { skills = 1 }
skills = { billing = 4 }
"""


async def _call(app: App, sipp: Sipp, service: str, done: int) -> None:
    caller = await sipp.customer(service, caller=f"555{done:04d}")
    assert await caller.wait(30) == 0, caller.errors
    await ended(app, done)


async def test_callers_with_different_requirements_ring_the_phones_with_those_skills(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(DIRECTORY)
    await login(app, "a1")  # free the longest: first in line without skills
    await login(app, "a2", "a3")
    a2 = await sipp.agent(agent_port("a2"), talk_ms=300, calls=1)
    a3 = await sipp.agent(agent_port("a3"), talk_ms=300, calls=1)
    await _call(app, sipp, "skills-spanish", 1)
    await _call(app, sipp, "skills-billing", 2)
    rows = await ended(app, 2)
    assert [(r.agent, r.requirement) for r in rows] == [
        ("a2", "spanish >= 1"), ("a3", "billing >= 3"),
    ]  # fmt: skip
    for phone in (a2, a3):  # each phone got its one INVITE, answered, hung up
        assert await phone.wait(20) == 0, phone.errors
    await app.services.events.flush()
    offers = app.services.events.of_kind("offer")
    assert [(e.agent, e.detail["skills"]) for e in await offers] == [
        ("a2", {"spanish": 2}), ("a3", {"billing": 4}),
    ]  # fmt: skip


async def test_escalation_offers_the_call_to_a_lower_level_agent_after_its_wait(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(DIRECTORY)
    await login(app, "a1")  # billing 2: not enough for billing >= 3 until step 1
    a1 = await sipp.agent(agent_port("a1"), talk_ms=300, calls=1)
    await _call(app, sipp, "skills-billing", 1)
    assert await a1.wait(20) == 0, a1.errors
    (row,) = await ended(app, 1)
    assert row.agent == "a1" and row.offered_at is not None
    assert (row.offered_at - row.entered_at).total_seconds() >= 4
    await app.services.events.flush()
    (step,) = await app.services.events.of_kind("escalate")
    assert step.detail["requirement"] == "billing >= 2"


async def test_a_malformed_requirement_sends_the_caller_to_the_fallback_named(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(DIRECTORY)
    caller = await sipp.customer("skills-bad")  # the fallback plays its message and hangs up
    assert await caller.wait(30) == 0, caller.errors
    (event,) = await poll_until(
        lambda: app.services.events.of_kind("rejected"), message="refusal recorded"
    )
    assert event.detail["problem"].startswith("queue: requirement: cannot read 'billing >> 3'")
