"""The recording notice on real Asterisk: the caller hears it (a 1200 Hz
tone standing in for "calls are recorded") before any agent is rung, and it
is not in the recording; a notice whose sound Asterisk lacks does not keep
the caller out of the queue."""

from __future__ import annotations

import time
from pathlib import Path

from callflow.app import App
from callflow.settings import Settings
from tests.harness.ari_probe import AriProbe
from tests.harness.poll import poll_until
from tests.harness.rtp import (
    ABSENT,
    AGENT_HZ,
    CUSTOMER_HZ,
    PROMPT_HZ,
    peak_share_in,
    wav_samples,
    write_tone_wav,
)
from tests.harness.sipp import Sipp, media_customer, media_phone
from tests.integration.conftest import StartCallflow, agent_port
from tests.integration.phone.helpers import Call, hang_up, hears
from tests.integration.recording.test_recording_by_ear import _files
from tests.integration.routing.helpers import directory, login

NOTICE_SECONDS = 2.0


def _noticed(sound: str) -> str:
    queue = {"moh_class": "test-tone", "recording": "always", "recording_notice": sound}
    return directory({"support": queue}, {"a1": {"support": 1}})


def _notice_sound(settings: Settings) -> str:
    """A notice Asterisk can play: one tone, in the prompts directory."""
    folder = Path(settings.phone.prompts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    write_tone_wav(folder / "notice-test.wav", PROMPT_HZ, NOTICE_SECONDS)
    return f"{settings.phone.prompts_asterisk_dir or folder}/notice-test"


def _nobody_rung(app: App) -> bool:
    routing = app.services.routing
    return not routing.calls and not routing.board.legs


async def test_the_caller_hears_the_notice_before_an_agent_rings_and_it_is_not_recorded(
    start_callflow: StartCallflow, settings: Settings, sipp: Sipp, ari_probe: AriProbe
) -> None:
    app = await start_callflow(_noticed(_notice_sound(settings)))
    await login(app, "a1")
    agent = await media_phone(sipp, agent_port("a1"), "agent", tone=AGENT_HZ)
    since = time.time()
    customer = await media_customer(sipp, "qsupport", tone=CUSTOMER_HZ)
    await hears(customer.rtp, PROMPT_HZ, since)
    assert _nobody_rung(app), "an agent was rung during the notice"
    await agent.connected()
    await customer.connected()
    answered = time.time()
    assert answered - since > NOTICE_SECONDS - 0.5
    await hears(customer.rtp, AGENT_HZ, answered)
    await hears(agent.rtp, CUSTOMER_HZ, answered)
    await hang_up(Call(agent, customer), ari_probe)
    samples = wav_samples((await _files(app))["mixed"])
    assert peak_share_in(samples, PROMPT_HZ) < ABSENT, "the notice is in the recording"


async def test_a_notice_asterisk_cannot_find_does_not_keep_the_caller_out(
    start_callflow: StartCallflow, sipp: Sipp, ari_probe: AriProbe
) -> None:
    app = await start_callflow(_noticed("callflow-no-such-sound"))
    await login(app, "a1")
    agent = await media_phone(sipp, agent_port("a1"), "agent", tone=AGENT_HZ)
    started = time.monotonic()
    customer = await media_customer(sipp, "qsupport", tone=CUSTOMER_HZ)
    await poll_until(lambda: bool(app.services.routing.calls), timeout=10, message="queued")
    assert time.monotonic() - started < 10
    await agent.connected()
    await customer.connected()
    await hang_up(Call(agent, customer), ari_probe)
