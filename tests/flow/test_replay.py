"""The socket's replay on reconnect: every message exactly once, also one posted
while the missed ones are being read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callflow.db.models import Message
from callflow.im.hub import Connection, Hub
from tests.flow.conftest import Center


async def open_session(center: Center) -> tuple[Hub, int, int, int]:
    hub = Hub(center.db, center.pbx.tasks)
    agent, expert = center.uid("agent1"), center.uid("expert1")
    await center.assist.web_connection(expert, +1)
    request = await center.assist.create(agent, "billing")
    session = await center.assist.accept(expert, request.request_id)
    return hub, agent, expert, session


def collecting(user_id: int, received: list[dict[str, Any]]) -> Connection:
    """A socket that keeps what it is sent."""

    async def send(event: dict[str, Any]) -> None:
        received.append(event)

    async def close(code: int, reason: str) -> None:
        return None

    return Connection(user_id, send, close)


async def test_a_message_posted_while_the_replay_reads_arrives_exactly_once(
    center: Center,
) -> None:
    hub, agent, expert, session = await open_session(center)
    before = await hub.post(agent, session, "before the reconnect")
    received: list[dict[str, Any]] = []
    read_missed = hub.missed

    async def racing_missed(user_id: int, after_id: int) -> Sequence[Message]:
        found = await read_missed(user_id, after_id)
        await hub.post(agent, session, "posted during the replay")  # after the read
        return found

    hub.missed = racing_missed  # type: ignore[method-assign]
    connection = collecting(expert, received)
    await hub.attach(connection, replay_after=(before.id or 1) - 1)
    hub.missed = read_missed  # type: ignore[method-assign]
    await hub.post(agent, session, "after the replay")
    await center.pbx.settle()
    for _ in range(5):
        if len(received) >= 3:
            break
        await hub.notify(expert, {"type": "ping"})
        await center.pbx.settle()
    bodies = [e["body"] for e in received if e["type"] == "message"]
    assert bodies == ["before the reconnect", "posted during the replay", "after the replay"]
    await hub.detach(connection)


async def test_a_message_both_replayed_and_pushed_is_sent_once(center: Center) -> None:
    hub, agent, expert, session = await open_session(center)
    received: list[dict[str, Any]] = []
    read_missed = hub.missed

    async def missed_after_a_post(user_id: int, after_id: int) -> Sequence[Message]:
        await hub.post(agent, session, "posted just before the read")  # read and queued
        return await read_missed(user_id, after_id)

    hub.missed = missed_after_a_post  # type: ignore[method-assign]
    connection = collecting(expert, received)
    await hub.attach(connection, replay_after=0)
    await hub.notify(expert, {"type": "ping"})
    await center.pbx.settle()
    bodies = [e["body"] for e in received if e["type"] == "message"]
    assert bodies == ["posted just before the read"]
    await hub.detach(connection)
