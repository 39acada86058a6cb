"""Who is next: the order of waiting callers and what to tell them. Pure."""

from __future__ import annotations

import heapq
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class QueuedCall:
    key: str
    priority: int
    entered_at: float  # epoch seconds
    seq: int = 0  # tie-breaker for calls entering in the same instant


def service_order(calls: Sequence[QueuedCall]) -> list[QueuedCall]:
    """Higher priority first; equal priority in order of arrival."""
    return sorted(calls, key=lambda c: (-c.priority, c.entered_at, c.seq))


def position(calls: Sequence[QueuedCall], key: str) -> int:
    """1-based place of ``key`` in service order (0 if not waiting)."""
    for index, call in enumerate(service_order(calls), start=1):
        if call.key == key:
            return index
    return 0


def estimated_wait(position: int, recent_waits: Sequence[float], agents_serving: int) -> float:
    """Seconds until answer, before any call's length is known: the recent
    mean wait, scaled by how many are ahead per serving agent (app_queue
    announces a similar rolling hold time)."""
    if position <= 0:
        return 0.0
    base = statistics.fmean(recent_waits) if recent_waits else 60.0
    per_agent = math.ceil(position / max(1, agents_serving))
    return base * per_agent


def wait_for_place(position: int, free_in: Sequence[float], handle: float) -> float:
    """Seconds until the caller at ``position`` is answered, from when each
    serving agent is expected free (``free_in``: 0 for a free one) and how
    long an agent gives a call (``handle``: talk and wrap-up): the callers
    ahead take the agents as they free up, each keeping one ``handle``."""
    if position <= 0 or not free_in:
        return 0.0
    frees = list(free_in)
    heapq.heapify(frees)
    for _ in range(position - 1):
        heapq.heappush(frees, heapq.heappop(frees) + handle)
    return frees[0]


def announcement(position: int, wait_seconds: float) -> list[str]:
    """ARI media for 'you are next' / 'there are N calls waiting' and the hold time."""
    media: list[str] = []
    if position == 1:
        media.append("sound:queue-youarenext")
    elif position > 1:
        media += ["sound:queue-thereare", f"number:{position - 1}", "sound:queue-callswaiting"]
    minutes = math.ceil(wait_seconds / 60)
    if wait_seconds > 0:
        media.append("sound:queue-holdtime")
        if minutes <= 1:
            media += ["sound:queue-less-than", "number:2", "sound:queue-minutes"]
        else:
            media += [f"number:{minutes}", "sound:queue-minutes"]
    return media
