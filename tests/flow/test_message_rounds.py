"""Messages are stored in rounds: many posted together share one commit, each
is in the database before its sender hears back, and a refused one does not
sink the others."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from callflow.db.batch import GroupCommit
from callflow.db.models import Message
from callflow.im.hub import ImError
from tests.flow.conftest import Center
from tests.flow.test_replay import open_session


async def stored_bodies(center: Center, session_id: int) -> list[str]:
    async with center.db.session() as session:
        rows = await session.exec(
            select(Message.body).where(Message.session_id == session_id).order_by(col(Message.id))
        )
        return list(rows.all())


async def test_messages_posted_together_share_a_commit_and_keep_their_order(
    center: Center,
) -> None:
    hub, agent, _expert, session = await open_session(center)
    hub.rates["message"] = (1000.0, 1000.0)
    bodies = [f"line {n}" for n in range(40)]
    posted = await asyncio.gather(*(hub.post(agent, session, body) for body in bodies))
    assert [m.body for m in posted] == bodies
    assert [m.id for m in posted] == sorted(m.id for m in posted if m.id is not None)
    assert await stored_bodies(center, session) == bodies
    assert hub._writer.rounds < len(bodies) / 4  # shared commits, not one each


async def test_a_refused_message_does_not_sink_its_round(center: Center) -> None:
    hub, agent, expert, session = await open_session(center)
    stranger = center.uid("agent2")
    results = await asyncio.gather(
        hub.post(agent, session, "from the agent"),
        hub.post(stranger, session, "from someone else"),
        hub.post(expert, session, "from the expert"),
        return_exceptions=True,
    )
    assert isinstance(results[1], ImError)
    assert f"no session {session} of yours" in str(results[1])
    assert await stored_bodies(center, session) == ["from the agent", "from the expert"]


async def test_a_failing_round_is_retried_one_job_at_a_time(center: Center) -> None:
    async def write(session: AsyncSession, jobs: Sequence[int]) -> list[int | Exception]:
        if len(jobs) > 1 and 13 in jobs:
            raise RuntimeError("the commit failed")
        if list(jobs) == [13]:
            raise RuntimeError("13 is unlucky")
        return [job * 2 for job in jobs]

    writer: GroupCommit[int, int] = GroupCommit(
        center.db,
        center.pbx.tasks,
        write,
        name="numbers",
    )
    results = await asyncio.gather(
        *(writer.submit(n) for n in (11, 12, 13, 14)), return_exceptions=True
    )
    assert results[:2] == [22, 24] and results[3] == 28
    assert isinstance(results[2], RuntimeError) and "unlucky" in str(results[2])


async def test_a_message_to_a_closed_session_is_refused(center: Center) -> None:
    hub, agent, _expert, session = await open_session(center)
    await center.assist.store.close_session(session)
    with pytest.raises(ImError, match="is closed"):
        await hub.post(agent, session, "too late")


async def test_a_writer_runs_on_the_services_tasks_and_stops_with_them(center: Center) -> None:
    """An idle ``Tasks`` is empty (``len`` 0): the writer must still take it,
    not a private one that nothing ever stops."""

    async def write(session: AsyncSession, jobs: Sequence[int]) -> list[int | Exception]:
        return list(jobs)

    tasks = center.pbx.tasks
    before = len(tasks)
    writer: GroupCommit[int, int] = GroupCommit(center.db, tasks, write, name="numbers")
    assert await writer.submit(7) == 7
    assert len(tasks) == before + 1
    await tasks.close()
    assert len(tasks) == 0


async def test_writes_awaited_one_after_another_share_spaced_rounds(center: Center) -> None:
    """The call path's writes come a few at a time, each awaited: with
    ``spacing``, those that come soon after a round wait for the next one
    together, while a write after a quiet spell is not held back."""
    rounds: list[list[int]] = []

    async def write(session: AsyncSession, jobs: Sequence[int]) -> list[int | Exception]:
        rounds.append(list(jobs))
        return list(jobs)

    spaced: GroupCommit[int, int] = GroupCommit(
        center.db, center.pbx.tasks, write, name="spaced", spacing=0.2
    )

    async def one_call(n: int) -> None:  # three writes, each awaited before the next
        await asyncio.sleep(n * 0.004)  # calls arrive a few milliseconds apart
        for k in range(3):
            assert await spaced.submit(n * 10 + k) == n * 10 + k

    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await spaced.submit(1) == 1  # after a quiet spell: at once
    assert loop.time() - started < 0.15  # not held back by the spacing
    await asyncio.gather(*(one_call(n) for n in range(1, 11)))
    assert sorted(j for r in rounds for j in r) == sorted(
        [1] + [n * 10 + k for n in range(1, 11) for k in range(3)]
    )
    assert len(rounds) <= 5  # 31 writes; without spacing, about one round per write
