"""Log lines about a call name it; JSON lines parse."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from callflow import logs


def test_an_agent_leg_belongs_to_its_customers_call() -> None:
    assert logs.call_of("channel:1700000000.12") == "1700000000.12"
    assert logs.call_of("channel:callflow-leg-1700000000.12-7") == "1700000000.12"
    assert logs.call_of("endpoint:PJSIP/a1") is None
    assert logs.call_of(None) is None


@pytest.fixture
def json_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logs.configure("INFO", "json")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    logging.basicConfig(force=True, handlers=[logging.NullHandler()])


async def test_tasks_started_about_a_call_log_its_id(json_stream: io.StringIO) -> None:
    log = logging.getLogger("callflow.test")

    async def later() -> None:
        log.info("from a task")

    with logs.about_call("1700000000.12"):
        log.info("inside")
        task = asyncio.create_task(later())
    log.info("outside")
    await task
    lines = [json.loads(line) for line in json_stream.getvalue().splitlines()]
    calls = {line["message"]: line.get("call") for line in lines}
    assert calls == {"inside": "1700000000.12", "from a task": "1700000000.12", "outside": None}
    assert {"time", "level", "logger"} <= set(lines[0])
