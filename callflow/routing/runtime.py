"""The ACD's in-memory picture of queues, agents, waiting calls and offers.

Rebuilt from the database and Asterisk's own state on every (re)connect
(see ``routing.reconcile``); the machines in here are the single source of
truth between two reconciles. Timers are the port's keyed timers, named by
the ``*_TIMER`` constants on the keys below, so nothing here holds a handle.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from callflow.fsm import StateMachine
from callflow.logs import AGENT_LEG_PREFIX as AGENT_LEG_PREFIX  # leg ids name their call
from callflow.routing.agent_state import AgentEvent, AgentState, agent_machine
from callflow.routing.call_state import CallEvent, CallState, call_machine
from callflow.routing.callback_policy import CallbackPolicy
from callflow.routing.dispositions import DispositionPolicy
from callflow.routing.escalation import Escalation, Reach
from callflow.routing.hours import OpeningHours
from callflow.routing.skills import ANYONE, Requirement
from callflow.routing.strategies import Strategy
from callflow.user_phones import Phones

HOLD_BRIDGE_PREFIX = "callflow-hold-"
CALLBACK_PREFIX = "callback-"  # the channel id a callback waits as, before it has one
CALL_BRIDGE_PREFIX = "callflow-call-"


MAX_WAIT_TIMER, ANNOUNCE_TIMER = "max_wait", "announce"  # on the customer's channel
ESCALATE_TIMER = "escalate"  # on the customer's channel: the next escalation step
RONA_TIMER = "rona"  # on the agent leg's channel
WRAPUP_TIMER = "wrapup"  # on agent_key(name)
WAITING_TIMERS = (MAX_WAIT_TIMER, ANNOUNCE_TIMER, ESCALATE_TIMER)


def channel_key(channel_id: str) -> str:
    return f"channel:{channel_id}"


def agent_key(name: str) -> str:
    return f"agent:{name}"


def hold_bridge_id(queue: str) -> str:
    """A new name for a queue's holding bridge. Each bridge gets its own:
    Asterisk answers a DELETE before the bridge is gone, and for about a
    second after, the old name is neither free (409) nor found (404)."""
    return f"{HOLD_BRIDGE_PREFIX}{queue}.{uuid.uuid4().hex[:12]}"


def call_bridge_id(interaction_id: int) -> str:
    return f"{CALL_BRIDGE_PREFIX}{interaction_id}"


@dataclass
class QueueConf:
    name: str
    strategy: Strategy
    ring_timeout: int
    max_wait: int
    wrapup: int
    moh_class: str
    announce_every: int
    overflow: str | None
    service_level: int
    exit_key: str | None
    exit_target: str | None
    join_empty: bool
    recording: str = "never"  # always | never | on_demand
    recording_split: bool = False
    retention_days: int = 0
    recording_notice: str | None = None  # a sound each caller hears before joining
    hours: OpeningHours = field(default_factory=OpeningHours)
    closed_target: str | None = None
    callback: CallbackPolicy = field(default_factory=CallbackPolicy)
    disposition: DispositionPolicy = field(default_factory=DispositionPolicy)
    requirement: Requirement = ANYONE  # what a caller requires unless the dialplan says
    escalation: Escalation = field(default_factory=Escalation)
    best_match: bool = False  # among matching agents, the highest levels first
    canned: tuple[str, ...] = ()  # web chats: answers the agent sends with one click
    members: dict[str, int] = field(default_factory=dict)  # agent -> level, in order
    recent_waits: deque[float] = field(default_factory=lambda: deque(maxlen=20))
    # seconds an agent gave each of the latest calls: talk and wrap-up
    recent_handles: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    last_offered: str | None = None


@dataclass
class AgentRuntime:
    name: str
    phones: Phones  # the browser phone (if any) first, then the desk phone
    machine: StateMachine[AgentState, AgentEvent]
    reason: str = ""
    display_name: str = ""
    skills: dict[str, int] = field(default_factory=dict)  # skill -> level 1..9
    idle_since: float = 0.0
    busy_until: float = 0.0  # when the wrap-up under way ends (for the estimated wait)
    calls_taken: int = 0
    pending: tuple[AgentEvent, str] | None = None  # pause/logout asked for during a call
    saved: tuple[str, str] = ("", "")  # state and reason last written to the database
    # web chats (``callflow.webchat``): offered to or open with the agent now,
    # the most at once, and the most that may stay open during a call
    chats: int = 0
    chat_limit: int = 1
    chats_on_call: int = 0
    # told when ``free`` may have changed (the board keeps its index of free agents)
    watch: Callable[[AgentRuntime], None] | None = field(default=None, repr=False)

    @classmethod
    def new(
        cls,
        name: str,
        endpoint: str,
        state: AgentState = AgentState.LOGGED_OUT,
        browser_phone: str | None = None,
    ) -> AgentRuntime:
        return cls(name, Phones.of(browser_phone, endpoint), agent_machine(name, state))

    @property
    def state(self) -> AgentState:
        return self.machine.state

    @property
    def endpoint(self) -> str:
        """The phone an offer rings (``Phones.current``)."""
        return self.phones.current or ""

    @property
    def reachable(self) -> bool:
        """A phone of the agent's is registered (its endpoint is online)."""
        return self.phones.reachable

    def phone_online(self, endpoint: str, online: bool) -> bool:
        """Record a phone's registration; whether ``reachable`` changed."""
        changed = self.phones.set_online(endpoint, online)
        if changed and self.watch is not None:
            self.watch(self)
        return changed

    @property
    def free(self) -> bool:
        """May be offered a call: available, a phone registered, and no more
        web chats open than may stay open during a call."""
        return (
            self.machine.state is AgentState.AVAILABLE
            and self.phones.reachable
            and self.chats <= self.chats_on_call
        )

    @property
    def chat_room(self) -> bool:
        """May be offered one more web chat (their console open is the web
        chat service's to check): below the limit when available, below the
        limit during a call while on one."""
        state = self.machine.state
        if state is AgentState.AVAILABLE:
            return self.chats < self.chat_limit
        if state in (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP):
            return self.chats < min(self.chats_on_call, self.chat_limit)
        return False

    def count_chats(self, delta: int) -> None:
        """One web chat more (offered) or less (ended, declined)."""
        self.chats = max(0, self.chats + delta)
        if self.watch is not None:
            self.watch(self)


