from typing import NamedTuple

import pytest

from callflow.routing.escalation import Escalation, EscalationError
from callflow.routing.matches import Matches
from callflow.routing.skills import Requirement, RequirementError, check_levels
from callflow.routing.strategies import Candidate, Strategy, choose

KNOWN = {"billing", "spanish", "sales"}


def test_a_requirement_is_met_by_levels_at_or_above_its_minimums() -> None:
    need = Requirement.parse("billing >= 3 and spanish")
    assert need.matches({"billing": 3, "spanish": 1})
    assert need.matches({"billing": 9, "spanish": 4})
    assert not need.matches({"billing": 2, "spanish": 5})
    assert not need.matches({"billing": 5})  # a skill the agent lacks is level 0


def test_or_offers_alternatives_and_binds_looser_than_and() -> None:
    need = Requirement.parse("billing >= 3 and spanish or sales = 2")
    assert need.matches({"sales": 2})
    assert not need.matches({"sales": 3})
    assert need.matches({"billing": 4, "spanish": 1})
    assert str(need) == "billing >= 3 and spanish >= 1 or sales = 2"


def test_an_empty_requirement_is_met_by_anyone() -> None:
    assert Requirement.parse("").matches({})
    assert Requirement.parse(None).anyone


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("billing >> 3", "cannot read 'billing >> 3'"),
        ("billing >= 3 and", "cannot read"),
        ("french >= 1", "unknown skill 'french' (known: billing, sales, spanish)"),
        ("billing >= 12", "level 12 for 'billing' is above 9"),
        ("x" * 201, "longer than 200"),
    ],
)
def test_a_malformed_requirement_is_refused_with_the_problem_named(text: str, problem: str) -> None:
    with pytest.raises(RequirementError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Requirement.parse(text, KNOWN)


def test_an_agents_levels_must_be_known_skills_from_1_to_9() -> None:
    check_levels({"billing": 4}, KNOWN)
    with pytest.raises(RequirementError, match="unknown skill 'french'"):
        check_levels({"french": 2}, KNOWN)
    with pytest.raises(RequirementError, match=r"level 0 is outside 1\.\.9"):
        check_levels({"billing": 0}, KNOWN)


def test_the_score_is_the_agents_levels_in_the_skills_asked() -> None:
    need = Requirement.parse("billing >= 2 and spanish")
    assert need.score({"billing": 4, "spanish": 2, "sales": 9}) == 6
    assert need.matched({"billing": 4, "sales": 9}) == {"billing": 4, "spanish": 0}


def test_escalation_steps_add_up_and_never_reorder_anything() -> None:
    steps = Escalation.parse(
        [{"after": 30, "lower": 1}, {"after": 60, "drop": ["spanish"]},
         {"after": 90, "queues": ["sales"]}, {"after": 120, "require": ""}],
        KNOWN,
    )  # fmt: skip
    base = Requirement.parse("billing >= 3 and spanish >= 2")
    assert [steps.step_at(t) for t in (0, 29.9, 30, 61, 90, 500)] == [0, 0, 1, 2, 3, 4]
    assert steps.next_in(10) == 20 and steps.next_in(120) is None
    assert str(steps.reach(base, 1).requirement) == "billing >= 2 and spanish >= 1"
    assert str(steps.reach(base, 2).requirement) == "billing >= 2"
    assert steps.reach(base, 3).queues == ("sales",)
    assert steps.reach(base, 4).requirement.anyone


def test_a_minimum_lowered_to_nothing_stops_being_asked() -> None:
    need = Requirement.parse("billing >= 2 and spanish >= 1")
    assert str(need.lowered(1)) == "billing >= 1"
    assert need.lowered(2).anyone


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([{"after": 30}, {"after": 20}], "step 2: after 20 s is not later than step 1"),
        ([{"after": 0}], "step 1: after:"),
        ([{"after": 5, "drop": ["french"]}], "step 1: drop: unknown skill 'french'"),
        ([{"after": 5, "require": "billing >"}], "step 1: cannot read"),
        ([{"after": 5, "wait": 3}], "step 1: wait:"),
    ],
)
def test_a_bad_escalation_names_its_step_and_field(
    raw: list[dict[str, object]], problem: str
) -> None:
    with pytest.raises(EscalationError, match=problem):
        Escalation.parse(raw, KNOWN)


def test_the_best_match_wins_within_a_tier_when_scored() -> None:
    free = [Candidate("ann", 1, 10.0, 0, score=4), Candidate("bob", 1, 50.0, 0, score=7),
            Candidate("cid", 2, 1.0, 0, score=9)]  # fmt: skip
    assert [c.name for c in choose(Strategy.LONGEST_IDLE, free)] == ["bob"]
    plain = [c._replace(score=0) for c in free]  # no preference: the longest idle
    assert [c.name for c in choose(Strategy.LONGEST_IDLE, plain)] == ["ann"]


class Free(NamedTuple):
    idle_since: float
    calls_taken: int = 0


def test_matches_are_tiered_and_the_first_tier_with_anyone_free_is_offered() -> None:
    pools = [{"ann": 1, "bob": 1, "cid": 2, "dan": 1}, {"eve": 1, "cid": 1}]
    skills = {"ann": {"billing": 4}, "bob": {"billing": 2}, "cid": {"billing": 9},
              "dan": {}, "eve": {"billing": 4}}  # fmt: skip
    found = Matches.of(pools, skills, Requirement.parse("billing >= 2"), best=True)
    assert "dan" not in found.by_name and found.by_name["cid"] == (1, 9)  # best level of two
    assert [names for _, names in found.tiers] == [["cid"], ["ann", "eve"], ["bob"]]
    everyone = {name: Free(float(n)) for n, name in enumerate(["ann", "bob", "dan", "eve"])}
    assert {c.name for c in found.candidates(everyone)} == {"ann", "eve"}  # cid is busy
    assert [c.name for c in found.candidates({"bob": Free(1.0)})] == ["bob"]  # few free
    many = Matches.of([{f"x{n}": 1 for n in range(40)}], {f"x{n}": {} for n in range(40)},
                      Requirement.parse(""), best=False)  # fmt: skip
    few = {"x7": Free(5.0), "stranger": Free(1.0)}  # 2 free of 40: each looked up
    assert [(c.name, c.idle_since) for c in many.candidates(few)] == [("x7", 5.0)]
    half = {f"x{n}": Free(float(n)) for n in range(20)}  # many free: the tier is walked
    assert len(many.candidates(half)) == 20
