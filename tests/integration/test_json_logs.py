"""CALLFLOW_LOG_FORMAT=json: one JSON object per line, the call's id on the lines about it."""

from __future__ import annotations

import json

from tests.harness.db_rows import rows
from tests.harness.poll import poll_until
from tests.harness.serve import ServeProcess
from tests.harness.sipp import Sipp


def _channels(env: dict[str, str]) -> list[str]:
    sql = "SELECT channel_id FROM event_log WHERE kind = 'digits_collected'"
    return [row[0] for row in rows(env["CALLFLOW_DB__URL"], sql)]


async def test_json_logs_carry_the_call_id_on_every_line_about_the_call(
    serve: ServeProcess, sipp: Sipp, callflow_env: dict[str, str]
) -> None:
    serve.env |= {"CALLFLOW_LOG_FORMAT": "json", "CALLFLOW_LOG_LEVEL": "DEBUG"}
    await serve.start()
    await serve.wait_healthy()
    call = await sipp.start("customer_dtmf.xml", service="100", digits="12#")
    assert await call.wait(30) == 0, call.errors
    channels = await poll_until(lambda: _channels(callflow_env), message="the call recorded")
    await serve.stop()

    lines = [json.loads(line) for line in serve.log.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    about = [line for line in lines if channels[0] in line["message"]]
    assert about, "no line names the call's channel"
    assert all(line.get("call") == channels[0] for line in about), [
        line for line in about if line.get("call") != channels[0]
    ]
    assert not any("call" in line for line in lines if line["logger"] == "uvicorn.error")
