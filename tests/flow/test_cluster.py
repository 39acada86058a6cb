"""Several PBX servers behind one port (``PbxCluster``), on memory PBXes: where
channels and bridges are made, how a phone on another server is dialled, and
what a reconnect shows."""

from __future__ import annotations

import itertools

from callflow.tasks import Tasks
from callflow.telephony.cluster import PbxCluster, trunk_endpoint
from callflow.telephony.memory import MemoryPbx
from callflow.telephony.port import (
    ChannelDestroyed,
    EndpointState,
    Snapshot,
    StasisEnd,
    StasisStart,
)


async def test_a_caller_on_one_server_rings_an_agent_registered_on_the_other() -> None:
    a, b = MemoryPbx(Tasks()), MemoryPbx(Tasks())
    cluster = PbxCluster({"a": a, "b": b})
    started: list[str] = []

    async def entered(event: StasisStart) -> None:
        started.append(event.channel.id)

    cluster.on(StasisStart, entered)
    await b.set_endpoint("PJSIP/agent1", True)
    assert (await cluster.endpoints())["PJSIP/agent1"] is True
    customer = await a.call(["queue", "support"])
    assert started == [customer] and cluster.channels[customer] == "a"

    await cluster.originate("leg-1", "PJSIP/agent1", ["agent-leg"], near=customer)
    assert a.channels["leg-1"].originated_to == "PJSIP/agent1@peer-b"  # over the trunk
    assert "leg-1" not in b.channels
    await cluster.create_bridge("call-1", "mixing")
    assert "call-1" not in a.bridges  # made with its first channel, where that lives
    await cluster.answer(customer)
    await cluster.add_to_bridge("call-1", customer)
    await a.pick_up("leg-1")
    await cluster.add_to_bridge("call-1", "leg-1")
    assert a.bridges["call-1"].channels == [customer, "leg-1"] and not b.bridges

    # a phone registered on the caller's own server is dialled directly
    await a.set_endpoint("PJSIP/agent2", True)
    await cluster.originate("leg-2", "PJSIP/agent2", ["agent-leg"], near=customer)
    assert a.channels["leg-2"].originated_to == "PJSIP/agent2"
    assert trunk_endpoint("PJSIP/x", "b") == "PJSIP/x@peer-b"

    await cluster.hangup("leg-2")
    assert "leg-2" not in a.channels
    assert await cluster.destroy_bridge("call-1")


async def test_a_reconnect_of_one_server_shows_every_servers_calls() -> None:
    a, b = MemoryPbx(Tasks()), MemoryPbx(Tasks())
    b._numbers = itertools.count(100)  # channel ids differ between servers
    cluster = PbxCluster({"a": a, "b": b})
    seen: list[Snapshot] = []

    async def resync(snapshot: Snapshot) -> None:
        seen.append(snapshot)

    cluster.on_resync(resync)
    await a.connect()
    await b.connect()
    on_a = await a.call(["queue", "support"])
    on_b = await b.call(["queue", "support"])
    await b.connect()  # server b comes back: a's caller does not look gone
    assert seen[-1].channel_ids() == {on_a, on_b}  # a's known since its StasisStart
    await a.connect()
    assert seen[-1].channel_ids() == {on_a, on_b}
    await b.hangup_phone(on_b)
    await b.connect()
    assert seen[-1].channel_ids() == {on_a}


async def test_losing_a_server_ends_its_calls_and_its_phones_for_the_features() -> None:
    a, b = MemoryPbx(Tasks()), MemoryPbx(Tasks())
    b._numbers = itertools.count(100)
    cluster = PbxCluster({"a": a, "b": b})
    ended: list[str] = []
    destroyed: list[tuple[str, int]] = []
    offline: list[str] = []

    async def on_end(event: StasisEnd) -> None:
        ended.append(event.channel_id)

    async def on_destroyed(event: ChannelDestroyed) -> None:
        destroyed.append((event.channel_id, event.cause))

    async def on_endpoint(event: EndpointState) -> None:
        if not event.online:
            offline.append(event.endpoint)

    cluster.on(StasisEnd, on_end)
    cluster.on(ChannelDestroyed, on_destroyed)
    cluster.on(EndpointState, on_endpoint)
    await a.set_endpoint("PJSIP/both", True)
    await b.set_endpoint("PJSIP/both", True)
    await b.set_endpoint("PJSIP/only-b", True)
    on_a = await a.call(["queue", "support"])
    on_b = await b.call(["queue", "support"])
    await cluster.server_lost("b")
    assert ended == [on_b] and destroyed == [(on_b, 38)]
    assert offline == ["PJSIP/only-b"]  # "both" is still registered on a
    assert on_b not in cluster.channels and cluster.channels[on_a] == "a"


async def test_a_phone_counts_as_reachable_only_while_the_trunks_to_its_server_are_up() -> None:
    """After a server restarts, its phones register before the other servers'
    trunks to it are qualified again: an offer over them would fail."""
    a, b = MemoryPbx(Tasks()), MemoryPbx(Tasks())
    cluster = PbxCluster({"a": a, "b": b})
    seen: list[tuple[str, bool]] = []

    async def on_endpoint(event: EndpointState) -> None:
        seen.append((event.endpoint, event.online))

    cluster.on(EndpointState, on_endpoint)
    await a.set_endpoint("PJSIP/peer-b", False)  # a's trunk to b: down
    await b.set_endpoint("PJSIP/agent1", True)
    await a.set_endpoint("PJSIP/agent2", True)
    assert seen == [("PJSIP/agent1", False), ("PJSIP/agent2", True)]
    assert await cluster.endpoints() == {"PJSIP/agent1": False, "PJSIP/agent2": True}
    await b.set_endpoint("PJSIP/peer-a", False)  # b's way to a does not hide b's phones
    assert seen[-1] == ("PJSIP/agent2", False)  # ... but hides a's
    await b.set_endpoint("PJSIP/peer-a", True)
    await a.set_endpoint("PJSIP/peer-b", True)  # qualified again
    assert seen[-2:] == [("PJSIP/agent2", True), ("PJSIP/agent1", True)]
    customer = await a.call(["queue", "support"])
    await cluster.originate("leg-1", "PJSIP/agent1", ["agent-leg"], near=customer)
    assert a.channels["leg-1"].originated_to == "PJSIP/agent1@peer-b"
    await cluster.hangup("leg-1")
    await cluster.hangup(customer)


async def test_a_callbacks_customer_is_dialled_from_the_server_of_the_agents_leg() -> None:
    a, b = MemoryPbx(Tasks()), MemoryPbx(Tasks())
    cluster = PbxCluster({"a": a, "b": b})
    await b.set_endpoint("PJSIP/agent1", True)
    await cluster.originate("leg-1", "PJSIP/agent1", ["agent-leg", "callback-7"], near="callback-7")
    assert "leg-1" in b.channels  # no channel to be near: where the phone is
    await cluster.originate(
        "callflow-callback-7-1", "Local/5550100@callflow-callback", ["callback-leg", "7"],
        near="leg-1",
    )  # fmt: skip
    assert b.channels["callflow-callback-7-1"].originated_to == "Local/5550100@callflow-callback"
    assert "callflow-callback-7-1" not in a.channels
