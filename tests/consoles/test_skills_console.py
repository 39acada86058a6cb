"""Skills routing on the wallboard, in Chromium on the memory PBX: each
waiting caller is listed with what they require now and their escalation
step, and the row changes when the step is taken."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from callflow.db.models import Role
from tests.api.conftest import StartCallflow
from tests.harness.browser import watched
from tests.harness.memory_calls import memory_pbx

DIRECTORY = """
[skills]
billing = "Invoices and payments"

[[queues]]
name = "support"
wrapup = 0
announce_every = 0
join_empty = true
escalation = [{ after = 2, lower = 1 }, { after = 600, require = "" }]

[[agents]]
name = "a1"
endpoint = "PJSIP/a1"
queues = { support = 1 }
skills = { billing = 2 }
"""


async def test_the_wallboard_shows_each_callers_requirement_and_step_as_it_escalates(
    start_callflow: StartCallflow, browser: Browser
) -> None:
    app = await start_callflow(DIRECTORY)
    board = await watched(browser, app, "sue", Role.SUPERVISOR, width=1280)
    callers = board.page.get_by_role("table", name="Callers waiting")
    await expect(callers.get_by_role("row")).to_have_count(1)  # the header only
    await memory_pbx(app).call(
        ["queue", "support", "", "billing >= 3"], caller="5550123", name="Ada"
    )
    row = callers.get_by_role("row").nth(1)
    await expect(row).to_contain_text("Ada")
    await expect(row.get_by_role("cell").nth(4)).to_have_text("billing >= 3")
    await expect(row.get_by_role("cell").nth(5)).to_have_text("\u2013")  # none yet
    # after 2 s the first step lowers the level asked
    await expect(row.get_by_role("cell").nth(4)).to_have_text("billing >= 2", timeout=10_000)
    await expect(row.get_by_role("cell").nth(5)).to_have_text("step 1")
    assert board.problems() == []
