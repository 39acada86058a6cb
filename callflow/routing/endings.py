"""How a customer's call ends, and what is written down about it.

Theory of operation
-------------------
A call leaves the ACD in one of these ways, each with an outcome on the
interaction row and an entry in the event log:

- the caller hangs up while waiting (``abandon``) or talking
  (``completecaller``); the agent hangs up (``completeagent``);
- the queue sends the caller on (``leave``): the maximum wait, the exit key,
  or nobody logged in. The queue's overflow or exit target is either
  another queue (``move``: the caller waits there and meets exactly what a
  caller who dialled it meets, including its own empty-queue exit) or a
  dialplan location; with none the call continues at the next priority with
  ``CALLFLOW_RESULT`` = ``timeout`` / ``exit`` / ``no_agents``.

Whatever way it ends, the call is forgotten by every map and timer
(``Board.forget``) and the call-end hooks run (assist closes the call's
requests).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from callflow.routing.acd import Acd
from callflow.routing.agent_state import AgentEvent, AgentState
from callflow.routing.board import WAITING_STATES, Board
from callflow.routing.call_state import CallEvent, CallState, Outcome
from callflow.routing.desk import Desk
from callflow.routing.media import Media
from callflow.routing.runtime import WaitingCall
from callflow.routing.store import at
from callflow.telephony.port import ChannelDestroyed, Race, StasisEnd, Telephony

log = logging.getLogger("callflow.endings")

CallEndHook = Callable[[int], Awaitable[None]]


async def to_dialplan(port: Telephony, channel_id: str, result: str, target: str | None) -> None:
    """Hand a caller back with ``CALLFLOW_RESULT``: to ``target``
    (``<context>,<exten>,<priority>``) or, without one, the next priority."""
    await port.set_var(channel_id, "CALLFLOW_RESULT", result)
    if target:
        context, exten, priority = target.split(",")
        await port.continue_in_dialplan(
            channel_id, context, exten, int(priority) if priority.isdigit() else priority
        )
    else:
        await port.continue_in_dialplan(channel_id)


_LEAVING = {  # reason -> (event, outcome, CALLFLOW_RESULT, log kind)
    "exit_key": (CallEvent.EXIT_KEY, Outcome.EXITED, "exit", "exitwithkey"),
    "max_wait": (CallEvent.TIMEOUT, Outcome.TIMED_OUT, "timeout", "exitwithtimeout"),
    "no_agents": (CallEvent.OVERFLOW, Outcome.OVERFLOWED, "no_agents", "exitempty"),
}


class Endings:
    def __init__(self, board: Board, media: Media, acd: Acd, desk: Desk) -> None:
        self.board = board
        self.media = media
        self.acd = acd
        self.desk = desk
        self.port = board.port
        self._hooks: list[CallEndHook] = []
        # told first when a conversation's agent leg goes; True: handled there
        self.agent_gone: list[Callable[[WaitingCall], Awaitable[bool]]] = []

    def on_call_end(self, hook: CallEndHook) -> None:
        """Call ``hook(interaction_id)`` whenever a customer's call ends."""
        self._hooks.append(hook)

    async def call_ended(self, interaction_id: int) -> None:
        for hook in self._hooks:
            try:
                await hook(interaction_id)
            except Exception:
                log.exception("call-end hook %r failed", hook)

    # -- hang-ups ------------------------------------------------------------------

    async def on_stasis_end(self, event: StasisEnd) -> None:
        call = self.board.calls.get(event.channel_id)
        if call is None:
            return
        async with call.lock:
            if call.state is CallState.CONNECTED:
                await self.end_conversation(call, by="caller")
            elif call.state in WAITING_STATES:
                await self.abandon(call)
        await self.acd.distribute()

    async def on_channel_destroyed(self, event: ChannelDestroyed) -> None:
        offer = self.board.legs.get(event.channel_id)
        if offer is None:
            return
        if not offer.answered:
            cause = event.cause_txt or str(event.cause)
            await self.acd.ring_no_answer(event.channel_id, f"not answered ({cause})")
            return
        call = offer.call
        async with call.lock:
            if call.state is CallState.CONNECTED and offer.leg_id == call.agent_leg:
                for hook in self.agent_gone:  # e.g. an attended transfer takes over
                    if await hook(call):
                        break
                else:
                    await self.end_conversation(call, by="agent")
            elif call.state is CallState.CONNECTED:
                self.board.legs.pop(offer.leg_id, None)  # a leg the call no longer has
        await self.acd.distribute()

    async def abandon(self, call: WaitingCall) -> None:
        place = self.board.position(call)
        for offer in list(call.offers.values()):
            await self.acd.withdraw(offer, "caller hung up")
        call.machine.fire(CallEvent.ABANDON)
        self.board.forget(call)
        await self.media.unhold(call, remove=False)
        if call.transferred:  # the bridge kept for the next agent
            await self.media.end(call.interaction_id)
        now = self.board.now()
        wait = now - call.queue_entered_at
        await self.board.log("abandon", call, wait=round(wait, 3), position=place)
        await self.board.store.update_interaction(
            call.interaction_id, ended_at=at(now), outcome=Outcome.ABANDONED.value
        )
        await self.call_ended(call.interaction_id)

    async def end_conversation(self, call: WaitingCall, *, by: str) -> None:
        call.machine.fire(CallEvent.HANGUP, by)
        self.board.forget(call)
        agent = self.board.agents.get(call.agent or "")
        if agent is not None and agent.state is AgentState.ON_CALL:
            agent.machine.fire(AgentEvent.HANGUP)
        other = call.agent_leg if by == "caller" else call.channel_id
        if other is not None:
            await self.port.hangup(other)
        await self.media.end(call.interaction_id)
        kind = "completecaller" if by == "caller" else "completeagent"
        await self.board.log(kind, call, agent=call.agent)
        conf = self.board.queues.get(call.queue)
        if conf is not None and call.answered_at:  # what the next caller's estimate needs
            conf.recent_handles.append(self.board.now() - call.answered_at + conf.wrapup)
        await self.board.store.update_interaction(
            call.interaction_id, ended_at=at(self.board.now()), outcome=Outcome.ANSWERED.value
        )
        await self.call_ended(call.interaction_id)
        if agent is not None and agent.state is AgentState.WRAP_UP:
            conf = self.board.queues.get(call.queue)
            await self.desk.start_wrapup(agent, conf.wrapup if conf else 0, call)

    # -- leaving the queue -----------------------------------------------------------

    async def leave(self, call: WaitingCall, reason: str) -> None:
        """Max wait, no agents or the exit key: another queue or the dialplan."""
        conf = self.board.queues[call.queue]
        for offer in list(call.offers.values()):
            await self.acd.withdraw(offer, reason)
        self.board.cancel_waiting_timers(call)
        target = conf.exit_target if reason == "exit_key" else conf.overflow
        if target and target.startswith("queue:") and target[6:] in self.board.queues:
            if target[6:] not in call.visited:
                await self.move(call, target[6:], reason)
                return
            log.warning(
                "call %s: overflow loop %s -> %s", call.interaction_id, call.visited, target
            )
            target = None
        event, outcome, result, kind = _LEAVING[reason]
        if target and reason == "max_wait":
            event, outcome = CallEvent.OVERFLOW, Outcome.OVERFLOWED
        call.machine.fire(event, target or "next priority")
        self.board.forget(call)
        await self.media.unhold(call)
        if call.transferred:
            await self.media.end(call.interaction_id)
        now = self.board.now()
        await self.board.store.update_interaction(
            call.interaction_id, ended_at=at(now), outcome=outcome.value
        )
        await self.board.log(
            kind, call, target=target or "next priority", wait=round(now - call.queue_entered_at, 3)
        )
        try:
            await to_dialplan(self.port, call.channel_id, result, target)
        except Race:
            log.info("call %s hung up while leaving the queue", call.interaction_id)
        await self.call_ended(call.interaction_id)

    async def move(self, call: WaitingCall, queue: str, reason: str) -> None:
        """Overflow: the caller waits in ``queue`` as if they had dialled it."""
        old = call.queue
        call.machine.fire(CallEvent.MOVE, f"{old} -> {queue}")
        await self.media.unhold(call)
        call.queue = queue
        call.queue_entered_at = self.board.now()
        call.visited.append(queue)
        call.requirement, call.escalated = None, 0  # the new queue's requirement and steps
        await self.board.store.update_interaction(
            call.interaction_id, queue=queue, overflowed_from=old
        )
        await self.board.log("overflow", call, from_queue=old, reason=reason)
        conf = self.board.queues[queue]
        if not conf.join_empty and not self.board.anyone_logged_in(conf):
            await self.leave(call, "no_agents")  # as if the caller had dialled it
            return
        await self.media.hold(call)
        self.board.arm_waiting_timers(call)

    async def queues_emptied(self) -> None:
        """Callers of a queue whose last agent logged out go to its exit."""
        for call in list(self.board.calls.values()):
            conf = self.board.queues.get(call.queue)
            if conf is None or conf.join_empty or self.board.anyone_logged_in(conf):
                continue
            if call.callback is not None:  # no caller on the line: it waits for agents
                continue
            async with call.lock:
                if call.state in WAITING_STATES:
                    await self.leave(call, "no_agents")

    # -- after a restart ----------------------------------------------------------------

    async def close_lost(self, interaction_id: int, *, answered: bool, agent: str | None) -> None:
        """A call that ended while callflow was away: close it and what hangs on it."""
        outcome = Outcome.ANSWERED if answered else Outcome.ABANDONED
        await self.board.store.update_interaction(
            interaction_id, ended_at=at(self.board.now()), outcome=outcome.value
        )
        await self.board.events.record(
            "lost_during_restart", interaction=interaction_id, agent=agent, outcome=outcome.value
        )
        await self.call_ended(interaction_id)
