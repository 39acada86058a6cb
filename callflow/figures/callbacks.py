"""Queued callbacks counted per queue and 15-minute interval (the callbacks
report): requested, how they ended and how long customers waited for them.

A callback counts in the interval it was asked for in. ``failed`` is split
by the last attempt's outcome (``no_answer``, ``busy``, ``short``: answered
by a machine); ``time_to_callback`` is the average from the request to the
customer answering, over the completed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callflow.figures.table import Table

REACHES = ("no_answer", "busy", "short")


@dataclass
class CallbackCounts:
    requested: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    pending: int = 0  # not over yet (waiting, scheduled, retrying, calling)
    failed_no_answer: int = 0
    failed_busy: int = 0
    failed_short: int = 0
    waited: float = 0.0  # seconds from request to answer, summed over ``completed``

    def add(self, other: CallbackCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        values = {k: v for k, v in vars(self).items() if k != "waited"}
        values["time_to_callback"] = (
            round(self.waited / self.completed, 1) if self.completed else None
        )
        return values


def callback_table(rows: list[tuple[str, float, str, str, float | None]]) -> Table[CallbackCounts]:
    """From (queue, requested at, state, reason, answered after) per callback."""
    table: Table[CallbackCounts] = Table(CallbackCounts)
    for queue, requested, state, reason, waited in rows:
        cell = table.at(queue, requested)
        cell.requested += 1
        if state == "done":
            cell.completed += 1
            cell.waited += waited or 0.0
        elif state == "failed":
            cell.failed += 1
            last = reason.split(" ", 1)[0]
            if last in REACHES:
                setattr(cell, f"failed_{last}", getattr(cell, f"failed_{last}") + 1)
        elif state == "cancelled":
            cell.cancelled += 1
        else:
            cell.pending += 1
    return table
