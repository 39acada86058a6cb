"""Skills ACD benchmark: the offer delay with skill requirements, at 150 and 1,000 agents.

    .venv/bin/python -m bench.skills [--rates 10,20,30] [--seconds 4] [--passes 4] [--talk-ms 500]

One private PBX with 1,000 SIP agents (one SIPp process answers for all of
them: every agent's contact points at it). Agent ``b<n>`` has ``billing =
n % 9 + 1`` and, for even n, ``spanish = 2``. Every caller requires
``billing >= 3 and spanish`` (7 agents in 18 match: 58 of 150, 389 of
1,000). The contestants, each once with agents b1..b150 and once with
b1..b1000, all on the same PBX at the same time:

- ``callflow-150`` / ``callflow-1000``: two ``callflow serve`` processes
  (SQLite, ARI applications ``cf150`` and ``cf1000``), each with a queue of
  its agents (longest-idle, ``skill_preference = "best"``, no wrap-up);
  the requirement comes from the dialplan, as an IVR would pass it;
- ``app_queue-150`` / ``app_queue-1000``: ``Queue()`` with the same agents
  as members with penalties (0 for the agents who match, 5 for the others)
  and ``QUEUE_MAX_PENALTY=0``: app_queue's way to require a skill.

At each rate of ``--rates`` the four run in turn (SIPp customers for
``--seconds``; agents answer at once and hang up after ``--talk-ms``); four
passes, every other one in the reverse order, and each figure pools them. The
figure is the median delay from the customer's INVITE leaving SIPp to the
agent's INVITE reaching SIPp, over the rates every contestant sustained;
the target is callflow's median at 1,000 agents at most 1.1x its median at
150, with app_queue's ratio beside. Every offer is checked against the
requirement (``mismatched``: agents rung who do not meet it). Traffic stays
on 127.0.0.1, bounded by rate x seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.acd import Runner, agent_phones, serving, settle
from bench.acd_report import RunResult, pooled, sustained
from callflow.localpbx.render import Account
from callflow.localpbx.runner import LocalPbx, free_port
from callflow.routing.skills import Requirement

SIZES = (150, 1000)
REQUIREMENT = "billing >= 3 and spanish"
TARGET = 1.1
# Four short passes rather than two long ones: the same calls, but a pass
# that happens to run slow (the host's state varies by ±15 % from one block
# of seconds to the next) weighs a quarter of the figure, not a half.
PASSES = 4


def skills_of(n: int) -> dict[str, int]:
    return {"billing": n % 9 + 1, **({"spanish": 2} if n % 2 == 0 else {})}


def matches(n: int) -> bool:
    return Requirement.parse(REQUIREMENT).matches(skills_of(n))


def dialplan() -> str:
    lines = ["[callflow-inbound]"]
    for size in SIZES:
        lines += [
            f"exten => sk{size},1,Stasis(cf{size},queue,skills,,{REQUIREMENT})",
            " same => n,Hangup()",
            f"exten => aq{size},1,Set(QUEUE_MAX_PENALTY=0)",
            f" same => n,Queue(skills{size},,,,60)",
            " same => n,Hangup()",
        ]
    return "\n".join(lines) + "\n"


def queues_conf() -> str:
    """app_queue's queues: the members and their penalties, from the start."""
    lines = ["[general]", "persistentmembers = no", "shared_lastcall = yes"]
    for size in SIZES:
        lines += [
            "", f"[skills{size}]", "strategy = leastrecent", "timeout = 15", "retry = 1",
            "wrapuptime = 0", "joinempty = yes", "ringinuse = no",
        ]  # fmt: skip
        lines += [f"member => PJSIP/b{n},{0 if matches(n) else 5}" for n in range(1, size + 1)]
    return "\n".join(lines) + "\n"


