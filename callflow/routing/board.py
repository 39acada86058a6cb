"""The ACD's shared picture: queues, agents, calls and offers, and their lookups.

Every routing part (entry, acd, media, endings, desk, reconcile) works on one
``Board``. It owns the maps and the indexes over them, so a call or agent is
found in one place — by channel, leg, interaction, agent name or endpoint —
and forgetting a call removes it from every map and cancels its timers.
"""

from __future__ import annotations

import itertools
import logging
import statistics
from collections.abc import Callable
from typing import Any

from callflow.calls.event_log import EventLog
from callflow.routing.agent_state import LOGGED_IN, AgentState
from callflow.routing.call_state import CallState
from callflow.routing.conversation import record_on_call
from callflow.routing.escalation import Reach
from callflow.routing.matches import Matches
from callflow.routing.runtime import (
    ANNOUNCE_TIMER,
    ESCALATE_TIMER,
    MAX_WAIT_TIMER,
    RONA_TIMER,
    WAITING_TIMERS,
    AgentRuntime,
    Offer,
    QueueConf,
    WaitingCall,
    channel_key,
)
from callflow.routing.skills import Requirement
from callflow.routing.store import RoutingStore
from callflow.routing.waiting import QueuedCall, estimated_wait, position, wait_for_place
from callflow.telephony.port import Telephony

log = logging.getLogger("callflow.routing")

WAITING_STATES = (CallState.WAITING, CallState.OFFERING)


