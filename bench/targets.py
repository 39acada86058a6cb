"""The benchmarks' targets as rows (target, goal, measured, met), from the
figures each bench returns: printed as text by ``python -m bench`` and as
Markdown by ``python -m bench.render``."""

from __future__ import annotations

from typing import Any

from bench.acd_report import DELAY_RATES
from bench.assist import SETTLED_S
from bench.im import TARGET_RATE, TARGET_RSS_MIB

FLOOR_RATES = (10.0, 20.0, 40.0, 60.0, 80.0, 100.0)  # calls/s: delay vs the minimal router
FLOOR_RATES_UPTO = FLOOR_RATES[-1]
FLOOR_TARGET = 1.05  # callflow's median offer delay, as a multiple of the minimal router's
RATE_TARGET = 1.5  # callflow's highest sustained rate, as a multiple of app_queue's


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def im_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    at_target = next((s for s in result["steps"] if s["rate"] == TARGET_RATE), None)
    figure = (
        f"p99 {at_target['p99_ms']} ms (ping p99 {result['ping_p99_ms']} ms), "
        f"lost {at_target['lost']}, dup {at_target['duplicated']}, refused {at_target['refused']}"
        if at_target
        else "not reached"
    )
    return [
        (
            f"IM {TARGET_RATE:,.0f} msg/s for 30 s, {result['users']:,} users ({result['db']})",
            "p99 <= 100 ms, none lost",
            figure,
            verdict(bool(at_target and at_target["sustained"])),
        ),
        (
            f"IM stored before ack, memory ({result['db']})",
            f"all acked stored, RSS <= {TARGET_RSS_MIB} MiB",
            f"{result['stored']} of {result['acked']} stored, peak {result['rss_peak_mib']} MiB",
            verdict(
                result["stored"] == result["acked"] and result["rss_peak_mib"] <= TARGET_RSS_MIB
            ),
        ),
        (
            f"IM highest rate sustained ({result['db']})",
            "",
            f"{result['sustained_rate']:g}/s",
            "",
        ),
    ]


def assist_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    burst = next((b for b in result["bursts"] if b["size"] == 200), None)
    return [
        (
            f"200 assist requests at once ({result['db']})",
            "offer p99 <= 200 ms",
            f"median {burst['median_ms']} / p99 {burst['p99_ms']} ms" if burst else "not reached",
            verdict(bool(burst and burst["sustained"])),
        ),
        (
            f"1,000 sign-ins at once ({result['db']})",
            "presence settled <= 2 s",
            f"{result['presence_settled_s']} s",
            verdict(result["presence_settled_s"] <= SETTLED_S),
        ),
    ]


def acd_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    best = result["sustained_rate"]
    base = best.get("app_queue", 0.0)
    low, high = DELAY_RATES
    for system in (s for s in best if s.startswith("callflow")):
        mine = [c for c in result["comparisons"] if c["system"] == system]
        ratios = [c["median_vs_app_queue"] for c in mine if low <= c["rate"] <= high]
        worst = max((r for r in ratios if r is not None), default=None)
        floors = [f"{c['median_vs_floor']}" for c in mine if low <= c["rate"] <= high]
        rows.append(
            (
                f"ACD offer delay vs app_queue, 10-40/s ({system})",
                "median <= 1.5x",
                f"worst x{worst} (x{', x'.join(floors)} the minimal router's)",
                verdict(worst is not None and worst <= 1.5 and len(ratios) >= 3),
            )
        )
        if system != "callflow-rec":  # recording's cost has a row of its own
            near = [c for c in mine if c["rate"] <= FLOOR_RATES_UPTO]
            over = [c for c in near if c["median_vs_floor"] is not None]
            worst_floor = max((c["median_vs_floor"] for c in over), default=None)
            rows.append(
                (
                    f"ACD offer delay vs the minimal router, 10-{FLOOR_RATES_UPTO:g}/s ({system})",
                    f"median <= {FLOOR_TARGET}x at every rate",
                    ", ".join(f"{c['rate']:g}/s x{c['median_vs_floor']}" for c in near)
                    or "not reached",
                    verdict(
                        worst_floor is not None
                        and worst_floor <= FLOOR_TARGET
                        and {c["rate"] for c in over} >= set(FLOOR_RATES)
                    ),
                )
            )
        if system.endswith("-rec"):
            continue  # climbs only to 40/s: its cost is the recording row below
        rows.append(
            (
                f"ACD highest rate sustained ({system})",
                f">= {RATE_TARGET}x app_queue's",
                f"{best[system]:g}/s vs {base:g}/s",
                verdict(bool(base) and best[system] >= RATE_TARGET * base),
            )
        )
    cost = result.get("recording")
    if cost is not None:
        rows.append(
            (
                f"Recording every call: offer delay, 10-40/s ({cost['system']})",
                "median <= 1.10x without",
                f"x{cost['ratio']} ({cost['median_ms']} vs {cost['without_median_ms']} ms, "
                f"{cost['calls']} calls)",
                verdict(cost["ratio"] is not None and cost["ratio"] <= 1.10),
            )
        )
    return rows


