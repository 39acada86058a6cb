"""Queued callback as pure logic: when a caller is offered one, the number
to call, what a call attempt's outcome leads to, and a callback's states.

Theory of operation
-------------------
A callback is a virtual caller: it keeps the place (priority, time of
joining) of the call that asked for it, so the queue's order treats both
alike. Its life is one transition table, each move logged::

    scheduled -[opening]-> waiting                 (asked outside opening hours)
    waiting -[offer]-> offered -[accept]-> dialing (the agent's phone, then the customer's)
    offered -[decline]-> waiting                   (the agent did not take it: next agent)
    dialing -[answered]-> connected -[ended]-> done
    dialing -[no_answer|busy|short]-> retry_wait -[due]-> waiting   (attempts left)
    dialing -[no_answer|busy|short]-> failed                        (none left)
    waiting|scheduled|retry_wait|offered|dialing -[cancel]-> cancelled
    waiting|scheduled|retry_wait|offered|dialing -[reschedule]-> scheduled

``after_attempt`` decides between a retry and giving up from the queue's
policy (attempts, spacing); a customer who answers and is gone within
``short_answer`` seconds (a voicemail greeting cut off, a fax) counts as not
reached.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from callflow.fsm import StateMachine

log = logging.getLogger("callflow.callback")

NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class OfferWhen(enum.StrEnum):
    NEVER = "never"
    ALWAYS = "always"
    LONG_WAIT = "long_wait"  # when the estimated wait passes the threshold


class PolicyError(ValueError):
    """A queue's ``callback`` table cannot be read; the message names the field."""


LIMITS: dict[str, tuple[float, float]] = {  # field -> (lowest, highest)
    "threshold": (0, 86400),
    "attempts": (1, 10),
    "retry_every": (10, 86400),
    "short_answer": (0, 30),
    "per_number": (1, 10),
}


@dataclass(frozen=True)
class CallbackPolicy:
    offer: OfferWhen = OfferWhen.NEVER
    threshold: float = 120.0  # seconds of estimated wait before one is offered
    attempts: int = 3  # calls to the customer at most
    retry_every: float = 300.0  # seconds between them
    short_answer: float = 3.0  # an answer shorter than this is not a reach
    per_number: int = 1  # pending callbacks one number may have
    spec: dict[str, Any] | None = field(default=None, compare=False)  # as written

    @classmethod
    def parse(cls, spec: dict[str, Any] | None) -> CallbackPolicy:
        """From the directory's ``callback`` table (None or empty: never offered)."""
        if not spec:
            return cls()
        unknown = set(spec) - {"offer", *LIMITS}
        if unknown:
            raise PolicyError(f"unknown key(s) in callback: {', '.join(sorted(unknown))} "
                              f"(expected offer, {', '.join(LIMITS)})")  # fmt: skip
        try:
            offer = OfferWhen(spec.get("offer", "long_wait"))
        except ValueError:
            raise PolicyError(
                f"callback offer {spec.get('offer')!r} is not one of "
                f"{', '.join(o.value for o in OfferWhen)}"
            ) from None
        values: dict[str, Any] = {}
        for key, (low, high) in LIMITS.items():
            if key not in spec:
                continue
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(f"callback {key} {value!r} is not a number")
            if not low <= value <= high:
                raise PolicyError(f"callback {key} {value} is not within {low:g}..{high:g}")
            values[key] = int(value) if key in ("attempts", "per_number") else float(value)
        return cls(offer=offer, spec=dict(spec), **values)

    def offers(self, estimated_wait: float) -> bool:
        if self.offer is OfferWhen.ALWAYS:
            return True
        return self.offer is OfferWhen.LONG_WAIT and estimated_wait >= self.threshold


def number_problem(number: str) -> str | None:
    """Why ``number`` cannot be called back (None: it can)."""
    if not number:
        return "no number to call back"
    if not NUMBER.match(number):
        return f"{number!r} is not a phone number (3 to 20 digits, + first if international)"
    return None


class Reached(enum.StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    SHORT = "short"  # answered, gone at once: a machine, not the customer


@dataclass(frozen=True)
class Retry:
    after: float  # seconds


@dataclass(frozen=True)
class GiveUp:
    reason: str


def after_attempt(policy: CallbackPolicy, attempts_made: int, outcome: Reached) -> Retry | GiveUp:
    """What follows an attempt that did not reach the customer."""
    if outcome is Reached.ANSWERED:
        raise ValueError("an answered attempt is not retried")
    if attempts_made >= policy.attempts:
        return GiveUp(f"{outcome.value} after {attempts_made} attempt(s)")
    return Retry(policy.retry_every)


class CallbackState(enum.Enum):
    SCHEDULED = "scheduled"
    WAITING = "waiting"
    OFFERED = "offered"
    DIALING = "dialing"
    CONNECTED = "connected"
    RETRY_WAIT = "retry_wait"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CallbackEvent(enum.Enum):
    OPENING = "opening"
    OFFER = "offer"
    ACCEPT = "accept"
    DECLINE = "decline"
    ANSWERED = "answered"
    NOT_REACHED = "not_reached"
    GIVE_UP = "give_up"
    DUE = "due"
    ENDED = "ended"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"


S, E = CallbackState, CallbackEvent
PENDING = (S.SCHEDULED, S.WAITING, S.RETRY_WAIT, S.OFFERED)
OPEN = (*PENDING, S.DIALING, S.CONNECTED)
TRANSITIONS: dict[tuple[CallbackState, CallbackEvent], CallbackState] = {
    (S.SCHEDULED, E.OPENING): S.WAITING,
    (S.WAITING, E.OFFER): S.OFFERED,
    (S.OFFERED, E.ACCEPT): S.DIALING,
    (S.OFFERED, E.DECLINE): S.WAITING,
    (S.DIALING, E.ANSWERED): S.CONNECTED,
    (S.DIALING, E.NOT_REACHED): S.RETRY_WAIT,
    (S.DIALING, E.GIVE_UP): S.FAILED,
    (S.RETRY_WAIT, E.DUE): S.WAITING,
    (S.CONNECTED, E.ENDED): S.DONE,
    **{(s, E.CANCEL): S.CANCELLED for s in (*PENDING, S.DIALING)},
    **{(s, E.RESCHEDULE): S.SCHEDULED for s in (*PENDING, S.DIALING)},
}


def callback_machine(
    name: str, state: CallbackState = S.WAITING
) -> StateMachine[CallbackState, CallbackEvent]:
    return StateMachine(f"callback {name}", state, TRANSITIONS, log)
