"""Callers entering and waiting: ``Stasis(<app>,queue,<name>[,<priority>])``.

Theory of operation
-------------------
``enter_queue`` checks the arguments (a bad one is the router's
``ArgumentError``: the caller goes back to the dialplan with the problem
named); a queue with a recording notice first plays it
(``notice.RecordingNotice``, which comes back to ``_join``). ``_join``
offers the call to a free agent at once, and once that offer has left
(Asterisk answered the originate) records the interaction, answers and
puts the caller in the queue's holding bridge while the agent's phone rings
(an agent's answer waits for the call's lock, so it finds all that done) —
or, when nobody is logged in and the queue does not take callers then, sends
them to its empty-queue exit. If anything fails half-way, offers already made are
taken back and the call is forgotten before the error goes to the router's
boundary, which hands the caller back with ``CALLFLOW_RESULT=error``.

While a caller waits, two keyed timers run on their channel: the maximum
wait and the next announcement (position and expected wait). The queue's
exit key leaves the queue. Each of these takes the call's lock and checks
the call still waits, so an answer and a timer can never both act.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import NamedTuple

from callflow.calls.stasis import ArgumentError
from callflow.routing.acd import Acd
from callflow.routing.board import WAITING_STATES, Board
from callflow.routing.call_state import CallState
from callflow.routing.endings import Endings, to_dialplan
from callflow.routing.media import Media
from callflow.routing.notice import RecordingNotice, Reject
from callflow.routing.runtime import (
    ANNOUNCE_TIMER,
    ESCALATE_TIMER,
    MAX_WAIT_TIMER,
    WaitingCall,
    channel_key,
)
from callflow.routing.skills import Requirement, RequirementError
from callflow.routing.store import at
from callflow.routing.waiting import announcement
from callflow.telephony.port import Channel, Dtmf, Timer

RING_FIRST_WAIT = 1.0  # seconds a new caller's answer waits for its offer to leave

log = logging.getLogger("callflow.entry")


class Entering(NamedTuple):
    """What the dialplan asked: ``queue,<name>[,<priority>[,<requirement>]]``."""

    queue: str
    priority: int = 0
    requirement: Requirement | None = None  # None: the queue's

    def args(self) -> list[str]:
        return [self.queue, str(self.priority), str(self.requirement or "")]


def parse_queue_args(
    args: list[str], known: Collection[str], skills: Collection[str] = ()
) -> Entering:
    if not args or len(args) > 3:
        raise ArgumentError("expected queue,<queue name>[,<priority>[,<requirement>]]")
    name = args[0]
    if name not in known:
        raise ArgumentError(
            f"unknown queue {name!r} (known: {', '.join(sorted(known)) or 'none configured'})"
        )
    priority = 0
    if len(args) >= 2 and args[1] != "":
        if not args[1].isdigit() or not 0 <= int(args[1]) <= 99:
            raise ArgumentError(f"priority {args[1]!r} is not a number 0..99")
        priority = int(args[1])
    requirement = None
    if len(args) == 3 and args[2].strip():
        try:
            requirement = Requirement.parse(args[2], skills)
        except RequirementError as error:
            raise ArgumentError(f"requirement: {error}") from None
    return Entering(name, priority, requirement)


class QueueEntry:
    def __init__(
        self, board: Board, media: Media, acd: Acd, endings: Endings, reject: Reject
    ) -> None:
        """``reject``: hands a caller back to the dialplan with the problem named."""
        self.board = board
        self.media = media
        self.acd = acd
        self.endings = endings
        self.port = board.port
        self.notice = RecordingNotice(board.port, board.events, self._after_notice, reject)
        # a waiting caller's keys, tried before the exit key: True when taken
        self.caller_keys: list[Callable[[WaitingCall, str], Awaitable[bool]]] = []
        # what a waiting caller hears after the announcement (the callback offer)
        self.extra_media: list[Callable[[WaitingCall], list[str]]] = []
        # a closed queue's caller: (channel, queue, priority, closed target) ->
        # True when taken care of (offered a callback at the next opening)
        self.closed_offer: Callable[[Channel, str, int, str | None], Awaitable[bool]] | None = None

    def _parse(self, args: list[str]) -> Entering:
        return parse_queue_args(args, self.board.queues.keys(), self.board.skills.keys())

    async def enter_queue(self, channel: Channel, args: list[str]) -> None:
        asked = self._parse(args)
        name = await self._open_queue(channel, asked.queue, asked.priority)
        if name is None:
            return
        entering = asked._replace(queue=name)
        sound = self.board.queues[name].recording_notice
        if sound:
            await self.notice.start(channel, name, entering.args(), sound)
        else:
            await self._join(channel, entering, answered=False)

    async def _open_queue(self, channel: Channel, name: str, priority: int) -> str | None:
        """The queue the caller joins: ``name`` while it is open; while it is
        closed, a callback at its next opening (if it offers them), its
        ``closed_target`` (another queue, in turn checked) or the dialplan
        (``CALLFLOW_RESULT=closed``). None: taken care of otherwise."""
        now = at(self.board.now())
        visited = [name]
        while True:
            conf = self.board.queues[name]
            if conf.hours.is_open(now):
                return name
            target = conf.closed_target
            opens = conf.hours.next_opening(now)
            await self.board.events.record(
                "closed", channel=channel.id, queue=name, caller=channel.caller_number,
                target=target or "next priority",
                opens=opens.isoformat() if opens is not None else None,
            )  # fmt: skip
            if target and target.startswith("queue:"):
                following = target.removeprefix("queue:")
                if following in self.board.queues and following not in visited:
                    visited.append(following)
                    name = following
                    continue
                log.warning(
                    "queue %s is closed and its closed target %s is no queue to join (%s): "
                    "the dialplan", name, target, " -> ".join(visited),
                )  # fmt: skip
                target = None
            offer = self.closed_offer
            if offer is not None and await offer(channel, name, priority, target):
                return None  # a callback at the next opening, or else the target
            await to_dialplan(self.port, channel.id, "closed", target)
            return None

    async def _after_notice(self, channel: Channel, args: list[str]) -> None:
        await self._join(channel, self._parse(args), answered=True)

    async def _join(self, channel: Channel, entering: Entering, *, answered: bool) -> None:
        board = self.board
        now = board.now()
        name, priority = entering.queue, entering.priority
        call = WaitingCall.new(
            0, channel.id, name, priority, now, channel.caller_number, channel.caller_name,
            seq=next(board.seq),
        )  # fmt: skip
        call.requirement = entering.requirement
        call.announced = False
        call.recorded.clear()  # the interaction id comes with the row, below
        call.ringing.clear()
        board.calls[channel.id] = call
        offering: asyncio.Task[None] | None = None
        try:
            async with call.lock:
                conf = board.queues[name]
                nobody = not conf.join_empty and not board.anyone_logged_in(conf)
                if not nobody:
                    # a free agent's phone rings while the call is written down,
                    # answered and held: the agent's answer waits for this lock
                    offering = asyncio.ensure_future(self.acd.distribute())
                    await asyncio.sleep(0)  # its originate leaves first
                    await self._until_ringing(call)
                await self._record_and_answer(call, channel, answer=not answered)
                await board.log("enterqueue", call, caller=call.caller_number, priority=priority)
                if nobody:
                    await self.endings.leave(call, "no_agents")
                elif call.state in WAITING_STATES:
                    await self.media.hold(call)
                    board.arm_waiting_timers(call)
                    if offers := self._extras(call):
                        await self.media.announce(call, offers)
        except BaseException:
            call.recorded.set()  # an offer on its way goes on, to be taken back
            if offering is not None:
                with contextlib.suppress(Exception):
                    await offering
            await self.acd.withdraw_offers(call)
            await self._failed(call)
            raise
        if offering is not None:
            await offering

    @staticmethod
    async def _until_ringing(call: WaitingCall) -> None:
        """When the caller was just offered, wait (briefly) for the offer to
        leave before answering: Asterisk's work for the answer would delay
        the agent's INVITE by about half a millisecond."""
        if call.state is not CallState.OFFERING:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RING_FIRST_WAIT):
                await call.ringing.wait()

    async def _record_and_answer(
        self, call: WaitingCall, channel: Channel, *, answer: bool
    ) -> None:
        """The interaction row and the answer, at the same time."""
        created, answered = await asyncio.gather(
            self.board.store.create_interaction(
                channel_id=channel.id,
                caller_number=channel.caller_number,
                caller_name=channel.caller_name,
                dialed=channel.exten,
                queue=call.queue,
                priority=call.priority,
                entered_at=at(call.entered_at),
                requirement=None if call.requirement is None else str(call.requirement),
            ),
            self.port.answer(channel.id) if answer else asyncio.sleep(0),
            return_exceptions=True,
        )
        if isinstance(created, int):
            call.interaction_id = created
            call.machine.name = str(created)
        call.recorded.set()
        for result in (created, answered):
            if isinstance(result, BaseException):
                raise result

    async def _failed(self, call: WaitingCall) -> None:
        """Forget a call whose entry failed; the router hands it back."""
        self.board.forget(call)
        with contextlib.suppress(Exception):
            await self.media.unhold(call)
        with contextlib.suppress(Exception):
            await self.board.store.update_interaction(
                call.interaction_id, ended_at=at(self.board.now()), outcome="error"
            )

    def _extras(self, call: WaitingCall) -> list[str]:
        return [item for extra in self.extra_media for item in extra(call)]

    async def on_dtmf(self, event: Dtmf) -> None:
        call = self.board.calls.get(event.channel_id)
        if call is None:
            return
        if call.state in WAITING_STATES:
            for handler in self.caller_keys:
                if await handler(call, event.digit):
                    return
        conf = self.board.queues.get(call.queue)
        if conf is None or not conf.exit_key or event.digit != conf.exit_key:
            return
        async with call.lock:
            if call.state in WAITING_STATES:
                await self.endings.leave(call, "exit_key")
        await self.acd.distribute()

    async def on_timer(self, event: Timer) -> None:
        if event.name not in (MAX_WAIT_TIMER, ANNOUNCE_TIMER, ESCALATE_TIMER):
            return
        call = self.board.calls.get(event.key.removeprefix("channel:"))
        if call is None:
            return
        async with call.lock:
            if call.state not in WAITING_STATES:
                return
            if event.name == MAX_WAIT_TIMER:
                await self.endings.leave(call, "max_wait")
            elif event.name == ESCALATE_TIMER:
                await self._escalate(call)
            else:
                await self._announce(call)
        await self.acd.distribute()

    async def _announce(self, call: WaitingCall) -> None:
        conf = self.board.queues[call.queue]
        place = self.board.position(call)
        wait = self.board.estimated_wait(conf, call)
        call.announcements += 1
        await self.board.log("announce", call, position=place, wait_estimate=round(wait))
        await self.media.announce(call, announcement(place, wait) + self._extras(call))
        self.port.arm(channel_key(call.channel_id), ANNOUNCE_TIMER, conf.announce_every)

    async def _escalate(self, call: WaitingCall) -> None:
        """The next escalation step: logged, shown, and (by the caller of
        this) planned with; the caller's place does not change."""
        board = self.board
        conf = board.queues[call.queue]
        reach = board.reach(call, conf)
        if reach.step != call.escalated:
            call.escalated = reach.step
            await board.log(
                "escalate",
                call,
                step=reach.step,
                requirement=str(reach.requirement),
                also_queues=list(reach.queues),
            )  # fmt: skip (the event names the queue: the wallboard is told)
        board.arm_escalation(call, conf)
