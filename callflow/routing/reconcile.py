"""After a (re)connect: what the database says against what the PBX holds.

Theory of operation
-------------------
``plan`` is pure: from the open interactions in the database and a
snapshot of the PBX's channels and bridges it decides, call by call, what
to do — a caller still on the line and waiting is adopted again in the
original order (and put back into the queue's bridge if it is not there);
a conversation whose customer, agent leg and bridge are all still there is
adopted as it is (a customer found outside the bridge was on hold and is
resumed); anything else is closed (``lost``), with whatever is left of it
hung up. Agent legs nobody owns are hung up and the ACD's bridges nobody
uses are destroyed. ``Reconciler.run`` is the thin executor: it rebuilds the
board from the plan, closes what was lost (which ends the call's assist
requests), fixes agents left ringing or talking, and plans a round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from callflow.db.models import Interaction
from callflow.routing.agent_state import AgentState
from callflow.routing.board import Board
from callflow.routing.call_state import CallState
from callflow.routing.desk import Desk
from callflow.routing.endings import Endings
from callflow.routing.media import Media
from callflow.routing.runtime import (
    AGENT_LEG_PREFIX,
    CALL_BRIDGE_PREFIX,
    CALLBACK_PREFIX,
    HOLD_BRIDGE_PREFIX,
    Offer,
    WaitingCall,
    call_bridge_id,
)
from callflow.routing.skills import Requirement, RequirementError
from callflow.routing.store import epoch
from callflow.telephony.port import Snapshot

log = logging.getLogger("callflow.reconcile")


@dataclass(frozen=True)
class OpenCall:
    """An interaction the database still shows as open."""

    id: int
    channel_id: str
    queue: str
    priority: int
    entered_at: float
    caller_number: str = ""
    caller_name: str = ""
    answered: bool = False
    agent: str | None = None
    agent_leg: str | None = None
    transfers: int = 0
    requirement: str | None = None  # the dialplan's


@dataclass
class Plan:
    # (call, the holding bridge it is in, if any)
    waiting: list[tuple[OpenCall, str | None]] = field(default_factory=list)
    talking: list[tuple[OpenCall, bool]] = field(default_factory=list)  # (call, customer held)
    lost: list[OpenCall] = field(default_factory=list)
    hang_up: list[str] = field(default_factory=list)
    destroy: list[str] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # channels this plan accounts for


def plan(rows: list[OpenCall], snapshot: Snapshot, queues: set[str]) -> Plan:
    channels = snapshot.channel_ids()
    bridges = {b.id: set(b.channels) for b in snapshot.bridges}
    in_hold = {
        c: bid
        for bid, members in bridges.items()
        if bid.startswith(HOLD_BRIDGE_PREFIX)
        for c in members
    }
    result = Plan()
    kept_bridges: set[str] = set()
    for row in sorted(rows, key=lambda r: (r.entered_at, r.id)):
        leg_alive = row.agent_leg is not None and row.agent_leg in channels
        bridge = bridges.get(call_bridge_id(row.id))
        if row.channel_id in channels and row.queue in queues and not row.answered:
            held_in = in_hold.get(row.channel_id)
            result.waiting.append((row, held_in))
            result.taken.add(row.channel_id)
            if held_in is not None:
                kept_bridges.add(held_in)
            continue
        customer_alive = row.channel_id in channels and row.queue in queues
        # the one talking may be an expert the call was handed over to
        if customer_alive and leg_alive and bridge is not None and row.agent is not None:
            result.talking.append((row, row.channel_id not in bridge))
            result.taken |= {row.channel_id, row.agent_leg or ""}
            kept_bridges.add(call_bridge_id(row.id))
            continue
        result.lost.append(row)
        # a broken conversation's customer is hung up; a caller of a queue that
        # is gone is left untaken: the router hands them back to the dialplan
        for channel in (row.channel_id if row.answered else None, row.agent_leg):
            if channel is not None and channel in channels:
                result.hang_up.append(channel)
                result.taken.add(channel)
    for channel in sorted(channels - result.taken):
        if channel.startswith(AGENT_LEG_PREFIX):
            result.hang_up.append(channel)
            result.taken.add(channel)
    result.destroy = sorted(
        bid
        for bid in bridges
        if bid.startswith((HOLD_BRIDGE_PREFIX, CALL_BRIDGE_PREFIX)) and bid not in kept_bridges
    )
    return result


def open_call(row: Interaction) -> OpenCall:
    return OpenCall(
        row.id or 0, row.channel_id, row.queue, row.priority, epoch(row.entered_at),
        row.caller_number, row.caller_name, row.answered_at is not None, row.agent,
        row.agent_channel_id, row.transfers, row.requirement,
    )  # fmt: skip


class Reconciler:
    def __init__(self, board: Board, media: Media, desk: Desk, endings: Endings) -> None:
        self.board = board
        self.media = media
        self.desk = desk
        self.endings = endings

    async def run(self, snapshot: Snapshot) -> tuple[set[str], set[int]]:
        """Apply the plan; returns the channels it took and the live interactions."""
        board, port = self.board, self.board.port
        for call in list(board.calls.values()):
            board.forget(call)
        board.legs.clear()
        self.media.hold_members.clear()
        rows = [  # a callback not called yet has no channel: ``Callbacks.resync``'s
            open_call(r) for r in await board.store.open_interactions()
            if not r.channel_id.startswith(CALLBACK_PREFIX)
        ]  # fmt: skip
        decided = plan(rows, snapshot, set(board.queues))
        for channel in decided.hang_up:
            await port.hangup(channel)
        for bridge in decided.destroy:
            await port.destroy_bridge(bridge)
        busy: set[str] = set()
        for row, held in decided.talking:
            call = self._call(row)
            call.machine.force(CallState.CONNECTED, "resync")
            call.agent, call.agent_leg = row.agent, row.agent_leg
            offer = Offer(row.agent_leg or "", row.agent or "", call, answered=True)
            call.offers[offer.leg_id] = offer
            board.legs[offer.leg_id] = offer
            busy.add(row.agent or "")
            if (agent := board.agents.get(row.agent or "")) is not None:
                agent.machine.force(AgentState.ON_CALL, "resync")
            if held:
                call.held = True  # we went away while the customer was on hold
                await self.media.resume_customer(call)
            log.info("resync: conversation %s with %s re-adopted", row.id, row.agent)
        for row, held_in in decided.waiting:
            call = self._call(row)
            if held_in is None or not self.media.adopt_held(row.queue, row.channel_id, held_in):
                await self.media.hold(call)
            board.arm_waiting_timers(call)
            log.info("resync: caller %s re-adopted in queue %s", row.id, row.queue)
        for row in decided.lost:
            await self.endings.close_lost(row.id, answered=row.answered, agent=row.agent)
        await self._fix_agents(busy)
        alive = {row.id for row, _ in decided.waiting} | {row.id for row, _ in decided.talking}
        return decided.taken, alive

    def _call(self, row: OpenCall) -> WaitingCall:
        call = WaitingCall.new(
            row.id, row.channel_id, row.queue, row.priority, row.entered_at, row.caller_number,
            row.caller_name, seq=next(self.board.seq),
        )  # fmt: skip
        call.transfers = row.transfers
        if row.requirement:
            try:  # as the dialplan asked; its step follows from the time waited
                call.requirement = Requirement.parse(row.requirement)
            except RequirementError as error:
                log.warning("caller %s: stored requirement not used: %s", row.id, error)
        conf = self.board.queues.get(row.queue)
        if conf is not None:
            call.escalated = self.board.reach(call, conf).step
        self.board.calls[row.channel_id] = call
        return call

    async def _fix_agents(self, busy: set[str]) -> None:
        now = self.board.now()
        for agent in self.board.agents.values():
            if agent.state in (AgentState.RINGING, AgentState.ON_CALL) and agent.name not in busy:
                agent.machine.force(AgentState.AVAILABLE, "resync")
                agent.idle_since = now
                await self.board.store.save_agent(agent, now)
            elif agent.state is AgentState.WRAP_UP and agent.name not in self.desk.wrapping:
                await self.desk.start_wrapup(agent, 0)  # its timer died with the process
