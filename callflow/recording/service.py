"""Recording customers' conversations: Asterisk writes the files.

Theory of operation
-------------------
A queue's ``recording`` policy decides: ``always`` starts a segment when an
agent's answer connects the call; ``on_demand`` when the agent (or a
supervisor) asks, and then every later segment of the call too; ``never``
records nothing. A segment records the customer's channel (Asterisk's
MixMonitor, through the port's ``record_call``): what the customer says and
hears, mixed, into ``<recording.dir>/<name>.wav``. It goes on across holds,
assist sessions, an attended transfer and its conference, and ends with the
conversation: the customer hanging up, the agent, a blind transfer (the next
answer starts the next segment). With ``recording_split`` Asterisk also
writes each direction alone: ``-customer`` (what the customer says) and
``-agent`` (what the customer hears: the agent, and anyone else on the
call). The bridge is never touched, so recording adds no mixing to a call.

Pausing (card numbers) mutes the segment: Asterisk writes silence, the file
keeps the call's length, and the gap's start and end are stored with it.
Ending a segment stops the recording (a hang-up already did), waits until
Asterisk has closed the files, then reads them: size, duration and checksum
go into the row; a file that is not there or not readable is ``missing``
with the reason, never silently skipped. The restart path is
``recording.resync``, the phone's pause keys ``recording.keys``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from callflow.calls.event_log import EventLog
from callflow.db.models import Recording
from callflow.recording.files import FileFacts, FileProblem, closed, inspect
from callflow.recording.keys import PauseKeys
from callflow.recording.resync import Resync
from callflow.recording.retention import Retention
from callflow.recording.segment import Segment
from callflow.recording.state import (
    LIVE,
    Policy,
    SegmentEvent,
    segment_machine,
    starts_recording,
)
from callflow.recording.store import RecordingStore
from callflow.routing.conversation import record_on_call
from callflow.routing.runtime import WaitingCall
from callflow.routing.service import RoutingService
from callflow.routing.store import at
from callflow.settings import RecordingSettings
from callflow.tasks import Tasks
from callflow.telephony.port import Race, Telephony, TelephonyError

log = logging.getLogger("callflow.recording")

Tell = Callable[[str, dict[str, Any]], Awaitable[None]]  # (agent name, frame)
CLOSE_WAIT = 5.0  # seconds Asterisk may take to close a hung-up call's files


def _read_closed(paths: list[Path], anyway: bool) -> list[FileFacts | FileProblem] | None:
    """In a worker thread: every file's facts, or None while one is still open."""
    if not anyway and not all(closed(p) for p in paths):
        return None
    found: list[FileFacts | FileProblem] = []
    for path in paths:
        try:
            found.append(inspect(path))
        except FileProblem as problem:
            found.append(problem)
    return found


