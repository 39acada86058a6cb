"""Recording customers' conversations through ARI: Asterisk writes the files.

Theory of operation
-------------------
A queue's ``recording`` policy decides: ``always`` starts a segment when an
agent's answer connects the call; ``on_demand`` when the agent (or a
supervisor) asks, and then every later segment of the call too; ``never``
records nothing. A segment records the call's bridge (``callflow-call-<id>``)
into ``<recording.dir>/<name>.wav``: it goes on across holds, assist
sessions, an attended transfer and its conference (the bridge stays), and
ends with the conversation: the customer hanging up, the agent, a blind
transfer (the customer leaves the bridge; the next answer starts the next
segment). With ``recording_split`` a segment also records each voice on its
own (a snoop that hears what the customer says, one for the agent): three
files per segment.

Pausing (card numbers) pauses every file of the segment; the gap's start
and end are stored with it. Ending a segment stops its recordings, waits
until Asterisk has let go of them, then reads the files: size, duration
and checksum go into the row; a file that is not there or not readable is
``missing`` with the reason, never silently skipped.

After a restart (``on_reconciled``) a segment that was recording or paused
is looked up in Asterisk: still live, it is adopted as it is (paused stays
paused); gone while its call goes on, it is ``interrupted`` and a new
segment starts (logged: nothing stops silently); its call gone, it is
finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callflow.calls.event_log import EventLog
from callflow.calls.key_sequence import FeatureDetector
from callflow.calls.stasis import StasisRouter
from callflow.db.models import Recording
from callflow.fsm import StateMachine
from callflow.recording.files import FileProblem, inspect
from callflow.recording.retention import Retention
from callflow.recording.state import (
    LIVE,
    Policy,
    SegmentEvent,
    SegmentState,
    segment_machine,
    starts_recording,
)
from callflow.recording.store import RecordingStore
from callflow.routing.conversation import record_on_call
from callflow.routing.runtime import WaitingCall, call_bridge_id
from callflow.routing.service import RoutingService
from callflow.routing.store import at
from callflow.settings import RecordingSettings
from callflow.tasks import Tasks
from callflow.telephony.port import Channel, Race, RecordingEnded, Telephony, TelephonyError

log = logging.getLogger("callflow.recording")

SNOOP_VERB = "recording-snoop"
KEY_GAP = 1.5  # seconds allowed between the pause keys
Tell = Callable[[str, dict[str, Any]], Awaitable[None]]  # (agent name, frame)


class RecordingError(Exception):
    """A recording request that cannot be done; the message says why."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Segment:
    call: WaitingCall
    number: int
    names: list[str]  # the mixed file's name first, then the voices'
    machine: StateMachine[SegmentState, SegmentEvent]
    pauses: list[dict[str, Any]] = field(default_factory=list)
    snoops: list[str] = field(default_factory=list)

    @property
    def state(self) -> SegmentState:
        return self.machine.state


