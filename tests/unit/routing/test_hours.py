"""Opening hours: open and closed on the wall clock of the queue's zone,
the next opening across nights, weekends, holidays and daylight-saving
changes, and schedules that cannot be read named."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from callflow.routing.hours import HoursError, OpeningHours

PARIS = ZoneInfo("Europe/Paris")
OFFICE = OpeningHours.parse({
    "zone": "Europe/Paris", "mon": "08:00-12:00,13:00-18:00", "tue": "08:00-18:00",
    "wed": "08:00-18:00", "thu": "08:00-18:00", "fri": "08:00-17:00",
    "sun": "02:30-04:00", "holidays": ["2026-12-25"],
})  # fmt: skip


def paris(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def test_open_inside_a_span_closed_at_lunch_and_at_its_end() -> None:
    assert OFFICE.is_open(paris(2026, 12, 7, 9, 0))  # a Monday
    assert not OFFICE.is_open(paris(2026, 12, 7, 12, 30))
    assert OFFICE.is_open(paris(2026, 12, 7, 17, 59))
    assert not OFFICE.is_open(paris(2026, 12, 7, 18, 0))


def test_the_wall_clock_of_the_queues_zone_decides_not_utc() -> None:
    assert OFFICE.is_open(datetime(2026, 12, 7, 7, 30, tzinfo=UTC))  # 08:30 in Paris
    assert not OFFICE.is_open(datetime(2026, 12, 7, 17, 30, tzinfo=UTC))  # 18:30 in Paris


def test_the_next_opening_after_the_evening_the_weekend_and_a_holiday() -> None:
    assert OFFICE.next_opening(paris(2026, 12, 7, 12, 30)) == paris(2026, 12, 7, 13, 0)
    assert OFFICE.next_opening(paris(2026, 12, 7, 19, 0)) == paris(2026, 12, 8, 8, 0)
    # Friday 25 December is a holiday: Saturday is closed; Sunday's span
    assert OFFICE.next_opening(paris(2026, 12, 24, 18, 0)) == paris(2026, 12, 27, 2, 30)
    assert not OFFICE.is_open(paris(2026, 12, 25, 10, 0))


def test_openings_stay_on_the_wall_clock_across_a_daylight_saving_change() -> None:
    saturday = paris(2027, 3, 27, 20, 0)  # the clocks go forward on Sunday at 02:00
    monday = OFFICE.next_opening(paris(2027, 3, 29, 7, 0))
    assert monday == paris(2027, 3, 29, 8, 0)
    assert monday is not None and monday.utcoffset() != saturday.utcoffset()
    assert monday.astimezone(UTC).hour == 6  # 08:00 summer time
    # Sunday's 02:30 does not exist that day: it opens when the gap ends, 03:00
    sunday = OFFICE.next_opening(saturday)
    assert sunday is not None and sunday.astimezone(PARIS).strftime("%H:%M") == "03:00"
    assert OFFICE.is_open(sunday)


def test_no_hours_is_always_open_and_never_waits() -> None:
    always = OpeningHours.parse(None)
    moment = datetime(2026, 12, 25, 3, 0, tzinfo=UTC)
    assert always.is_open(moment) and always.next_opening(moment) == moment


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"mon": "8-18"}, "expected HH:MM-HH:MM"),
        ({"mon": "18:00-08:00"}, "is not a span of the day"),
        ({"mon": "08:00-12:00,11:00-13:00"}, "spans overlap"),
        ({"zone": "Mars/Olympus", "mon": "08:00-18:00"}, "unknown time zone 'Mars/Olympus'"),
        ({"mon": "08:00-18:00", "holidays": ["25/12"]}, "holiday '25/12' is not a date"),
        ({"monday": "08:00-18:00"}, "unknown key(s) in hours: monday"),
        ({"zone": "UTC"}, "no day has opening hours"),
    ],
)
def test_a_schedule_that_cannot_be_read_is_named(spec: dict[str, object], problem: str) -> None:
    with pytest.raises(HoursError) as error:
        OpeningHours.parse(spec)
    assert problem in str(error.value)
