"""The telephony port's contract, run on both of its implementations: the
memory PBX (fast, no PBX) and callflow's ARI adapter on the session's real
Asterisk (marked ``asterisk``; run on 22 and on 16 by the full command)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callflow.localpbx.runner import LocalPbx
from callflow.settings import AmiSettings, AriSettings
from callflow.tasks import Tasks
from callflow.telephony.ami import AmiClient
from callflow.telephony.ari import AriClient
from callflow.telephony.memory import MemoryPbx
from callflow.telephony.port import (
    ChannelDestroyed,
    Dtmf,
    EndpointState,
    Event,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    Telephony,
    TextMessage,
)
from tests.contract.world import AsteriskWorld, MemoryWorld, World
from tests.harness.poll import poll_until

KINDS: tuple[type[Event], ...] = (
    StasisStart, StasisEnd, ChannelDestroyed, Dtmf, PlaybackFinished, EndpointState, TextMessage,
)  # fmt: skip


@dataclass
class Contract:
    """The port under test, the world around it, and every event it delivered."""

    port: Telephony
    world: World
    files: Path  # where the PBX writes call recordings (Asterisk's monitor directory)
    events: list[Event] = field(default_factory=list)

    async def record(self, event: Event) -> None:
        self.events.append(event)

    def seen(self, kind: type[Event], **match: object) -> list[Event]:
        return [
            e
            for e in self.events
            if isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items())
        ]

    async def until(self, kind: type[Event], **match: object) -> Event:
        found = await poll_until(
            lambda: self.seen(kind, **match), message=f"{kind.__name__} {match}"
        )
        return found[0]

    async def entered(self, channel_id: str) -> StasisStart:
        def start() -> list[StasisStart]:
            return [
                e for e in self.events if isinstance(e, StasisStart) and e.channel.id == channel_id
            ]

        found = await poll_until(start, message=f"{channel_id} in the application")
        return found[0]


@pytest.fixture(params=["memory", "asterisk"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def contract(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Contract]:
    tasks = Tasks()
    if backend == "memory":
        pbx = MemoryPbx(tasks, real_time=True)
        pbx.recordings_dir = tmp_path / "monitor"
        memory = Contract(pbx, MemoryWorld(pbx), pbx.recordings_dir)
        for kind in KINDS:
            pbx.on(kind, memory.record)
        await pbx.connect()
        yield memory
        await tasks.close()
        return
    local: LocalPbx = request.getfixturevalue("pbx")
    config = local.config
    settings = AriSettings(
        url=config.ari_url, user=config.ari_user, password=config.ari_password, app=config.app
    )
    ari = AriClient(settings, tasks)
    ami = AmiClient(
        AmiSettings(
            host="127.0.0.1", port=config.ami_port, user=config.ami_user, secret=config.ami_secret
        )
    )
    ari.use_ami(ami)
    world = await AsteriskWorld.open(local, tmp_path)
    real = Contract(ari, world, local.state_dir / "spool" / "monitor")
    for kind in KINDS:
        ari.on(kind, real.record)
    running = tasks.spawn(ari.run(), "ari")
    await ami.start()
    try:
        await ari.wait_synced(15)
        await ami.wait_ready(15)
        yield real
    finally:
        await ami.close()
        await ari.close()
        if running is not None:
            running.cancel()
        await tasks.close()
        try:
            await poll_until(
                lambda: _nothing_left(world), timeout=10, message="Asterisk left clean"
            )
        except AssertionError:
            left = await world.clean()
            pytest.fail(f"the contract test left behind in Asterisk: {left}")
        finally:
            await world.close()


async def _nothing_left(world: AsteriskWorld) -> bool:
    return not await world.leftovers()