@dataclass
class Offer:
    leg_id: str
    agent: str
    call: WaitingCall
    answered: bool = False
    withdrawn: bool = False  # we hung it up on purpose (another agent won, caller left)


def _already_set() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass
class WaitingCall:
    interaction_id: int
    channel_id: str
    queue: str
    priority: int
    entered_at: float
    caller_number: str
    caller_name: str
    machine: StateMachine[CallState, CallEvent]
    seq: int = 0
    queue_entered_at: float = 0.0  # when it entered its current queue (overflow resets)
    answered_at: float = 0.0  # when an agent answered (0: not answered, or restored)
    offers: dict[str, Offer] = field(default_factory=dict)
    agent: str | None = None
    agent_leg: str | None = None
    announcements: int = 0
    # something may be playing to the caller under ``announce_id`` (True for a
    # call adopted after a restart: unknown, so it is stopped to be sure)
    announced: bool = True
    visited: list[str] = field(default_factory=list)  # queues, in order (overflow)
    held: bool = False  # taken out of the conversation onto music (assist menu, consult)
    # transferred to this agent: offered to them alone until they fail to answer
    reserved_for: str | None = None
    transferred: bool = False  # its (empty) call bridge waits for the next agent
    transfers: int = 0  # how many times an agent transferred it (blind, or attended completed)
    callback: int | None = None  # a callback waiting at its caller's place (no channel yet)
    callback_offered: bool = False  # the caller heard "press 1 to be called back"
    requirement: Requirement | None = None  # the dialplan's; None: the queue's
    reach: Reach | None = None  # who may take it now (set as the ACD plans)
    reach_of: QueueConf | None = field(default=None, repr=False)  # the queue it was for
    escalated: int = 0  # the escalation step last logged
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # set once the interaction row exists (and ``interaction_id`` is known);
    # a new caller's first offer goes out before that
    recorded: asyncio.Event = field(default_factory=_already_set)
    # set once a new caller's offer has left (Asterisk answered its originate,
    # or it failed): the caller is answered after that, so the answer's work
    # in Asterisk (the 200 OK, media, music) does not hold up the agent's INVITE
    ringing: asyncio.Event = field(default_factory=_already_set)

    @classmethod
    def new(
        cls,
        interaction_id: int,
        channel_id: str,
        queue: str,
        priority: int,
        entered_at: float,
        caller_number: str,
        caller_name: str,
        state: CallState = CallState.WAITING,
        seq: int = 0,
    ) -> WaitingCall:
        return cls(
            interaction_id,
            channel_id,
            queue,
            priority,
            entered_at,
            caller_number,
            caller_name,
            call_machine(str(interaction_id), state),
            seq=seq,
            queue_entered_at=entered_at,
            visited=[queue],
        )

    @property
    def state(self) -> CallState:
        return self.machine.state

    @property
    def virtual(self) -> bool:
        """A callback with no customer on the line (yet): waiting at its
        place, or its agent hearing the customer's phone ring."""
        return self.channel_id.startswith(CALLBACK_PREFIX)
