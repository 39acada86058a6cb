"""Skills, and what a call requires of them. Pure.

An agent has named skills, each with a level from 1 to 9 (higher is
better): ``billing = 4, spanish = 2``. A call requires a condition on those
levels, written as text in the directory, over REST or in the dialplan::

    billing >= 3 and spanish >= 1
    billing >= 3 or sales

A term is ``<skill> [<op> <level>]`` with ``op`` one of ``>= > = <= <``; a
bare skill means ``>= 1`` (the agent has it); a skill the agent lacks is
level 0. ``and`` binds tighter than ``or``; no parentheses. An empty
requirement is met by anyone.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

MIN_LEVEL, MAX_LEVEL = 1, 9
MAX_TEXT = 200  # characters of one requirement
SKILL_PATTERN = r"^[a-z][a-z0-9_-]{0,29}$"
_SKILL = re.compile(SKILL_PATTERN)
_TERM = re.compile(r"^\s*([a-z][a-z0-9_-]{0,29})\s*(?:(>=|<=|==|=|>|<)\s*(\d+))?\s*$")
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge, ">": operator.gt, "=": operator.eq,
    "<=": operator.le, "<": operator.lt,
}  # fmt: skip


class RequirementError(ValueError):
    """A requirement that cannot be read; the message names the problem."""


def valid_skill(name: str) -> bool:
    return bool(_SKILL.match(name))


def check_levels(skills: Mapping[str, int], known: Collection[str] | None = None) -> None:
    """An agent's skills: known names, levels 1..9 (RequirementError otherwise)."""
    for name, level in skills.items():
        if not valid_skill(name):
            raise RequirementError(f"{name!r} is not a skill name (a-z, 0-9, _ and -)")
        if known is not None and name not in known:
            raise RequirementError(f"unknown skill {name!r} ({_known(known)})")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise RequirementError(f"skill {name!r}: level {level} is outside 1..9")


def _known(known: Collection[str]) -> str:
    return f"known: {', '.join(sorted(known))}" if known else "no skills are declared"


@dataclass(frozen=True)
class Term:
    skill: str
    op: str = ">="
    level: int = 1

    def met(self, skills: Mapping[str, int]) -> bool:
        return _OPS[self.op](skills.get(self.skill, 0), self.level)

    def __str__(self) -> str:
        return f"{self.skill} {self.op} {self.level}"


@dataclass(frozen=True)
class Requirement:
    """``or`` of ``and``s: met when every term of one alternative is."""

    alternatives: tuple[tuple[Term, ...], ...] = ()

    @classmethod
    def parse(cls, text: str | None, known: Collection[str] | None = None) -> Requirement:
        """Read ``text``; with ``known``, every skill named must be in it."""
        text = (text or "").strip()
        if not text:
            return ANYONE
        if len(text) > MAX_TEXT:
            raise RequirementError(f"requirement longer than {MAX_TEXT} characters")
        alternatives = []
        for alternative in re.split(r"\s+or\s+", text):
            terms = []
            for part in re.split(r"\s+and\s+", alternative):
                match = _TERM.match(part)
                if match is None:
                    raise RequirementError(
                        f"cannot read {part.strip()!r} in requirement {text!r}: "
                        "expected <skill> [>=|>|=|<=|< <level>], joined by 'and' / 'or'"
                    )
                skill, op, level = match.group(1), match.group(2) or ">=", match.group(3)
                if known is not None and skill not in known:
                    raise RequirementError(f"unknown skill {skill!r} ({_known(known)})")
                number = int(level) if level is not None else 1
                if number > MAX_LEVEL:
                    raise RequirementError(f"level {number} for {skill!r} is above {MAX_LEVEL}")
                terms.append(Term(skill, "=" if op == "==" else op, number))
            alternatives.append(tuple(terms))
        return cls(tuple(alternatives))

    @property
    def anyone(self) -> bool:
        return not self.alternatives or any(not terms for terms in self.alternatives)

    @property
    def skills(self) -> set[str]:
        return {t.skill for terms in self.alternatives for t in terms}

    def matches(self, skills: Mapping[str, int]) -> bool:
        if self.anyone:
            return True
        return any(all(t.met(skills) for t in terms) for terms in self.alternatives)

    def score(self, skills: Mapping[str, int]) -> int:
        """How well an agent who matches fits: the sum of their levels in
        the skills of the best alternative they meet (0: none named)."""
        return max(
            (sum(skills.get(t.skill, 0) for t in terms)
             for terms in self.alternatives if all(t.met(skills) for t in terms)),
            default=0,
        )  # fmt: skip

    def matched(self, skills: Mapping[str, int]) -> dict[str, int]:
        """The agent's levels in the skills named (what the offer is explained by)."""
        return {name: skills.get(name, 0) for name in sorted(self.skills)}

    def lowered(self, by: int) -> Requirement:
        """Minimum levels (``>=``, ``>``) lowered by ``by``; a minimum that
        reaches 0 asks nothing any more."""
        if by <= 0:
            return self

        def lower(term: Term) -> Term | None:
            if term.op not in (">=", ">"):
                return term
            level = term.level - by
            if level <= 0 if term.op == ">=" else level < 0:
                return None
            return Term(term.skill, term.op, level)

        return self._mapped(lower)

    def dropped(self, names: Iterable[str]) -> Requirement:
        gone = set(names)
        return self._mapped(lambda term: None if term.skill in gone else term)

    def _mapped(self, change: Callable[[Term], Term | None]) -> Requirement:
        alternatives = []
        for terms in self.alternatives:
            kept = tuple(t for t in (change(term) for term in terms) if t is not None)
            if not kept:
                return ANYONE  # an alternative with no terms left: anyone meets it
            alternatives.append(kept)
        return Requirement(tuple(alternatives))

    def __str__(self) -> str:
        return " or ".join(" and ".join(str(t) for t in terms) for terms in self.alternatives)


ANYONE = Requirement()
