"""Queued callback's pure rules: when one is offered, which numbers can be
called, retries and giving up, and the callback's states."""

from __future__ import annotations

import pytest

from callflow.fsm import InvalidTransition
from callflow.routing.callback_policy import (
    CallbackEvent,
    CallbackPolicy,
    CallbackState,
    GiveUp,
    OfferWhen,
    Reached,
    Retry,
    after_attempt,
    callback_machine,
    number_problem,
)


def test_an_offer_on_long_waits_only_past_the_threshold_and_always_always() -> None:
    long_wait = CallbackPolicy(offer=OfferWhen.LONG_WAIT, threshold=120)
    assert not long_wait.offers(119) and long_wait.offers(120)
    assert CallbackPolicy(offer=OfferWhen.ALWAYS).offers(0)
    assert not CallbackPolicy().offers(10_000)  # never, by default


@pytest.mark.parametrize(
    ("number", "problem"),
    [("", "no number"), ("12", "is not a phone number"), ("555-0100", "is not a phone number"),
     ("+33" + "1" * 20, "is not a phone number")],
)  # fmt: skip
def test_numbers_that_cannot_be_called_back_are_named(number: str, problem: str) -> None:
    found = number_problem(number)
    assert found is not None and problem in found


def test_a_caller_id_or_an_international_number_can_be_called_back() -> None:
    assert number_problem("5550100") is None and number_problem("+442071234567") is None


def test_an_unreached_customer_is_retried_until_the_attempts_run_out() -> None:
    policy = CallbackPolicy(attempts=3, retry_every=300)
    assert after_attempt(policy, 1, Reached.NO_ANSWER) == Retry(300)
    assert after_attempt(policy, 2, Reached.SHORT) == Retry(300)
    assert after_attempt(policy, 3, Reached.BUSY) == GiveUp("busy after 3 attempt(s)")
    with pytest.raises(ValueError):
        after_attempt(policy, 1, Reached.ANSWERED)


def test_a_callback_goes_from_waiting_to_done_through_a_retry() -> None:
    machine = callback_machine("1")
    for event, state in [
        (CallbackEvent.OFFER, CallbackState.OFFERED),
        (CallbackEvent.ACCEPT, CallbackState.DIALING),
        (CallbackEvent.NOT_REACHED, CallbackState.RETRY_WAIT),
        (CallbackEvent.DUE, CallbackState.WAITING),
        (CallbackEvent.OFFER, CallbackState.OFFERED),
        (CallbackEvent.ACCEPT, CallbackState.DIALING),
        (CallbackEvent.ANSWERED, CallbackState.CONNECTED),
        (CallbackEvent.ENDED, CallbackState.DONE),
    ]:
        assert machine.fire(event) is state
    with pytest.raises(InvalidTransition):
        machine.fire(CallbackEvent.CANCEL)  # done is done


def test_a_pending_callback_can_be_cancelled_or_rescheduled_but_not_a_connected_one() -> None:
    waiting = callback_machine("2")
    assert waiting.fire(CallbackEvent.RESCHEDULE) is CallbackState.SCHEDULED
    assert waiting.fire(CallbackEvent.OPENING) is CallbackState.WAITING
    assert waiting.fire(CallbackEvent.CANCEL) is CallbackState.CANCELLED
    connected = callback_machine("3", CallbackState.CONNECTED)
    with pytest.raises(InvalidTransition):
        connected.fire(CallbackEvent.CANCEL)
