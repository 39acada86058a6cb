"""Where a customer's audio goes: the only owner of the ACD's bridge ids.

Theory of operation
-------------------
A waiting caller sits in their queue's holding bridge
(``callflow-hold-<queue>.<unique>``, music on hold), created under a new
name with its first caller and destroyed with its last; ``hold``/``unhold``
keep the member set under a per-queue lock so a caller arriving as the last
one leaves never finds a destroyed bridge. A conversation is the mixing bridge
``callflow-call-<interaction>``: ``connect`` creates it and puts customer
and agent in (the agent with ``absorbDTMF``, so the agent's keys — the
assist menu — never reach the customer). ``hold_customer`` and
``resume_customer`` take the customer out onto music and back (the assist
menu, a consult). Races with the PBX (a channel that hung up meanwhile) are
outcomes here, not errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from callflow.routing.board import Board
from callflow.routing.runtime import WaitingCall, call_bridge_id, hold_bridge_id
from callflow.telephony.port import Race, Unavailable

log = logging.getLogger("callflow.media")


def announce_id(call: WaitingCall) -> str:
    return f"announce-{call.channel_id}-{call.announcements}"


class Media:
    def __init__(self, board: Board, *, agent_keys: bool = True) -> None:
        self.board = board
        self.port = board.port
        # agent_keys: decode the conversation's media so the agent's keys (the
        # phone menu) reach callflow; off, Asterisk may bridge RTP natively
        self.bridge_type = "mixing,dtmf_events" if agent_keys else "mixing"
        self._locks: dict[str, asyncio.Lock] = {}
        self.hold_members: dict[str, set[str]] = {}  # queue -> customers in its bridge
        self.hold_bridges: dict[str, str] = {}  # queue -> its holding bridge's id

    def _lock(self, queue: str) -> asyncio.Lock:
        return self._locks.setdefault(queue, asyncio.Lock())

    async def hold(self, call: WaitingCall) -> None:
        """Into the queue's holding bridge (created with its first caller)."""
        conf = self.board.queues[call.queue]
        async with self._lock(call.queue):
            members = self.hold_members.setdefault(call.queue, set())
            if not members:
                bridge_id = hold_bridge_id(call.queue)
                await self.port.create_bridge(bridge_id, "holding", f"queue {call.queue}")
                self.hold_bridges[call.queue] = bridge_id
                await self.port.bridge_moh(bridge_id, conf.moh_class)
            bridge_id = self.hold_bridges[call.queue]
            members.add(call.channel_id)
            await self.port.add_to_bridge(bridge_id, call.channel_id)

    async def unhold(self, call: WaitingCall, *, remove: bool = True) -> None:
        """Out of the holding bridge (destroyed with its last caller)."""
        async with self._lock(call.queue):
            members = self.hold_members.get(call.queue)
            if members is None or call.channel_id not in members:
                return
            bridge_id = self.hold_bridges[call.queue]
            members.discard(call.channel_id)
            if remove:
                with contextlib.suppress(Race):
                    await self.port.remove_from_bridge(bridge_id, call.channel_id)
            if not members:
                del self.hold_members[call.queue]
                del self.hold_bridges[call.queue]
                await self._destroy(bridge_id)

    def adopt_held(self, queue: str, channel_id: str, bridge_id: str) -> bool:
        """After a restart: this caller is in a holding bridge of the queue
        already. False if the queue has adopted another bridge meanwhile."""
        if self.hold_bridges.setdefault(queue, bridge_id) != bridge_id:
            return False
        self.hold_members.setdefault(queue, set()).add(channel_id)
        return True

    async def connect(self, call: WaitingCall, leg_id: str) -> None:
        """Customer and agent into the call's mixing bridge."""
        if call.announced:  # else nothing to stop: a request saved per call
            with contextlib.suppress(Race):
                await self.port.stop_playback(announce_id(call))
        bridge_id = call_bridge_id(call.interaction_id)
        await self.port.create_bridge(bridge_id, self.bridge_type, f"call {call.interaction_id}")
        await self.unhold(call)
        await self.port.add_to_bridge(bridge_id, call.channel_id)
        # the agent's keys (the assist menu's feature sequence) stay out of the call
        await self.port.add_to_bridge(bridge_id, leg_id, absorb_dtmf=True)

    async def end(self, interaction_id: int) -> None:
        await self._destroy(call_bridge_id(interaction_id))

    async def _destroy(self, bridge_id: str) -> None:
        """A bridge no call needs any more. With Asterisk out of reach, the
        call's ending is still recorded: the bridge went with Asterisk, or
        the next resync destroys it."""
        try:
            await self.port.destroy_bridge(bridge_id)
        except Unavailable as error:
            log.warning("bridge %s left for the next resync: %s", bridge_id, error)

    async def hold_customer(self, call: WaitingCall) -> None:
        """Take the customer out of the conversation onto the queue's music."""
        if call.held:
            return
        call.held = True
        conf = self.board.queues.get(call.queue)
        with contextlib.suppress(Race):
            await self.port.remove_from_bridge(call_bridge_id(call.interaction_id), call.channel_id)
            await self.port.start_moh(call.channel_id, conf.moh_class if conf else "default")
        await self.board.log("customer_held", call, agent=call.agent)

    async def resume_customer(self, call: WaitingCall) -> None:
        """Back into the conversation."""
        if not call.held:
            return
        call.held = False
        with contextlib.suppress(Race):
            await self.port.stop_moh(call.channel_id)
            await self.port.add_to_bridge(call_bridge_id(call.interaction_id), call.channel_id)
        await self.board.log("customer_resumed", call, agent=call.agent)

    async def announce(self, call: WaitingCall, media: list[str]) -> None:
        call.announced = True
        with contextlib.suppress(Race):
            await self.port.play(call.channel_id, media, announce_id(call))
