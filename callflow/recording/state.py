"""A recording segment's life and the queue's recording policy, as pure logic.

A segment is one stretch of a customer's conversation recorded to one file
(three when split): from an agent's answer until the conversation ends or
the customer leaves it (a blind transfer); the next answer starts the next
segment. One transition table, each move logged::

    recording -[pause]-> paused -[resume]-> recording
    recording|paused -[stop]-> stopping -[finished]-> done
    recording|paused|stopping -[finished]-> done      (the customer hung up)

``done`` is checked afterwards: a file that is missing or does not match
its checksum is reported (``missing``, ``corrupt``), never hidden.
"""

from __future__ import annotations

import enum
import logging

from callflow.fsm import StateMachine

log = logging.getLogger("callflow.recording")


class Policy(enum.StrEnum):
    """Per queue: what is recorded."""

    ALWAYS = "always"  # every conversation, from the answer
    NEVER = "never"
    ON_DEMAND = "on_demand"  # the agent (or a supervisor) starts and stops it


class SegmentState(enum.Enum):
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPING = "stopping"
    DONE = "done"
    FAILED = "failed"  # Asterisk refused to start it (the row's state; no machine)


class SegmentEvent(enum.Enum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    FINISHED = "finished"


R, V = SegmentState, SegmentEvent
LIVE = (R.RECORDING, R.PAUSED)
TRANSITIONS: dict[tuple[SegmentState, SegmentEvent], SegmentState] = {
    (R.RECORDING, V.PAUSE): R.PAUSED,
    (R.PAUSED, V.RESUME): R.RECORDING,
    **{(s, V.STOP): R.STOPPING for s in LIVE},
    **{(s, V.FINISHED): R.DONE for s in (*LIVE, R.STOPPING)},
}


def segment_machine(
    name: str, state: SegmentState = R.RECORDING
) -> StateMachine[SegmentState, SegmentEvent]:
    return StateMachine(f"recording {name}", state, TRANSITIONS, log)


def starts_recording(policy: Policy, asked: bool) -> bool:
    """Whether a conversation that just connected is recorded from its start:
    always, or on demand when it was asked for earlier in the call (a segment
    after a transfer goes on as the call's previous one did)."""
    return policy is Policy.ALWAYS or (policy is Policy.ON_DEMAND and asked)
