"""What a console shows of an agent, a call and an assist request, as JSON.

One shape for the snapshot a console gets on (re)connecting and for the
changes pushed afterwards, so a page renders both with the same code.
"""

from __future__ import annotations

from typing import Any

from callflow.assist.runtime import People, RequestRun
from callflow.routing.call_state import CallState
from callflow.routing.runtime import AgentRuntime, WaitingCall
from callflow.routing.service import RoutingService

DEFAULT_PAUSE_REASONS = ("break", "lunch", "training", "paperwork")


def pause_reasons(by_digit: dict[str, str]) -> list[str]:
    """The directory's reasons in digit order, each once; a default set without any."""
    reasons = list(dict.fromkeys(by_digit[digit] for digit in sorted(by_digit)))
    return reasons or list(DEFAULT_PAUSE_REASONS)


def call_view(call: WaitingCall | None) -> dict[str, Any] | None:
    if call is None:
        return None
    return {
        "interaction": call.interaction_id,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "queue": call.queue,
        "state": _state(call),
        "entered_at": call.entered_at,  # epoch seconds
        "answered_at": call.answered_at or None,
        # a callback: the agent's answer calls the customer (the preview)
        "callback": call.callback,
    }


def _state(call: WaitingCall) -> str:
    if call.state is not CallState.CONNECTED:
        return "ringing"
    return "calling" if call.virtual else "talking"


def agent_view(routing: RoutingService, agent: AgentRuntime) -> dict[str, Any]:
    return {
        "name": agent.name,
        "display_name": agent.display_name,
        "state": agent.state.value,
        "reason": agent.reason,
        "reachable": agent.reachable,
        "call": call_view(routing.board.call_of_agent(agent.name)),
    }


def request_view(request: RequestRun, people: People) -> dict[str, Any]:
    agent = people.get(request.agent_id)
    expert = people.get(request.expert_id or 0)
    return {
        "id": request.request_id,
        "agent": agent.username if agent else None,
        "agent_name": agent.shown_name if agent else None,
        "group": request.group,
        "mode": request.mode,
        "state": request.state.value,
        "expert": expert.username if expert else None,
        "expert_name": expert.shown_name if expert else None,
        "session": request.session_id,
        "interaction": request.interaction_id,
        "created_at": request.created_at.isoformat() if request.created_at else None,
    }
