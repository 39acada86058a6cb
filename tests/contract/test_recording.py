"""A call's recording through the port (Asterisk's MixMonitor), the same on
the memory PBX and on Asterisk: a channel's audio is recorded under a name
(and each direction alone), muted and unmuted, stopped with its files
closed; a hang-up closes them too; a channel without one, or gone, says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from callflow.recording.files import closed
from callflow.telephony.port import NotFound
from tests.contract.conftest import Contract
from tests.harness.poll import poll_until


async def _answered_caller(contract: Contract) -> str:
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await contract.port.answer(caller)
    return caller


def _closed(folder: Path, *names: str) -> bool:
    return all(closed(folder / f"{name}.wav") for name in names)


async def test_a_call_is_recorded_muted_and_stopped_with_its_files_closed(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await _answered_caller(contract)
    names = ("contract-rec-1", "contract-rec-1-said", "contract-rec-1-heard")
    await port.record_call(caller, names[0], said=names[1], heard=names[2])
    await port.mute_call_recording(caller, True)
    await port.mute_call_recording(caller, False)
    assert await port.stop_call_recording(caller) is True
    await poll_until(lambda: _closed(contract.files, *names), message="the files closed")
    assert await port.stop_call_recording(caller) is False  # none any more
    await port.mute_call_recording(caller, True)  # nothing to mute: not an error
    await port.hangup(caller)


async def test_a_hang_up_ends_the_recording_and_closes_its_file(contract: Contract) -> None:
    port = contract.port
    caller = await _answered_caller(contract)
    await port.record_call(caller, "contract-rec-2")
    await contract.world.hang_up(caller)
    await poll_until(lambda: _closed(contract.files, "contract-rec-2"), message="file closed")
    assert await port.stop_call_recording(caller) is False


async def test_recording_a_channel_that_is_gone_is_not_found(contract: Contract) -> None:
    with pytest.raises(NotFound):
        await contract.port.record_call("contract-no-such-channel", "contract-rec-3")
