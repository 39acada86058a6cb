"""Skills-based routing on the memory PBX with a virtual clock: who may take a
call, escalation as the caller waits, ties, skills changing while a caller
waits, and a restart in the middle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callflow.db.engine import Database
from callflow.directory.routing_admin import AgentUpdate
from callflow.routing.agent_state import AgentEvent, AgentState
from tests.flow.conftest import Center, build_center, restarted

SKILLED = """
[skills]
billing = "Invoices and payments"
spanish = "Speaks Spanish"
tech = "Technical support"

[[queues]]
name = "support"
strategy = "longest-idle"
ring_timeout = 15
max_wait = 600
wrapup = 0
announce_every = 0
join_empty = true
escalation = [
  { after = 30, lower = 1 },
  { after = 60, drop = ["spanish"] },
  { after = 90, queues = ["sales"] },
]

[[queues]]
name = "sales"
strategy = "longest-idle"
ring_timeout = 15
max_wait = 600
wrapup = 0
announce_every = 0

[[queues]]
name = "experts"
strategy = "longest-idle"
ring_timeout = 15
max_wait = 600
wrapup = 0
announce_every = 0
requirement = "billing"
skill_preference = "best"

[[agents]]
name = "ann"
endpoint = "PJSIP/ann"
queues = { support = 1, experts = 1 }
skills = { billing = 4, spanish = 2 }

[[agents]]
name = "bob"
endpoint = "PJSIP/bob"
queues = { support = 1, experts = 1 }
skills = { billing = 2 }

[[agents]]
name = "cid"
endpoint = "PJSIP/cid"
queues = { support = 1, experts = 1 }
skills = { tech = 3, billing = 3 }

[[agents]]
name = "dan"
endpoint = "PJSIP/dan"
queues = { sales = 1 }
skills = { billing = 1 }