def directory(size: int) -> str:
    lines = ["[skills]", 'billing = "Invoices"', 'spanish = "Speaks Spanish"', ""]
    lines += [
        "[[queues]]", 'name = "skills"', "wrapup = 0", "announce_every = 0",
        "ring_timeout = 15", "max_wait = 0", 'skill_preference = "best"', "",
    ]  # fmt: skip
    for n in range(1, size + 1):
        levels = ", ".join(f"{k} = {v}" for k, v in skills_of(n).items())
        lines += [
            "[[agents]]", f'name = "b{n}"', f'endpoint = "PJSIP/b{n}"',
            "queues = { skills = 1 }", f"skills = {{ {levels} }}",
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def mismatched(agent_log: Path) -> int:
    """Offers (agent INVITEs) to agents who do not meet the requirement."""
    bad = 0
    for line in agent_log.read_text().splitlines() if agent_log.exists() else []:
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "offered" and parts[4].startswith("b"):
            bad += not matches(int(parts[4][1:]))
    return bad


def summary(results: list[RunResult]) -> dict[str, Any]:
    """Medians over the rates every contestant sustained, and the two ratios."""
    systems = [f"{kind}-{size}" for kind in ("callflow", "app_queue") for size in SIZES]
    rates = sorted({r.rate for r in results})
    common = [
        rate for rate in rates
        if all(any(r.system == s and r.rate == rate and sustained(r) for r in results)
               for s in systems)
    ]  # fmt: skip
    medians: dict[str, float | None] = {}
    for system in systems:
        delays = [d for r in results if r.system == system and r.rate in common for d in r.delays]
        medians[system] = round(statistics.median(delays), 2) if delays else None

    def ratio(kind: str) -> float | None:
        small, large = medians[f"{kind}-{SIZES[0]}"], medians[f"{kind}-{SIZES[1]}"]
        return round(large / small, 3) if small and large else None

    return {
        "requirement": REQUIREMENT,
        "rates": common,
        "median_ms": medians,
        "callflow_ratio": ratio("callflow"),
        "app_queue_ratio": ratio("app_queue"),
        "target": TARGET,
        "runs": [r.figures() for r in results],
    }


async def main(
    rates: list[float],
    seconds: float,
    talk_ms: int,
    profile: Path | None = None,
    passes: int = PASSES,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="callflow-bench-skills-"))
    agent_port = free_port()
    agents = [f"b{n}" for n in range(1, SIZES[-1] + 1)]
    accounts = [
        Account(name, "agent", f"bench-{name}-{os.getpid()}-pw",
                contact=f"sip:{name}@127.0.0.1:{agent_port}")
        for name in agents
    ]  # fmt: skip
    pbx = LocalPbx.open(f"bench-skills-{os.getpid()}", fresh=True, accounts=accounts)
    pbx.extra_files["extensions_local.conf"] = dialplan()
    pbx.extra_files["queues.conf"] = queues_conf()
    pbx.start()
    agent_sipp = None
    try:
        agent_sipp, agent_log = await agent_phones(work, agent_port, talk_ms)
        runner = Runner(pbx, work, agent_log, seconds)
        async with contextlib.AsyncExitStack() as stack:
            for size in SIZES:
                await stack.enter_async_context(
                    serving(
                        pbx, work, agents[:size], "sqlite", True,
                        None if profile is None else profile.with_suffix(f".{size}"),
                        extra_env={"CALLFLOW_ARI__APP": f"cf{size}"},
                        directory=directory(size), home_name=f"cf{size}",
                    )
                )  # fmt: skip
            systems = [(f"{kind}-{size}", f"{prefix}{size}")
                       for size in SIZES for kind, prefix in (("callflow", "sk"),
                                                              ("app_queue", "aq"))]  # fmt: skip
            for system, service in systems:
                await runner.warm_up(system, service)
            # passes in alternate orders: a host that drifts during the run
            # moves both sizes alike, and no contestant always runs first
            for n in range(passes):
                await runner.ladder(systems if n % 2 == 0 else systems[::-1], rates)
        figures = summary(pooled(runner.results))
        figures["mismatched"] = mismatched(agent_log)
        report(figures)
        return figures
    finally:
        if agent_sipp is not None and agent_sipp.returncode is None:
            agent_sipp.send_signal(signal.SIGTERM)
            await agent_sipp.wait()
        await settle(pbx)
        pbx.remove()


def report(figures: dict[str, Any]) -> None:
    medians = figures["median_ms"]
    rates = ", ".join(f"{r:g}" for r in figures["rates"]) or "none"
    print(f"\nskills ACD ({figures['requirement']}), median offer delay over {rates}/s:")
    for system, value in medians.items():
        print(f"  {system:16} {value} ms")
    print(
        f"  1,000 vs 150 agents: callflow x{figures['callflow_ratio']} (target <= "
        f"{figures['target']}), app_queue x{figures['app_queue_ratio']}; "
        f"offers to agents not matching: {figures['mismatched']}"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="10,20,30")
    p.add_argument("--seconds", type=float, default=4, help="per contestant, rate and pass")
    p.add_argument("--passes", type=int, default=PASSES)
    p.add_argument("--talk-ms", type=int, default=500)
    p.add_argument("--profile", type=Path, help="py-spy raw stacks of each serve: FILE.<size>.<db>")
    return p


if __name__ == "__main__":
    args = parser().parse_args()
    result = asyncio.run(
        main(
            [float(r) for r in args.rates.split(",")],
            args.seconds,
            args.talk_ms,
            args.profile,
            args.passes,
        )
    )
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))
