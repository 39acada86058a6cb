"""A recording segment as the service keeps it while it records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callflow.fsm import StateMachine
from callflow.recording.state import SegmentEvent, SegmentState
from callflow.routing.runtime import WaitingCall


@dataclass
class Segment:
    call: WaitingCall
    number: int
    names: list[str]  # the mixed file's name first, then the voices'
    machine: StateMachine[SegmentState, SegmentEvent]
    pauses: list[dict[str, Any]] = field(default_factory=list)
    channel_id: str = ""  # the customer's channel, which is recorded

    @property
    def state(self) -> SegmentState:
        return self.machine.state