[[agents]]
name = "eve"
endpoint = "PJSIP/eve"
queues = { experts = 1 }
skills = { billing = 4 }
"""

PEOPLE = ("ann", "bob", "cid", "dan", "eve")


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Center, Database]]:
    center, db = await build_center(tmp_path, SKILLED)
    await center.start(PEOPLE)
    yield center, db
    await center.close()
    await db.close()


@pytest.fixture
def center(setup: tuple[Center, Database]) -> Center:
    return setup[0]


def ringing(center: Center) -> set[str]:
    return {(c.originated_to or "").removeprefix("PJSIP/") for c in center.pbx.ringing()}


async def call(center: Center, queue: str, requirement: str = "", caller: str = "5551000") -> str:
    return await center.pbx.call(["queue", queue, "", requirement], caller=caller)


async def test_a_caller_is_offered_only_to_agents_who_meet_their_requirement(
    center: Center,
) -> None:
    await center.login("bob", "ann", "cid")  # bob free the longest
    await call(center, "support", "spanish", caller="5550001")
    assert ringing(center) == {"ann"}
    await call(center, "support", "tech >= 2 or billing >= 4", caller="5550002")
    assert ringing(center) == {"ann", "cid"}
    await call(center, "support", "", caller="5550003")  # anyone: bob
    assert ringing(center) == {"ann", "cid", "bob"}


async def test_a_malformed_or_unknown_requirement_hands_the_caller_back_named(
    center: Center,
) -> None:
    await center.login("ann")
    for requirement, problem in [
        ("billing >> 2", "cannot read 'billing >> 2'"),
        ("french >= 1", "unknown skill 'french' (known: billing, spanish, tech)"),
    ]:
        channel = center.pbx.channels[await call(center, "support", requirement)]
        assert channel.variables["CALLFLOW_RESULT"] == "error"
        assert problem in channel.variables["CALLFLOW_ERROR"]
    assert not center.pbx.ringing() and center.routing.calls == {}


async def test_escalation_lowers_the_level_asked_after_its_wait(center: Center) -> None:
    await center.login("bob")  # billing 2
    caller = await call(center, "support", "billing >= 3")
    await center.pbx.advance(29.9)
    assert not center.pbx.ringing()
    await center.pbx.advance(0.1)
    assert ringing(center) == {"bob"}
    (step,) = await center.log("escalate")
    assert step.detail["step"] == 1 and step.detail["requirement"] == "billing >= 2"
    (offer,) = await center.log("offer")
    assert offer.detail["step"] == 1 and offer.detail["skills"] == {"billing": 2}
    assert offer.channel_id == caller


async def test_escalation_drops_a_skill_and_then_adds_another_queues_agents(
    center: Center,
) -> None:
    await center.login("dan")  # sales only, billing 1
    await call(center, "support", "billing >= 2 and spanish >= 2")
    await center.pbx.advance(89)
    assert not center.pbx.ringing()  # step 2 asks billing >= 1: dan is not support's
    await center.pbx.advance(1)
    assert ringing(center) == {"dan"}
    steps = [e.detail["requirement"] for e in await center.log("escalate")]
    assert steps == ["billing >= 1 and spanish >= 1", "billing >= 1", "billing >= 1"]
    (offer,) = await center.log("offer")
    assert offer.detail["also_queues"] == ["sales"]


async def test_a_caller_keeps_their_place_while_their_requirement_relaxes(
    center: Center,
) -> None:
    first = await call(center, "support", "billing >= 3", caller="5550001")
    await center.pbx.advance(10)
    await call(center, "support", "", caller="5550002")  # anyone will do
    await center.pbx.advance(25)  # the first has waited 35 s: billing >= 2
    await center.login("bob")
    (leg,) = center.pbx.ringing()
    offers = await center.log("offer")
    assert [o.channel_id for o in offers] == [first] and leg.originated_to == "PJSIP/bob"


async def test_the_best_match_is_preferred_where_the_queue_asks_and_ties_go_to_the_longest_idle(
    center: Center,
) -> None:
    for name in ("cid", "bob", "eve", "ann"):  # cid free the longest (billing 3)
        await center.login(name)
        await center.pbx.advance(1)
    await call(center, "experts", caller="5550001")
    assert ringing(center) == {"eve"}  # billing 4, free longer than ann (also 4)
    await call(center, "experts", caller="5550002")
    assert ringing(center) == {"eve", "ann"}
    await call(center, "experts", caller="5550003")
    assert ringing(center) == {"eve", "ann", "cid"}  # 3 before bob's 2


async def test_a_skill_given_while_a_caller_waits_offers_the_call_at_once(
    center: Center,
) -> None:
    await center.login("ann")
    await call(center, "support", "tech >= 2")
    assert not center.pbx.ringing()
    await center.services.routing_admin.update_agent(
        "ann", AgentUpdate(skills={"billing": 4, "spanish": 2, "tech": 2})
    )
    await center.pbx.settle()
    assert ringing(center) == {"ann"}
    assert center.routing.agents["ann"].skills["tech"] == 2


async def test_after_a_restart_a_waiting_caller_keeps_their_requirement_and_step(
    setup: tuple[Center, Database],
) -> None:
    center, db = setup
    await center.login("bob")  # billing 2: only at step 1
    caller = await call(center, "support", "billing >= 3")
    await center.pbx.advance(10)
    assert (await center.interaction(caller)).requirement == "billing >= 3"
    again = await restarted(center, db)
    try:
        assert again.state("bob") is AgentState.AVAILABLE and not again.pbx.ringing()
        await again.pbx.advance(19.9)
        assert not again.pbx.ringing()
        await again.pbx.advance(0.1)
        assert ringing(again) == {"bob"}
    finally:
        await again.close()


async def test_the_worked_example_in_the_admin_guide_routes_as_it_says(tmp_path: Path) -> None:
    guide = (Path(__file__).parents[2] / "docs" / "admin.md").read_text()
    example = guide.split("A worked example", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    center, db = await build_center(tmp_path, example)
    try:
        await center.start(("ana", "ben"))
        await center.login("ben")
        await center.pbx.advance(1)
        await center.login("ana")  # ben free the longest
        first = await call(center, "support", caller="5550001")  # billing >= 2: the best
        assert ringing(center) == {"ana"}
        await center.answer("ana")
        await center.pbx.hangup_phone(first)
        await center.pbx.settle()
        await center.routing.agent_action("ana", AgentEvent.PAUSE, "busy")  # ana is away
        await center.pbx.settle()
        await call(center, "support", "billing >= 3 and spanish >= 2", caller="5550002")
        await center.pbx.advance(89)
        assert not center.pbx.ringing()
        await center.pbx.advance(1)
        assert ringing(center) == {"ben"}
        steps = [e.detail["requirement"] for e in await center.log("escalate")]
        assert steps == ["billing >= 2 and spanish >= 1", "billing >= 2"]
    finally:
        await center.close()
        await db.close()
