"""The agent desk: log in and out, pause, wrap-up, and whether the phone is reachable.

Theory of operation
-------------------
``act`` is what a feature code or the REST API asks for. A change the
agent's state does not allow (``*11`` during wrap-up) is refused with the
reason and changes nothing: no timer is cancelled, no state written. A
pause or log-out asked for while the phone rings or during a call is kept
as ``pending``: it applies when the ring ends without an answer (RONA,
withdrawn) or, after an answered call, when wrap-up ends. Wrap-up is a
keyed timer on ``agent:<name>``. Every change that can free an agent asks
the ACD for a new planning round (``distribute``); a log-out also sends the
callers of queues left without agents to their empty-queue exit.
"""

from __future__ import annotations

import logging
from typing import Protocol

from callflow.routing.agent_state import DEFERRABLE, AgentEvent, AgentState
from callflow.routing.board import Board
from callflow.routing.runtime import WRAPUP_TIMER, AgentRuntime, WaitingCall, agent_key
from callflow.routing.wrapup import Dispositions
from callflow.telephony.port import EndpointState

log = logging.getLogger("callflow.desk")


class FollowUps(Protocol):
    """What a change at the desk sets off elsewhere in the ACD."""

    async def distribute(self) -> None:
        """A new planning round (an agent may be free)."""

    async def queues_emptied(self) -> None:
        """Callers of queues left without agents go to their exit."""


class AgentActionError(ValueError):
    """An agent state change that is not possible now; the message says why."""


class Desk:
    def __init__(
        self, board: Board, follow_ups: FollowUps, dispositions: Dispositions | None = None
    ) -> None:
        self.board = board
        self.follow_ups = follow_ups
        self.dispositions = dispositions  # may hold an agent in wrap-up
        self.wrapping: set[str] = set()  # agents whose wrap-up timer runs

    def agent(self, name: str) -> AgentRuntime:
        agent = self.board.agents.get(name)
        if agent is None:
            raise AgentActionError(f"unknown agent {name!r}")
        return agent

    async def act(self, name: str, action: AgentEvent, reason: str = "") -> AgentState:
        """Log in, log out, pause or unpause an agent (feature code, REST)."""
        agent = self.agent(name)
        if action in DEFERRABLE and agent.state in (AgentState.RINGING, AgentState.ON_CALL):
            agent.pending = (action, reason)
            await self.board.log(f"{action.value}_deferred", None, agent=name, reason=reason)
            return agent.state
        if not agent.machine.can(action):
            raise AgentActionError(f"agent {name} cannot {action.value} while {agent.state.value}")
        if self.dispositions is not None:
            if action in (AgentEvent.LOGIN, AgentEvent.UNPAUSE):
                if refusal := self.dispositions.availability_refusal(agent):
                    raise AgentActionError(refusal)
            elif action is AgentEvent.LOGOUT:
                self.dispositions.forget(name)
        await self._change(agent, action, reason)
        return agent.state

    async def _change(self, agent: AgentRuntime, action: AgentEvent, reason: str) -> None:
        before = agent.state
        if before is AgentState.WRAP_UP:
            self._stop_wrapup(agent)
        agent.machine.fire(action, reason)
        agent.reason = reason if agent.state is AgentState.PAUSED else ""
        now = self.board.now()
        if agent.state is AgentState.AVAILABLE and before is not AgentState.AVAILABLE:
            agent.idle_since = now
        await self.board.store.save_agent(agent, now)
        await self.board.log(action.value, None, agent=agent.name, reason=reason)
        if action is AgentEvent.LOGOUT:
            await self.follow_ups.queues_emptied()
        await self.follow_ups.distribute()

    async def apply_pending(self, agent: AgentRuntime) -> bool:
        """A pause or log-out kept while the phone rang or the call lasted."""
        if agent.pending is None:
            return False
        action, reason = agent.pending
        agent.pending = None
        if not agent.machine.can(action):
            log.info("agent %s: %s asked earlier no longer applies", agent.name, action.value)
            return False
        await self._change(agent, action, reason)
        return True

    async def ring_ended(self, agent: AgentRuntime) -> None:
        """The agent's phone stopped ringing without an answer (RONA, withdrawn)."""
        await self.apply_pending(agent)

    # -- wrap-up ----------------------------------------------------------------

    async def start_wrapup(
        self, agent: AgentRuntime, seconds: float, call: WaitingCall | None = None
    ) -> None:
        """``call``: the call the agent wraps up (its disposition may be owed)."""
        if self.dispositions is not None:
            await self.dispositions.wrapup_started(agent, call)
        await self.board.store.save_agent(agent, self.board.now())
        await self.board.log("wrapup", None, agent=agent.name, seconds=seconds)
        if seconds <= 0:
            await self.wrapup_done(agent)
        else:
            self.wrapping.add(agent.name)
            agent.busy_until = self.board.now() + seconds
            self.board.port.arm(agent_key(agent.name), WRAPUP_TIMER, seconds)

    def _stop_wrapup(self, agent: AgentRuntime) -> None:
        self.wrapping.discard(agent.name)
        self.board.port.cancel(agent_key(agent.name), WRAPUP_TIMER)

    async def wrapup_done(self, agent: AgentRuntime) -> None:
        self._stop_wrapup(agent)
        if agent.state is not AgentState.WRAP_UP:
            return
        if self.dispositions is not None and not await self.dispositions.may_end_wrapup(agent):
            return  # held until the agent picks a disposition
        if await self.apply_pending(agent):
            return
        agent.machine.fire(AgentEvent.WRAPUP_DONE)
        agent.idle_since = self.board.now()
        await self.board.store.save_agent(agent, self.board.now())
        await self.board.log("available", None, agent=agent.name)
        await self.follow_ups.distribute()

    # -- the phone ----------------------------------------------------------------

    async def endpoint_state(self, event: EndpointState) -> None:
        agent = self.board.agent_by_endpoint(event.endpoint)
        if agent is None or not agent.phone_online(event.endpoint, event.online):
            return
        log.info(
            "agent %s endpoint %s is %s",
            agent.name,
            event.endpoint,
            "reachable" if event.online else "unreachable",
        )
        await self.follow_ups.distribute()

    async def refresh_endpoints(self) -> None:
        states = await self.board.port.endpoints()
        for agent in self.board.agents.values():
            for endpoint in agent.phones.endpoints:
                agent.phone_online(endpoint, states.get(endpoint, False))
