"""Push what the consoles show as it changes, so no page polls.

Theory of operation
-------------------
The feed listens where the services already report changes: the call event
log (every queue event names its queue and agent), the board's agent
observers (every agent state change), the assist requests' state machines,
and the day's figures. A change only marks what it touched as dirty and
arms one flush ``DELAY`` later; the flush builds each dirty item once and
pushes it to whoever shows it. So a burst of calls costs a few frames per
console per flush, not one per event, and a figure is never older than
``DELAY``.

Who gets what:

* ``agent`` (state, reason, current call): supervisors, and the agent;
* ``queue`` (a queue's figures now and today), ``group_figures``,
  ``request_state`` (an assist request moved) and ``charts`` (today by
  interval): supervisors and admins.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from callflow.assist.request_state import RequestState
from callflow.assist.runtime import RequestRun
from callflow.assist.service import AssistService
from callflow.calls.event_log import Entry, EventLog
from callflow.im.hub import Hub
from callflow.live.figures import DayFigures
from callflow.live.snapshot import STAFF
from callflow.live.views import agent_view, request_view
from callflow.routing.runtime import AgentRuntime
from callflow.routing.service import RoutingService
from callflow.tasks import Tasks

log = logging.getLogger("callflow.live")

DELAY = 0.25  # seconds from the first change to its push


class LiveFeed:
    def __init__(
        self,
        routing: RoutingService,
        assist: AssistService,
        hub: Hub,
        figures: DayFigures,
        events: EventLog,
        tasks: Tasks,
        delay: float = DELAY,
    ) -> None:
        self.routing = routing
        self.assist = assist
        self.hub = hub
        self.figures = figures
        self.tasks = tasks
        self.delay = delay
        self.queues: set[str] = set()
        self.groups: set[str] = set()
        self.agents: set[str] = set()
        self.requests: dict[int, RequestRun] = {}
        self._armed = False
        events.observers.append(self.call_event)
        routing.board.agent_observers.append(self.agent_changed)
        figures.changed.append(self.figures_changed)
        assist.request_observers.append(self.request_changed)

    # -- observers: mark, arm ------------------------------------------------------

    def call_event(self, entry: Entry) -> None:
        if entry.queue:
            self.queues.add(entry.queue)
        if entry.agent:
            self.agents.add(entry.agent)
        self._arm()

    def agent_changed(self, agent: AgentRuntime) -> None:
        self.agents.add(agent.name)
        self.queues.update(q.name for q in self.routing.queues.values() if agent.name in q.members)
        self._arm()

    def figures_changed(self, kind: str, name: str) -> None:
        (self.queues if kind == "queue" else self.groups).add(name)
        self._arm()

    def request_changed(self, request: RequestRun, state: RequestState) -> None:
        self.requests[request.request_id] = request
        self.groups.add(request.group)
        self._arm()

    def _arm(self) -> None:
        if self._armed:
            return
        self._armed = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a unit test of the domain): nobody to push to
            self._armed = False
            return
        loop.call_later(self.delay, lambda: self.tasks.spawn(self.flush(), "live feed"))

    # -- flush ----------------------------------------------------------------------

    async def flush(self) -> None:
        self._armed = False
        queues, self.queues = self.queues, set()
        groups, self.groups = self.groups, set()
        agents, self.agents = self.agents, set()
        requests, self.requests = self.requests, {}
        people = self.assist.people
        online = [p for uid in self.hub.connected() if (p := people.get(uid)) is not None]
        staff = [p.user_id for p in online if p.role in STAFF]
        by_name = {p.username: p.user_id for p in online}
        routing, figures = self.routing, self.figures
        frames: list[tuple[list[int], dict[str, Any]]] = []
        for name in sorted(agents):
            agent = routing.agents.get(name)
            if agent is not None:
                own = [by_name[name]] if name in by_name else []
                frames.append((staff + own, {"type": "agent", **agent_view(routing, agent)}))
        if staff:
            for name in sorted(queues):
                if name in routing.queues:
                    frames.append((staff, {"type": "queue", **figures.queue(name)}))
            for name in sorted(groups):
                if name in self.assist.groups:
                    frames.append((staff, {"type": "group_figures", **figures.group(name)}))
            for request in requests.values():
                frames.append((staff, {"type": "request_state", **request_view(request, people)}))
            if queues or groups:
                frames.append((staff, {"type": "charts", **figures.charts()}))
        for users, frame in frames:
            for user_id in users:
                await self.hub.notify(user_id, frame)
