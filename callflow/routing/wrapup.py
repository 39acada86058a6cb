"""Dispositions at wrap-up: the agent says why the customer called and how
it ended (a queue's code, and a note).

Theory of operation
-------------------
When an agent's conversation on a queue with disposition codes ends (the
customer hung up, the agent did, the agent transferred the call), the
agent owes that call a disposition: the console is told (``disposition``
frame) and the desk asks here before ending the agent's wrap-up. The pure
rules are ``dispositions.DispositionPolicy``: picked, free; else the
queue's default is written (marked ``defaulted``); else, if required,
wrap-up goes on until the agent picks one (and asking to be available is
refused with the reason). Picking ends a wrap-up that only waited for it.
What is owed lives in memory: after a restart, an agent in wrap-up is
freed as before, without a disposition.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from callflow.db.engine import Database
from callflow.db.models import Disposition
from callflow.routing.board import Board
from callflow.routing.dispositions import AtWrapupEnd, DispositionPolicy
from callflow.routing.runtime import AgentRuntime, WaitingCall
from callflow.routing.store import at

log = logging.getLogger("callflow.desk")

Tell = Callable[[str, dict[str, Any]], Awaitable[None]]  # (agent name, frame)


class DispositionError(Exception):
    """A disposition that cannot be stored; the message says why."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Owed:
    interaction: int
    queue: str
    held: bool = False  # wrap-up time is up: only the disposition keeps it


class Dispositions:
    def __init__(self, board: Board, db: Database, tell: Tell | None = None) -> None:
        self.board = board
        self.db = db
        self.tell = tell
        self.owed: dict[str, Owed] = {}  # agent -> the call awaiting their disposition
        self.presets: dict[str, tuple[int, str]] = {}  # agent -> (call, code keyed during it)

    def _policy(self, queue: str) -> DispositionPolicy:
        conf = self.board.queues.get(queue)
        return conf.disposition if conf is not None else DispositionPolicy()

    # -- the desk's questions ------------------------------------------------------

    async def wrapup_started(self, agent: AgentRuntime, call: WaitingCall | None) -> None:
        preset = self.presets.pop(agent.name, None)
        if call is None or not self._policy(call.queue).codes:
            return
        self.owed[agent.name] = Owed(call.interaction_id, call.queue)
        if preset is not None and preset[0] == call.interaction_id:
            with contextlib.suppress(DispositionError):  # the queue's codes changed
                await self.pick(agent.name, preset[1], "")
                return
        await self._told(agent.name, "needed")

    async def preset(self, agent: str, interaction: int, queue: str, code: str) -> None:
        """The agent keyed ``code`` on the phone during the call: written
        when its wrap-up starts."""
        self.presets[agent] = (interaction, code)
        log.info("agent %s keyed disposition %s for call %s", agent, code, interaction)
        if self.tell is not None:
            frame = {"type": "disposition", "state": "preset", "interaction": interaction,
                     "queue": queue, "code": code}  # fmt: skip
            with contextlib.suppress(Exception):
                await self.tell(agent, frame)

    async def may_end_wrapup(self, agent: AgentRuntime) -> bool:
        """Wrap-up time is up: False keeps the agent in wrap-up."""
        owed = self.owed.get(agent.name)
        if owed is None:
            return True
        policy = self._policy(owed.queue)
        outcome = policy.at_wrapup_end(False)
        if outcome is AtWrapupEnd.KEEP_WRAPPING:
            if not owed.held:
                owed.held = True
                log.info("agent %s: wrap-up waits for a disposition of call %s",
                         agent.name, owed.interaction)  # fmt: skip
                await self._told(agent.name, "waiting")
            return False
        self.owed.pop(agent.name, None)
        if outcome is AtWrapupEnd.APPLY_DEFAULT and policy.default is not None:
            await self._write(agent.name, owed, policy.default, "", defaulted=True)
            await self._told(agent.name, "done", interaction=owed.interaction,
                             code=policy.default, defaulted=True)  # fmt: skip
        else:
            await self._told(agent.name, "none", interaction=owed.interaction)
        return True

    def availability_refusal(self, agent: AgentRuntime) -> str | None:
        owed = self.owed.get(agent.name)
        if owed is None or not self._policy(owed.queue).blocks_availability(False):
            return None
        return f"pick a disposition for call {owed.interaction} first"

    def forget(self, agent_name: str) -> None:
        """The agent logged out: what they owe is dropped (logged)."""
        self.presets.pop(agent_name, None)
        owed = self.owed.pop(agent_name, None)
        if owed is not None:
            log.info("agent %s logged out owing a disposition of call %s",
                     agent_name, owed.interaction)  # fmt: skip

    # -- the agent's pick ----------------------------------------------------------------

    async def pick(self, agent_name: str, code: str, note: str) -> tuple[int, bool]:
        """Store the agent's disposition; (the call, whether wrap-up was held)."""
        owed = self.owed.get(agent_name)
        if owed is None:
            raise DispositionError(f"{agent_name} has no call waiting for a disposition")
        refusal = self._policy(owed.queue).refusal(code, note)
        if refusal is not None:
            raise DispositionError(refusal, 422)
        self.owed.pop(agent_name, None)
        await self._write(agent_name, owed, code, note, defaulted=False)
        await self._told(agent_name, "done", interaction=owed.interaction, code=code,
                         defaulted=False)  # fmt: skip
        return owed.interaction, owed.held

    async def _write(
        self, agent: str, owed: Owed, code: str, note: str, *, defaulted: bool
    ) -> None:
        async with self.db.session() as session:
            session.add(Disposition(
                interaction_id=owed.interaction, agent=agent, queue=owed.queue, code=code,
                note=note, defaulted=defaulted, at=at(self.board.now()),
            ))  # fmt: skip
            await session.commit()
        await self.board.events.record(
            "disposition", interaction=owed.interaction, queue=owed.queue, agent=agent,
            code=code, defaulted=defaulted,
        )  # fmt: skip

    # -- the console ---------------------------------------------------------------------

    def view(self, agent_name: str) -> dict[str, Any] | None:
        owed = self.owed.get(agent_name)
        if owed is None:
            return None
        policy = self._policy(owed.queue)
        return {
            "interaction": owed.interaction, "queue": owed.queue,
            "codes": [{"code": c, "label": label} for c, label in policy.codes.items()],
            "required": policy.required, "default": policy.default,
            "state": "waiting" if owed.held else "needed",
        }  # fmt: skip

    async def _told(self, agent_name: str, state: str, **detail: Any) -> None:
        if self.tell is None:
            return
        view = self.view(agent_name) or {}
        frame = {"type": "disposition", **view, "state": state, **detail}
        with contextlib.suppress(Exception):
            await self.tell(agent_name, frame)
