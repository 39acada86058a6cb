"""Queued callback: the caller keeps their place and is called back.

Theory of operation
-------------------
A waiting caller of a queue whose ``callback`` policy offers one hears
"press 1 to be called back" (when they join, and with each announcement);
the key opens ``callback_menu``, which returns a confirmed number to
``_asked``. The caller's call then ends (outcome ``callback``) and a
**virtual caller** takes its place: a ``WaitingCall`` on the channel id
``callback-<id>`` with the asking call's priority, time of joining and
order, so the ACD plans it exactly where the caller stood. The callback
call has its own interaction (``callback_of`` the asking one), opened when
the callback is asked for. Outside the queue's opening hours the callback is
``scheduled`` for the next opening and waits as a virtual caller from then.

When the ACD offers the virtual caller, the agent's phone rings with
"Callback <name>" and the number (the preview; the console shows the same);
the agent's answer dials the customer (``callback_dialing``), after which
it is an ordinary conversation (transfers, recording, wrap-up). An attempt
that did not reach the customer — no answer, busy, the agent hanging up
while it rings, or an answer shorter than the policy's ``short_answer`` (a
machine) — goes to ``_attempt_over``: ``after_attempt`` decides a retry
after ``retry_every`` (the callback waits again at its place) or the end
(failed, with the reason).

Every change is written to the ``callback`` table; after a restart or a
failover ``resync`` rebuilds the virtual callers and timers from it (an
attempt that was ringing when callflow went away counts as not answered,
so nobody is called twice at once and nobody forgotten).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from callflow.routing.acd import Acd
from callflow.routing.board import Board
from callflow.routing.call_state import CallState, Outcome
from callflow.routing.callback_dialing import CallbackDialing, customer_channel
from callflow.routing.callback_policy import (
    CallbackEvent,
    CallbackState,
    GiveUp,
    Reached,
    after_attempt,
    callback_machine,
)
from callflow.routing.callback_requests import CallbackRequests, Request
from callflow.routing.callback_store import (
    CallbackRun,
    CallbackStore,
)
from callflow.routing.desk import Desk
from callflow.routing.endings import Endings
from callflow.routing.media import Media
from callflow.routing.runtime import WaitingCall
from callflow.routing.store import at
from callflow.settings import CallbackSettings
from callflow.telephony.port import (
    TelephonyError,
    Timer,
)

log = logging.getLogger("callflow.callback")

DUE_TIMER = "callback_due"  # on callback_key(id): the next opening, retry or rescheduled time
HOURS_TIMER = "callback_hours"  # while callbacks wait on a queue with hours: plan again
HOURS_TICK = 60.0


class CallbackError(ValueError):
    """A cancel or reschedule that cannot be done; ``status`` for the API."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def callback_key(callback_id: int) -> str:
    return f"callback:{callback_id}"


