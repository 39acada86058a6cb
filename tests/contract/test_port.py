"""What callflow's features rely on from the PBX, proven the same on the memory
PBX and on Asterisk (22 and 16) through callflow's ARI adapter: a case that
passes on one and fails on the other is a memory PBX that drifted."""

from __future__ import annotations

import pytest

from callflow.telephony.port import (
    ChannelDestroyed,
    Conflict,
    Dtmf,
    NotFound,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    TextMessage,
    Unprocessable,
)
from tests.contract.conftest import Contract
from tests.contract.world import AsteriskWorld
from tests.harness.poll import poll_until


async def test_a_caller_enters_the_application_with_the_dialplans_arguments(
    contract: Contract,
) -> None:
    caller = await contract.world.call("queue", "support")
    start = await contract.entered(caller)
    assert start.args == ("queue", "support")
    assert start.channel.in_app(contract.port.app)
    await contract.port.hangup(caller)


async def test_an_originated_channel_enters_with_its_arguments_only_once_answered(
    contract: Contract,
) -> None:
    port, world = contract.port, contract.world
    await port.originate("contract-leg-1", world.phone, ["agent-leg", "7"], caller_id="5551000")
    with pytest.raises(AssertionError):
        await poll_until(lambda: contract.seen(StasisStart), timeout=0.5, message="no entry")
    await world.pick_up("contract-leg-1")
    start = await contract.entered("contract-leg-1")
    assert start.args == ("agent-leg", "7")
    await port.hangup("contract-leg-1")


async def test_a_hang_up_ends_stasis_then_destroys_the_channel_with_its_cause(
    contract: Contract,
) -> None:
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await contract.world.hang_up(caller)
    destroyed = await contract.until(ChannelDestroyed, channel_id=caller)
    assert isinstance(destroyed, ChannelDestroyed) and destroyed.cause == 16
    kinds = [type(e) for e in contract.events if getattr(e, "channel_id", None) == caller]
    assert kinds == [StasisEnd, ChannelDestroyed]


