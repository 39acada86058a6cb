from callflow.routing.waiting import (
    QueuedCall,
    announcement,
    estimated_wait,
    position,
    service_order,
)


def test_higher_priority_first_then_arrival_order() -> None:
    calls = [
        QueuedCall("a", 0, 10.0),
        QueuedCall("b", 5, 30.0),
        QueuedCall("c", 0, 5.0),
        QueuedCall("d", 5, 20.0),
    ]
    assert [c.key for c in service_order(calls)] == ["d", "b", "c", "a"]
    assert position(calls, "c") == 3
    assert position(calls, "zzz") == 0


def test_same_instant_arrivals_keep_their_sequence() -> None:
    calls = [QueuedCall("x", 0, 1.0, seq=2), QueuedCall("y", 0, 1.0, seq=1)]
    assert [c.key for c in service_order(calls)] == ["y", "x"]


def test_estimated_wait_grows_with_position_per_agent() -> None:
    assert estimated_wait(1, [30.0, 90.0], agents_serving=2) == 60.0
    assert estimated_wait(5, [30.0, 90.0], agents_serving=2) == 180.0
    assert estimated_wait(0, [30.0], agents_serving=1) == 0.0


def test_announcement_says_next_or_how_many_are_ahead_and_the_hold_time() -> None:
    assert announcement(1, 30) == [
        "sound:queue-youarenext",
        "sound:queue-holdtime",
        "sound:queue-less-than",
        "number:2",
        "sound:queue-minutes",
    ]
    assert announcement(3, 200) == [
        "sound:queue-thereare",
        "number:2",
        "sound:queue-callswaiting",
        "sound:queue-holdtime",
        "number:4",
        "sound:queue-minutes",
    ]


def test_the_wait_for_a_place_follows_when_each_agent_is_free_then_one_call_each() -> None:
    from callflow.routing.waiting import wait_for_place

    assert wait_for_place(1, [0.0, 30.0], 70.0) == 0.0  # a free agent
    assert wait_for_place(2, [0.0, 30.0], 70.0) == 30.0  # the other frees up
    assert wait_for_place(3, [0.0, 30.0], 70.0) == 70.0  # the first, after one call
    assert wait_for_place(4, [0.0, 30.0], 70.0) == 100.0
    assert wait_for_place(1, [], 70.0) == 0.0
