"""Blind transfer: the agent sends the customer on and is free at once.

Theory of operation
-------------------
A transfer acts on a connected call (``CallState.CONNECTED``) under the
call's lock. Whatever the target, the agent's side goes first: the agent's
leg leaves the board (so its hang-up is not taken for the agent ending the
call), is hung up, the call's bridge is destroyed, and the agent goes to
wrap-up as after any call. The conversation-scoped features are told the
conversation ended (assist requests close, monitoring stops).

* **to a queue**: the customer waits in that queue's holding bridge with its
  music, keeping the priority and the place the call's first arrival gives
  it (``entered_at``): a transferred caller is not sent to the back;
* **to an agent**: the customer waits in the call's queue, reserved for the
  agent (``WaitingCall.reserved_for``): the ACD offers the call to that
  agent alone, once they are free. If their phone is not answered the
  reservation lapses (``release``) and the call is offered to any agent of
  the queue: the caller is never left with nobody;
* **to a number**: only within the dialplan context the site names
  (``transfer.context``); the customer continues there at ``<number>,1``
  and the call leaves callflow (outcome ``transferred``).

The call's bridge is kept, empty, for whoever answers next (destroyed when
the call ends unanswered): Asterisk keeps a destroyed bridge's name busy
for a moment. The interaction keeps one row: its agent and answer time are cleared until
someone answers again (so a restart re-adopts a transferred caller as a
waiting one), and each transfer is one event in the call's log
(``transfer``: from whom, to what, which kind).
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass

from callflow.routing.acd import Acd
from callflow.routing.agent_state import AgentEvent, AgentState
from callflow.routing.board import Board
from callflow.routing.call_state import CallEvent, CallState, Outcome
from callflow.routing.desk import Desk
from callflow.routing.endings import Endings
from callflow.routing.media import Media
from callflow.routing.runtime import Offer, WaitingCall, call_bridge_id
from callflow.routing.store import at
from callflow.telephony.port import Race

log = logging.getLogger("callflow.transfer")

NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")


class TransferError(Exception):
    """A transfer that cannot be made; the message names the problem, nothing changed."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    """Exactly one of the three."""

    agent: str | None = None
    queue: str | None = None
    number: str | None = None

    @property
    def kind(self) -> str:
        return "agent" if self.agent else "queue" if self.queue else "number"

    @property
    def name(self) -> str:
        return self.agent or self.queue or self.number or ""


class Transfers:
    def __init__(
        self, board: Board, media: Media, acd: Acd, desk: Desk, endings: Endings,
        context: str | None,
    ) -> None:  # fmt: skip
        self.board = board
        self.media = media
        self.acd = acd
        self.desk = desk
        self.endings = endings
        self.context = context  # the dialplan context numbers may be sent to (None: none)
        # interaction ids with an attended transfer open (``consult`` keeps it)
        self.attended: set[int] = set()

    def call_of(self, agent: str) -> WaitingCall:
        call = self.board.call_of_agent(agent)
        if call is None or call.state is not CallState.CONNECTED:
            raise TransferError(f"{agent} is not talking to a customer: no call to transfer")
        return call

    def check(self, call: WaitingCall, target: Target) -> None:
        """Refuse what cannot be done, before anything changes."""
        board = self.board
        if sum(x is not None for x in (target.agent, target.queue, target.number)) != 1:
            raise TransferError("name exactly one target: an agent, a queue or a number", 422)
        if target.queue is not None and target.queue not in board.queues:
            known = ", ".join(sorted(board.queues)) or "none"
            raise TransferError(f"no queue {target.queue!r} (queues: {known})", 404)
        if target.agent is not None:
            agent = board.agents.get(target.agent)
            if agent is None:
                raise TransferError(f"no agent {target.agent!r}", 404)
            if agent.name == call.agent:
                raise TransferError("the call is already with that agent")
            if not agent.free:
                why = agent.state.value.replace("_", " ")
                if not agent.reachable:
                    why = "no phone of theirs is reachable"
                raise TransferError(f"agent {agent.name} cannot take the call: {why}")
        if target.number is not None:
            if self.context is None:
                raise TransferError(
                    "transfers to numbers are off: the site names a dialplan context for them"
                    " (transfer.context)", 403,
                )  # fmt: skip
            if not NUMBER.match(target.number):
                raise TransferError(
                    f"{target.number!r} is not a number (digits, * and #, up to 32, + first)", 422
                )

    async def blind(self, agent_name: str, target: Target) -> WaitingCall:
        """Send ``agent_name``'s customer to ``target``; the agent is free at once."""
        call = self.call_of(agent_name)
        async with call.lock:
            if call.state is not CallState.CONNECTED or call.agent != agent_name:
                raise TransferError(f"{agent_name} is not talking to a customer any more")
            self.check(call, target)
            self.not_attended(call)
            await self._release_agent(call, keep_bridge=target.number is None)
            if target.number is not None:
                await self._out(call, target.number, agent_name)
            else:
                await self._requeue(call, target, agent_name)
        if target.number is None:
            await self.acd.distribute()
        return call

    def not_attended(self, call: WaitingCall) -> None:
        if call.interaction_id in self.attended:
            raise TransferError(
                "an attended transfer of this call is in progress: complete or cancel it first"
            )

    async def take_over(
        self, call: WaitingCall, leg: str, owner: str, *, agent_leg_gone: bool = False
    ) -> str:
        """``owner``'s leg, already in the call's bridge, takes the call; the
        agent leaves (their leg hung up, unless it is gone) and wraps up.
        Called under the call's lock; returns who had the call."""
        board = self.board
        if call.state is not CallState.CONNECTED or call.agent is None:
            raise TransferError("the call is not connected to an agent any more")
        self.not_attended(call)
        previous, old_leg = call.agent, call.agent_leg
        if old_leg is not None:
            board.legs.pop(old_leg, None)
            call.offers.pop(old_leg, None)
            if not agent_leg_gone:
                with contextlib.suppress(Race):
                    await board.port.hangup(old_leg)
        agent = board.agents.get(previous)
        if agent is not None and agent.state is AgentState.ON_CALL:
            agent.machine.fire(AgentEvent.HANGUP, f"handed over to {owner}")
            conf = board.queues.get(call.queue)
            await self.desk.start_wrapup(agent, conf.wrapup if conf else 0, call)
        offer = Offer(leg, owner, call, answered=True)
        board.legs[leg] = offer
        call.offers = {leg: offer}
        call.agent, call.agent_leg = owner, leg
        taker = board.agents.get(owner)  # an expert who is an agent too is busy now
        if taker is not None and taker.state is AgentState.AVAILABLE:
            taker.machine.fire(AgentEvent.OFFER, f"hand-over of {call.channel_id}")
            taker.machine.fire(AgentEvent.ANSWER, call.channel_id)
            await board.store.save_agent(taker, board.now())
        call.transfers += 1
        await board.store.update_interaction(
            call.interaction_id, agent=owner, agent_channel_id=leg, transfers=call.transfers
        )
        await board.log(
            "transfer", call, agent=previous, how="handover", target_kind="expert", target=owner
        )
        return previous

    async def _release_agent(self, call: WaitingCall, *, keep_bridge: bool) -> None:
        """The agent's leg off the board and hung up, the bridge gone, wrap-up."""
        board = self.board
        leg, agent = call.agent_leg, board.agents.get(call.agent or "")
        if leg is not None:
            offer = board.legs.pop(leg, None)
            if offer is not None:
                call.offers.pop(leg, None)
            with contextlib.suppress(Race):
                await board.port.hangup(leg)
        if keep_bridge:  # kept for whoever answers next: a bridge just destroyed
            # keeps its name for a moment, and creating it again would fail
            with contextlib.suppress(Race):
                await board.port.remove_from_bridge(
                    call_bridge_id(call.interaction_id), call.channel_id
                )
            call.transferred = True
        else:
            await self.media.end(call.interaction_id)
        if call.held:  # taken out for an assist consult: its music stops
            call.held = False
            with contextlib.suppress(Race):
                await board.port.stop_moh(call.channel_id)
        if agent is not None and agent.state is AgentState.ON_CALL:
            agent.machine.fire(AgentEvent.HANGUP, "transferred")
            conf = board.queues.get(call.queue)
            await self.desk.start_wrapup(agent, conf.wrapup if conf else 0, call)
        await self.endings.call_ended(call.interaction_id)

    async def requeue_front(self, call: WaitingCall, by: str) -> None:
        """Back to its queue, its place kept (the agent who consulted a
        colleague hung up before the colleague answered, who then did not)."""
        if call.held:
            call.held = False
            with contextlib.suppress(Race):
                await self.board.port.stop_moh(call.channel_id)
        call.transferred = True
        await self._requeue(call, Target(queue=call.queue), by, logged=False)

    async def _requeue(
        self, call: WaitingCall, target: Target, by: str, *, logged: bool = True
    ) -> None:
        board = self.board
        old_queue = call.queue
        if logged:  # counted on the queue the call was talking in
            await board.log(
                "transfer", call, agent=by, how="blind", target_kind=target.kind,
                target=target.name,
            )  # fmt: skip
        call.machine.fire(CallEvent.TRANSFER, f"{by} -> {target.kind} {target.name}")
        call.agent = call.agent_leg = None
        call.answered_at = 0.0
        if target.queue is not None and target.queue != old_queue:
            call.queue = target.queue
            call.visited.append(target.queue)
            call.requirement = None  # the new queue's requirement
        call.queue_entered_at, call.escalated = board.now(), 0
        call.reserved_for = target.agent
        if logged:
            call.transfers += 1
        await board.store.update_interaction(
            call.interaction_id, queue=call.queue, answered_at=None, agent=None,
            agent_channel_id=None, transfers=call.transfers,
        )  # fmt: skip
        await self.media.hold(call)
        board.arm_waiting_timers(call)

    async def _out(self, call: WaitingCall, number: str, by: str) -> None:
        board = self.board
        call.machine.fire(CallEvent.TRANSFER_OUT, f"{by} -> {number}")
        board.forget(call)
        call.transfers += 1
        await board.store.update_interaction(
            call.interaction_id, ended_at=at(board.now()), outcome=Outcome.TRANSFERRED.value,
            transfers=call.transfers,
        )  # fmt: skip
        await board.log(
            "transfer", call, agent=by, how="blind", target_kind="number", target=number
        )
        try:
            await board.port.set_var(call.channel_id, "CALLFLOW_RESULT", "transferred")
            await board.port.continue_in_dialplan(call.channel_id, self.context, number, 1)
        except Race:
            log.info("call %s hung up while being transferred", call.interaction_id)
