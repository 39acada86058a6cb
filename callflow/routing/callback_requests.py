"""How callers ask for a callback: waiting in the queue, or calling while
it is closed; and what happens to a pending callback when its customer
calls again.

Theory of operation
-------------------
A **waiting caller** hears the offer (``offer_media``, after their
announcements, when the queue's policy makes it) and presses the key; the
menu (``callback_menu``) confirms the number; ``_asked`` then ends the call
(outcome ``callback``) and has ``Callbacks`` open the callback at the
call's place. A **caller of a closed queue** whose policy offers callbacks
is answered and offered one at once (``closed``): asking schedules it for
the next opening; a caller who does not ask within ``CLOSED_SECONDS`` goes
where closed callers go (the closed target or ``CALLFLOW_RESULT=closed``).
Either way the caller is thanked and hung up.

A number may have ``per_number`` pending callbacks per queue: asking for
one more keeps the earliest (the best place) and says so in the event log
(``callback_kept``). A customer who calls again and is answered while a
callback is pending has been served: the callback is cancelled with that
reason (``called_again``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from callflow.routing.acd import Acd
from callflow.routing.board import WAITING_STATES, Board
from callflow.routing.call_state import CallEvent, Outcome
from callflow.routing.callback_menu import CallbackMenu
from callflow.routing.callback_policy import PENDING, OfferWhen
from callflow.routing.callback_store import CallbackRun
from callflow.routing.endings import Endings, to_dialplan
from callflow.routing.media import Media
from callflow.routing.runtime import WaitingCall
from callflow.routing.store import at
from callflow.settings import CallbackSettings
from callflow.telephony.port import (
    Channel,
    Dtmf,
    PlaybackFinished,
    Race,
    StasisEnd,
    TelephonyError,
    Timer,
)

log = logging.getLogger("callflow.callback")

BYE_TIMER = "callback_bye"  # hang up if the thanks never end
CLOSED_TIMER = "callback_closed"  # a closed queue's caller did not ask in time
BYE_SECONDS = 15.0
CLOSED_SECONDS = 30.0


@dataclass(frozen=True)
class Request:
    """A callback asked for: the number, and the place it keeps."""

    queue: str
    number: str
    name: str
    priority: int
    entered_at: float
    seq: int
    asked_in: int  # the asking call's interaction


@dataclass(frozen=True)
class ClosedCaller:
    queue: str
    priority: int
    entered_at: float
    name: str
    number: str
    target: str | None  # where they go if they do not ask


def bye_id(channel_id: str) -> str:
    return f"callback-bye-{channel_id}"


class CallbackRequests:
    def __init__(
        self,
        board: Board,
        media: Media,
        acd: Acd,
        endings: Endings,
        settings: CallbackSettings,
        runs: dict[int, CallbackRun],
        open_callback: Callable[[Request], Awaitable[CallbackRun]],
        cancel: Callable[[int, str, str], Awaitable[object]],
    ) -> None:
        """``runs``: the open callbacks (read only here); ``open_callback``
        and ``cancel``: ``Callbacks``'."""
        self.board = board
        self.media = media
        self.acd = acd
        self.endings = endings
        self.settings = settings
        self.runs = runs
        self.open_callback = open_callback
        self.cancel = cancel
        self.port = board.port
        self.menu = CallbackMenu(board.port, settings, self._asked)
        self.closed_callers: dict[str, ClosedCaller] = {}  # by channel
        self._byes: set[str] = set()  # callers hearing the thanks
        self.port.on(PlaybackFinished, self._playback_finished)
        self.port.on(Timer, self._on_timer)
        self.port.on(StasisEnd, self._stasis_end)
        self.port.on(Dtmf, self._closed_key)
        acd.connected.append(self._answered)

    @property
    def enabled(self) -> bool:
        return self.settings.context is not None

    def offers(self, queue: str) -> bool:
        conf = self.board.queues.get(queue)
        return self.enabled and conf is not None and conf.callback.offer is not OfferWhen.NEVER

    # -- a waiting caller -------------------------------------------------------------

    def offer_media(self, call: WaitingCall) -> list[str]:
        """What a waiting caller hears after their announcement: the offer,
        when the queue makes it now (its wait passes the threshold)."""
        if not self.offers(call.queue) or call.channel_id in self.menu.menus:
            return []
        if call.callback is not None:
            return []
        conf = self.board.queues[call.queue]
        if not conf.callback.offers(self.board.estimated_wait(conf, call)):
            return []
        call.callback_offered = True
        return self.menu.offer_media()

    async def key(self, call: WaitingCall, digit: str) -> bool:
        """A waiting caller's key; True when it was the callback's."""
        if await self.menu.key(call.channel_id, digit):
            return True
        if digit != self.settings.key or not call.callback_offered:
            return False
        await self.menu.start(call.channel_id, call.caller_number)
        return True

    async def _asked(self, channel_id: str, number: str) -> None:
        if channel_id in self.closed_callers:
            await self._asked_while_closed(channel_id, number)
            return
        call = self.board.calls.get(channel_id)
        if call is None:
            return
        async with call.lock:
            if call.state not in WAITING_STATES:
                return  # an agent took the call meanwhile
            request = Request(call.queue, number, call.caller_name, call.priority,
                              call.entered_at, call.seq, call.interaction_id)  # fmt: skip
            kept = self._kept(request)
            await self._end_asking(call, f"callback {kept.id} kept" if kept else "callback")
            if kept is not None:
                await self._log_kept(kept, request, channel_id)
            else:
                run = await self.open_callback(request)
                await self.board.log("callback_requested", call, callback=run.id,
                                     number=number, state=run.state.value)  # fmt: skip
        await self.bye(channel_id)
        await self.acd.distribute()

    def _kept(self, request: Request) -> CallbackRun | None:
        """The pending callback kept instead of a new one (the number has
        as many as its queue allows), or None."""
        pending = [
            r for r in self.runs.values()
            if r.number == request.number and r.queue == request.queue and r.state in PENDING
        ]  # fmt: skip
        if len(pending) < self.board.queues[request.queue].callback.per_number:
            return None
        return min(pending, key=lambda r: (r.entered_at, r.id))

    async def _log_kept(self, kept: CallbackRun, request: Request, channel_id: str) -> None:
        await self.board.events.record(
            "callback_kept", channel=channel_id, interaction=request.asked_in or None,
            queue=request.queue, callback=kept.id, number=request.number,
            why=f"{kept.number} already has callback {kept.id} pending (at most "
            f"{self.board.queues[request.queue].callback.per_number})",
        )  # fmt: skip

    async def _end_asking(self, call: WaitingCall, why: str) -> None:
        """The asking call leaves the queue (under its lock)."""
        for offer in list(call.offers.values()):
            await self.acd.withdraw(offer, "callback asked for")
        call.machine.fire(CallEvent.CALLBACK, why)
        self.board.forget(call)
        await self.media.unhold(call)
        await self.board.store.update_interaction(
            call.interaction_id, ended_at=at(self.board.now()), outcome=Outcome.CALLBACK.value
        )
        await self.endings.call_ended(call.interaction_id)

    # -- a caller of a closed queue ---------------------------------------------------

    async def closed(self, channel: Channel, queue: str, priority: int, target: str | None) -> bool:
        """The queue is closed: offer a callback at its next opening. False:
        the queue offers none (the caller goes to ``target`` as before)."""
        if not self.offers(queue):
            return False
        self.closed_callers[channel.id] = ClosedCaller(
            queue, priority, self.board.now(), channel.caller_name, channel.caller_number, target
        )
        await self.port.answer(channel.id)
        self.port.arm(f"channel:{channel.id}", CLOSED_TIMER, CLOSED_SECONDS)
        with contextlib.suppress(Race):
            await self.port.play(channel.id, ["sound:queue-thankyou", *self.menu.offer_media()],
                                 f"callback-closed-{channel.id}")  # fmt: skip
        return True

    async def _closed_key(self, event: Dtmf) -> None:
        caller = self.closed_callers.get(event.channel_id)
        if caller is None or await self.menu.key(event.channel_id, event.digit):
            return
        if event.digit == self.settings.key:
            with contextlib.suppress(Race):
                await self.port.stop_playback(f"callback-closed-{event.channel_id}")
            await self.menu.start(event.channel_id, caller.number)

    async def _asked_while_closed(self, channel_id: str, number: str) -> None:
        caller = self.closed_callers.pop(channel_id)
        self.port.cancel(f"channel:{channel_id}", CLOSED_TIMER)
        now = self.board.now()
        asked_in = await self.board.store.create_interaction(
            channel_id=channel_id, caller_number=number, caller_name=caller.name,
            queue=caller.queue, priority=caller.priority, entered_at=at(caller.entered_at),
            ended_at=at(now), outcome=Outcome.CALLBACK.value,
        )  # fmt: skip
        request = Request(caller.queue, number, caller.name, caller.priority, caller.entered_at,
                          next(self.board.seq), asked_in)  # fmt: skip
        kept = self._kept(request)
        if kept is not None:
            await self._log_kept(kept, request, channel_id)
        else:
            run = await self.open_callback(request)
            await self.board.events.record(
                "callback_requested", channel=channel_id, interaction=asked_in,
                queue=caller.queue, callback=run.id, number=number, state=run.state.value,
            )  # fmt: skip
        await self.bye(channel_id)

    async def _closed_timeout(self, channel_id: str) -> None:
        caller = self.closed_callers.pop(channel_id, None)
        if caller is None:
            return
        await self.menu.stop(channel_id)
        with contextlib.suppress(Race):
            await self.port.stop_playback(f"callback-closed-{channel_id}")
            await to_dialplan(self.port, channel_id, "closed", caller.target)

    # -- thanks, and good-bye -----------------------------------------------------------

    async def bye(self, channel_id: str) -> None:
        """Thank the caller, then hang up (when the thanks end, or after 15 s)."""
        self._byes.add(channel_id)
        self.port.arm(f"channel:{channel_id}", BYE_TIMER, BYE_SECONDS)
        try:
            await self.port.play(channel_id, [f"sound:{self.settings.thanks_sound}"],
                                 bye_id(channel_id))  # fmt: skip
        except Race:
            await self._hang_up(channel_id)

    async def _hang_up(self, channel_id: str) -> None:
        if channel_id in self._byes:
            self._byes.discard(channel_id)
            self.port.cancel(f"channel:{channel_id}", BYE_TIMER)
            with contextlib.suppress(TelephonyError):
                await self.port.hangup(channel_id)

    async def _playback_finished(self, event: PlaybackFinished) -> None:
        if event.playback_id.startswith("callback-bye-"):
            await self._hang_up(event.playback_id.removeprefix("callback-bye-"))

    async def _on_timer(self, event: Timer) -> None:
        channel_id = event.key.removeprefix("channel:")
        if event.name == BYE_TIMER:
            await self._hang_up(channel_id)
        elif event.name == CLOSED_TIMER:
            await self._closed_timeout(channel_id)

    async def _stasis_end(self, event: StasisEnd) -> None:
        """A caller hung up (or was handed on): nothing of theirs is kept."""
        await self.menu.stop(event.channel_id)
        self._byes.discard(event.channel_id)
        self.closed_callers.pop(event.channel_id, None)
        for name in (BYE_TIMER, CLOSED_TIMER):
            self.port.cancel(f"channel:{event.channel_id}", name)

    # -- the customer was served anyway ---------------------------------------------------

    async def _answered(self, call: WaitingCall) -> None:
        """An agent answered a caller (under the call's lock): no more
        menu; and the caller's pending callbacks in this queue are done."""
        await self.menu.stop(call.channel_id)
        if call.callback is not None or not call.caller_number:
            return
        for run in list(self.runs.values()):
            if (
                run.number == call.caller_number
                and run.queue == call.queue
                and (run.state in PENDING)
            ):
                reason = f"called again: answered in call {call.interaction_id}"
                log.info("callback %s: %s", run.id, reason)
                await self.cancel(run.id, reason, "called_again")
