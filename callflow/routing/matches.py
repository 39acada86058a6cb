"""The members who meet a requirement, best tier first. Pure.

Placing a call must not test every agent's skills each time: the members
who meet a requirement change only with the directory, so they are found
once (``Matches.of``) and kept until the next load. Grouped in tiers —
level, then (where the queue prefers the best match) the score, best first
— a placement walks the tiers in order and stops at the first with a free
agent: with most agents free it looks at one tier, not at every match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from callflow.routing.skills import Requirement
from callflow.routing.strategies import Candidate


class FreeAgent(Protocol):
    @property
    def idle_since(self) -> float: ...

    @property
    def calls_taken(self) -> int: ...


@dataclass
class Matches:
    by_name: dict[str, tuple[int, int]] = field(default_factory=dict)  # -> (level, score)
    tiers: list[tuple[tuple[int, int], list[str]]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        pools: Sequence[Mapping[str, int]],
        skills: Mapping[str, Mapping[str, int]],
        need: Requirement,
        best: bool,
    ) -> Matches:
        """``pools``: member -> level maps (the queue's, then the queues a
        step adds: an agent in several counts at their best level);
        ``skills``: each agent's levels; ``best``: score the matches."""
        by_name: dict[str, tuple[int, int]] = {}
        for pool in pools:
            for name, level in pool.items():
                have = skills.get(name)
                if have is None or not need.matches(have):
                    continue
                score = need.score(have) if best else 0
                known = by_name.get(name)
                by_name[name] = (min(level, known[0]) if known else level, score)
        grouped: dict[tuple[int, int], list[str]] = {}
        for name, (level, score) in by_name.items():
            grouped.setdefault((level, score), []).append(name)
        tiers = sorted(grouped.items(), key=lambda item: (item[0][0], -item[0][1]))
        return cls(by_name, tiers)

    def candidates(self, free: Mapping[str, FreeAgent]) -> list[Candidate]:
        """The free agents of the best tier that has any (the strategy then
        chooses among them). With few agents free, each of them is looked up
        instead: the cost is the shorter of the two."""
        by_name = self.by_name
        if len(free) * 4 < len(by_name):
            return [
                Candidate(name, m[0], agent.idle_since, agent.calls_taken, m[1])
                for name, agent in free.items()
                if (m := by_name.get(name)) is not None
            ]
        for (level, score), names in self.tiers:
            tier = [
                Candidate(name, level, agent.idle_since, agent.calls_taken, score)
                for name in names
                if (agent := free.get(name)) is not None
            ]
            if tier:
                return tier
        return []