def table(rows: list[tuple[str, str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def skills_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    medians = result["median_ms"]
    ratio, base = result["callflow_ratio"], result["app_queue_ratio"]
    rates = "-".join(f"{r:g}" for r in (result["rates"][0], result["rates"][-1])) if result[
        "rates"] else "no rate"  # fmt: skip
    return [
        (
            f"Skills ACD offer delay, 1,000 vs 150 agents, {rates}/s (callflow)",
            f"<= {result['target']}x",
            f"x{ratio} ({medians['callflow-1000']} vs {medians['callflow-150']} ms); "
            f"app_queue with penalties x{base}; offers not matching {result['mismatched']}",
            verdict(ratio is not None and ratio <= result["target"] and not result["mismatched"]),
        )
    ]


def shift_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    guesses = result["guesses"]
    held_back = guesses.get("429", 0)
    return [
        (
            f"Shift start: {result['agents']} agents sign in over {result['within_s']:g} s "
            f"({result['db']})",
            "every one available, none shown an error; password guesses still get 429",
            f"all available after {result['all_available_s']} s, {result['throttled']} 429s "
            f"waited out, {result['problems']} with a problem; guesses: {held_back} of "
            f"{sum(guesses.values())} answered 429",
            verdict(
                result["available"] == result["agents"]
                and not result["problems"]
                and (not guesses or held_back > 0)
            ),
        )
    ]


def webchat_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (
            f"Web chats: {result['chats']:,} open over {result['agents']} agents, "
            f"{result['rate']:,.0f} lines/s for {result['seconds']:g} s ({result['db']})",
            "p99 <= 100 ms, none lost, every line stored",
            f"p99 {result['p99_ms']} ms (median {result['median_ms']}), lost {result['lost']}, "
            f"dup {result['duplicated']}, refused {result['refused']}, stored {result['stored']} "
            f"of {result['sent']}; peak {result['rss_peak_mib']} MiB",
            verdict(bool(result["met"])),
        )
    ]


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Every target of one run (``python -m bench``'s JSON)."""
    found: list[tuple[str, str, str, str]] = []
    for result in results.get("assist", []):
        found += assist_rows(result)
    for result in results.get("im", []):
        found += im_rows(result)
    if results.get("acd"):
        found += acd_rows(results["acd"])
    if results.get("failover"):
        found += failover_rows(results["failover"])
    if results.get("skills"):
        found += skills_rows(results["skills"])
    for result in results.get("shift") or []:
        found += shift_rows(result)
    for result in results.get("webchat") or []:
        found += webchat_rows(result)
    return found


def failover_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    r = result
    return [
        (
            f"Failover under load: kill -9 of the active node, {r['rate']:g} calls/s, "
            f"{r['sockets']} consoles (postgresql)",
            "every talking call kept, waiting caller served, acked message stored, console back",
            f"takeover {r['takeover_s']} s; talking {r['talking_kept']}/{r['talking_at_kill']} "
            f"kept, waiting {r['waiting_served']}/{r['waiting_at_kill']} served, "
            f"{r['calls_failed']} of {r['calls']} calls failed; messages "
            f"{r['messages_stored']}/{r['messages_acked']} stored; consoles "
            f"{r['sockets_reconnected']}/{r['sockets']} back after {r['reconnected_all_s']} s",
            verdict(bool(r["met"])),
        )
    ]
