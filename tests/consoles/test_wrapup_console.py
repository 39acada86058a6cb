"""The agent picks a disposition at wrap-up from the console, in Chromium on
the memory PBX: a required one holds them in wrap-up until they save it."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from callflow.db.models import Role
from callflow.routing.agent_state import AgentEvent
from tests.api.conftest import StartCallflow
from tests.api.test_disposition_api import DIRECTORY
from tests.harness.browser import watched
from tests.harness.memory_calls import answer, call_in, memory_pbx


async def test_a_required_disposition_is_picked_in_the_console_and_frees_the_agent(
    start_callflow: StartCallflow, browser: Browser
) -> None:
    app = await start_callflow(DIRECTORY)
    routing = app.services.routing
    await routing.agent_action("a1", AgentEvent.LOGIN)
    customer = await call_in(app, "support", caller="5550146")
    await answer(app, "a1")
    interaction = routing.calls[customer].interaction_id
    agent = await watched(browser, app, "a1", Role.AGENT, width=1280)
    wrapup = agent.page.get_by_role("region", name="Wrap-up")
    await expect(wrapup.get_by_role("status")).to_have_text("Nothing to do")
    await memory_pbx(app).hangup_phone(customer)
    await expect(wrapup.get_by_role("status")).to_contain_text(
        f"Call #{interaction}: pick a disposition (you stay in wrap-up until you do)"
    )
    state = agent.page.get_by_role("region", name="My state").get_by_role("status")
    await expect(state).to_have_text("Wrap-up")
    await wrapup.get_by_label("Disposition").select_option(label="Information only")
    await wrapup.get_by_label("Note").fill("asked about opening hours")
    await wrapup.get_by_role("button", name="Save disposition").click()
    await expect(wrapup.get_by_role("status")).to_have_text(f"Call #{interaction}: info saved")
    await expect(state).to_have_text("Available")
    assert agent.problems() == []