async def test_commands_on_a_channel_that_is_gone_are_not_found_and_hangup_says_false(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    assert await port.hangup(caller) is True
    await contract.until(ChannelDestroyed, channel_id=caller)
    assert await port.hangup(caller) is False
    for command in (
        port.answer(caller),
        port.set_var(caller, "CALLFLOW_X", "1"),
        port.start_moh(caller, "default"),
        port.play(caller, ["sound:beep"]),
        port.snoop(caller, "contract-snoop", spy="both", whisper="out", args=["x"]),
    ):
        with pytest.raises(NotFound):
            await command


async def test_a_channel_is_in_one_bridge_at_a_time_and_adding_it_elsewhere_moves_it(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await port.create_bridge("contract-a", "mixing")
    await port.create_bridge("contract-b", "holding")
    await port.add_to_bridge("contract-a", caller)
    await port.add_to_bridge("contract-b", caller)
    with pytest.raises(Unprocessable):
        await port.remove_from_bridge("contract-a", caller)  # not in that bridge
    await port.hangup(caller)
    assert await port.destroy_bridge("contract-a") is True
    assert await port.destroy_bridge("contract-b") is True


async def test_creating_a_bridge_again_keeps_it_and_a_gone_bridge_is_not_found(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await port.create_bridge("contract-hold", "holding")
    await port.add_to_bridge("contract-hold", caller)
    await port.create_bridge("contract-hold", "holding")  # kept, with the caller in it
    await port.remove_from_bridge("contract-hold", caller)
    assert await port.destroy_bridge("contract-hold") is True
    assert await port.destroy_bridge("contract-hold") is False
    with pytest.raises(NotFound):
        await port.add_to_bridge("contract-hold", caller)
    await port.hangup(caller)


async def test_a_channel_sent_on_in_the_dialplan_leaves_and_is_no_longer_ours(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await port.create_bridge("contract-after", "mixing")
    await port.continue_in_dialplan(caller)
    await contract.until(StasisEnd, channel_id=caller)
    assert not contract.seen(ChannelDestroyed, channel_id=caller)  # still up, elsewhere
    with pytest.raises(Unprocessable):
        await port.add_to_bridge("contract-after", caller)
    with pytest.raises(Conflict):
        await port.start_moh(caller, "default")
    assert await port.hangup(caller) is True
    await port.destroy_bridge("contract-after")


async def test_music_on_hold_plays_on_a_channel_and_in_a_holding_bridge(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await port.start_moh(caller, "default")
    await port.stop_moh(caller)
    await port.create_bridge("contract-moh", "holding")  # as the ACD holds a caller:
    await port.bridge_moh("contract-moh", "default")  # music first, then the caller in
    await port.add_to_bridge("contract-moh", caller)
    await port.hangup(caller)
    await port.destroy_bridge("contract-moh")

    async def forgotten() -> bool:
        # Asterisk answers 409 "not in Stasis" for a moment, until its bridge
        # cache drops the destroyed bridge; then 404 like the memory PBX at once.
        try:
            await port.bridge_moh("contract-moh", "default")
        except NotFound:
            return True
        except Conflict:
            return False
        raise AssertionError("music started on a destroyed bridge")

    await poll_until(forgotten, timeout=5, message="the destroyed bridge to be gone")


async def test_a_snoop_enters_with_its_arguments_and_ends_with_the_channel_it_spies_on(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await port.snoop(caller, "contract-snoop", spy="both", whisper="out", args=["snoop", "1"])
    start = await contract.entered("contract-snoop")
    assert start.args == ("snoop", "1")
    await contract.world.hang_up(caller)
    await contract.until(StasisEnd, channel_id="contract-snoop")


async def test_a_playback_reports_its_end_and_stopping_it_afterwards_says_false(
    contract: Contract,
) -> None:
    port = contract.port
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    await port.play(caller, ["sound:beep"], playback_id="contract-beep")
    await contract.world.playbacks_end()
    finished = await contract.until(PlaybackFinished, playback_id="contract-beep")
    assert isinstance(finished, PlaybackFinished) and finished.channel_id == caller
    assert await port.stop_playback("contract-beep") is False
    await port.hangup(caller)


async def test_keys_the_caller_presses_arrive_one_event_each(contract: Contract) -> None:
    caller = await contract.world.call("queue", "support")
    await contract.entered(caller)
    for digit in "5#":
        await contract.world.press(caller, digit)
    await poll_until(lambda: len(contract.seen(Dtmf, channel_id=caller)) == 2, message="2 keys")
    assert [e.digit for e in contract.seen(Dtmf) if isinstance(e, Dtmf)] == ["5", "#"]
    await contract.port.hangup(caller)


async def test_a_sip_message_reaches_the_phone_and_one_from_the_phone_names_its_sender(
    contract: Contract,
) -> None:
    world = contract.world
    if isinstance(world, AsteriskWorld):
        await world.listen()
    await contract.port.send_message(world.sip_phone, "callflow", "hello phone")

    async def delivered() -> bool:
        return any("hello phone" in line for line in await world.inbox())

    await poll_until(delivered, timeout=15, message="the message in the phone's inbox")
    await world.phone_says("hello callflow")
    said = await contract.until(TextMessage, endpoint=world.sip_phone)
    assert isinstance(said, TextMessage) and said.body == "hello callflow"


async def test_endpoints_say_which_phones_are_reachable_and_dynamic_ones_come_and_go(
    contract: Contract,
) -> None:
    port, world = contract.port, contract.world
    known = await port.endpoints()
    assert known[world.unreachable] is False  # a phone with no contact
    await port.configure("aor", "contract-x", {"max_contacts": "1"})
    endpoint = {"aors": "contract-x", "context": "callflow-agents", "disallow": "all",
                "allow": "ulaw"}  # fmt: skip
    await port.configure("endpoint", "contract-x", endpoint)
    assert (await port.endpoints()).get("PJSIP/contract-x") is False
    assert await port.unconfigure("endpoint", "contract-x") is True
    assert await port.unconfigure("endpoint", "contract-x") is False
    await port.unconfigure("aor", "contract-x")
    assert "PJSIP/contract-x" not in await port.endpoints()
