"""The test PBX: a real Asterisk for the whole session (fixtures ``pbx``,
``ari_probe``, ``asterisk_version``), with the tests' dialplan, music on hold
that is a known tone, and the phones' accounts. Registered for every test
directory (tests/conftest.py); only a test that asks for ``pbx`` starts it."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from callflow.localpbx.install import PbxError
from callflow.localpbx.render import Account
from callflow.localpbx.runner import LocalPbx
from tests.harness.ari_probe import AriProbe
from tests.harness.rtp import MOH_HZ, write_tone_wav

# Extensions only the tests need: bad dialplan arguments; q<queue>[-<priority>]
# into any queue; a place for exit keys and overflow to land; for the
# telephony port's contract (tests/contract), whose outside world calls in on
# the trunk from Asterisk itself: c<verb>-<arg> enters the application, and
# "ring" is a phone that the contract's outside world answers.
TEST_DIALPLAN = """
[callflow-inbound]
exten => _c.,1,Answer()
 same => n,Stasis(callflow,${CUT(EXTEN:1,-,1)},${CUT(EXTEN:1,-,2)})
 same => n,Wait(30)
 same => n,Hangup()
exten => ring,1,Stasis(contract-world)
 same => n,Hangup()
exten => 900,1,Stasis(callflow,no-such-verb)
 same => n,Goto(callflow-after,s,1)
exten => 901,1,Stasis(callflow,collect,vm-enter-num-to-call,many)
 same => n,Goto(callflow-after,s,1)
exten => _q.,1,Stasis(callflow,queue,${CUT(EXTEN:1,-,1)},${CUT(EXTEN,-,2)})
 same => n,Goto(callflow-after,s,1)
;  an IVR that learned what the caller needs sets the requirement; the
;  queue "skills" gets it as its third argument
exten => skills-billing,1,Set(CALLFLOW_REQUIRE=billing >= 3)
 same => n,Goto(skills,1)
exten => skills-spanish,1,Set(CALLFLOW_REQUIRE=spanish)
 same => n,Goto(skills,1)
exten => skills-bad,1,Set(CALLFLOW_REQUIRE=billing >> 3)
 same => n,Goto(skills,1)
exten => skills,1,Stasis(callflow,queue,skills,,${CALLFLOW_REQUIRE})
 same => n,Goto(callflow-after,s,1)

[callflow-test-exit]
exten => s,1,Playback(beep)
 same => n,Hangup()

[callflow-test-callback]
; a customer called back: any number rings the SIPp phone at a4's contact
exten => _X.,1,Dial(PJSIP/a4,30)
 same => n,Hangup(${HANGUPCAUSE})

[callflow-test-hold]
exten => s,1,Answer()
 same => n,Wait(30)
 same => n,Hangup()
"""

# Agents' phones are SIPp processes at fixed loopback ports (static contacts,
# no registration); a5 has no contact at all: unreachable.
AGENT_PORT_BASE = 30000 + (os.getpid() % 3) * 50
AGENTS = ["a1", "a2", "a3", "a4"]


def agent_port(name: str) -> int:
    return AGENT_PORT_BASE + AGENTS.index(name) + 1


EXPERTS = ["e1", "e2"]


def expert_port(name: str) -> int:
    return AGENT_PORT_BASE + 20 + EXPERTS.index(name)


SUPERVISORS = ["s1"]


def supervisor_port(name: str) -> int:
    return AGENT_PORT_BASE + 30 + SUPERVISORS.index(name)


SOFTPHONES = {"sa1": "agent", "se1": "expert"}


def _accounts() -> list[Account]:
    accounts = [
        Account(
            name,
            "agent",
            f"pw-{name}-{secrets.token_hex(8)}",
            contact=f"sip:{name}@127.0.0.1:{agent_port(name)}",
        )
        for name in AGENTS
    ]
    experts = [
        Account(
            name,
            "expert",
            f"pw-{name}-{secrets.token_hex(8)}",
            contact=f"sip:{name}@127.0.0.1:{expert_port(name)}",
        )
        for name in EXPERTS
    ]
    supervisors = [
        Account(
            name,
            "supervisor",
            f"pw-{name}-{secrets.token_hex(8)}",
            contact=f"sip:{name}@127.0.0.1:{supervisor_port(name)}",
        )
        for name in SUPERVISORS
    ]
    # real softphones (baresip) that register: no fixed contact
    softphones = [
        Account(name, kind, f"pw-{name}-{secrets.token_hex(8)}")
        for name, kind in SOFTPHONES.items()
    ]
    return [
        *accounts,
        Account("a5", "agent", f"pw-a5-{secrets.token_hex(8)}"),
        *experts,
        *supervisors,
        *softphones,
    ]


ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "tmp"


def with_test_dialplan(pbx: LocalPbx) -> None:
    """The tests' dialplan, and music on hold that is a known tone (so a test
    can tell "on hold" by ear), for a PBX about to start."""
    pbx.extra_files["extensions_local.conf"] = TEST_DIALPLAN
    moh = pbx.state_dir / "test-moh"
    moh.mkdir(parents=True, exist_ok=True)
    write_tone_wav(moh / "tone.wav", MOH_HZ, seconds=5)
    pbx.extra_files["musiconhold.conf"] = (
        "[default]\nmode = files\ndirectory = moh\n\n"
        f"[test-tone]\nmode = files\ndirectory = {pbx.inner_dir}/test-moh\n"
    )


@pytest.fixture(scope="session")
def pbx() -> Iterator[LocalPbx]:
    try:
        pbx = LocalPbx.open(f"test-{os.getpid()}", fresh=True, accounts=_accounts())
    except PbxError as error:
        pytest.fail(f"{error} (the README's test command provisions it)")
    with_test_dialplan(pbx)
    pbx.start()
    yield pbx
    pbx.remove()


@pytest.fixture(scope="session")
async def ari_probe(pbx: LocalPbx) -> AsyncIterator[AriProbe]:
    probe = AriProbe(pbx.config.ari_url, pbx.config.ari_user, pbx.config.ari_password)
    yield probe
    await probe.close()


@pytest.fixture(scope="session")
def asterisk_version(pbx: LocalPbx) -> tuple[int, int]:
    """(major, minor) of the Asterisk under test (CALLFLOW_ASTERISK picks it)."""
    info = pbx.ari_get("asterisk/info")
    assert isinstance(info, dict)
    major, minor, *_ = (int(part) for part in re.findall(r"\d+", info["system"]["version"]))
    return major, minor
