"""callflow killed mid-call: audio goes on; on restart it re-adopts everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from callflow.db.engine import Database
from callflow.db.models import Agent
from callflow.directory import apply_directory, parse_directory
from tests.harness.ari_probe import AriProbe
from tests.harness.db_rows import rows
from tests.harness.poll import poll_until
from tests.harness.serve import ServeProcess
from tests.harness.sipp import Sipp
from tests.integration.conftest import agent_port
from tests.integration.routing.helpers import directory


def _rows(env: dict[str, str]) -> list[tuple[Any, ...]]:
    return rows(
        env["CALLFLOW_DB__URL"],
        "SELECT caller_number, agent, outcome, answered_at FROM interaction ORDER BY id",
    )


async def _prepare(env: dict[str, str], tmp_path: Path, text: str, available: list[str]) -> None:
    """The directory as serve will load it, with these agents already logged in."""
    path = tmp_path / "directory.toml"
    path.write_text(text)
    env["CALLFLOW_DIRECTORY_FILE"] = str(path)
    db = Database(env["CALLFLOW_DB__URL"])
    try:
        await apply_directory(db, parse_directory(path))
        async with db.session() as session:
            for agent in (await session.exec(select(Agent))).all():
                agent.state = "available" if agent.name in available else "logged_out"
                session.add(agent)
            await session.commit()
    finally:
        await db.close()


async def test_killed_callflow_readopts_the_conversation_and_the_waiting_callers_in_order(
    serve: ServeProcess,
    sipp: Sipp,
    ari_probe: AriProbe,
    callflow_env: dict[str, str],
    tmp_path: Path,
) -> None:
    await _prepare(
        callflow_env, tmp_path, directory({"re": {"max_wait": 120}}, {"a1": {"re": 1}}), ["a1"]
    )
    await serve.start()
    await serve.wait_healthy()
    phone = await sipp.agent(agent_port("a1"), calls=3)  # waits for each caller's BYE
    talking = await sipp.customer("qre", caller="5550001", hang_up_after_ms=6000)
    await poll_until(
        lambda: _rows(callflow_env) and _rows(callflow_env)[0][3],
        message="first caller talking to a1",
    )
    first_waiting = await sipp.customer("qre", caller="5550002", hang_up_after_ms=12000)
    await poll_until(lambda: len(_rows(callflow_env)) == 2, message="second caller queued")
    second_waiting = await sipp.customer("qre", caller="5550003", hang_up_after_ms=18000)
    await poll_until(lambda: len(_rows(callflow_env)) == 3, message="third caller queued")

    serve.kill()
    await serve.process.wait()  # type: ignore[union-attr]
    names = {c["name"].split("-")[0] for c in await ari_probe.channels()}
    assert names == {"PJSIP/trunk", "PJSIP/a1"}  # calls still up without callflow

    await serve.start()
    await serve.wait_healthy()
    for peer in (talking, first_waiting, second_waiting, phone):
        assert await peer.wait(40) == 0, peer.errors
    rows = await poll_until(
        lambda: all(r[2] for r in _rows(callflow_env)) and _rows(callflow_env),
        message="all three calls recorded as ended",
    )
    assert rows
    assert [(number, agent, outcome) for number, agent, outcome, _ in rows] == [
        ("5550001", "a1", "answered"),
        ("5550002", "a1", "answered"),
        ("5550003", "a1", "answered"),
    ]
    assert str(rows[1][3]) < str(rows[2][3])  # re-adopted in their original order
    assert "re-adopted" in serve.log
