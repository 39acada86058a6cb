"""Calling a callback's customer from the agent's call (one attempt).

The agent's answer to the preview comes to ``dial`` (``Acd.dial_back``)
instead of the customer's bridge: the agent is put in the call's bridge
hearing ringback, and the customer's number is dialled through
``Local/<number>@<callback.context>`` (made on the agent's server). The
customer's answer enters Stasis as ``callback-leg`` (``customer_answered``):
the ringback stops, the customer joins, and the virtual caller becomes the
customer's real channel — an ordinary conversation from then on. A
customer's channel destroyed before answering (busy: cause 17; anything
else: no answer) or the agent hanging up while it rings ends the attempt
(``release``: the agent is free at once) and ``attempt_over`` decides what
follows.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from callflow.routing.acd import Acd
from callflow.routing.agent_state import AgentEvent, AgentState
from callflow.routing.board import Board
from callflow.routing.call_state import CallState
from callflow.routing.callback_policy import CallbackEvent, Reached
from callflow.routing.callback_store import CallbackRun, CallbackStore
from callflow.routing.desk import Desk
from callflow.routing.media import Media
from callflow.routing.runtime import WaitingCall, call_bridge_id
from callflow.routing.store import at
from callflow.settings import CallbackSettings
from callflow.telephony.port import Channel, ChannelDestroyed, Race, TelephonyError

log = logging.getLogger("callflow.callback")

BUSY = 17
AttemptOver = Callable[[CallbackRun, Reached, str, bool], Awaitable[None]]


def ringback_id(leg_id: str) -> str:
    return f"ringback-{leg_id}"


def customer_channel(run: CallbackRun) -> str:
    return f"callflow-callback-{run.id}-{run.attempts}"


class CallbackDialing:
    def __init__(
        self,
        board: Board,
        media: Media,
        acd: Acd,
        desk: Desk,
        store: CallbackStore,
        settings: CallbackSettings,
        runs: dict[int, CallbackRun],
        attempt_over: AttemptOver,
        changed: Callable[[CallbackRun], None],
    ) -> None:
        """``attempt_over(run, reached, why, final)``: what follows an attempt
        that did not reach the customer; ``changed``: a console should know."""
        self.board = board
        self.media = media
        self.acd = acd
        self.desk = desk
        self.store = store
        self.settings = settings
        self.runs = runs
        self.attempt_over = attempt_over
        self.changed = changed
        self.port = board.port
        self.ringing: dict[str, int] = {}  # the customer's channel while it rings -> id
        acd.dial_back = self.dial
        self.port.on(ChannelDestroyed, self._destroyed)

    async def dial(self, call: WaitingCall, leg_id: str) -> None:
        """The agent answered the preview (under the call's lock): ringback
        to the agent, and the customer's number dialled."""
        run = self.runs[call.callback or 0]
        bridge_id = call_bridge_id(call.interaction_id)
        await self.port.create_bridge(bridge_id, self.media.bridge_type,
                                      f"callback {run.id}")  # fmt: skip
        await self.port.add_to_bridge(bridge_id, leg_id, absorb_dtmf=True)
        with contextlib.suppress(Race):
            await self.port.play(leg_id, ["tone:ring"], ringback_id(leg_id))
        run.machine.fire(CallbackEvent.OFFER)
        run.machine.fire(CallbackEvent.ACCEPT, call.agent or "")
        run.attempts += 1
        run.agent = call.agent
        call.answered_at = 0.0  # the customer answers later
        customer = customer_channel(run)
        run.dialing = customer
        self.ringing[customer] = run.id
        await self.store.save(run)
        await self.board.log("callback_dial", call, agent=call.agent, callback=run.id,
                             attempt=run.attempts, number=run.number)  # fmt: skip
        self.changed(run)
        try:
            await self.port.originate(
                customer, f"Local/{run.number}@{self.settings.context}",
                ["callback-leg", str(run.id)], timeout=self.settings.ring_timeout, near=leg_id,
            )  # fmt: skip
        except TelephonyError as error:
            log.warning("callback %s: %s could not be dialled: %s", run.id, run.number, error)
            await self._not_reached(call, run, Reached.NO_ANSWER, f"not dialled: {error.detail}",
                                    final=True)  # fmt: skip

    async def customer_answered(self, channel: Channel, args: list[str]) -> None:
        """``callback-leg``: the customer picked up."""
        run = self.runs.get(int(args[0])) if args and args[0].isdigit() else None
        call = self.board.calls.get(run.channel) if run is not None else None
        if run is None or call is None or run.dialing != channel.id:
            await self.port.hangup(channel.id)  # an attempt we no longer make
            return
        async with call.lock:
            if call.state is not CallState.CONNECTED or run.dialing != channel.id:
                await self.port.hangup(channel.id)
                return
            self.ringing.pop(channel.id, None)
            now = self.board.now()
            with contextlib.suppress(Race):
                await self.port.stop_playback(ringback_id(call.agent_leg or ""))
            await self.port.add_to_bridge(call_bridge_id(call.interaction_id), channel.id)
            del self.board.calls[call.channel_id]
            call.channel_id = channel.id
            self.board.calls[channel.id] = call
            call.answered_at, run.answered_at, run.dialing = now, now, None
            run.machine.fire(CallbackEvent.ANSWERED)
            await self.store.save(run)
            await self.board.store.update_interaction(
                call.interaction_id, channel_id=channel.id, answered_at=at(now),
                agent=call.agent, agent_channel_id=call.agent_leg,
            )  # fmt: skip
            await self.board.log("callback_answered", call, agent=call.agent, callback=run.id,
                                 attempt=run.attempts)  # fmt: skip
            for hook in self.acd.connected:  # e.g. the recording starts
                await hook(call)
            self.changed(run)

    async def _destroyed(self, event: ChannelDestroyed) -> None:
        callback_id = self.ringing.pop(event.channel_id, None)
        run = self.runs.get(callback_id) if callback_id is not None else None
        call = self.board.calls.get(run.channel) if run is not None else None
        if run is None or call is None or run.dialing != event.channel_id:
            return
        reached = Reached.BUSY if event.cause == BUSY else Reached.NO_ANSWER
        cause = event.cause_txt or str(event.cause)
        async with call.lock:
            if run.dialing == event.channel_id:
                await self._not_reached(call, run, reached, cause)
        await self.acd.distribute()

    async def agent_gone(self, call: WaitingCall) -> bool:
        """The agent hung up (under the call's lock): while the customer's
        phone rang, that ends the attempt."""
        if call.callback is None or not call.virtual:
            return False
        run = self.runs.get(call.callback)
        if run is None:
            return False
        await self._not_reached(call, run, Reached.NO_ANSWER, "the agent hung up")
        return True

    async def _not_reached(
        self, call: WaitingCall, run: CallbackRun, reached: Reached, why: str, *,
        final: bool = False,
    ) -> None:  # fmt: skip
        await self.release(call, run, "callback not reached")
        await self.attempt_over(run, reached, why, final)

    async def release(self, call: WaitingCall, run: CallbackRun, why: str) -> None:
        """End the attempt under way (under the call's lock): both phones hang
        up, the bridge goes, and the agent is free at once."""
        customer, run.dialing = run.dialing, None
        if customer is not None:
            self.ringing.pop(customer, None)
            with contextlib.suppress(TelephonyError):
                await self.port.hangup(customer)
        self.board.forget(call)
        call.machine.force(CallState.ENDED, why)
        if call.agent_leg is not None:
            with contextlib.suppress(TelephonyError):
                await self.port.hangup(call.agent_leg)
        await self.media.end(call.interaction_id)
        agent = self.board.agents.get(call.agent or "")
        if agent is not None and agent.state is AgentState.ON_CALL:
            agent.machine.fire(AgentEvent.HANGUP, why)
            await self.desk.start_wrapup(agent, 0)