class Recordings:
    def __init__(
        self, port: Telephony, store: RecordingStore, events: EventLog, routing: RoutingService,
        router: StasisRouter, settings: RecordingSettings, tasks: Tasks, tell: Tell | None = None,
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
        routing.on_connected(self._connected)
        routing.on_call_end(self._conversation_ended)
        routing.on_reconciled(self._reconciled)
        port.on(RecordingEnded, self._recording_ended)
        router.register(SNOOP_VERB, self._snoop_started)
        self.retention = Retention(store.db, port, lambda: routing.queues, settings)
        self.detectors: dict[str, FeatureDetector] = {}  # by the agent's leg
        routing.on_agent_key(self._key)

    @property
    def enabled(self) -> bool:
        return self.settings.dir is not None

    def policy(self, call: WaitingCall) -> Policy:
        conf = self.routing.queues.get(call.queue)
        return Policy(conf.recording) if conf is not None else Policy.NEVER

    # -- starting and ending -----------------------------------------------------

    async def _connected(self, call: WaitingCall) -> None:
        if self.enabled and starts_recording(self.policy(call), call.interaction_id in self.asked):
            await self._start(call)

    async def _start(self, call: WaitingCall) -> Segment | None:
        interaction = call.interaction_id
        number = self.numbers.get(interaction, 0) + 1
        self.numbers[interaction] = number
        base = f"callflow-{interaction}-{number}-{secrets.token_hex(4)}"
        conf = self.routing.queues.get(call.queue)
        split = conf is not None and conf.recording_split and call.agent_leg is not None
        names = [base, *([f"{base}-customer", f"{base}-agent"] if split else [])]
        segment = Segment(call, number, names, segment_machine(base))
        try:
            await self.port.record_bridge(call_bridge_id(interaction), base)
        except TelephonyError as error:
            await self._failed_to_start(call, number, base, error)
            return None
        self.live[interaction] = segment
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
        if split:
            for voice, channel in (("customer", call.channel_id), ("agent", call.agent_leg)):
                snoop = f"callflow-recsnoop-{interaction}-{number}-{voice}"
                segment.snoops.append(snoop)
                with contextlib.suppress(Race):
                    await self.port.snoop(
                        channel or "", snoop, spy="in", whisper="none",
                        args=[SNOOP_VERB, str(interaction), voice],
                    )  # fmt: skip
        await record_on_call(self.events, "recording_started", call, agent=call.agent,
                             segment=number, files=len(names))  # fmt: skip
        await self._told(call, "recording")
        return segment

    async def _snoop_started(self, channel: Channel, args: list[str]) -> None:
        """A voice's snoop is up: its recording starts (paused if the segment is)."""
        try:
            interaction, voice = int(args[0]), args[1]
        except (IndexError, ValueError):
            await self.port.hangup(channel.id)
            return
        segment = self.live.get(interaction)
        name = next((n for n in (segment.names if segment else []) if n.endswith(voice)), None)
        if segment is None or name is None or channel.id not in segment.snoops:
            await self.port.hangup(channel.id)
            return
        try:
            await self.port.record_channel(channel.id, name)
            if segment.state is SegmentState.PAUSED:
                await self.port.pause_recording(name, True)
        except TelephonyError as error:
            log.error("recording of %s's voice on call %s failed: %s", voice, interaction, error)
            await self.store.update(name, state="failed", problem=str(error)[:200])

    async def _failed_to_start(
        self, call: WaitingCall, number: int, name: str, error: TelephonyError
    ) -> None:
        """Told, not hidden: the call goes on unrecorded."""
        problem = (
            f"Asterisk refused to record ({error}): is {self.settings.dir} there, writable by "
            "Asterisk, and not full? (callflow doctor checks it)"
        )
        log.error("call %s: recording not started: %s", call.interaction_id, problem)
        await self.store.started(Recording(
            interaction_id=call.interaction_id, segment=number, name=name, kind="mixed",
            token=secrets.token_urlsafe(24), queue=call.queue, agent=call.agent,
            started_at=at(self.port.now()), state="failed", problem=problem[:200],
        ))  # fmt: skip
        await record_on_call(self.events, "recording_failed", call, agent=call.agent,
                             segment=number, problem=problem)  # fmt: skip
        await self._told(call, "failed", why="Asterisk refused to record")

    async def _conversation_ended(self, interaction_id: int) -> None:
        """The customer left the conversation (hung up, or a blind transfer)."""
        segment = self.live.pop(interaction_id, None)
        if segment is not None:
            self._finish_later(segment)
            await self._told(segment.call, "off")
            self.retention.ensure_armed()  # retention may have been set meanwhile
        for leg in [leg for leg in self.detectors if self.routing.conversation_of_leg(leg) is None]:
            self.detectors.pop(leg, None)
        if self.routing.conversation(interaction_id) is None and not any(
            c.interaction_id == interaction_id for c in self.routing.calls.values()
        ):
            self.numbers.pop(interaction_id, None)
            self.asked.discard(interaction_id)

    def _finish_later(self, segment: Segment) -> None:
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
        for name in segment.names:
            with contextlib.suppress(TelephonyError):
                await self.port.stop_recording(name)
        for snoop in segment.snoops:
            with contextlib.suppress(TelephonyError):
                await self.port.hangup(snoop)
        for name in segment.names:
            await self._until_written(name)
        if segment.machine.can(SegmentEvent.FINISHED):
            segment.machine.fire(SegmentEvent.FINISHED)
        self._close_pause(segment)
        for name in segment.names:
            await self._file_facts(name, segment.pauses)
        await record_on_call(self.events, "recording_stopped", segment.call,
                             agent=segment.call.agent, segment=segment.number)  # fmt: skip

    async def _until_written(self, name: str, timeout: float = 5.0) -> None:
        """Asterisk closes the file when the recording is no longer live."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                if await self.port.live_recording(name) is None:
                    return
            except TelephonyError:
                return
            await asyncio.sleep(0.05)

    async def _file_facts(self, name: str, pauses: list[dict[str, Any]]) -> None:
        assert self.settings.dir is not None
        path = Path(self.settings.dir) / f"{name}.wav"
        ended = at(self.port.now())
        try:
            facts = await asyncio.to_thread(inspect, path)
        except FileProblem as problem:
            log.error("recording %s: %s", name, problem)
            await self.store.update(name, state="missing", problem=str(problem)[:200],
                                    ended_at=ended, pauses=pauses)  # fmt: skip
            return
        await self.store.update(
            name, state="done", ended_at=ended, pauses=pauses, size=facts.size,
            duration=round(facts.duration, 3), sha256=facts.sha256,
        )  # fmt: skip

    async def _recording_ended(self, event: RecordingEnded) -> None:
        """Asterisk ended a recording by itself: a failure is the segment's."""
        if not event.failed:
            return
        for segment in list(self.live.values()):
            if event.name in segment.names:
                log.error("recording %s failed: %s", event.name, event.cause or "no cause given")
                problem = f"Asterisk: {event.cause or 'failed'}"[:200]
                await self.store.update(event.name, state="failed", problem=problem)
                await record_on_call(self.events, "recording_failed", segment.call,
                                     agent=segment.call.agent, problem=event.cause)  # fmt: skip

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
            started = await self._start(call)
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
        """Pause (nothing is written: card numbers) or resume."""
        call, segment = self.segment_of(agent_name)
        if segment is None or segment.state not in LIVE:
            raise RecordingError("this call is not being recorded")
        event = SegmentEvent.PAUSE if paused else SegmentEvent.RESUME
        if not segment.machine.can(event):
            return segment.state.value  # already so
        for name in segment.names:
            with contextlib.suppress(Race):
                await self.port.pause_recording(name, paused)
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

    async def _told(self, call: WaitingCall, state: str, **detail: Any) -> None:
        if self.tell is None or call.agent is None:
            return
        frame = {"type": "recording", "interaction": call.interaction_id,
                 "policy": self.policy(call).value, "state": state, **detail}  # fmt: skip
        with contextlib.suppress(Exception):
            await self.tell(call.agent, frame)

    async def _key(self, leg: str, digit: str) -> bool:
        """The pause keys toggle the pause: one beep paused, two resumed."""
        call = self.routing.conversation_of_leg(leg)
        if call is None or call.agent_leg != leg or call.agent is None:
            self.detectors.pop(leg, None)
            return False
        detector = self.detectors.setdefault(
            leg, FeatureDetector(self.settings.pause_keys, KEY_GAP)
        )
        if not detector.press(digit, self.port.now()):
            return False
        segment = self.live.get(call.interaction_id)
        if segment is None:
            with contextlib.suppress(Race):
                await self.port.play(leg, ["sound:beeperr"])  # not recording: nothing to pause
            return True
        state = await self.pause(call.agent, segment.state is SegmentState.RECORDING)
        beeps = ["sound:beep"] if state == "paused" else ["sound:beep", "sound:beep"]
        with contextlib.suppress(Race):
            await self.port.play(leg, beeps)
        return True

    def _close_pause(self, segment: Segment) -> None:
        if segment.pauses and segment.pauses[-1]["until"] is None:
            segment.pauses[-1]["until"] = at(self.port.now()).isoformat()

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

    # -- after a restart ------------------------------------------------------------------

    async def _reconciled(self, alive: set[int]) -> None:
        self.retention.armed = False  # a new connection: timers start anew
        self.retention.ensure_armed()
        wanting = sorted(n for n, q in self.routing.queues.items() if q.recording != "never")
        if wanting and not self.enabled:
            log.warning("queues %s ask to record, but recording.dir is not set: nothing is "
                        "recorded", ", ".join(wanting))  # fmt: skip
        self.live.clear()
        by_segment: dict[tuple[int, int], list[Recording]] = {}
        for row in await self.store.live():
            by_segment.setdefault((row.interaction_id, row.segment), []).append(row)
        for (interaction, number), rows in by_segment.items():
            self.numbers[interaction] = max(self.numbers.get(interaction, 0), number)
            call = self.routing.conversation(interaction) if interaction in alive else None
            mixed = next((r for r in rows if r.kind == "mixed"), rows[0])
            state = await self._live_state(mixed.name)
            segment = Segment(
                call or WaitingCall.new(interaction, "", mixed.queue, 0, 0.0, "", ""),
                number, [mixed.name, *(r.name for r in rows if r is not mixed)],
                segment_machine(mixed.name, SegmentState(mixed.state)), list(mixed.pauses),
            )  # fmt: skip
            if call is not None and state is not None:
                segment.machine.force(SegmentState(state), "resync")
                self.live[interaction] = segment
                log.info("resync: recording %s of call %s adopted (%s)", mixed.name, interaction,
                         state)  # fmt: skip
            elif call is not None:  # Asterisk lost it: say so and record on
                segment.machine.fire(SegmentEvent.LOST, "gone from Asterisk after a restart")
                for row in rows:
                    await self.store.update(row.name, state="interrupted",
                                            problem="stopped while callflow was away")  # fmt: skip
                log.warning("call %s: recording %s was interrupted; a new segment starts",
                            interaction, mixed.name)  # fmt: skip
                await record_on_call(self.events, "recording_interrupted", call,
                                     agent=call.agent, segment=number)  # fmt: skip
                async with call.lock:
                    await self._start(call)
            else:
                self._finish_later(segment)

    async def _live_state(self, name: str) -> str | None:
        try:
            return await self.port.live_recording(name)
        except TelephonyError:
            return None
