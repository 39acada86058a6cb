"""The trunk is its address: a stranger claiming to be the trunk is refused."""

from __future__ import annotations

from callflow.app import App
from tests.harness.sipp import Sipp
from tests.integration.conftest import StartCallflow
from tests.integration.routing.helpers import directory, ended, interactions, login


async def test_an_invite_from_trunk_sent_from_another_address_is_refused_before_stasis(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app: App = await start_callflow(directory({"support": {}}, {"a1": {"support": 1}}))
    await login(app, "a1")
    # 127.0.0.2 is loopback too, but not the trunk's address (127.0.0.1)
    spoofer = await sipp.start("spoofed_trunk.xml", service="qsupport", source="127.0.0.2")
    assert await spoofer.wait(20) == 0, spoofer.errors  # a 401/403, never a 200
    assert list(await app.services.events.of_kind("enterqueue")) == []
    assert await interactions(app) == []


async def test_a_call_from_the_trunks_address_still_reaches_the_queue(
    start_callflow: StartCallflow, sipp: Sipp
) -> None:
    app = await start_callflow(directory({"support": {}}, {"a1": {"support": 1}}))
    await login(app, "a1")
    caller = await sipp.customer("qsupport", hang_up_after_ms=300)
    assert await caller.wait(30) == 0, caller.errors
    (row,) = await ended(app, 1)
    assert row.queue == "support" and row.caller_number == "5550100"