class Board:
    def __init__(self, port: Telephony, store: RoutingStore, events: EventLog) -> None:
        self.port = port
        self.store = store
        self.events = events
        self.queues: dict[str, QueueConf] = {}
        self.agents: dict[str, AgentRuntime] = {}
        # the free agents (available and reachable), kept as they change, so
        # placing a call costs the free agents, not every agent
        self.free: dict[str, AgentRuntime] = {}
        self.calls: dict[str, WaitingCall] = {}  # by customer channel id
        self.legs: dict[str, Offer] = {}  # by agent leg channel id
        self.pause_reasons: dict[str, str] = {}
        self.skills: dict[str, str] = {}  # the vocabulary: skill -> description
        # (queue, requirement, extra queues) -> the members who meet it;
        # found again after every directory load (skills change then)
        self._matches: dict[tuple[str, Requirement, tuple[str, ...]], Matches] = {}
        self.agent_observers: list[Callable[[AgentRuntime], None]] = []  # told of each change
        self._by_endpoint: dict[str, str] = {}  # endpoint -> agent name
        self.seq = itertools.count()
        self.leg_numbers = itertools.count(1)

    def now(self) -> float:
        return self.port.now()

    # -- lookups ----------------------------------------------------------------

    def set_agents(self, agents: dict[str, AgentRuntime]) -> None:
        self._matches.clear()  # levels and memberships may have changed with them
        for agent in self.agents.values():
            agent.watch = agent.machine.on_change = None
        self.agents = agents
        self._by_endpoint = {e: a.name for a in agents.values() for e in a.phones.endpoints}
        self.free = {}
        for agent in agents.values():
            agent.watch = self._agent_changed
            agent.machine.on_change = lambda _state, agent=agent: self._agent_changed(agent)
            self._agent_changed(agent)

    def _agent_changed(self, agent: AgentRuntime) -> None:
        if agent.free:
            self.free[agent.name] = agent
        else:
            self.free.pop(agent.name, None)
        for observer in self.agent_observers:
            observer(agent)

    def touch(self, name: str | None) -> None:
        """The agent's call changed though their state did not: tell the observers."""
        agent = self.agents.get(name or "")
        if agent is not None:
            for observer in self.agent_observers:
                observer(agent)

    def agent_by_endpoint(self, endpoint: str) -> AgentRuntime | None:
        name = self._by_endpoint.get(endpoint)
        return self.agents.get(name) if name is not None else None

    def anyone_logged_in(self, conf: QueueConf) -> bool:
        return any(
            (agent := self.agents.get(name)) is not None and agent.state in LOGGED_IN
            for name in conf.members
        )

    def serving(self, conf: QueueConf) -> int:
        return sum(
            1
            for name in conf.members
            if (a := self.agents.get(name)) is not None
            and a.state in LOGGED_IN
            and a.state is not AgentState.PAUSED
        )

    def estimated_wait(self, conf: QueueConf, call: WaitingCall | None = None) -> float:
        """Seconds until answer for ``call`` (None: a caller joining now).
        Callers whose offer rings an agent already have that agent (it is
        counted busy), so the place is among the callers still waiting:"""
        if call is not None and call.state is CallState.OFFERING:
            return 0.0
        offered = sum(
            1 for c in self.calls.values() if c.queue == conf.name and c.state is CallState.OFFERING
        )
        if call is not None:
            place = self.position(call) - offered
        else:
            place = 1 + sum(
                1 for c in self.calls.values()
                if c.queue == conf.name and c.state is CallState.WAITING
            )  # fmt: skip
        return self._wait_for(conf, max(1, place))

    def _wait_for(self, conf: QueueConf, place: int) -> float:
        """Seconds until answer for the caller at ``place`` of the queue now:
        once calls' lengths are known, from when each serving agent should
        be free (free now; the rest of a wrap-up; the rest of an average
        call, then the wrap-up); before, from the recent waits."""
        if not conf.recent_handles:
            return estimated_wait(place, list(conf.recent_waits), self.serving(conf))
        handle = statistics.fmean(conf.recent_handles)
        talk = max(0.0, handle - conf.wrapup)
        now = self.now()
        free_in: list[float] = []
        for name in conf.members:
            agent = self.agents.get(name)
            if agent is None:
                continue
            if name in self.free:
                free_in.append(0.0)
            elif agent.state is AgentState.WRAP_UP:
                free_in.append(max(0.0, agent.busy_until - now))
            elif agent.state in (AgentState.ON_CALL, AgentState.RINGING):
                call = self.call_of_agent(name)
                began = call.answered_at if call is not None and call.answered_at else now
                free_in.append(max(0.0, began + talk - now) + conf.wrapup)
        return wait_for_place(place, free_in, handle)

    def reach(self, call: WaitingCall, conf: QueueConf) -> Reach:
        """Who may take ``call`` now: its requirement (the dialplan's, else
        the queue's) at the escalation step its wait in the queue has reached."""
        steps = conf.escalation
        step = steps.step_at(self.now() - call.queue_entered_at) if steps.steps else 0
        base = call.requirement if call.requirement is not None else conf.requirement
        reach = call.reach
        if reach is None or reach.step != step or call.reach_of is not conf:
            reach = call.reach = steps.reach(base, step) if step else Reach(0, base)
            call.reach_of = conf
        return reach

    def matches(self, conf: QueueConf, reach: Reach) -> Matches:
        """The members (of the queue and of the queues ``reach`` adds) who meet
        its requirement, kept per requirement until the next directory load."""
        key = (conf.name, reach.requirement, reach.queues)
        found = self._matches.get(key)
        if found is None:
            pools = [conf.members] + [
                self.queues[q].members for q in reach.queues if q in self.queues
            ]
            skills = {name: agent.skills for name, agent in self.agents.items()}
            found = Matches.of(pools, skills, reach.requirement, conf.best_match)
            if len(self._matches) > 10_000:  # requirements from the dialplan vary: bounded
                self._matches.clear()
            self._matches[key] = found
        return found

    def why(self, call: WaitingCall, agent: AgentRuntime) -> dict[str, Any]:
        """What an offer's event says of its choice, where skills decided it:
        the step, the requirement then, and the agent's levels in its skills."""
        conf = self.queues.get(call.queue)
        reach = call.reach
        if conf is None or reach is None or call.reserved_for == agent.name:
            return {}
        if reach.requirement.anyone and not reach.queues and not conf.escalation.steps:
            return {}
        why: dict[str, Any] = {"step": reach.step, "requirement": str(reach.requirement)}
        if reach.queues:
            why["also_queues"] = list(reach.queues)
        if skills := reach.requirement.matched(agent.skills):
            why["skills"] = skills
        return why

    def position(self, call: WaitingCall) -> int:
        same = [
            QueuedCall(c.channel_id, c.priority, c.entered_at, c.seq)
            for c in self.calls.values()
            if c.queue == call.queue and c.state in WAITING_STATES
        ]
        return position(same, call.channel_id)

    def conversation(self, interaction_id: int | None) -> WaitingCall | None:
        """The connected call of this interaction, if any."""
        for call in self.calls.values():
            if call.interaction_id == interaction_id and call.state is CallState.CONNECTED:
                return call
        return None

    def call_of_agent(self, name: str) -> WaitingCall | None:
        """The call the agent is talking on, or else the one ringing their phone."""
        ringing = None
        for call in self.calls.values():
            if call.agent == name and call.state is CallState.CONNECTED:
                return call
            if any(o.agent == name and not o.answered for o in call.offers.values()):
                ringing = call
        return ringing

    def conversation_of_leg(self, leg_id: str) -> WaitingCall | None:
        offer = self.legs.get(leg_id)
        if offer is None or not offer.answered or offer.call.state is not CallState.CONNECTED:
            return None
        return None if offer.call.virtual else offer.call  # a callback still calling: none

    # -- forgetting ---------------------------------------------------------------

    def arm_waiting_timers(self, call: WaitingCall) -> None:
        """Max wait (counted from entering the current queue) and announcements."""
        conf = self.queues[call.queue]
        key = channel_key(call.channel_id)
        if conf.max_wait:
            remaining = conf.max_wait - (self.now() - call.queue_entered_at)
            self.port.arm(key, MAX_WAIT_TIMER, remaining)
        if conf.announce_every:
            self.port.arm(key, ANNOUNCE_TIMER, conf.announce_every)
        self.arm_escalation(call, conf)

    def arm_escalation(self, call: WaitingCall, conf: QueueConf) -> None:
        """The timer of the call's next escalation step, if one is left."""
        due = conf.escalation.next_in(self.now() - call.queue_entered_at)
        if due is not None:
            self.port.arm(channel_key(call.channel_id), ESCALATE_TIMER, due)

    def cancel_waiting_timers(self, call: WaitingCall) -> None:
        for name in WAITING_TIMERS:
            self.port.cancel(channel_key(call.channel_id), name)

    def drop_offer(self, offer: Offer) -> None:
        """Forget one offer: its leg, its RONA timer."""
        self.port.cancel(channel_key(offer.leg_id), RONA_TIMER)
        offer.call.offers.pop(offer.leg_id, None)
        if self.legs.get(offer.leg_id) is offer:
            del self.legs[offer.leg_id]

    def forget(self, call: WaitingCall) -> None:
        """The call is over for the ACD: out of every map, no timer left."""
        self.cancel_waiting_timers(call)
        for offer in list(call.offers.values()):
            self.drop_offer(offer)
        if call.agent_leg is not None:
            self.legs.pop(call.agent_leg, None)
        if self.calls.get(call.channel_id) is call:
            del self.calls[call.channel_id]

    # -- the event log --------------------------------------------------------------

    async def log(
        self, kind: str, call: WaitingCall | None, *, agent: str | None = None, **detail: Any
    ) -> None:
        if call is None:
            await self.events.record(kind, agent=agent, **detail)
        else:
            await record_on_call(self.events, kind, call, agent=agent, **detail)
