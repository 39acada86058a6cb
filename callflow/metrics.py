"""Prometheus metrics: what operations graph and alert on.

Theory of operation
-------------------
Two kinds of figures, both in one registry owned by this object (not the
library's global one, so two callflows in one test process do not mix):

* **Counters and histograms** move when something happens. They are fed by
  observers the services already have: the call event log (every queue
  event of every call), the assist requests' state machines, the message
  hub's deliveries. No domain module imports this one.
* **Gauges of the present** (callers waiting, calls in progress, agents by
  state, open assist requests, sockets, ARI/AMI links) are read from the
  services' in-memory state when Prometheus scrapes, so they cannot drift.

The event loop's lag is measured by a task that sleeps a fixed interval and
records how late it woke up.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter as Tally
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from callflow import __version__
from callflow.assist.request_state import OUTCOMES, RequestState
from callflow.assist.runtime import RequestRun
from callflow.assist.service import AssistService
from callflow.calls.event_log import Entry, EventLog
from callflow.db.models import utcnow
from callflow.im.events import Posted
from callflow.im.hub import Hub
from callflow.routing.agent_state import AgentState
from callflow.routing.board import Board
from callflow.routing.call_state import CallState
from callflow.telephony.links import ServerLink
from callflow.webchat.runtime import ChatRun
from callflow.webchat.state import ChatState

QUEUED = (CallState.WAITING, CallState.OFFERING)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LOOP_INTERVAL = 0.5  # seconds between two looks at the event loop
DELAY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
CALLBACK_BUCKETS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
CALLBACK_RESULTS = ("callback_requested", "callback_completed", "callback_failed",
                    "callback_cancelled")  # fmt: skip
ACCEPT_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
# the call event log's kinds that count: kind -> (counter, help)
CALL_COUNTERS = {
    "enterqueue": ("callflow_calls_entered", "Callers who joined a queue"),
    "offer": ("callflow_offers", "Offers of a caller to an agent's phone"),
    "ringnoanswer": ("callflow_rona", "Offers not answered in the ring time (ring-no-answer)"),
    "connect": ("callflow_calls_answered", "Callers connected to an agent"),
    "abandon": ("callflow_calls_abandoned", "Callers who hung up while waiting"),
    "overflow": (
        "callflow_calls_overflowed",
        "Callers moved to another queue (counted on the queue they left)",
    ),
    "transfer": (
        "callflow_calls_transferred",
        "Callers an agent transferred (counted on the queue they were talking in)",
    ),
}
# the kinds whose ``wait`` (seconds since joining the queue) is timed: kind -> (histogram, help)
CALL_WAITS = {
    "offer": (
        "callflow_offer_delay_seconds",
        "From a caller joining the queue to each offer ringing an agent",
    ),
    "connect": (
        "callflow_answer_wait_seconds",
        "From a caller joining the queue to being connected to an agent",
    ),
}

# web chats (the event log's chat_* kinds): kind -> (counter, help)
CHAT_COUNTERS = {
    "chat_enter": ("callflow_webchats_entered", "Web chats that entered a queue"),
    "chat_accept": ("callflow_webchats_answered", "Web chats an agent accepted"),
    "chat_abandon": (
        "callflow_webchats_abandoned",
        "Web chats whose customer left before an agent accepted",
    ),
    "chat_transfer": ("callflow_webchats_transferred", "Web chats an agent transferred"),
}
CHAT_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class Metrics:
    """Counters fed by the parts it is given (it subscribes itself), gauges
    read from them at each scrape."""

    def __init__(
        self,
        *,
        events: EventLog,
        board: Board,
        assist: AssistService,
        hub: Hub,
        links: tuple[ServerLink, ...],
        chats: dict[int, ChatRun] | None = None,
    ) -> None:
        chats = chats if chats is not None else {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls = {
            kind: Counter(name, text, ["queue"], registry=r)
            for kind, (name, text) in CALL_COUNTERS.items()
        }
        self.waits = {
            kind: Histogram(name, text, ["queue"], buckets=DELAY_BUCKETS, registry=r)
            for kind, (name, text) in CALL_WAITS.items()
        }
        self.chats = {
            kind: Counter(name, text, ["queue"], registry=r)
            for kind, (name, text) in CHAT_COUNTERS.items()
        }
        self.chat_wait = Histogram(
            "callflow_webchat_wait_seconds", "From a web chat entering its queue to an accept",
            ["queue"], buckets=CHAT_BUCKETS, registry=r,
        )  # fmt: skip
        self.chat_handle = Histogram(
            "callflow_webchat_handle_seconds", "From an agent accepting a web chat to its end",
            ["queue"], buckets=CHAT_BUCKETS, registry=r,
        )  # fmt: skip
        self.dispositions = Counter(
            "callflow_dispositions",
            "Dispositions written at wrap-up, by queue and code (defaulted: the queue's "
            "default, written when the agent picked none in time)",
            ["queue", "code", "defaulted"],
            registry=r,
        )
        self.callbacks = Counter(
            "callflow_callbacks",
            "Queued callbacks by queue and result (requested, completed, failed, cancelled)",
            ["queue", "result"],
            registry=r,
        )
        self.callback_wait = Histogram(
            "callflow_callback_wait_seconds",
            "From a caller asking for a callback to their answering it",
            ["queue"],
            buckets=CALLBACK_BUCKETS,
            registry=r,
        )
        self.assist_requests = Counter(
            "callflow_assist_requests",
            "Assist requests by group and outcome (accepted, declined, timed_out, "
            "cancelled, no_expert)",
            ["group", "outcome"],
            registry=r,
        )
        self.accept_time = Histogram(
            "callflow_assist_accept_seconds",
            "From an assist request to an expert accepting it",
            ["group"],
            buckets=ACCEPT_BUCKETS,
            registry=r,
        )
        self.messages = Counter(
            "callflow_im_messages",
            "Messages posted in assist sessions, stored and delivered (a request's opening "
            "question is counted with the request, not here)",
            ["via"],
            registry=r,
        )
        self.delivery = Histogram(
            "callflow_im_delivery_seconds",
            "From a message's arrival to it being stored and queued to every member",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "callflow_event_loop_lag_seconds",
            f"How late the event loop runs a timer due every {LOOP_INTERVAL} s",
            buckets=FAST_BUCKETS,
            registry=r,
        )

        events.observers.append(self.call_event)
        assist.request_observers.append(self.request_changed)
        hub.delivery_observers.append(self.message_delivered)
        self.registry.register(Present(board, assist, hub, links, chats))

    # -- observers the services call ------------------------------------------------

    def call_event(self, entry: Entry) -> None:
        if entry.kind.startswith("chat_"):
            self._chat_event(entry)
            return
        if entry.kind in CALLBACK_RESULTS and entry.queue is not None:
            self.callbacks.labels(entry.queue, entry.kind.removeprefix("callback_")).inc()
            waited = (entry.detail or {}).get("waited")
            if isinstance(waited, int | float):
                self.callback_wait.labels(entry.queue).observe(waited)
            return
        if entry.kind == "disposition" and entry.queue is not None:
            detail = entry.detail or {}
            defaulted = "true" if detail.get("defaulted") else "false"
            self.dispositions.labels(entry.queue, str(detail.get("code")), defaulted).inc()
            return
        counter = self.calls.get(entry.kind)
        if counter is None or entry.queue is None:
            return
        counter.labels(entry.queue).inc()
        timed = self.waits.get(entry.kind)
        wait = (entry.detail or {}).get("wait")
        if timed is not None and isinstance(wait, int | float):
            timed.labels(entry.queue).observe(wait)

    def _chat_event(self, entry: Entry) -> None:
        if entry.queue is None:
            return
        detail = entry.detail or {}
        kind = entry.kind
        if kind == "chat_end" and detail.get("outcome") == "abandoned":
            kind = "chat_abandon"
        counter = self.chats.get(kind)
        if counter is not None:
            counter.labels(entry.queue).inc()
        if kind == "chat_accept" and isinstance(wait := detail.get("wait"), int | float):
            self.chat_wait.labels(entry.queue).observe(wait)
        if kind == "chat_end" and isinstance(handled := detail.get("handled"), int | float):
            self.chat_handle.labels(entry.queue).observe(handled)

    def request_changed(self, request: RequestRun, state: RequestState) -> None:
        if state not in OUTCOMES:
            return
        self.assist_requests.labels(request.group, state.value).inc()
        if state is RequestState.ACCEPTED and request.created_at is not None:
            self.accept_time.labels(request.group).observe(_since(request.created_at))

    def message_delivered(self, message: Posted, seconds: float) -> None:
        self.messages.labels(message.via).inc()
        self.delivery.observe(seconds)

    async def watch_loop(self, interval: float = LOOP_INTERVAL) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(interval)
            self.loop_lag.observe(max(0.0, time.perf_counter() - started - interval))

    # -- the scrape -------------------------------------------------------------------

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


# the gauges read at scrape time: name -> (help, label)
PRESENT = {
    "callflow_info": ("callflow's version", "version"),
    "callflow_calls_waiting": ("Callers waiting for an agent (ringing one or not)", "queue"),
    "callflow_calls_in_progress": ("Callers connected to an agent", "queue"),
    "callflow_longest_wait_seconds": ("How long the longest-waiting caller has waited", "queue"),
    "callflow_agents": ("Agents by state", "state"),
    "callflow_assist_requests_open": ("Assist requests not closed yet, by state", "state"),
    "callflow_websocket_connections": ("Open console sockets", None),
    "callflow_webchats_waiting": ("Web chats waiting for an agent (offered or not)", "queue"),
    "callflow_webchats_active": ("Web chats in conversation with an agent", "queue"),
    "callflow_link_up": (
        "1 when the link to Asterisk is connected (ari, ami; another server's: ari@<name>)",
        "link",
    ),
}


def _gauge(name: str) -> GaugeMetricFamily:
    text, label = PRESENT[name]
    return GaugeMetricFamily(name, text, labels=[label] if label else None)


class Present(Collector):
    """Gauges read from the services' memory when Prometheus scrapes."""

    def __init__(
        self, board: Board, assist: AssistService, hub: Hub, links: tuple[ServerLink, ...],
        chats: dict[int, ChatRun],
    ) -> None:  # fmt: skip
        self.board, self.assist, self.hub, self.links = board, assist, hub, links
        self.chats = chats  # the open web chats, by id

    def collect(self) -> Iterator[Metric]:
        board = self.board
        info = _gauge("callflow_info")
        info.add_metric([__version__], 1)
        yield info
        waiting, talking, oldest = (
            _gauge("callflow_calls_waiting"),
            _gauge("callflow_calls_in_progress"),
            _gauge("callflow_longest_wait_seconds"),
        )
        now = board.now()
        for name in board.queues:
            calls = [c for c in board.calls.values() if c.queue == name]
            # a callback waiting at its place has nobody on the line: not counted here
            queued = [c for c in calls if c.machine.state in QUEUED and c.callback is None]
            waiting.add_metric([name], len(queued))
            talking.add_metric(
                [name], sum(1 for c in calls if c.machine.state is CallState.CONNECTED)
            )
            oldest.add_metric([name], max((now - c.queue_entered_at for c in queued), default=0))
        yield from (waiting, talking, oldest)
        agents = _gauge("callflow_agents")
        by_state = Tally(a.state for a in board.agents.values())
        for state in AgentState:
            agents.add_metric([state.value], by_state[state])
        yield agents
        requests = _gauge("callflow_assist_requests_open")
        open_states = Tally(r.state for r in self.assist.requests.values())
        for request_state in RequestState:
            if request_state is not RequestState.CLOSED:
                requests.add_metric([request_state.value], open_states[request_state])
        yield requests
        waiting_chats, active_chats = (
            _gauge("callflow_webchats_waiting"),
            _gauge("callflow_webchats_active"),
        )
        chats = Tally((c.queue, c.state is ChatState.ACTIVE) for c in self.chats.values())
        for name in board.queues:
            waiting_chats.add_metric([name], chats[(name, False)])
            active_chats.add_metric([name], chats[(name, True)])
        yield from (waiting_chats, active_chats)
        sockets = _gauge("callflow_websocket_connections")
        sockets.add_metric([], self.hub.connection_count)
        yield sockets
        links = _gauge("callflow_link_up")
        for number, server in enumerate(self.links):
            at = "" if number == 0 else f"@{server.name}"  # another server: ari@<name>
            links.add_metric([f"ari{at}"], 1 if server.ari.connected else 0)
            links.add_metric([f"ami{at}"], 1 if server.ami.ready else 0)
        yield links


def _since(then: datetime) -> float:
    return max(0.0, (utcnow() - then).total_seconds())
