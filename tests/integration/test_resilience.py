"""callflow serve survives Asterisk restarts, bad credentials and its own crash."""

from __future__ import annotations

import re

from callflow.localpbx.runner import LocalPbx
from tests.harness.ari_probe import AriProbe
from tests.harness.db_rows import rows
from tests.harness.poll import poll_until
from tests.harness.serve import ServeProcess
from tests.harness.sipp import Sipp


def _kinds(env: dict[str, str]) -> list[str]:
    return [
        row[0] for row in rows(env["CALLFLOW_DB__URL"], "SELECT kind FROM event_log ORDER BY id")
    ]


async def test_serve_reconnects_after_asterisk_restart_and_takes_the_next_call(
    serve: ServeProcess, pbx: LocalPbx, sipp: Sipp, callflow_env: dict[str, str]
) -> None:
    await serve.start()
    await serve.wait_healthy()

    pbx.stop()
    await poll_until(lambda: serve.health(), message="health answering")
    await poll_until(lambda: _degraded(serve), message="health reports the lost links")
    pbx.start()
    await serve.wait_healthy(timeout=30)

    call = await sipp.start("customer_dtmf.xml", service="100", digits="12#")
    assert await call.wait(30) == 0, call.errors
    await poll_until(
        lambda: "digits_collected" in _kinds(callflow_env), message="call handled after the restart"
    )
    assert serve.alive
    log = serve.log
    # down: the socket closed while serving; failed: while still resyncing
    assert re.search(r"ARI connected -\[(down|failed)\]-> retrying", log), log
    assert "ARI retrying -[up]-> connected" in log
    assert "AMI retrying -[up]-> connected" in log


async def _degraded(serve: ServeProcess) -> bool:
    health = await serve.health() or {}
    return health.get("ari") is False and health.get("ami") is False


async def test_wrong_ari_password_keeps_serve_retrying_with_a_clear_log_line(
    serve: ServeProcess,
) -> None:
    serve.env["CALLFLOW_ARI__PASSWORD"] = "not-the-right-password"
    await serve.start()
    await poll_until(
        lambda: "check ari.user and ari.password" in serve.log,
        message="log line naming the ARI credentials",
    )
    health = await poll_until(lambda: serve.health(), message="HTTP up")
    assert health is not None
    assert health["ari"] is False and health["status"] == "degraded"
    assert serve.alive
    assert serve.log.count("check ari.user and ari.password") == 1  # said once, not per retry
    assert "not-the-right-password" not in serve.log


async def test_caller_left_in_stasis_by_a_crash_is_handed_to_the_fallback_on_restart(
    serve: ServeProcess, sipp: Sipp, ari_probe: AriProbe, callflow_env: dict[str, str]
) -> None:
    await serve.start()
    await serve.wait_healthy()
    # a caller who keeps silent sits in the collect prompt...
    call = await sipp.start("customer_dtmf.xml", service="100", values={"BYE_TIMEOUT_MS": "40000"})
    await poll_until(lambda: "collect_started" in _kinds(callflow_env), message="call in Stasis")
    serve.kill()  # ...when callflow dies without a goodbye
    await serve.process.wait()  # type: ignore[union-attr]
    assert len(await ari_probe.channels()) == 1  # the call is still up in Asterisk

    await serve.start()  # on reconnect the orphan is sent to [callflow-fallback]
    assert await call.wait(40) == 0, call.errors
    assert _kinds(callflow_env)[-1] == "rejected"
