"""Dispositions at wrap-up on the memory PBX: owed after a call on a queue
with codes, required before wrap-up ends, a default written when none is
picked in time, refusals that name the problem."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from callflow.db.models import Disposition
from callflow.routing.agent_state import AgentEvent, AgentState
from callflow.routing.desk import AgentActionError
from callflow.routing.wrapup import DispositionError
from tests.flow.conftest import DIRECTORY, Center, build_center

CODED = DIRECTORY.replace(
    'name = "support"\n',
    'name = "support"\ndisposition_required = true\n'
    'dispositions = { sale = "Sale made", info = "Information only" }\n',
    1,
).replace(
    'name = "sales"\n',
    'name = "sales"\ndisposition_default = "info"\n'
    'dispositions = { sale = "Sale made", info = "Information only" }\n',
    1,
)


@pytest.fixture
async def center(tmp_path: Path) -> AsyncIterator[Center]:
    built, db = await build_center(tmp_path, CODED)
    await built.start()
    yield built
    await built.close()
    await db.close()


async def _call_ended(center: Center, queue: str, agent: str) -> int:
    await center.login(agent)
    customer = await center.pbx.call(["queue", queue], caller="5550100")
    await center.answer(agent)
    interaction = center.routing.calls[customer].interaction_id
    await center.pbx.hangup_phone(customer)
    return interaction


async def stored(center: Center) -> list[tuple[int, str, str, str, bool]]:
    async with center.db.session() as session:
        rows = (await session.exec(select(Disposition))).all()
    return [(r.interaction_id, r.agent, r.code, r.note, r.defaulted) for r in rows]


async def test_a_required_disposition_holds_wrap_up_until_the_agent_picks_one(
    center: Center,
) -> None:
    interaction = await _call_ended(center, "support", "agent1")
    frames = center.inbox.of(center.uid("agent1"), "disposition")
    assert frames[-1]["state"] == "needed" and frames[-1]["interaction"] == interaction
    assert [c["code"] for c in frames[-1]["codes"]] == ["sale", "info"]
    await center.pbx.advance(11)  # support's 10 s wrap-up is over...
    assert center.state("agent1") is AgentState.WRAP_UP  # ...but held
    assert center.inbox.of(center.uid("agent1"), "disposition")[-1]["state"] == "waiting"
    with pytest.raises(DispositionError, match="no disposition 'refund'"):
        await center.routing.dispose("agent1", "refund")
    await center.routing.agent_action("agent1", AgentEvent.PAUSE, "break")
    with pytest.raises(AgentActionError, match=f"pick a disposition for call {interaction}"):
        await center.routing.agent_action("agent1", AgentEvent.UNPAUSE)
    assert await center.routing.dispose("agent1", "sale", "paid by card") == interaction
    assert await stored(center) == [(interaction, "agent1", "sale", "paid by card", False)]
    await center.routing.agent_action("agent1", AgentEvent.UNPAUSE)
    assert center.state("agent1") is AgentState.AVAILABLE
    with pytest.raises(DispositionError, match="has no call waiting"):
        await center.routing.dispose("agent1", "sale")


async def test_picking_during_held_wrap_up_frees_the_agent_at_once(center: Center) -> None:
    await _call_ended(center, "support", "agent1")
    await center.pbx.advance(11)
    await center.routing.dispose("agent1", "info")
    assert center.state("agent1") is AgentState.AVAILABLE


async def test_a_default_is_written_when_none_is_picked_in_time(center: Center) -> None:
    interaction = await _call_ended(center, "sales", "agent3")
    assert center.state("agent3") is AgentState.AVAILABLE  # sales: no wrap-up
    assert await stored(center) == [(interaction, "agent3", "info", "", True)]
    (logged,) = await center.log("disposition")
    assert logged.detail == {"code": "info", "defaulted": True}


async def test_a_disposition_keyed_on_the_phone_during_the_call_is_written_at_its_end(
    center: Center,
) -> None:
    await center.login("agent1")
    customer = await center.pbx.call(["queue", "support"], caller="5550100")
    leg = await center.answer("agent1")
    interaction = center.routing.calls[customer].interaction_id
    await center.pbx.dtmf(leg, "*82")  # the second code: info
    assert center.pbx.ops("play")[-1] == ("play", leg, "sound:beep")
    preset = center.inbox.of(center.uid("agent1"), "disposition")[-1]
    assert (preset["state"], preset["code"]) == ("preset", "info")
    await center.pbx.dtmf(leg, "*81")  # changed their mind: sale
    assert not await stored(center)  # written when the call ends
    await center.pbx.hangup_phone(customer)
    assert await stored(center) == [(interaction, "agent1", "sale", "", False)]
    done = center.inbox.of(center.uid("agent1"), "disposition")[-1]
    assert (done["state"], done["code"], done["defaulted"]) == ("done", "sale", False)
    await center.pbx.advance(11)
    assert center.state("agent1") is AgentState.AVAILABLE  # required, and given


async def test_a_keyed_code_the_queue_lacks_gets_the_error_beep(center: Center) -> None:
    await center.login("agent1")
    customer = await center.pbx.call(["queue", "support"])
    leg = await center.answer("agent1")
    await center.pbx.dtmf(leg, "*89")
    assert center.pbx.ops("play")[-1] == ("play", leg, "sound:beeperr")
    await center.pbx.dtmf(leg, "*8")
    await center.pbx.advance(6)  # too late for the digit: an ordinary key
    await center.pbx.dtmf(leg, "1")
    assert center.pbx.ops("play")[-1] == ("play", leg, "sound:beeperr")
    await center.pbx.hangup_phone(customer)
    assert not await stored(center)
    assert center.inbox.of(center.uid("agent1"), "disposition")[-1]["state"] == "needed"
