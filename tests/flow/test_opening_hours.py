"""Opening hours on the memory PBX (its clock starts on Friday 15 January
2027, 09:00 in Paris): open, callers join; closed, they go to the queue's
closed target (the dialplan, or another queue) and nobody is rung; callers
already waiting when it closes keep their place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callflow.routing.agent_state import AgentEvent
from tests.flow.conftest import DIRECTORY, Center, build_center

HOURS = 'hours = { zone = "Europe/Paris", fri = "09:00-17:00" }\n'
WITH_HOURS = DIRECTORY.replace(
    'name = "support"\n',
    f'name = "support"\n{HOURS}closed_target = "callflow-closed,s,1"\n',
    1,
).replace('name = "sales"\n', f'name = "sales"\n{HOURS}closed_target = "queue:support"\n', 1)

EIGHT_HOURS_AND_A_HALF = 8.5 * 3600  # Friday 17:30 in Paris


@pytest.fixture
async def center(tmp_path: Path) -> AsyncIterator[Center]:
    built, db = await build_center(tmp_path, WITH_HOURS)
    await built.start()
    await built.login("agent1", "agent3")
    yield built
    await built.close()
    await db.close()


async def test_while_open_a_caller_joins_and_an_agent_rings(center: Center) -> None:
    customer = await center.pbx.call(["queue", "support"])
    center.leg_of("agent1")
    assert customer in center.routing.calls


async def test_while_closed_the_caller_goes_to_the_closed_target_and_nobody_rings(
    center: Center,
) -> None:
    await center.pbx.advance(EIGHT_HOURS_AND_A_HALF)
    customer = await center.pbx.call(["queue", "support"], caller="5550100")
    channel = center.pbx.channels[customer]
    assert channel.variables["CALLFLOW_RESULT"] == "closed"
    assert channel.continued == ("callflow-closed", "s", 1)
    assert not center.pbx.ringing() and customer not in center.routing.calls
    (entry,) = await center.log("closed")
    assert (entry.queue, entry.detail["caller"]) == ("support", "5550100")


async def test_a_closed_queue_may_send_its_callers_on_to_another_queue(center: Center) -> None:
    await center.pbx.advance(EIGHT_HOURS_AND_A_HALF)
    customer = await center.pbx.call(["queue", "sales"])
    # sales is closed and sends on to support, which is closed too: the dialplan
    assert center.pbx.channels[customer].continued == ("callflow-closed", "s", 1)
    assert [e.queue for e in await center.log("closed")] == ["sales", "support"]


async def test_callers_waiting_when_the_queue_closes_keep_their_place(center: Center) -> None:
    await center.routing.agent_action("agent1", AgentEvent.PAUSE, "break")
    await center.pbx.advance(7 * 3600 + 58 * 60)  # 16:58 in Paris
    customer = await center.pbx.call(["queue", "support"])
    await center.pbx.advance(3 * 60)  # 17:01: closed to new callers
    assert customer in center.routing.calls
    await center.routing.agent_action("agent1", AgentEvent.UNPAUSE)
    await center.pbx.settle()
    center.leg_of("agent1")
