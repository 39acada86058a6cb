"""Today's figures per queue and expert group, kept up to date as calls go.

Theory of operation
-------------------
At activation ``load`` reads today's rows once (``callflow.live.rows``).
From then on the routing store tells ``written`` of every interaction row it
writes and the assist store tells ``requested``/``offered``/``answered`` of
every request and offer, so the tallies stay current without reading the
day again. Each change names the queue or group it touched to the
``changed`` listeners (the live feed, which pushes the new figures).

The figures of the present (callers waiting, agents by state, experts
available) are read from the routing and assist services' memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from callflow.assist.request_state import OPEN
from callflow.assist.service import AssistService
from callflow.db.engine import Database
from callflow.figures.assist import AssistTally
from callflow.figures.calls import CallTally
from callflow.figures.table import INTERVAL
from callflow.live.rows import read_tallies
from callflow.routing.agent_state import AgentState
from callflow.routing.board import WAITING_STATES
from callflow.routing.callback_policy import PENDING
from callflow.routing.runtime import QueueConf, WaitingCall
from callflow.routing.service import RoutingService
from callflow.routing.store import start_of_day

BUSY = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
KEEP_DAYS = 2  # intervals older than this are forgotten


class DayFigures:
    def __init__(
        self,
        db: Database,
        routing: RoutingService,
        assist: AssistService,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.routing = routing
        self.assist = assist
        self.clock = clock
        self.calls = CallTally(self.threshold)
        self.offers = AssistTally()
        self.changed: list[Callable[[str, str], None]] = []  # ("queue" | "group", name)
        routing.store.observers.append(self.written)
        if routing.callbacks is not None:
            routing.callbacks.changed.append(lambda run: self._tell("queue", run.queue))
        assist.store.watchers.append(self)

    def threshold(self, queue: str) -> float:
        conf = self.routing.queues.get(queue)
        return conf.service_level if conf else 0.0

    def today(self) -> float:
        return start_of_day(self.clock()).timestamp()

    async def load(self) -> None:
        """Today so far, from the database (at activation, before any call)."""
        self.calls, self.offers = await read_tallies(
            self.db, start_of_day(self.clock()), None, self.threshold
        )

    def _tell(self, kind: str, name: str) -> None:
        for listener in self.changed:
            listener(kind, name)

    # -- the stores' observers ----------------------------------------------------------

    def written(self, interaction_id: int, values: dict[str, Any]) -> None:
        queue = self.calls.written(interaction_id, values)
        if queue is not None:
            self._tell("queue", queue)

    def requested(self, group: str, at: float) -> None:
        self.offers.requested(group, at)
        self._tell("group", group)

    def offered(self, offer: int, group: str, at: float) -> None:
        self.offers.offered(offer, group, at)
        self._tell("group", group)

    def answered(self, offer: int, at: float | None, outcome: str) -> None:
        known = self.offers.open.get(offer)
        self.offers.answered(offer, at, outcome)
        if known is not None:
            self._tell("group", known[0])

    # -- figures ------------------------------------------------------------------------

    def queue(self, name: str) -> dict[str, Any]:
        """A queue now and today (the wallboard's row, ``GET /api/queues/figures``)."""
        routing = self.routing
        conf = routing.queues[name]
        now = self.clock()
        waiting = [  # callers on the line (a callback waits at its place without one)
            c for c in routing.calls.values()
            if c.queue == name and c.state in WAITING_STATES and c.callback is None
        ]  # fmt: skip
        callbacks = routing.callbacks.runs.values() if routing.callbacks is not None else ()
        members = [routing.agents[n] for n in conf.members if n in routing.agents]
        oldest = min((c.queue_entered_at for c in waiting), default=None)
        day = self.calls.table.sum(name, self.today())
        return {
            "queue": name,
            "waiting": len(waiting),
            "longest_wait": 0.0 if oldest is None else max(0.0, now - oldest),
            "estimated_wait": round(routing.board.estimated_wait(conf), 1),
            "callbacks": sum(1 for r in callbacks if r.queue == name and r.state in PENDING),
            "oldest_waiting_since": oldest,
            "agents_available": sum(1 for a in members if a.free),
            "agents_busy": sum(1 for a in members if a.state in BUSY),
            "agents_paused": sum(1 for a in members if a.state is AgentState.PAUSED),
            "offered_today": day.offered,
            "answered_today": day.answered,
            "abandoned_today": day.abandoned,
            "timed_out_today": day.timed_out,
            "overflowed_today": day.overflowed,
            "exited_today": day.exited,
            "transferred_today": day.transferred,
            "service_level": day.service_level,
            "service_level_threshold": conf.service_level,
            "average_speed_of_answer": day.average_speed_of_answer,
            "waiting_callers": self._callers(conf, waiting),
        }

    def _callers(self, conf: QueueConf, waiting: list[WaitingCall]) -> list[dict[str, Any]]:
        """Each caller on the line, in service order, with who may take them now."""
        board = self.routing.board
        rows = []
        for call in sorted(waiting, key=lambda c: (-c.priority, c.entered_at, c.seq)):
            reach = board.reach(call, conf)
            rows.append({
                "caller": call.caller_name or call.caller_number,
                "waiting_since": call.queue_entered_at,
                "priority": call.priority,
                "requirement": str(reach.requirement),
                "step": reach.step,
                "also_queues": list(reach.queues),
            })  # fmt: skip
        return rows

    def group(
        self, name: str, offers: AssistTally | None = None, since: float | None = None
    ) -> dict[str, Any]:
        """An expert group now, and today (or ``offers`` since ``since``)."""
        assist = self.assist
        history = (offers or self.offers).table.sum(name, self.today() if since is None else since)
        return {
            "group": name,
            "available_experts": assist.available_in(name),
            "waiting_requests": sum(
                1 for r in assist.requests.values() if r.group == name and r.state in OPEN
            ),
            **history.as_dict(),
        }

    def charts(self) -> dict[str, Any]:
        """Today by 15-minute interval, every queue and group together, up to now."""
        start, now = self.today(), self.clock()
        calls = self.calls.table.intervals(None, start, now + 1)
        offers = self.offers.table.intervals(None, start, now + 1)
        return {
            "interval": INTERVAL,
            "start": [s for s, _ in calls],
            "offered": [c.offered for _, c in calls],
            "answered": [c.answered for _, c in calls],
            "abandoned": [c.abandoned for _, c in calls],
            "service_level": [c.service_level for _, c in calls],
            "requests": [o.requests for _, o in offers],
            "median_time_to_accept": [o.median_time_to_accept for _, o in offers],
        }

    def prune(self) -> None:
        before = self.today() - KEEP_DAYS * 86400
        self.calls.table.prune(before)
        self.offers.table.prune(before)
