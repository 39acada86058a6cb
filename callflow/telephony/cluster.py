"""Several Asterisk servers behind one telephony port.

Theory of operation
-------------------
Features (the ACD, assist, monitoring) speak to one ``Telephony``. A site with
several servers gives them a ``PbxCluster``: the same port over one port per
server, linked by peer trunks (``PJSIP/<phone>@peer-<server>``, see
``asterisk-conf/pjsip.conf``). It keeps where things are:

- a channel lives on the server whose events named it, or where it was
  originated; every operation on it goes there;
- a bridge is made on the server of the first channel put into it (a bridge
  cannot span servers), so ``create_bridge`` only notes it;
- a phone is registered on the servers whose endpoint events say so;
- a trunk is up unless its own endpoint (``PJSIP/peer-<server>``) is offline
  on the server it leaves from (Asterisk qualifies it).

The features see a phone online only while it is registered on a server that
every other server's trunk reaches: after a server restarts, its phones
register at once, but the others' trunks to it count as down until their
next qualify, and an offer over them would fail.

When a server's link goes down, its channels end for the features (StasisEnd,
ChannelDestroyed with cause 38) and a phone registered only there is
unreachable: callers waiting there leave their queue, its agents are free.

``originate(..., near=channel)`` places the new channel on ``near``'s server
(an agent's leg must be where the customer is; an expert's whisper leg where
the agent's channel is). When the phone is registered on another server, the
channel dials it over the trunk to that server. Resync hooks get the union of
every server's channels as last known (its latest snapshot, updated by its
events), so one server reconnecting does not make the others' calls look
gone; bridges come from the servers' latest snapshots only. Timers and the
clock are the first server's. Channel ids must differ between servers: give
each Asterisk its own ``systemname`` (asterisk.conf), which prefixes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from callflow.telephony.port import (
    Channel,
    ChannelDestroyed,
    E,
    EndpointState,
    Snapshot,
    StasisEnd,
    StasisStart,
    Telephony,
)

ResyncHook = Callable[[Snapshot], Awaitable[None]]
LOST_CAUSE = 38  # Q.850 "network out of order": how a lost server's channels end
TRUNK_PREFIX = "PJSIP/peer-"


def trunk_endpoint(endpoint: str, server: str) -> str:
    """``PJSIP/agent1`` registered on ``server``, as another server dials it."""
    tech, _, name = endpoint.partition("/")
    return f"{tech}/{name}@peer-{server}"


class PbxCluster:
    def __init__(self, servers: dict[str, Telephony]) -> None:
        if not servers:
            raise ValueError("a cluster needs at least one server")
        self.servers = servers
        self.primary = next(iter(servers.values()))
        self.app = self.primary.app
        self.channels: dict[str, str] = {}  # channel id -> server
        self.bridges: dict[str, str] = {}  # bridge id -> server (once made)
        self.pending_bridges: dict[str, tuple[str, str, str | None]] = {}  # kind, name, moh
        self.playbacks: dict[str, str] = {}
        self.registered: dict[str, set[str]] = {}  # endpoint -> servers it is online on
        self.trunks: dict[tuple[str, str], bool] = {}  # (from, to) -> up, as last reported
        self._reported: dict[str, bool] = {}  # endpoint -> online, as the features know it
        # every server's channels as last known: its latest snapshot, kept up
        # to date by its events (a reconnect elsewhere must not hide them)
        self.live: dict[str, dict[str, Channel]] = {name: {} for name in servers}
        self.snapshots: dict[str, Snapshot] = {}
        self._endpoint_handlers: list[Callable[[EndpointState], Awaitable[None]]] = []
        self._end_handlers: list[Callable[[StasisEnd], Awaitable[None]]] = []
        self.gone: set[str] = set()  # channels and bridges of a lost server: nothing to undo
        self._destroyed_handlers: list[Callable[[ChannelDestroyed], Awaitable[None]]] = []
        for name, server in servers.items():
            hooks = getattr(server, "lost_hooks", None)  # an ARI link (not a memory PBX)
            if hooks is not None:
                hooks.append(self._lost(name))
            server.on(StasisStart, self._placed(name))
            server.on(ChannelDestroyed, self._gone)
            server.on(EndpointState, self._registration(name))

    # -- where things are -----------------------------------------------------------

    def _placed(self, server: str) -> Callable[[StasisStart], Awaitable[None]]:
        async def place(event: StasisStart) -> None:
            self.channels[event.channel.id] = server
            self.live[server][event.channel.id] = event.channel

        return place

    async def _gone(self, event: ChannelDestroyed) -> None:
        server = self.channels.pop(event.channel_id, None)
        if server is not None:
            self.live[server].pop(event.channel_id, None)

    def _registration(self, server: str) -> Callable[[EndpointState], Awaitable[None]]:
        async def registered(event: EndpointState) -> None:
            target = self._trunk_target(event.endpoint)
            if target is None:
                self._note(server, event.endpoint, event.online)
                await self._report(event.endpoint)
                return
            was = self.trunks.get((server, target), True)
            self.trunks[(server, target)] = event.online
            if was is event.online:  # ARI tells every change of its channels too
                return
            for endpoint, where in list(self.registered.items()):
                if target in where:
                    await self._report(endpoint)

        return registered

    def _trunk_target(self, endpoint: str) -> str | None:
        """The server a peer trunk's endpoint leads to (None: not a trunk)."""
        if not endpoint.startswith(TRUNK_PREFIX):
            return None
        target = endpoint.removeprefix(TRUNK_PREFIX)
        return target if target in self.servers else None

    def _note(self, server: str, endpoint: str, online: bool) -> None:
        where = self.registered.setdefault(endpoint, set())
        (where.add if online else where.discard)(server)

    def reachable_on(self, endpoint: str) -> set[str]:
        """The servers the phone is registered on that every other server's
        trunk reaches (a trunk not reported down counts as up)."""
        return {
            server
            for server in self.registered.get(endpoint, set())
            if all(
                self.trunks.get((other, server), True) for other in self.servers if other != server
            )
        }

    async def _report(self, endpoint: str) -> None:
        """Tell the features when the phone's reachability has changed."""
        online = bool(self.reachable_on(endpoint))
        if self._reported.get(endpoint) is online:
            return
        self._reported[endpoint] = online
        for handler in self._endpoint_handlers:
            await handler(EndpointState(endpoint, online))

    def server_of(self, channel_id: str) -> Telephony:
        return self.servers.get(self.channels.get(channel_id, ""), self.primary)

    def _bridge_server(self, bridge_id: str) -> Telephony | None:
        name = self.bridges.get(bridge_id)
        return self.servers[name] if name else None

    # -- the port: events, resync, clock ----------------------------------------------

    def now(self) -> float:
        return self.primary.now()

    def on(self, kind: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        if kind is EndpointState:  # reachability over the trunks, not each server's view
            self._endpoint_handlers.append(handler)  # type: ignore[arg-type]
            return
        for server in self.servers.values():
            server.on(kind, handler)
        if kind is StasisEnd:
            self._end_handlers.append(handler)  # type: ignore[arg-type]
        elif kind is ChannelDestroyed:
            self._destroyed_handlers.append(handler)  # type: ignore[arg-type]

    def _lost(self, server: str) -> Callable[[], Awaitable[None]]:
        async def lost() -> None:
            await self.server_lost(server)

        return lost

    async def server_lost(self, server: str) -> None:
        """A server's link went down: its calls are gone (callers waiting
        there leave their queue, conversations there end) and phones
        registered only there are unreachable."""
        lost_bridges = [b for b, where in self.bridges.items() if where == server]
        for bridge_id in lost_bridges:
            del self.bridges[bridge_id]
        lost_channels = [c for c, where in self.channels.items() if where == server]
        for channel_id in lost_channels:
            del self.channels[channel_id]
        self.gone |= {*lost_bridges, *lost_channels}
        for channel in list(self.live[server].values()):
            if channel.in_app(self.app):
                for end in self._end_handlers:
                    await end(StasisEnd(channel.id))
            for destroyed in self._destroyed_handlers:
                await destroyed(ChannelDestroyed(channel.id, LOST_CAUSE, "server lost"))
        self.live[server] = {}
        self.trunks = {k: up for k, up in self.trunks.items() if k[0] != server}
        for endpoint, where in list(self.registered.items()):
            if server in where:
                where.discard(server)
                await self._report(endpoint)

    def on_resync(self, hook: ResyncHook) -> None:
        for name, server in self.servers.items():
            server.on_resync(self._merged(name, hook))

    def _merged(self, server: str, hook: ResyncHook) -> ResyncHook:
        async def resync(snapshot: Snapshot) -> None:
            self.snapshots[server] = snapshot
            self.live[server] = {c.id: c for c in snapshot.channels}
            self.gone -= {c.id for c in snapshot.channels} | {b.id for b in snapshot.bridges}
            for channel in snapshot.channels:
                self.channels[channel.id] = server
            for bridge in snapshot.bridges:
                self.bridges[bridge.id] = server
            await hook(
                Snapshot(
                    tuple(c for channels in self.live.values() for c in channels.values()),
                    tuple(b for s in self.snapshots.values() for b in s.bridges),
                )
            )

        return resync

    def arm(self, key: str, name: str, delay: float, **data: Any) -> None:
        self.primary.arm(key, name, delay, **data)

    def cancel(self, key: str, name: str) -> bool:
        return self.primary.cancel(key, name)

    # -- channels -----------------------------------------------------------------

    async def answer(self, channel_id: str) -> None:
        await self.server_of(channel_id).answer(channel_id)

    async def hangup(self, channel_id: str, reason: str = "normal") -> bool:
        if channel_id in self.gone:
            return False  # its server was lost, and the channel with it
        return await self.server_of(channel_id).hangup(channel_id, reason)

    async def originate(
        self,
        channel_id: str,
        endpoint: str,
        args: list[str],
        *,
        caller_id: str | None = None,
        timeout: int = 30,
        near: str | None = None,
    ) -> None:
        """Call ``endpoint`` from ``near``'s server (else from a server the phone
        is registered on), over the trunk when the phone is elsewhere."""
        online = self.registered.get(endpoint, set())
        if near is not None and near in self.channels:
            here = self.channels[near]
        else:
            here = min(online) if online else next(iter(self.servers))
        dial = endpoint
        if online and here not in online:
            dial = trunk_endpoint(endpoint, min(self.reachable_on(endpoint) or online))
        self.channels[channel_id] = here
        await self.servers[here].originate(
            channel_id, dial, args, caller_id=caller_id, timeout=timeout
        )

    async def continue_in_dialplan(
        self, channel_id: str, context: str | None = None, exten: str | None = None,
        priority: int | str | None = None,
    ) -> None:  # fmt: skip
        await self.server_of(channel_id).continue_in_dialplan(channel_id, context, exten, priority)

    async def set_var(self, channel_id: str, name: str, value: str) -> None:
        await self.server_of(channel_id).set_var(channel_id, name, value)

    async def snoop(
        self, channel_id: str, snoop_id: str, *, spy: str, whisper: str, args: list[str]
    ) -> None:
        server = self.server_of(channel_id)
        self.channels[snoop_id] = self.channels.get(channel_id, next(iter(self.servers)))
        await server.snoop(channel_id, snoop_id, spy=spy, whisper=whisper, args=args)

    async def start_moh(self, channel_id: str, moh_class: str) -> None:
        await self.server_of(channel_id).start_moh(channel_id, moh_class)

    async def stop_moh(self, channel_id: str) -> None:
        await self.server_of(channel_id).stop_moh(channel_id)

    async def play(self, channel_id: str, media: list[str], playback_id: str | None = None) -> None:
        if playback_id is not None:
            self.playbacks[playback_id] = self.channels.get(channel_id, "")
        await self.server_of(channel_id).play(channel_id, media, playback_id)

    async def stop_playback(self, playback_id: str) -> bool:
        server = self.servers.get(self.playbacks.pop(playback_id, ""), self.primary)
        return await server.stop_playback(playback_id)

    # -- a call's recording: on its channel's server ----------------------------------

    async def record_call(
        self, channel_id: str, name: str, *, said: str | None = None, heard: str | None = None
    ) -> None:
        await self.server_of(channel_id).record_call(channel_id, name, said=said, heard=heard)

    async def mute_call_recording(self, channel_id: str, muted: bool) -> None:
        await self.server_of(channel_id).mute_call_recording(channel_id, muted)

    async def stop_call_recording(self, channel_id: str) -> bool:
        return await self.server_of(channel_id).stop_call_recording(channel_id)

    # -- bridges: made where their first channel is ------------------------------------

    async def create_bridge(self, bridge_id: str, kind: str, name: str = "") -> None:
        self.pending_bridges[bridge_id] = (kind, name, None)

    async def add_to_bridge(
        self, bridge_id: str, channel_id: str, *, absorb_dtmf: bool = False
    ) -> None:
        server = self._bridge_server(bridge_id)
        if server is None:
            kind, name, moh = self.pending_bridges.pop(bridge_id, ("mixing", "", None))
            here = self.channels.get(channel_id, next(iter(self.servers)))
            server = self.servers[here]
            await server.create_bridge(bridge_id, kind, name)
            self.bridges[bridge_id] = here
            if moh is not None:
                await server.bridge_moh(bridge_id, moh)
        await server.add_to_bridge(bridge_id, channel_id, absorb_dtmf=absorb_dtmf)

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        if bridge_id in self.gone or channel_id in self.gone:
            return
        server = self._bridge_server(bridge_id) or self.server_of(channel_id)
        await server.remove_from_bridge(bridge_id, channel_id)

    async def destroy_bridge(self, bridge_id: str) -> bool:
        if self.pending_bridges.pop(bridge_id, None) is not None:
            return True  # never made: nothing in Asterisk
        if bridge_id in self.gone:
            self.gone.discard(bridge_id)
            return False  # its server was lost
        server = self._bridge_server(bridge_id)
        self.bridges.pop(bridge_id, None)
        return await (server or self.primary).destroy_bridge(bridge_id)

    async def bridge_moh(self, bridge_id: str, moh_class: str) -> None:
        server = self._bridge_server(bridge_id)
        if server is None and bridge_id in self.pending_bridges:
            kind, name, _ = self.pending_bridges[bridge_id]
            self.pending_bridges[bridge_id] = (kind, name, moh_class)
            return
        await (server or self.primary).bridge_moh(bridge_id, moh_class)

    # -- endpoints ------------------------------------------------------------------

    async def send_message(self, endpoint: str, sender: str, body: str) -> None:
        online = self.registered.get(endpoint)
        server = self.servers[min(online)] if online else self.primary
        await server.send_message(endpoint, sender, body)

    async def configure(self, kind: str, name: str, fields: dict[str, str]) -> None:
        for server in self.servers.values():
            await server.configure(kind, name, fields)

    async def unconfigure(self, kind: str, name: str) -> bool:
        removed = False
        for server in self.servers.values():
            removed = await server.unconfigure(kind, name) or removed
        return removed

    async def endpoints(self) -> dict[str, bool]:
        """Every phone, online as the features see it (noted per server)."""
        phones: set[str] = set()
        for name, server in self.servers.items():
            for endpoint, online in (await server.endpoints()).items():
                target = self._trunk_target(endpoint)
                if target is not None:
                    self.trunks[(name, target)] = online
                else:
                    self._note(name, endpoint, online)
                    phones.add(endpoint)
        states = {endpoint: bool(self.reachable_on(endpoint)) for endpoint in phones}
        self._reported.update(states)
        return states
