"""Callbacks over REST: supervisors list them and the report counts them;
a supervisor, or the agent whose phone the callback rings, cancels or
reschedules one with a reason; the refusals name the problem; a queue's
callback policy is set and checked through the queues API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callflow.app import App
from callflow.db.models import Role
from callflow.routing.agent_state import AgentEvent
from callflow.settings import Settings
from tests.api.conftest import StartCallflow
from tests.api.helpers import signed_in
from tests.api.test_metrics import scrape, value
from tests.harness.memory_calls import call_in, memory_pbx
from tests.harness.poll import poll_until

DIRECTORY = """
[[queues]]
name = "support"
wrapup = 0
announce_every = 0
callback = { offer = "always" }

[[agents]]
name = "a1"
endpoint = "PJSIP/a1"
queues = { support = 1 }

[[agents]]
name = "a2"
endpoint = "PJSIP/a2"
queues = { support = 1 }
"""


async def _start(start_callflow: StartCallflow, settings: Settings) -> App:
    settings.callback.context = "callflow-callback"
    app = await start_callflow(DIRECTORY)
    for name in ("a1", "a2"):
        await app.services.routing.agent_action(name, AgentEvent.LOGIN)
        await app.services.routing.agent_action(name, AgentEvent.PAUSE, "break")
    return app


async def _ask(app: App, caller: str) -> None:
    pbx = memory_pbx(app)
    customer = await call_in(app, "support", caller=caller)
    await pbx.dtmf(customer, "11")
    await pbx.finish_playbacks(customer)
    await poll_until(lambda: customer not in pbx.channels, message="thanked and hung up")


async def test_supervisors_list_cancel_and_reschedule_and_the_report_counts(
    start_callflow: StartCallflow, settings: Settings, scrape_token: str
) -> None:
    app = await _start(start_callflow, settings)
    await _ask(app, "5550100")
    await _ask(app, "5550200")
    async with signed_in(app, "a1", Role.AGENT) as a1:
        assert (await a1.get("/api/callbacks")).status_code == 403
        first = await a1.post("/api/callbacks/1/cancel", json={"reason": "done"})
        assert first.status_code == 403  # not ringing a1's phone
    async with signed_in(app, "sue", Role.SUPERVISOR) as sue:
        listed = (await sue.get("/api/callbacks")).json()
        assert [(c["number"], c["state"]) for c in listed["data"]] == [
            ("5550200", "waiting"), ("5550100", "waiting"),
        ]  # fmt: skip
        ids = [c["id"] for c in listed["data"]]
        nameless = await sue.post(f"/api/callbacks/{ids[0]}/cancel", json={"reason": ""})
        assert nameless.status_code == 422
        past = datetime.now(UTC) - timedelta(minutes=5)
        late = await sue.post(f"/api/callbacks/{ids[0]}/reschedule",
                              json={"at": past.isoformat(), "reason": "x"})  # fmt: skip
        assert late.status_code == 422 and "is not in the future" in late.json()["detail"]
        unknown = await sue.post("/api/callbacks/9999/cancel", json={"reason": "x"})
        assert unknown.status_code == 404 and unknown.json()["detail"] == "no open callback 9999"
        cancelled = await sue.post(f"/api/callbacks/{ids[0]}/cancel",
                                   json={"reason": "answered by email"})  # fmt: skip
        assert cancelled.json()["state"] == "cancelled"
        assert cancelled.json()["reason"] == "answered by email (sue)"
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        body = {"at": tomorrow.isoformat(), "reason": "asked for"}
        moved = await sue.post(f"/api/callbacks/{ids[1]}/reschedule", json=body)
        assert moved.json()["state"] == "scheduled"
        again = await sue.post(f"/api/callbacks/{ids[0]}/cancel", json={"reason": "x"})
        assert again.status_code == 404
        figures = (await sue.get("/api/queues/figures")).json()[0]
        assert (figures["waiting"], figures["callbacks"]) == (0, 1)
        (row,) = (await sue.get("/api/reports/callbacks")).json()["rows"]
        assert (row["requested"], row["cancelled"], row["pending"]) == (2, 1, 1)
    samples = await scrape(app, scrape_token)
    assert value(samples, "callflow_callbacks_total", queue="support", result="requested") == 2
    assert value(samples, "callflow_callbacks_total", queue="support", result="cancelled") == 1


async def test_the_agent_rung_for_a_callback_may_cancel_it(
    start_callflow: StartCallflow, settings: Settings
) -> None:
    app = await _start(start_callflow, settings)
    await _ask(app, "5550100")
    await app.services.routing.agent_action("a1", AgentEvent.UNPAUSE)
    pbx = memory_pbx(app)
    await poll_until(lambda: pbx.ringing(), message="a1's phone rings")
    async with signed_in(app, "a2", Role.AGENT) as a2:
        refused = await a2.post("/api/callbacks/1/cancel", json={"reason": "mine now"})
        assert refused.status_code == 403
    async with signed_in(app, "a1", Role.AGENT) as a1:
        done = await a1.post("/api/callbacks/1/cancel", json={"reason": "wrong number"})
        assert (done.json()["state"], done.json()["reason"]) == (
            "cancelled", "wrong number (a1)"
        )  # fmt: skip
    await poll_until(lambda: not pbx.ringing(), message="a1's phone stops ringing")


async def test_a_queues_callback_policy_is_set_and_checked_over_rest(
    start_callflow: StartCallflow, settings: Settings
) -> None:
    app = await _start(start_callflow, settings)
    async with signed_in(app, "root", Role.ADMIN) as admin:
        bad = await admin.patch("/api/queues/support", json={"callback": {"offer": "sometimes"}})
        assert bad.status_code == 422
        assert "callback offer 'sometimes' is not one of never, always, long_wait" in bad.text
        far = await admin.patch("/api/queues/support", json={"callback": {"attempts": 50}})
        assert far.status_code == 422 and "callback attempts 50 is not within 1..10" in far.text
        good = await admin.patch(
            "/api/queues/support",
            json={"callback": {"offer": "long_wait", "threshold": 90, "attempts": 2}},
        )
        assert good.status_code == 200
        assert good.json()["callback"] == {"offer": "long_wait", "threshold": 90, "attempts": 2}
    conf = app.services.routing.queues["support"]
    assert (conf.callback.offer.value, conf.callback.threshold) == ("long_wait", 90.0)
