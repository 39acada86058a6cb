"""Log set-up: text for people, or JSON lines for log collectors.

Every line logged while callflow handles one call's events carries that
call's id: the customer channel's id, as ``/api/interactions`` shows it
(``channel_id``). The telephony bus sets it for each channel's events
(an agent's leg counts as its customer's call) and the ACD for each offer;
tasks started meanwhile inherit it (``contextvars``). In JSON it is the
``call`` field, present only on lines about a call.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "message"]
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}
NOISY = ("aioari", "aioswagger11", "panoramisk", "alembic", "aiosqlite")
AGENT_LEG_PREFIX = "callflow-leg-"  # an agent's leg: callflow-leg-<customer channel>-<n>

CALL: ContextVar[str | None] = ContextVar("call", default=None)


def call_of(key: str | None) -> str | None:
    """The call an event key (``channel:<id>``) is about, or None."""
    if key is None or not key.startswith("channel:"):
        return None
    channel = key.removeprefix("channel:")
    if channel.startswith(AGENT_LEG_PREFIX):
        return channel.removeprefix(AGENT_LEG_PREFIX).rpartition("-")[0] or channel
    return channel


@contextlib.contextmanager
def about_call(call: str | None) -> Iterator[None]:
    """Lines logged inside (and by tasks started inside) are about ``call``."""
    if call is None:
        yield
        return
    token = CALL.set(call)
    try:
        yield
    finally:
        CALL.reset(token)


class CallFilter(logging.Filter):
    """Adds ``call`` to a record logged inside ``about_call``."""

    def filter(self, record: logging.LogRecord) -> bool:
        call = CALL.get()
        if call is not None and not hasattr(record, "call"):
            record.call = call
        return True


def configure(level: str, form: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CallFilter())
    if form == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES, datefmt="%Y-%m-%dT%H:%M:%S%z")
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO), handlers=[handler], force=True
    )
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
