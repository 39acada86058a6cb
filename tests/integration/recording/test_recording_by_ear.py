"""Recordings on real Asterisk, proven by what the files hold: every phone
plays its own tone (agent 500 Hz, customer 700 Hz); while the recording is
paused the two switch to "card number" tones that must be nowhere in it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlmodel import col, select

from callflow.app import App
from callflow.db.models import Recording, Role
from tests.api.helpers import signed_in
from tests.harness.ari_probe import AriProbe
from tests.harness.poll import poll_until
from tests.harness.rtp import (
    ABSENT,
    AGENT_HZ,
    CUSTOMER_HZ,
    HEARD,
    peak_share_in,
    wav_samples,
)
from tests.harness.sipp import Sipp, media_phone
from tests.integration.conftest import StartCallflow, agent_port
from tests.integration.phone.helpers import Call, connected_call, hang_up, hears
from tests.integration.phone.test_transfer import DIRECTORY as TRANSFERS
from tests.integration.phone.test_transfer import SECOND_HZ, _consulting, _step
from tests.integration.routing.helpers import directory

CARD_CUSTOMER_HZ = 1300.0  # what the customer says while paused
CARD_AGENT_HZ = 1550.0


ALWAYS = directory(
    {"support": {"moh_class": "test-tone", "recording": "always"}}, {"a1": {"support": 1}}
)
SPLIT = directory(
    {"support": {"moh_class": "test-tone", "recording": "always", "recording_split": True}},
    {"a1": {"support": 1}},
)


async def _files(app: App) -> dict[str, Path]:
    """The ended call's files, by kind, once callflow has read them."""
    await poll_until(lambda: not app.services.recordings.live, message="the recording ended")
    await app.services.recordings.finished()
    async with app.services.db.session() as session:
        rows = (await session.exec(select(Recording).order_by(col(Recording.id)))).all()
    assert [r.state for r in rows] == ["done"] * len(rows), [(r.name, r.problem) for r in rows]
    folder = app.services.settings.recording.dir
    assert folder is not None
    return {r.kind: Path(folder) / f"{r.name}.wav" for r in rows}


async def _paused_stretch(app: App, call_agent: object, call_customer: object) -> float:
    """Pause, say card numbers for 1.5 s, resume; the seconds paused."""
    await app.services.recordings.pause("a1", True)
    paused = time.monotonic()
    call_customer.rtp.play(CARD_CUSTOMER_HZ)  # type: ignore[attr-defined]
    call_agent.rtp.play(CARD_AGENT_HZ)  # type: ignore[attr-defined]
    await asyncio.sleep(1.5)
    call_customer.rtp.play(CUSTOMER_HZ)  # type: ignore[attr-defined]
    call_agent.rtp.play(AGENT_HZ)  # type: ignore[attr-defined]
    await asyncio.sleep(0.3)  # the voices are back before the recording is
    await app.services.recordings.pause("a1", False)
    return time.monotonic() - paused


async def test_a_recorded_call_holds_both_voices_and_nothing_said_while_paused(
    start_callflow: StartCallflow, sipp: Sipp, ari_probe: AriProbe
) -> None:
    app = await start_callflow(ALWAYS)
    call = await connected_call(app, sipp)
    started = time.monotonic()
    await asyncio.sleep(1.5)
    paused_for = await _paused_stretch(app, call.agent, call.customer)
    await asyncio.sleep(1.5)
    total = time.monotonic() - started
    await hang_up(call, ari_probe)
    files = await _files(app)
    samples = wav_samples(files["mixed"])
    for voice in (AGENT_HZ, CUSTOMER_HZ):
        assert peak_share_in(samples, voice) > HEARD, f"{voice:g} Hz not in the recording"
    for card in (CARD_CUSTOMER_HZ, CARD_AGENT_HZ):
        assert peak_share_in(samples, card) < ABSENT, f"{card:g} Hz recorded while paused"
    seconds = len(samples) / 8000  # silence while paused: the call's whole length
    assert total - 1.0 < seconds < total + 1.0, (seconds, total, paused_for)


async def test_a_split_recording_has_each_voice_in_its_own_file(
    start_callflow: StartCallflow, sipp: Sipp, ari_probe: AriProbe
) -> None:
    app = await start_callflow(SPLIT)
    call = await connected_call(app, sipp)
    await asyncio.sleep(2.0)
    await hang_up(call, ari_probe)
    files = await _files(app)
    assert set(files) == {"mixed", "customer", "agent"}
    customer, agent = wav_samples(files["customer"]), wav_samples(files["agent"])
    assert peak_share_in(customer, CUSTOMER_HZ) > HEARD
    assert peak_share_in(customer, AGENT_HZ) < ABSENT
    assert peak_share_in(agent, AGENT_HZ) > HEARD
    assert peak_share_in(agent, CUSTOMER_HZ) < ABSENT


async def test_a_conferenced_then_transferred_call_has_every_voice_in_its_segments(
    start_callflow: StartCallflow, sipp: Sipp, ari_probe: AriProbe
) -> None:
    """a1 consults a2 and makes it three-way, then leaves (one segment: all
    three voices); a2 sends the customer on to a1 blind (the second)."""
    directory_text = TRANSFERS.replace(
        '[[queues]]\nname = "support"\n', '[[queues]]\nname = "support"\nrecording = "always"\n'
    )
    app = await start_callflow(directory_text)
    call, second = await _consulting(app, sipp)
    assert (await _step(app, step="conference"))["state"] == "conference"
    since = time.time()
    await hears(call.customer.rtp, SECOND_HZ, since)
    await asyncio.sleep(1.5)
    assert (await _step(app, step="complete"))["state"] == "completed"
    await call.agent.finished()
    again = await media_phone(sipp, agent_port("a1"), "agent again", tone=AGENT_HZ)
    await poll_until(
        lambda: app.services.routing.agents["a1"].state.value == "available", timeout=15,
        message="a1 free again",
    )  # fmt: skip
    async with signed_in(app, "a2", Role.AGENT) as a2:
        sent = await a2.post("/api/agents/a2/transfer", json={"agent": "a1"})
        assert sent.status_code == 200, sent.text
    await second.finished()
    await again.connected()
    await hears(call.customer.rtp, AGENT_HZ, time.time())
    await asyncio.sleep(1.0)
    await hang_up(Call(again, call.customer), ari_probe)
    await poll_until(lambda: not app.services.recordings.live, message="the recording ended")
    await app.services.recordings.finished()
    async with app.services.db.session() as session:
        rows = (await session.exec(select(Recording).order_by(col(Recording.id)))).all()
    assert [(r.segment, r.state) for r in rows] == [(1, "done"), (2, "done")]
    folder = Path(app.services.settings.recording.dir or "")
    first, last = (wav_samples(folder / f"{r.name}.wav") for r in rows)
    for voice in (CUSTOMER_HZ, AGENT_HZ, SECOND_HZ):
        assert peak_share_in(first, voice) > HEARD, f"{voice:g} Hz not in the first segment"
    for voice in (CUSTOMER_HZ, AGENT_HZ):
        assert peak_share_in(last, voice) > HEARD, f"{voice:g} Hz not in the second segment"
