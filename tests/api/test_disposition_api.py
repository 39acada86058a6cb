"""Dispositions over REST: the agent picks one for the call they wrap up,
the refusals name the problem, and the report counts them by code."""

from __future__ import annotations

from callflow.db.models import Role
from callflow.routing.agent_state import AgentEvent
from tests.api.conftest import StartCallflow
from tests.api.helpers import signed_in
from tests.api.test_metrics import scrape, value
from tests.harness.memory_calls import answer, call_in, memory_pbx
from tests.harness.poll import poll_until

DIRECTORY = """
[[queues]]
name = "support"
wrapup = 0
announce_every = 0
disposition_required = true
dispositions = { sale = "Sale made", info = "Information only" }

[[agents]]
name = "a1"
endpoint = "PJSIP/a1"
queues = { support = 1 }
"""


async def test_the_agent_disposes_of_the_call_and_the_report_counts_it_by_code(
    start_callflow: StartCallflow, scrape_token: str
) -> None:
    app = await start_callflow(DIRECTORY)
    routing = app.services.routing
    await routing.agent_action("a1", AgentEvent.LOGIN)
    customer = await call_in(app, "support", caller="5550100")
    await answer(app, "a1")
    interaction = routing.calls[customer].interaction_id
    await memory_pbx(app).hangup_phone(customer)
    await poll_until(lambda: routing.agents["a1"].state.value == "wrap_up", message="held")
    async with signed_in(app, "a1", Role.AGENT) as a1:
        wrong = await a1.post("/api/agents/a1/disposition", json={"code": "refund"})
        assert wrong.status_code == 422
        assert wrong.json()["detail"] == "no disposition 'refund' (codes: sale, info)"
        ready = await a1.post("/api/agents/a1/state", json={"action": "login"})
        assert ready.status_code == 409
        picked = await a1.post(
            "/api/agents/a1/disposition", json={"code": "sale", "note": "two licences"}
        )
        assert picked.json() == {"interaction": interaction, "code": "sale"}
        assert routing.agents["a1"].state.value == "available"
        again = await a1.post("/api/agents/a1/disposition", json={"code": "sale"})
        assert again.status_code == 409 and "no call waiting" in again.json()["detail"]
    async with signed_in(app, "sue", Role.SUPERVISOR) as sue:
        rows = (await sue.get("/api/reports/dispositions")).json()["rows"]
        assert [(r["queue"], r["code"], r["label"], r["count"]) for r in rows] == [
            ("support", "sale", "Sale made", 1), ("support", "info", "Information only", 0),
        ]  # fmt: skip
        csv = await sue.get("/api/reports/dispositions", params={"format": "csv"})
        assert csv.text.splitlines()[0] == "period,queue,code,label,count,defaulted"
    samples = await scrape(app, scrape_token)
    assert (
        value(
            samples, "callflow_dispositions_total", queue="support", code="sale", defaulted="false"
        )
        == 1
    )