class RecordingError(Exception):
    """A recording request that cannot be done; the message says why."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class Recordings:
    def __init__(
        self, port: Telephony, store: RecordingStore, events: EventLog, routing: RoutingService,
        settings: RecordingSettings, tasks: Tasks, tell: Tell | None = None,
    ) -> None:  # fmt: skip
        """``tell(agent name, frame)``: how an agent's console hears of the
        recording of their call."""
        self.port = port
        self.store = store
        self.events = events
        self.routing = routing
        self.settings = settings
        self.tasks = tasks
        self.tell = tell
        self.live: dict[int, Segment] = {}  # interaction -> its segment being recorded
        self.numbers: dict[int, int] = {}  # interaction -> segments so far
        self.asked: set[int] = set()  # on-demand calls someone started recording
        self.finishing: set[asyncio.Task[None]] = set()  # segments being closed
        self.retention = Retention(store.db, port, lambda: routing.queues, settings)
        self.keys = PauseKeys(self, routing, port, settings.pause_keys)
        self.resync = Resync(self)
        routing.on_connected(self._connected)
        routing.on_call_end(self._conversation_ended)
        routing.on_reconciled(self.resync.reconciled)

    @property
    def enabled(self) -> bool:
        return self.settings.dir is not None

    def policy(self, call: WaitingCall) -> Policy:
        conf = self.routing.queues.get(call.queue)
        return Policy(conf.recording) if conf is not None else Policy.NEVER

    # -- starting and ending -----------------------------------------------------

    async def _connected(self, call: WaitingCall) -> None:
        if self.enabled and starts_recording(self.policy(call), call.interaction_id in self.asked):
            await self.start_segment(call)

    async def start_segment(self, call: WaitingCall) -> Segment | None:
        interaction = call.interaction_id
        number = self.numbers.get(interaction, 0) + 1
        self.numbers[interaction] = number
        base = f"callflow-{interaction}-{number}-{secrets.token_hex(4)}"
        conf = self.routing.queues.get(call.queue)
        split = conf is not None and conf.recording_split
        voices = {"said": f"{base}-customer", "heard": f"{base}-agent"} if split else {}
        names = [base, *voices.values()]
        segment = Segment(call, number, names, segment_machine(base), channel_id=call.channel_id)
        # the rows first: a restart between the two finds the recording known
        now = at(self.port.now())
        await asyncio.gather(*(
            self.store.started(Recording(
                interaction_id=interaction, segment=number, name=name,
                kind="mixed" if name == base else name.rsplit("-", 1)[1],
                token=secrets.token_urlsafe(24), queue=call.queue, agent=call.agent,
                started_at=now,
            ))
            for name in names
        ))  # fmt: skip
        try:
            await self.port.record_call(call.channel_id, base, **voices)
        except TelephonyError as error:
            await self._failed_to_start(call, segment, error)
            return None
        self.live[interaction] = segment
        await record_on_call(self.events, "recording_started", call, agent=call.agent,
                             segment=number, files=len(names))  # fmt: skip
        await self._told(call, "recording")
        return segment

    async def _failed_to_start(
        self, call: WaitingCall, segment: Segment, error: TelephonyError
    ) -> None:
        """Told, not hidden: the call goes on unrecorded."""
        problem = (
            f"Asterisk refused to record ({error}): is {self.settings.dir} there, writable by "
            "Asterisk, and not full? (callflow doctor checks it)"
        )
        log.error("call %s: recording not started: %s", call.interaction_id, problem)
        for name in segment.names:
            await self.store.update(name, state="failed", problem=problem[:200],
                                    ended_at=at(self.port.now()))  # fmt: skip
        await record_on_call(self.events, "recording_failed", call, agent=call.agent,
                             segment=segment.number, problem=problem)  # fmt: skip
        await self._told(call, "failed", why="Asterisk refused to record")

    async def _conversation_ended(self, interaction_id: int) -> None:
        """The customer left the conversation (hung up, or a blind transfer)."""
        segment = self.live.pop(interaction_id, None)
        if segment is not None:
            self.finish_later(segment)
            await self._told(segment.call, "off")
            self.retention.ensure_armed()  # retention may have been set meanwhile
        self.keys.forget_ended()
        if self.routing.conversation(interaction_id) is None and not any(
            c.interaction_id == interaction_id for c in self.routing.calls.values()
        ):
            self.numbers.pop(interaction_id, None)
            self.asked.discard(interaction_id)

    def finish_later(self, segment: Segment) -> None:
        """Off the call's lock: waiting for Asterisk and reading the files."""
        task = self.tasks.spawn(self._finish(segment), f"recording {segment.names[0]}")
        if task is not None:
            self.finishing.add(task)
            task.add_done_callback(self.finishing.discard)

    async def finished(self) -> None:
        """Wait until every ended segment's files were read (tests, shutdown)."""
        while self.finishing:
            await asyncio.gather(*list(self.finishing), return_exceptions=True)

    async def _finish(self, segment: Segment) -> None:
        if segment.machine.can(SegmentEvent.STOP):
            segment.machine.fire(SegmentEvent.STOP)
        if segment.channel_id and self._customer_on_line(segment):
            with contextlib.suppress(TelephonyError):
                await self.port.stop_call_recording(segment.channel_id)
        # else the hang-up stopped it
        assert self.settings.dir is not None
        paths = [Path(self.settings.dir) / f"{name}.wav" for name in segment.names]
        found = await self._read_when_closed(paths)
        if segment.machine.can(SegmentEvent.FINISHED):
            segment.machine.fire(SegmentEvent.FINISHED)
        self._close_pause(segment)
        ended = at(self.port.now())
        for name, facts in zip(segment.names, found, strict=True):
            if isinstance(facts, FileProblem):
                log.error("recording %s: %s", name, facts)
                await self.store.update(name, state="missing", problem=str(facts)[:200],
                                        ended_at=ended, pauses=segment.pauses)  # fmt: skip
            else:
                await self.store.update(
                    name, state="done", ended_at=ended, pauses=segment.pauses,
                    size=facts.size, duration=round(facts.duration, 3), sha256=facts.sha256,
                )  # fmt: skip
        await record_on_call(self.events, "recording_stopped", segment.call,
                             agent=segment.call.agent, segment=segment.number)  # fmt: skip

    def _customer_on_line(self, segment: Segment) -> bool:
        """Whether the recorded customer is still in a call callflow holds
        (a blind transfer, a stop by hand); not after they hung up."""
        call = self.routing.calls.get(segment.channel_id)
        return call is not None and call.interaction_id == segment.call.interaction_id

    async def _read_when_closed(self, paths: list[Path]) -> list[FileFacts | FileProblem]:
        """The files' facts once Asterisk has closed them (after a hang-up it
        does so a moment later); a file still open after ``CLOSE_WAIT`` is
        read as it is."""
        deadline = asyncio.get_running_loop().time() + CLOSE_WAIT
        while True:
            last = asyncio.get_running_loop().time() >= deadline
            found = await asyncio.to_thread(_read_closed, paths, last)
            if found is not None:
                return found
            await asyncio.sleep(0.05)

    # -- what agents and supervisors ask -----------------------------------------------

    def segment_of(self, agent_name: str) -> tuple[WaitingCall, Segment | None]:
        call = self.routing.conversation_of_agent(agent_name)
        if call is None:
            raise RecordingError(f"{agent_name} is not talking to a customer")
        return call, self.live.get(call.interaction_id)

    async def start(self, agent_name: str) -> str:
        if not self.enabled:
            raise RecordingError("recording is off on this site (recording.dir)", 503)
        call, segment = self.segment_of(agent_name)
        if self.policy(call) is not Policy.ON_DEMAND:
            raise RecordingError(
                f"queue {call.queue} records {self.policy(call).value.replace('_', ' ')}: "
                "it is not started by hand"
            )
        if segment is not None:
            raise RecordingError("this call is being recorded already")
        async with call.lock:
            self.asked.add(call.interaction_id)
            started = await self.start_segment(call)
        if started is None:
            raise RecordingError("Asterisk refused to record this call", 502)
        return started.state.value

    async def stop(self, agent_name: str) -> str:
        call, segment = self.segment_of(agent_name)
        if self.policy(call) is not Policy.ON_DEMAND:
            raise RecordingError(f"queue {call.queue} records every call: pause it instead")
        if segment is None:
            raise RecordingError("this call is not being recorded")
        self.asked.discard(call.interaction_id)
        self.live.pop(call.interaction_id, None)
        await self._finish(segment)
        await self._told(call, "off")
        return "off"

    async def pause(self, agent_name: str, paused: bool) -> str:
        """Pause (silence is written: card numbers) or resume."""
        call, segment = self.segment_of(agent_name)
        if segment is None or segment.state not in LIVE:
            raise RecordingError("this call is not being recorded")
        event = SegmentEvent.PAUSE if paused else SegmentEvent.RESUME
        if not segment.machine.can(event):
            return segment.state.value  # already so
        with contextlib.suppress(Race):
            await self.port.mute_call_recording(segment.channel_id, paused)
        segment.machine.fire(event, agent_name)
        now = at(self.port.now()).isoformat()
        if paused:
            segment.pauses.append({"at": now, "until": None})
        else:
            self._close_pause(segment)
        for name in segment.names:
            await self.store.update(name, state=segment.state.value, pauses=segment.pauses)
        kind = "recording_paused" if paused else "recording_resumed"
        await record_on_call(self.events, kind, call, agent=agent_name, segment=segment.number)
        await self._told(call, segment.state.value)
        return segment.state.value

    def _close_pause(self, segment: Segment) -> None:
        if segment.pauses and segment.pauses[-1]["until"] is None:
            segment.pauses[-1]["until"] = at(self.port.now()).isoformat()

    async def _told(self, call: WaitingCall, state: str, **detail: Any) -> None:
        if self.tell is None or call.agent is None:
            return
        frame = {"type": "recording", "interaction": call.interaction_id,
                 "policy": self.policy(call).value, "state": state, **detail}  # fmt: skip
        with contextlib.suppress(Exception):
            await self.tell(call.agent, frame)

    def view(self, agent_name: str) -> dict[str, Any] | None:
        """The agent's call's recording, as the console shows it."""
        call = self.routing.conversation_of_agent(agent_name)
        if call is None:
            return None
        segment = self.live.get(call.interaction_id)
        return {
            "interaction": call.interaction_id, "policy": self.policy(call).value,
            "state": segment.state.value if segment else "off",
        }  # fmt: skip
