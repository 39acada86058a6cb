"""The customer call's state machine, from entering a queue to its end.

waiting -[offer]-> offering -[answer]-> connected -[hangup]-> ended
offering -[no_answer]-> waiting       (RONA: the call is offered again)
waiting|offering -[move]-> waiting    (overflow into another queue)
waiting|offering -[abandon|timeout|overflow|exit_key|callback]-> ended
connected -[transfer]-> waiting       (blind transfer to a queue or an agent)
connected -[transfer_out]-> ended     (blind transfer to a number: the dialplan)
"""

from __future__ import annotations

import enum
import logging

from callflow.fsm import StateMachine

log = logging.getLogger("callflow.calls")


class CallState(enum.Enum):
    WAITING = "waiting"
    OFFERING = "offering"
    CONNECTED = "connected"
    ENDED = "ended"


class CallEvent(enum.Enum):
    OFFER = "offer"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    HANGUP = "hangup"
    ABANDON = "abandon"
    TIMEOUT = "timeout"
    OVERFLOW = "overflow"
    EXIT_KEY = "exit_key"
    CALLBACK = "callback"  # the caller asked to be called back and hung up
    MOVE = "move"  # overflow into another queue: offers withdrawn, waiting again
    TRANSFER = "transfer"  # the agent sent the customer to a queue or an agent
    TRANSFER_OUT = "transfer_out"  # ... or to a number, out of callflow


class Outcome(enum.Enum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"
    TIMED_OUT = "timed_out"
    EXITED = "exited"
    TRANSFERRED = "transferred"  # to a number: the call left callflow
    CALLBACK = "callback"  # the caller asked to be called back (see the callback's call)
    CALLBACK_FAILED = "callback_failed"  # a callback call: the customer was never reached
    CALLBACK_CANCELLED = "callback_cancelled"  # a callback call cancelled before it was made


S, E = CallState, CallEvent
TRANSITIONS: dict[tuple[CallState, CallEvent], CallState] = {
    (S.WAITING, E.OFFER): S.OFFERING,
    (S.OFFERING, E.OFFER): S.OFFERING,
    (S.OFFERING, E.ANSWER): S.CONNECTED,
    (S.OFFERING, E.NO_ANSWER): S.WAITING,
    (S.WAITING, E.MOVE): S.WAITING,
    (S.OFFERING, E.MOVE): S.WAITING,
    (S.CONNECTED, E.HANGUP): S.ENDED,
    (S.CONNECTED, E.TRANSFER): S.WAITING,
    (S.CONNECTED, E.TRANSFER_OUT): S.ENDED,
    **{
        (s, e): S.ENDED
        for s in (S.WAITING, S.OFFERING)
        for e in (E.ABANDON, E.TIMEOUT, E.OVERFLOW, E.EXIT_KEY, E.CALLBACK)
    },
}


def call_machine(name: str, state: CallState = S.WAITING) -> StateMachine[CallState, CallEvent]:
    return StateMachine(f"call {name}", state, TRANSITIONS, log, level=logging.DEBUG)