class Callbacks:
    def __init__(
        self,
        board: Board,
        media: Media,
        acd: Acd,
        desk: Desk,
        endings: Endings,
        store: CallbackStore,
        settings: CallbackSettings,
    ) -> None:
        self.board = board
        self.media = media
        self.acd = acd
        self.desk = desk
        self.endings = endings
        self.store = store
        self.settings = settings
        self.port = board.port
        self.runs: dict[int, CallbackRun] = {}  # open callbacks, by id
        # told of every change a console shows (the agent's preview, the counts)
        self.changed: list[Callable[[CallbackRun], None]] = []
        self.requests = CallbackRequests(
            board, media, acd, endings, settings, self.runs, self.open_callback, self.cancel
        )
        self.dialing = CallbackDialing(
            board, media, acd, desk, store, settings, self.runs, self._attempt_over, self._changed
        )
        endings.agent_gone.insert(0, self.dialing.agent_gone)
        endings.on_call_end(self._call_ended)
        self.port.on(Timer, self._on_timer)

    @property
    def enabled(self) -> bool:
        return self.settings.context is not None

    async def open_callback(self, request: Request) -> CallbackRun:
        """A new callback at the request's place: waiting now, or scheduled
        for the queue's next opening; with the callback call's interaction."""
        now = self.board.now()
        conf = self.board.queues[request.queue]
        opens = None if conf.hours.is_open(at(now)) else conf.hours.next_opening(at(now))
        run = CallbackRun(
            id=0, queue=request.queue, number=request.number, name=request.name,
            priority=request.priority, entered_at=request.entered_at, requested_at=now,
            asked_in=request.asked_in, machine=callback_machine("new"), seq=request.seq,
        )  # fmt: skip
        if opens is not None:
            run.machine.force(CallbackState.SCHEDULED, "closed")
            run.due_at = opens.timestamp()
        run.id = await self.store.create(run)
        run.machine.name = f"callback {run.id}"
        run.interaction_id = await self.board.store.create_interaction(
            channel_id=run.channel, caller_number=run.number, caller_name=run.name,
            queue=run.queue, priority=run.priority, entered_at=at(now),
            callback_of=request.asked_in or None,
        )  # fmt: skip
        await self.store.save(run)
        self.runs[run.id] = run
        await self._begin(run)
        return run

    # -- waiting at the caller's place -------------------------------------------------

    async def _begin(self, run: CallbackRun) -> None:
        """A new or loaded callback: wait now, or when it is due."""
        if run.state is CallbackState.WAITING:
            self._enqueue(run)
        elif run.state in (CallbackState.SCHEDULED, CallbackState.RETRY_WAIT):
            delay = max(0.0, run.due_at - self.board.now())
            self.port.arm(callback_key(run.id), DUE_TIMER, delay)
        self._changed(run)

    def _enqueue(self, run: CallbackRun) -> None:
        """The virtual caller, at the asking call's place."""
        if self.board.calls.get(run.channel) is not None:
            return
        call = WaitingCall.new(
            run.interaction_id, run.channel, run.queue, run.priority, run.entered_at, run.number,
            f"Callback {run.name}".strip(), seq=run.seq,
        )  # fmt: skip
        call.callback = run.id
        self.board.calls[run.channel] = call
        conf = self.board.queues.get(run.queue)
        if conf is not None and not conf.hours.always:
            self.port.arm(f"queue:{run.queue}", HOURS_TIMER, HOURS_TICK)

    async def _due(self, run: CallbackRun) -> None:
        event = (
            CallbackEvent.DUE if run.state is CallbackState.RETRY_WAIT else CallbackEvent.OPENING
        )
        conf = self.board.queues.get(run.queue)
        now = self.board.now()
        if conf is not None and not conf.hours.is_open(at(now)):
            opens = conf.hours.next_opening(at(now))
            if opens is not None:  # due while closed: at the next opening
                run.due_at = opens.timestamp()
                await self.store.save(run)
                await self._begin(run)
                return
        run.machine.fire(event)
        run.due_at = 0.0
        await self.store.save(run)
        await self.board.events.record("callback_due", callback=run.id, queue=run.queue,
                                       interaction=run.interaction_id)  # fmt: skip
        await self._begin(run)
        await self.acd.distribute()

    async def _on_timer(self, event: Timer) -> None:
        if event.name == DUE_TIMER:
            run = self.runs.get(int(event.key.removeprefix("callback:")))
            if run is not None and run.state in (CallbackState.SCHEDULED, CallbackState.RETRY_WAIT):
                await self._due(run)
        elif event.name == HOURS_TIMER:
            queue = event.key.removeprefix("queue:")
            if any(c.callback is not None and c.queue == queue for c in self.board.calls.values()):
                self.port.arm(event.key, HOURS_TIMER, HOURS_TICK)
                await self.acd.distribute()  # the queue may have opened

    async def _attempt_over(
        self, run: CallbackRun, reached: Reached, why: str, final: bool = False
    ) -> None:
        conf = self.board.queues.get(run.queue)
        policy = conf.callback if conf is not None else None
        decision = (
            GiveUp(f"{why} ({reached.value})") if final or policy is None
            else after_attempt(policy, run.attempts, reached)
        )  # fmt: skip
        await self.board.events.record(
            "callback_attempt", callback=run.id, queue=run.queue, agent=run.agent,
            interaction=run.interaction_id, attempt=run.attempts, outcome=reached.value, why=why,
        )  # fmt: skip
        if isinstance(decision, GiveUp):
            run.machine.fire(CallbackEvent.GIVE_UP, decision.reason)
            await self._close(run, decision.reason, Outcome.CALLBACK_FAILED, "failed")
            return
        run.machine.fire(CallbackEvent.NOT_REACHED, why)
        run.due_at = self.board.now() + decision.after
        run.answered_at = 0.0
        await self.store.save(run)
        await self.board.store.update_interaction(
            run.interaction_id, channel_id=run.channel, answered_at=None, agent=None,
            agent_channel_id=None, ended_at=None, outcome=None,
        )  # fmt: skip
        await self._begin(run)

    async def _close(self, run: CallbackRun, reason: str, outcome: Outcome, result: str) -> None:
        now = self.board.now()
        run.reason, run.ended_at = reason, now
        self.runs.pop(run.id, None)
        self.port.cancel(callback_key(run.id), DUE_TIMER)
        await self.store.save(run)
        await self.board.store.update_interaction(
            run.interaction_id, ended_at=at(now), outcome=outcome.value
        )
        waited = round(run.answered_at - run.requested_at, 3) if result == "completed" else None
        await self.board.events.record(
            "callback_" + result, callback=run.id, queue=run.queue, agent=run.agent,
            interaction=run.interaction_id, reason=reason, attempts=run.attempts, waited=waited,
        )  # fmt: skip
        self._changed(run)

    async def _call_ended(self, interaction_id: int) -> None:
        """A callback's conversation ended: done, or a machine's short answer."""
        run = next((r for r in self.runs.values() if r.interaction_id == interaction_id), None)
        if run is None or run.state is not CallbackState.CONNECTED:
            return
        conf = self.board.queues.get(run.queue)
        short = conf.callback.short_answer if conf is not None else 0.0
        talked = self.board.now() - run.answered_at if run.answered_at else short
        if talked < short:
            run.machine.force(CallbackState.DIALING, "short answer")
            await self._attempt_over(run, Reached.SHORT, f"answered for {talked:.1f} s")
            return
        run.machine.fire(CallbackEvent.ENDED)
        await self._close(run, "", Outcome.ANSWERED, "completed")

    # -- cancel and reschedule (agents, supervisors) -------------------------------------------

    async def cancel(self, callback_id: int, reason: str, by: str) -> CallbackRun:
        run = self._open(callback_id)
        await self._take_back(run)
        run.machine.fire(CallbackEvent.CANCEL, reason)
        await self._close(run, f"{reason} ({by})", Outcome.CALLBACK_CANCELLED, "cancelled")
        await self.acd.distribute()
        return run

    async def reschedule(
        self, callback_id: int, when: datetime, reason: str, by: str
    ) -> CallbackRun:
        if when.timestamp() <= self.board.now():
            raise CallbackError(f"{when.isoformat()} is not in the future", 422)
        run = self._open(callback_id)
        await self._take_back(run)
        run.machine.fire(CallbackEvent.RESCHEDULE, reason)
        run.due_at, run.reason = when.timestamp(), f"{reason} ({by})"
        await self.store.save(run)
        await self.board.events.record(
            "callback_rescheduled", callback=run.id, queue=run.queue, due=when.isoformat(),
            reason=reason, by=by,
        )  # fmt: skip
        await self._begin(run)
        await self.acd.distribute()
        return run

    def _open(self, callback_id: int) -> CallbackRun:
        run = self.runs.get(callback_id)
        if run is None:
            raise CallbackError(f"no open callback {callback_id}", 404)
        if run.state is CallbackState.CONNECTED:
            raise CallbackError(f"callback {callback_id} is connected: it is an ordinary call now")
        return run

    async def _take_back(self, run: CallbackRun) -> None:
        """Out of the queue (and off the phones) before a cancel or reschedule."""
        self.port.cancel(callback_key(run.id), DUE_TIMER)
        call = self.board.calls.get(run.channel)
        if call is None:
            return
        async with call.lock:
            for offer in list(call.offers.values()):
                await self.acd.withdraw(offer, "callback taken back")
            if call.state is CallState.CONNECTED:  # dialing: both phones hang up
                await self.dialing.release(call, run, "callback taken back")
            else:
                self.board.forget(call)
            call.machine.force(CallState.ENDED, "callback taken back")
        if run.state is CallbackState.OFFERED:
            run.machine.fire(CallbackEvent.DECLINE)

    # -- after a restart or failover ----------------------------------------------------------

    async def resync(self, alive: set[int]) -> None:
        """The board was rebuilt without virtual callers: rebuild them."""
        self.dialing.ringing.clear()
        self.runs.clear()
        for run in await self.store.open():
            run.seq = next(self.board.seq)
            self.runs[run.id] = run
            if run.state is CallbackState.OFFERED:
                run.machine.force(CallbackState.WAITING, "resync")
            if run.state is CallbackState.DIALING:  # the attempt died with us
                with contextlib.suppress(TelephonyError):
                    await self.port.hangup(customer_channel(run))
                await self._attempt_over(run, Reached.NO_ANSWER, "interrupted by a restart")
            elif run.state is CallbackState.CONNECTED:
                if run.interaction_id not in alive:  # the call ended meanwhile
                    run.machine.fire(CallbackEvent.ENDED)
                    await self._close(run, "", Outcome.ANSWERED, "completed")
                # else: its conversation was adopted; its end closes the callback
            else:
                await self._begin(run)

    # -- what consoles show -------------------------------------------------------------------

    def _changed(self, run: CallbackRun) -> None:
        self.board.touch(run.agent)
        for observer in self.changed:
            observer(run)
