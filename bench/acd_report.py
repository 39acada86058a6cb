"""The ACD benchmark's figures: runs, their pooling, ratios and the printed table.

The baselines (app_queue and the minimal ARI router) climb their ladder once
before the callflow contestants and once after; a rate's figure pools the
calls of both passes. A machine whose speed drifts during the run (a shared
host) then moves the baselines as much as the contestants measured between
them, instead of deciding the ratio by which system happened to run when.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, fields
from typing import Any

from bench.stats import percentile


@dataclass
class RunResult:
    system: str
    rate: float
    calls: int
    failed: int
    delay_median_ms: float | None
    delay_p95_ms: float | None
    storm: dict[str, int] | None = None  # status code -> count of the login storm
    passes: int = 1
    delays: list[float] = field(default_factory=list, repr=False)  # ms, one per offered call

    @classmethod
    def of(
        cls, system: str, rate: float, calls: int, failed: int, delays: list[float],
        storm: dict[str, int] | None = None, passes: int = 1,
    ) -> RunResult:  # fmt: skip
        return cls(
            system=system, rate=rate, calls=calls, failed=failed,
            delay_median_ms=round(statistics.median(delays), 1) if delays else None,
            delay_p95_ms=round(percentile(delays, 0.95), 1) if delays else None,
            storm=storm, passes=passes, delays=delays,
        )  # fmt: skip

    def figures(self) -> dict[str, Any]:
        """Everything but the raw delays (for JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "delays"}


def pooled(results: list[RunResult]) -> list[RunResult]:
    """One result per (system, rate): the calls of every pass at that rate together."""
    groups: dict[tuple[str, float], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.system, r.rate), []).append(r)
    merged = []
    for (system, rate), runs in groups.items():
        if len(runs) == 1:
            merged.append(runs[0])
            continue
        storms = [r.storm for r in runs if r.storm is not None]
        storm: dict[str, int] | None = None
        if storms:
            storm = {}
            for answers in storms:
                for key, count in answers.items():
                    storm[key] = storm.get(key, 0) + count
        calls, failed = sum(r.calls for r in runs), sum(r.failed for r in runs)
        delays = [d for r in runs for d in r.delays]
        merged.append(RunResult.of(system, rate, calls, failed, delays, storm, passes=len(runs)))
    return merged


DELAY_RATES = (10.0, 40.0)  # calls/s: where the delay target applies (both ends included)
SUSTAINED_P95_MS = 500.0  # an agent's phone ringing half a second late is noticeable


def sustained(result: RunResult) -> bool:
    return result.failed == 0 and (result.delay_p95_ms or 1e9) < SUSTAINED_P95_MS


def best_rate(results: list[RunResult], system: str) -> float:
    return max((r.rate for r in results if r.system == system and sustained(r)), default=0.0)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def recording_cost(results: list[RunResult]) -> dict[str, Any] | None:
    """What recording every call adds to the offer delay: each ``-rec``
    system's median against its twin's, every call at the delay target's
    rates pooled (hundreds of calls each, so one noisy rate decides nothing)."""
    low, high = DELAY_RATES
    for rec in {r.system for r in results if r.system.endswith("-rec")}:
        twin = rec.removesuffix("-rec")
        mine = [d for r in results if r.system == rec and low <= r.rate <= high for d in r.delays]
        base = [d for r in results if r.system == twin and low <= r.rate <= high for d in r.delays]
        if mine and base:
            with_rec, without = statistics.median(mine), statistics.median(base)
            return {
                "system": rec, "calls": len(mine),
                "median_ms": round(with_rec, 1), "without_median_ms": round(without, 1),
                "ratio": ratio(with_rec, without),
            }  # fmt: skip
    return None


def summary(results: list[RunResult], seconds: float) -> dict[str, Any]:
    """Per rate, each callflow against app_queue and against the floor
    (``results`` pooled: one per system and rate)."""
    systems = list(dict.fromkeys(r.system for r in results))
    by = {(r.system, r.rate): r for r in results}
    comparisons = []
    for rate in sorted({r.rate for r in results}):
        base, floor = by.get(("app_queue", rate)), by.get(("floor", rate))
        for system in (s for s in systems if s.startswith("callflow")):
            mine = by.get((system, rate))
            if mine is None:
                continue
            calm = by.get((system.removesuffix("+storm"), rate)) if mine.storm else None
            comparisons.append(
                {
                    "system": system,
                    "rate": rate,
                    "median_vs_app_queue": ratio(
                        mine.delay_median_ms, base.delay_median_ms if base else None
                    ),
                    "median_vs_floor": ratio(
                        mine.delay_median_ms, floor.delay_median_ms if floor else None
                    ),
                    "storm": mine.storm,
                    "median_vs_without_storm": ratio(
                        mine.delay_median_ms, calm.delay_median_ms if calm else None
                    ),
                }
            )
    return {
        "seconds": seconds,
        "recording": recording_cost(results),
        "runs": [r.figures() | {"sustained": sustained(r)} for r in results],
        "sustained_rate": {s: best_rate(results, s) for s in systems},
        "comparisons": comparisons,
    }


def report(results: list[RunResult]) -> None:
    print("\nsystem          rate/s  calls  failed  INVITE->agent INVITE median / p95 (ms)")
    for r in results:
        print(
            f"{r.system:<15} {r.rate:>6g} {r.calls:>6} {r.failed:>7}  "
            f"{r.delay_median_ms} / {r.delay_p95_ms}"
            + ("" if sustained(r) else "  (not sustained)")
        )
    digest = summary(results, 0)
    best = digest["sustained_rate"]
    base = best.get("app_queue", 0.0)
    print(
        f"\nhighest rate sustained (no failed call, p95 offer delay under "
        f"{SUSTAINED_P95_MS:g} ms): " + ", ".join(f"{s} {rate:g}/s" for s, rate in best.items())
    )
    for system, rate in best.items():
        if system.startswith("callflow") and base:
            print(f"{system} / app_queue highest rate: {rate / base:.2f}")
    for c in digest["comparisons"]:
        if c["median_vs_app_queue"] is None and c["median_vs_floor"] is None:
            continue  # no baseline ran at this rate (bench.servers)
        line = (
            f"at {c['rate']:g}/s: {c['system']} median offer delay x{c['median_vs_app_queue']} "
            f"app_queue's, x{c['median_vs_floor']} the minimal ARI router's"
        )
        if c["storm"] is not None:
            line += (
                f"; login storm answers {c['storm']}, x{c['median_vs_without_storm']} "
                "the delay without the storm"
            )
        print(line)
