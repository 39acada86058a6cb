"""The assist service on a real (SQLite) database and the in-memory PBX's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callflow.assist.service import AssistService
from callflow.assist.store import AssistStore
from callflow.telephony.memory import MemoryPbx
from tests.harness.directory_db import directory_db
from tests.harness.inbox import Inbox

DIRECTORY = """
[[groups]]
name = "billing"
digit = "1"
offer_policy = "broadcast"
offer_timeout = 3
fallback = "general"
max_sessions = 1

[[groups]]
name = "tech"
digit = "2"
offer_policy = "sequential"
offer_timeout = 3

[[groups]]
name = "general"
digit = "3"
offer_timeout = 3
max_sessions = 1

[[agents]]
name = "ann"
endpoint = "PJSIP/a1"

[[experts]]
name = "eve"
groups = { billing = 1, tech = 1 }
[[experts]]
name = "max"
groups = { billing = 1, tech = 2 }
[[experts]]
name = "ida"
groups = { billing = 1, tech = 3 }
[[experts]]
name = "gus"
groups = { general = 1 }
"""


class Assist:
    def __init__(self, service: AssistService, inbox: Inbox, pbx: MemoryPbx) -> None:
        self.service = service
        self.inbox = inbox
        self.pbx = pbx

    def uid(self, name: str) -> int:
        return next(p.user_id for p in self.service.people.values() if p.username == name)

    async def online(self, *names: str) -> None:
        for name in names:
            await self.service.web_connection(self.uid(name), +1)


@pytest.fixture
async def assist(tmp_path: Path) -> AsyncIterator[Assist]:
    db, _ = await directory_db(tmp_path, DIRECTORY, "assist")
    pbx = MemoryPbx()
    service = AssistService(AssistStore(db), pbx)
    inbox = Inbox()
    service.notifier = inbox
    await service.load()
    yield Assist(service, inbox, pbx)
    await service.close_all()
    await pbx.tasks.close()
    await db.close()
