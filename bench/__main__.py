"""All benchmarks in one run, on SQLite and on PostgreSQL, with one table.

    .venv/bin/python -m bench [--json bench-results.json] [--only im,assist,acd]

Runs ``bench.assist`` (1,000 sign-ins at once; bursts of 50, 100, 200
requests) and ``bench.im`` (1,000 users, 500 sessions; 2,000 messages/s for
30 s) on each database, then ``bench.acd`` (callflow on each database, the minimal
ARI router and app_queue on one Asterisk, 10 to 100 calls/s), prints each
bench's own report, then one table of the targets, and writes every figure
to the JSON file. A bench that misses a target says so; none aborts the run.
About 7 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import acd, assist, im
from bench.acd_report import DELAY_RATES

DBS = ("sqlite", "postgresql")


async def quiet_disk() -> None:
    """Write out what the previous bench left in the page cache (a removed
    database of 100,000 messages), so its writeback does not land in the
    next bench's commits."""
    await asyncio.to_thread(os.sync)
    await asyncio.sleep(2)


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def im_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    at_target = next((s for s in result["steps"] if s["rate"] == 2000), None)
    figure = (
        f"p99 {at_target['p99_ms']} ms (ping p99 {result['ping_p99_ms']} ms), "
        f"lost {at_target['lost']}, dup {at_target['duplicated']}, refused {at_target['refused']}"
        if at_target
        else "not reached"
    )
    return [
        (
            f"IM 2,000 msg/s for 30 s ({result['db']})",
            "p99 <= 100 ms, none lost",
            figure,
            verdict(bool(at_target and at_target["sustained"])),
        ),
        (
            f"IM stored before ack, memory ({result['db']})",
            "all acked stored, RSS <= 300 MB",
            f"{result['stored']} of {result['acked']} stored, peak {result['rss_peak_mib']} MiB",
            verdict(result["stored"] == result["acked"] and result["rss_peak_mib"] <= 300),
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
            verdict(result["presence_settled_s"] <= assist.SETTLED_S),
        ),
    ]


def acd_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    best = result["sustained_rate"]
    base = best.get("app_queue", 0.0)
    low, high = DELAY_RATES
    for system in (s for s in best if s.startswith("callflow")):
        ratios = [
            c["median_vs_app_queue"]
            for c in result["comparisons"]
            if c["system"] == system and low <= c["rate"] <= high
        ]
        worst = max((r for r in ratios if r is not None), default=None)
        floors = [
            f"{c['median_vs_floor']}"
            for c in result["comparisons"]
            if c["system"] == system and low <= c["rate"] <= high
        ]
        rows.append(
            (
                f"ACD offer delay vs app_queue, 10-40/s ({system})",
                "median <= 1.5x",
                f"worst x{worst} (x{', x'.join(floors)} the minimal router's)",
                verdict(worst is not None and worst <= 1.5 and len(ratios) >= 3),
            )
        )
        rows.append(
            (
                f"ACD highest rate sustained ({system})",
                ">= 1.0x app_queue's",
                f"{best[system]:g}/s vs {base:g}/s",
                verdict(bool(base) and best[system] >= base),
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


async def main(only: set[str]) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {"im": [], "assist": [], "acd": None}
    rows: list[tuple[str, str, str, str]] = [("target", "goal", "measured", "met")]
    for db in DBS:
        if "assist" in only:
            await quiet_disk()
            result = await assist.run(db, 1000, [50, 100, 200])
            assist.report(result)
            results["assist"].append(result)
            rows += assist_rows(result)
        if "im" in only:
            await quiet_disk()
            result = await im.run(db, 1000, 500, im.ladder(im.DEFAULT_RATES))
            im.report(result)
            results["im"].append(result)
            rows += im_rows(result)
    if "acd" in only:
        await quiet_disk()
        result = await acd.main([10, 20, 40, 60, 80, 100], 6, 150, 1000, dbs=DBS)
        results["acd"] = result
        rows += acd_rows(result)
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    print(f"\nall benchmarks ({results['minutes']} min):\n")
    print(table(rows))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--only", default="im,assist,acd")
    args = parser.parse_args()
    figures = asyncio.run(main(set(args.only.split(","))))
    args.json.write_text(json.dumps(figures, indent=2))
    print(f"\nfigures written to {args.json}")
    sys.exit(0)
