"""Escalation: a waiting call's requirement relaxes step by step. Pure.

A queue lists steps, each taken once the caller has waited ``after``
seconds in the queue (like app_queue's queue rules widening penalties)::

    escalation = [
      { after = 30, lower = 1 },                 # every minimum level one lower
      { after = 60, drop = ["spanish"] },        # the skill is no longer asked
      { after = 90, queues = ["sales"] },        # sales' agents may take it too
      { after = 120, require = "" },             # anyone of the queue
    ]

Steps add up: at step 2 the requirement is the call's, lowered by 1 and
without spanish. The caller keeps their place throughout: only who may
answer changes, never the order of service.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callflow.routing.skills import Requirement, RequirementError

MAX_STEPS = 10


class EscalationError(ValueError):
    """An escalation that cannot be used; the message names the step and field."""


class _StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: int = Field(ge=1, le=86400)
    lower: int = Field(default=0, ge=0, le=9)
    drop: list[str] = Field(default_factory=list, max_length=20)
    require: str | None = Field(default=None, max_length=200)
    queues: list[str] = Field(default_factory=list, max_length=10)


@dataclass(frozen=True)
class Step:
    after: int
    lower: int = 0
    drop: tuple[str, ...] = ()
    require: Requirement | None = None  # replaces the requirement so far
    queues: tuple[str, ...] = ()  # these queues' members may take the call too


@dataclass(frozen=True)
class Reach:
    """Who may take a call now: the requirement and the extra queues whose
    members join the queue's own."""

    step: int
    requirement: Requirement
    queues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Escalation:
    steps: tuple[Step, ...] = ()

    @classmethod
    def parse(
        cls, raw: list[dict[str, Any]] | None, known: Collection[str] | None = None
    ) -> Escalation:
        """Read a queue's ``escalation`` list; ``known``: the declared skills."""
        if not raw:
            return cls()
        if not isinstance(raw, list):
            raise EscalationError("escalation must be a list of steps")
        if len(raw) > MAX_STEPS:
            raise EscalationError(f"escalation has more than {MAX_STEPS} steps")
        steps: list[Step] = []
        for number, item in enumerate(raw, start=1):
            try:
                spec = _StepSpec.model_validate(item)
            except ValidationError as error:
                first = error.errors()[0]
                field = ".".join(str(p) for p in first["loc"]) or "step"
                raise EscalationError(
                    f"escalation step {number}: {field}: {first['msg']}"
                ) from None
            try:
                require = None if spec.require is None else Requirement.parse(spec.require, known)
                for skill in spec.drop:
                    if known is not None and skill not in known:
                        raise RequirementError(f"drop: unknown skill {skill!r}")
            except RequirementError as error:
                raise EscalationError(f"escalation step {number}: {error}") from None
            if steps and spec.after <= steps[-1].after:
                raise EscalationError(
                    f"escalation step {number}: after {spec.after} s is not later than "
                    f"step {number - 1} ({steps[-1].after} s)"
                )
            steps.append(
                Step(spec.after, spec.lower, tuple(spec.drop), require, tuple(spec.queues))
            )
        return cls(tuple(steps))

    def dump(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for step in self.steps:
            item: dict[str, Any] = {"after": step.after}
            if step.lower:
                item["lower"] = step.lower
            if step.drop:
                item["drop"] = list(step.drop)
            if step.require is not None:
                item["require"] = str(step.require)
            if step.queues:
                item["queues"] = list(step.queues)
            out.append(item)
        return out

    @property
    def queues(self) -> set[str]:
        return {q for step in self.steps for q in step.queues}

    def step_at(self, waited: float) -> int:
        """How many steps a caller who waited ``waited`` seconds has taken."""
        return sum(1 for step in self.steps if waited >= step.after)

    def next_in(self, waited: float) -> float | None:
        """Seconds until the next step (None: no step left)."""
        for step in self.steps:
            if waited < step.after:
                return step.after - waited
        return None

    def reach(self, base: Requirement, step: int) -> Reach:
        requirement, queues = base, []
        for taken in self.steps[:step]:
            if taken.require is not None:
                requirement = taken.require
            requirement = requirement.lowered(taken.lower).dropped(taken.drop)
            queues += [q for q in taken.queues if q not in queues]
        return Reach(step, requirement, tuple(queues))
