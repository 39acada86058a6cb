"""Recordings after a restart of callflow.

Theory of operation
-------------------
A call's recording lives in Asterisk (MixMonitor on the customer's channel)
and ends only when callflow stops it or the channel hangs up, so it goes on
while callflow is away. After every reconcile, each segment the database
still shows ``recording`` or ``paused`` is looked at: its call still in
conversation, the segment is adopted and its mute set again to what the
database says (a paused segment stays paused: a card number said while
callflow was away is not recorded). Its call gone, the segment is finished
(the hang-up closed its files) and its files read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from callflow.db.models import Recording
from callflow.recording.segment import Segment
from callflow.recording.state import SegmentState, segment_machine
from callflow.routing.runtime import WaitingCall
from callflow.telephony.port import TelephonyError

if TYPE_CHECKING:  # the service builds its resync; only its type is needed here
    from callflow.recording.service import Recordings

log = logging.getLogger("callflow.recording")


class Resync:
    def __init__(self, recordings: Recordings) -> None:
        self.recordings = recordings

    async def reconciled(self, alive: set[int]) -> None:
        r = self.recordings
        r.retention.armed = False  # a new connection: timers start anew
        r.retention.ensure_armed()
        wanting = sorted(n for n, q in r.routing.queues.items() if q.recording != "never")
        if wanting and not r.enabled:
            log.warning("queues %s ask to record, but recording.dir is not set: nothing is "
                        "recorded", ", ".join(wanting))  # fmt: skip
        r.live.clear()
        by_segment: dict[tuple[int, int], list[Recording]] = {}
        for row in await r.store.live():
            by_segment.setdefault((row.interaction_id, row.segment), []).append(row)
        for (interaction, number), rows in by_segment.items():
            r.numbers[interaction] = max(r.numbers.get(interaction, 0), number)
            call = r.routing.conversation(interaction) if interaction in alive else None
            await self._segment(interaction, number, rows, call)

    async def _segment(
        self, interaction: int, number: int, rows: list[Recording], call: WaitingCall | None
    ) -> None:
        r = self.recordings
        mixed = next((row for row in rows if row.kind == "mixed"), rows[0])
        state = SegmentState(mixed.state)
        segment = Segment(
            call or WaitingCall.new(interaction, "", mixed.queue, 0, 0.0, "", ""),
            number, [mixed.name, *(row.name for row in rows if row is not mixed)],
            segment_machine(mixed.name, state), list(mixed.pauses),
            channel_id=call.channel_id if call is not None else "",
        )  # fmt: skip
        if call is None:
            r.finish_later(segment)
            return
        try:  # the mute as the database has it (a paused segment stays paused)
            await r.port.mute_call_recording(call.channel_id, state is SegmentState.PAUSED)
        except TelephonyError as error:
            log.warning("recording %s of call %s: mute not set again (%s)", mixed.name,
                        interaction, error)  # fmt: skip
        r.live[interaction] = segment
        log.info("resync: recording %s of call %s adopted (%s)", mixed.name, interaction,
                 state.value)  # fmt: skip
