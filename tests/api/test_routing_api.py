"""Queues, agents and live figures over REST, with least privilege per role."""

from __future__ import annotations

import pytest

from callflow.db.models import Role
from tests.api.conftest import StartCallflow
from tests.api.helpers import signed_in
from tests.integration.routing.helpers import directory

DIRECTORY = directory(
    {"support": {"service_level": 20}}, {"a1": {"support": 1}, "a2": {"support": 1}}
)

# (method, path, body) -> roles allowed
MATRIX = [
    ("GET", "/api/queues", None, {"supervisor", "admin"}),
    ("GET", "/api/queues/support", None, {"supervisor", "admin"}),
    ("GET", "/api/queues/figures", None, {"supervisor", "admin"}),
    ("GET", "/api/queues/support/figures", None, {"supervisor", "admin"}),
    ("PATCH", "/api/queues/support", {"wrapup": 5}, {"admin"}),
    ("POST", "/api/queues", {"name": "new"}, {"admin"}),
    ("GET", "/api/agents", None, {"supervisor", "admin"}),
    ("GET", "/api/agents/a2", None, {"supervisor", "admin"}),
    ("POST", "/api/agents/a2/state", {"action": "login"}, {"supervisor", "admin"}),
    ("PATCH", "/api/agents/a2", {"display_name": "Bo"}, {"admin"}),
    ("GET", "/api/skills", None, {"supervisor", "admin"}),
    ("PUT", "/api/skills/billing", {"description": "Invoices"}, {"admin"}),
    ("DELETE", "/api/skills/billing", None, {"admin"}),
    ("POST", "/api/directory/reload", None, {"admin"}),
]
ROLES = [Role.AGENT, Role.EXPERT, Role.SUPERVISOR, Role.ADMIN]


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_each_role_reaches_exactly_the_routes_it_needs(
    start_callflow: StartCallflow, role: Role
) -> None:
    app = await start_callflow(DIRECTORY)
    async with signed_in(app, f"user-{role.value}", role) as client:
        for method, path, body, allowed in MATRIX:
            response = await client.request(method, path, json=body)
            if role.value in allowed:
                assert response.status_code < 400 or response.status_code == 409, (
                    method,
                    path,
                    response.text,
                )  # 409: no directory file to reload
            else:
                assert response.status_code == 403, (method, path, response.status_code)


async def test_an_agent_changes_only_their_own_state(start_callflow: StartCallflow) -> None:
    app = await start_callflow(DIRECTORY)
    async with signed_in(app, "a1", Role.AGENT) as client:
        response = await client.post("/api/agents/a1/state", json={"action": "login"})
        assert response.status_code == 200 and response.json()["state"] == "available"
        response = await client.post(
            "/api/agents/a1/state", json={"action": "pause", "reason": "coffee"}
        )
        assert (response.json()["state"], response.json()["reason"]) == ("paused", "coffee")
        assert (
            await client.post("/api/agents/a2/state", json={"action": "login"})
        ).status_code == 403
        assert (await client.get("/api/agents/a2")).status_code == 403
        response = await client.post("/api/agents/a1/state", json={"action": "dance"})
        assert response.status_code == 422


async def test_impossible_state_change_is_refused_with_the_reason(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    async with signed_in(app, "boss", Role.SUPERVISOR) as client:
        response = await client.post("/api/agents/a1/state", json={"action": "unpause"})
        assert response.status_code == 409
        assert response.json()["detail"] == "agent a1 cannot unpause while logged_out"


async def test_admin_adds_a_queue_and_bad_settings_are_named(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    async with signed_in(app, "root", Role.ADMIN) as client:
        response = await client.post("/api/queues", json={"name": "vip", "strategy": "random"})
        assert response.status_code == 422
        (problem,) = response.json()["detail"]
        assert "strategy 'random' is not one of longest-idle" in problem["msg"]
        response = await client.post("/api/queues", json={"name": "vip", "ring_timeout": 10})
        assert response.status_code == 201, response.text
        assert "vip" in app.services.routing.queues
        response = await client.patch(
            "/api/agents/a1", json={"queues": {"vip": 1}, "display_name": "Ann"}
        )
        assert response.json()["queues"] == {"vip": 1}
        assert response.json()["display_name"] == "Ann"
        assert (await client.post("/api/queues", json={"name": "vip"})).status_code == 409
        assert (await client.delete("/api/agents/a2")).status_code == 204
        assert "a2" not in app.services.routing.agents
        assert (await client.delete("/api/queues/vip")).status_code == 204
        assert "vip" not in app.services.routing.queues
        assert app.services.routing.queues["support"].members == {}  # a1 moved to vip, a2 gone


async def test_an_admin_sets_opening_hours_and_a_schedule_that_cannot_be_read_is_named(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    hours = {"zone": "Europe/Paris", "mon": "08:00-18:00", "holidays": ["2026-12-25"]}
    async with signed_in(app, "root", Role.ADMIN) as client:
        assert (await client.get("/api/queues/support")).json()["hours"] is None
        changed = await client.patch(
            "/api/queues/support", json={"hours": hours, "closed_target": "closed,s,1"}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["hours"] == hours
        assert changed.json()["closed_target"] == "closed,s,1"
        assert not app.services.routing.queues["support"].hours.always
        bad = await client.patch("/api/queues/support", json={"hours": {"mon": "8-18"}})
        assert bad.status_code == 422 and "expected HH:MM-HH:MM" in bad.text
        bad = await client.patch("/api/queues/support", json={"hours": {"zone": "Nowhere"}})
        assert bad.status_code == 422 and "unknown time zone 'Nowhere'" in bad.text
        cleared = await client.patch("/api/queues/support", json={"hours": None})
        assert cleared.json()["hours"] is None
        assert app.services.routing.queues["support"].hours.always


async def test_skills_are_declared_given_required_and_kept_while_in_use(
    start_callflow: StartCallflow,
) -> None:
    app = await start_callflow(DIRECTORY)
    async with signed_in(app, "root", Role.ADMIN) as client:
        response = await client.patch("/api/agents/a1", json={"skills": {"billing": 3}})
        assert response.status_code == 422
        assert "unknown skill 'billing' (no skills are declared)" in response.json()["detail"]
        put = await client.put("/api/skills/billing", json={"description": "Invoices"})
        assert put.status_code == 204
        response = await client.patch("/api/agents/a1", json={"skills": {"billing": 3}})
        assert response.status_code == 200 and response.json()["skills"] == {"billing": 3}
        response = await client.patch("/api/queues/support", json={"requirement": "billing >>"})
        assert response.status_code == 422 and "cannot read 'billing >>'" in response.text
        response = await client.patch(
            "/api/queues/support",
            json={"requirement": "billing>=2", "escalation": [{"after": 30, "lower": 1}]},
        )
        assert response.status_code == 200
        assert response.json()["requirement"] == "billing >= 2"
        assert response.json()["escalation"] == [{"after": 30, "lower": 1}]
        listed = (await client.get("/api/skills")).json()
        assert listed == [{"name": "billing", "description": "Invoices", "agents": {"a1": 3}}]
        refused = await client.delete("/api/skills/billing")
        assert refused.status_code == 409
        assert "skill 'billing' is in use: agent 'a1' field skills" in refused.json()["detail"]
        assert (await client.put("/api/skills/Bad%20Name", json={})).status_code == 422
