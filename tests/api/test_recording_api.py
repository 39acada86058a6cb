"""Recordings over REST: pausing from the agent's console, the call's
recordings, playing and downloading with the audit log, and who may not."""

from __future__ import annotations

import httpx

from callflow.app import App
from callflow.db.models import Role
from callflow.routing.agent_state import AgentEvent
from tests.api.conftest import StartCallflow
from tests.api.helpers import base_url, signed_in
from tests.harness.memory_calls import answer, call_in, memory_pbx
from tests.harness.poll import poll_until
from tests.integration.routing.helpers import directory

DIRECTORY = directory(
    {"support": {"recording": "always"}, "sales": {"recording": "on_demand"}},
    {"a1": {"support": 1}, "a2": {"sales": 1}, "a3": {"support": 1}},
)


async def _recorded_call(app: App) -> int:
    """a1 talks to a customer, pauses for a card number, hangs up: the call."""
    await app.services.routing.agent_action("a1", AgentEvent.LOGIN)
    customer = await call_in(app, "support", caller="5550100")
    await answer(app, "a1")
    interaction = app.services.routing.calls[customer].interaction_id
    async with signed_in(app, "a1", Role.AGENT) as a1:
        paused = await a1.post("/api/agents/a1/recording/pause")
        assert paused.status_code == 200, paused.text
        assert paused.json() == {"interaction": interaction, "state": "paused"}
        resumed = await a1.post("/api/agents/a1/recording/resume")
        assert resumed.json()["state"] == "recording"
        by_hand = await a1.post("/api/agents/a1/recording/stop")
        assert by_hand.status_code == 409
        assert "records every call: pause it instead" in by_hand.json()["detail"]
    await memory_pbx(app).hangup_phone(customer)
    await poll_until(lambda: not app.services.recordings.live, message="recording ended")
    await app.services.recordings.finished()
    return interaction


async def test_a_supervisor_plays_and_downloads_a_recording_and_each_is_in_the_audit_log(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    interaction = await _recorded_call(app)
    async with signed_in(app, "sue", Role.SUPERVISOR) as sue:
        (recording,) = (await sue.get(f"/api/interactions/{interaction}/recordings")).json()
        assert (recording["state"], recording["kind"], recording["agent"]) == (
            "done", "mixed", "a1",
        )  # fmt: skip
        assert len(recording["pauses"]) == 1 and recording["pauses"][0]["until"]
        url = f"/api/recordings/{recording['token']}/audio"
        played = await sue.get(url)
        assert played.status_code == 200 and played.headers["content-type"] == "audio/wav"
        assert played.content[:4] == b"RIFF" and len(played.content) == recording["size"]
        saved = await sue.get(url, params={"download": "true"})
        assert "attachment" in saved.headers["content-disposition"]
        log = (await sue.get("/api/recordings/access-log")).json()
        assert [(e["username"], e["action"]) for e in log] == [
            ("sue", "download"), ("sue", "play"),
        ]  # fmt: skip
        assert (await sue.get("/api/recordings/AAAAAAAAAAAAAAAAAAAAAAAA/audio")).status_code == 404


async def test_agents_play_only_when_the_site_allows_and_nobody_without_signing_in(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    interaction = await _recorded_call(app)
    async with signed_in(app, "a1", Role.AGENT) as a1:
        refused = await a1.get(f"/api/interactions/{interaction}/recordings")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "agents may not play recordings here"
    async with signed_in(app, "sue", Role.SUPERVISOR) as sue:
        (recording,) = (await sue.get(f"/api/interactions/{interaction}/recordings")).json()
    url = f"/api/recordings/{recording['token']}/audio"
    async with httpx.AsyncClient(base_url=base_url(app)) as anonymous:
        assert (await anonymous.get(url)).status_code == 401
    app.services.settings.recording.agents_play_own = True
    async with signed_in(app, "a1", Role.AGENT) as a1, signed_in(app, "a3", Role.AGENT) as a3:
        assert (await a1.get(url)).status_code == 200  # their own call
        assert (await a3.get(url)).status_code == 404  # not theirs


async def test_an_on_demand_queue_records_once_the_agent_starts_it(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    await app.services.routing.agent_action("a2", AgentEvent.LOGIN)
    customer = await call_in(app, "sales", caller="5550101")
    await answer(app, "a2")
    assert not app.services.recordings.live
    async with signed_in(app, "a2", Role.AGENT) as a2:
        started = await a2.post("/api/agents/a2/recording/start")
        assert started.json()["state"] == "recording"
        again = await a2.post("/api/agents/a2/recording/start")
        assert again.status_code == 409 and "recorded already" in again.json()["detail"]
        stopped = await a2.post("/api/agents/a2/recording/stop")
        assert stopped.json()["state"] == "off"
        other = await a2.post("/api/agents/a1/recording/pause")
        assert other.status_code == 403
    await memory_pbx(app).hangup_phone(customer)


async def test_an_admin_sets_a_queues_recording_and_dispositions_and_reads_them_back(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    async with signed_in(app, "root", Role.ADMIN) as admin:
        shown = (await admin.get("/api/queues/support")).json()
        assert (shown["recording"], shown["recording_notice"]) == ("always", None)
        changed = await admin.patch(
            "/api/queues/sales",
            json={
                "recording": "always",
                "recording_split": True,
                "retention_days": 30,
                "recording_notice": "custom/calls-are-recorded",
                "dispositions": {"sale": "Sale made", "info": "Information"},
                "disposition_required": True,
                "disposition_default": "info",
            },
        )
        assert changed.status_code == 200, changed.text
        read = (await admin.get("/api/queues/sales")).json()
        assert {k: read[k] for k in ("recording", "recording_split", "retention_days")} == {
            "recording": "always", "recording_split": True, "retention_days": 30,
        }  # fmt: skip
        assert read["recording_notice"] == "custom/calls-are-recorded"
        assert read["dispositions"] == {"sale": "Sale made", "info": "Information"}
        assert (read["disposition_required"], read["disposition_default"]) == (True, "info")
        assert app.services.routing.queues["sales"].recording_notice == "custom/calls-are-recorded"
        bad = await admin.patch("/api/queues/sales", json={"recording_notice": "../etc/passwd"})
        assert bad.status_code == 422 and "recording_notice" in bad.text
        bad = await admin.patch("/api/queues/sales", json={"disposition_default": "nope"})
        assert bad.status_code == 422 and "nope" in bad.text
        cleared = await admin.patch("/api/queues/sales", json={"recording_notice": None})
        assert cleared.json()["recording_notice"] is None
