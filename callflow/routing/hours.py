"""A queue's opening hours, as pure logic: a weekly schedule, holidays, a
time zone.

Theory of operation
-------------------
The schedule is written in the queue's own time zone, as people read it:
``mon = "08:00-12:00,13:00-18:00"``, a day without an entry is closed, and
``"00:00-24:00"`` is the whole day. Holidays are dates (``2026-12-25``) in
that zone, closed all day. Whether the queue is open, and when it next
opens, is computed from an aware instant: converted to the zone's wall clock
(zoneinfo), so a daylight-saving change moves the opening in UTC but never
on the wall. A wall-clock opening that does not exist that day (the hour
skipped in spring) opens at the first instant after the gap; one that
happens twice (autumn) opens the first time. No schedule at all: always open.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
LOOK_AHEAD = 400  # days searched for the next opening (past a year of holidays)


class HoursError(ValueError):
    """The schedule cannot be read; the message names the part."""


@dataclass(frozen=True)
class Span:
    start: int  # minutes after local midnight
    end: int  # exclusive; 1440 is midnight at the day's end


@dataclass(frozen=True)
class OpeningHours:
    zone: str = "UTC"
    week: dict[int, tuple[Span, ...]] = field(default_factory=dict)  # 0 = Monday
    holidays: frozenset[date] = frozenset()
    spec: dict[str, object] | None = field(default=None, compare=False)  # as written

    @property
    def always(self) -> bool:
        return not self.week and not self.holidays

    @classmethod
    def parse(cls, spec: dict[str, object] | None) -> OpeningHours:
        """From the directory's ``hours`` table (None or empty: always open)."""
        if not spec:
            return cls()
        unknown = set(spec) - {*DAYS, "zone", "holidays"}
        if unknown:
            raise HoursError(f"unknown key(s) in hours: {', '.join(sorted(unknown))} "
                             f"(expected {', '.join(DAYS)}, zone, holidays)")  # fmt: skip
        zone = str(spec.get("zone", "UTC"))
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HoursError(f"hours: unknown time zone {zone!r}") from None
        week: dict[int, tuple[Span, ...]] = {}
        for n, day in enumerate(DAYS):
            text = spec.get(day)
            if text is None or text == "":
                continue
            week[n] = _spans(day, str(text))
        holidays = set()
        raw = spec.get("holidays", [])
        if not isinstance(raw, list):
            raise HoursError("hours: holidays must be a list of dates (YYYY-MM-DD)")
        for item in raw:
            try:
                holidays.add(date.fromisoformat(str(item)))
            except ValueError:
                raise HoursError(f"hours: holiday {item!r} is not a date (YYYY-MM-DD)") from None
        if not week:
            raise HoursError("hours: no day has opening hours (leave hours out to be always open)")
        return cls(zone, week, frozenset(holidays), dict(spec))

    def is_open(self, at: datetime) -> bool:
        if self.always:
            return True
        local = at.astimezone(ZoneInfo(self.zone))
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(s.start <= minute < s.end for s in self.week.get(local.weekday(), ()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The first instant at or after ``at`` when the queue is open
        (``at`` itself when open); None when it never opens again."""
        if self.is_open(at):
            return at
        zone = ZoneInfo(self.zone)
        today = at.astimezone(zone).date()
        for offset in range(LOOK_AHEAD):
            day = today + timedelta(days=offset)
            if day in self.holidays:
                continue
            for span in self.week.get(day.weekday(), ()):
                opens = _instant(day, span.start, zone)
                if opens >= at:
                    return opens
        return None


def _spans(day: str, text: str) -> tuple[Span, ...]:
    spans = []
    for part in text.split(","):
        found = SPAN.match(part.strip())
        if found is None:
            raise HoursError(f"hours: {day} = {text!r}: expected HH:MM-HH:MM[,HH:MM-HH:MM]")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or h1 > 23 or end > 1440 or start >= end:
            raise HoursError(f"hours: {day} = {text!r}: {part.strip()} is not a span of the day")
        spans.append(Span(start, end))
    spans.sort(key=lambda s: s.start)
    for before, after in itertools.pairwise(spans):
        if after.start < before.end:
            raise HoursError(f"hours: {day} = {text!r}: spans overlap")
    return tuple(spans)


def _exists(wall: datetime) -> bool:
    back = wall.astimezone(UTC).astimezone(wall.tzinfo)
    return back.replace(tzinfo=None) == wall.replace(tzinfo=None)


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The aware instant of a wall-clock minute on ``day``; one the clocks
    skip (spring) is the first minute after the gap."""
    if minute >= 1440:
        return _instant(day + timedelta(days=1), minute - 1440, zone)
    wall = datetime.combine(day, time(minute // 60, minute % 60), zone)
    while not _exists(wall):
        wall += timedelta(minutes=1)
    return wall
