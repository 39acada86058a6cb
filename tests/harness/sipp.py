"""Run SIPp scenarios from tests/sipp against the test PBX.

Scenarios are XML with ``@NAME@`` placeholders filled per run; ``@DTMF@``
becomes a pcap playback of the wanted digits (see dtmf_pcap).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.dtmf_pcap import write_dtmf_pcap
from tests.harness.poll import poll_until
from tests.harness.rtp import RtpPeer

SCENARIOS = Path(__file__).resolve().parents[1] / "sipp"
# SIPp calls a phone may see besides those it counts: INVITEs and SIP
# MESSAGEs the PBX kept retransmitting to the port before the phone was there
# (an INVITE is then cancelled), and qualifies
STRAY_CALLS = 20
_ports = itertools.count(0)


def dtmf_block(pcap: Path) -> str:
    """Start playing the digits; the scenario goes on while they play."""
    return f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'


@dataclass
class SippCall:
    """One SIPp process; ``await wait()`` gives its exit status."""

    name: str
    workdir: Path
    process: asyncio.subprocess.Process | None = None
    args: list[str] = field(default_factory=list)

    async def wait(self, timeout: float = 60.0) -> int:
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.kill()
            await self.process.wait()
            raise AssertionError(f"SIPp {self.name} still running after {timeout:g}s") from None

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    @property
    def errors(self) -> str:
        texts = [p.read_text(errors="replace") for p in sorted(self.workdir.glob("*err*"))]
        out = self.workdir / "stdout.log"
        if out.exists():
            texts.append(out.read_text(errors="replace")[-3000:])
        return "\n".join(texts)


def _socket_inodes(port: int) -> set[str]:
    """The inodes of the UDP sockets bound to ``port`` (any address)."""
    inodes = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def listening(process: asyncio.subprocess.Process, port: int, call: SippCall) -> bool:
    """True once ``process`` holds a socket on ``port``; a SIPp that exited
    (say, because something else holds the port) fails with its own words."""
    if process.returncode is not None:
        raise AssertionError(f"SIPp {call.name} exited ({process.returncode}): {call.errors}")
    inodes = _socket_inodes(port)
    if not inodes:
        return False
    with contextlib.suppress(OSError):
        fds = Path(f"/proc/{process.pid}/fd")
        held = {Path(fd).readlink().name for fd in fds.iterdir()}
        return any(f"socket:[{inode}]" in held for inode in inodes)
    return False


class Sipp:
    """Starts SIPp peers (customers, agents, experts) against one PBX."""

    def __init__(
        self, pbx_sip_port: int, workdir: Path, base_port: int, *, min_talk_ms: int = 0
    ) -> None:
        if shutil.which("sipp") is None:
            raise RuntimeError("sipp is not installed: run scripts/provision-asterisk.sh")
        self.target = f"127.0.0.1:{pbx_sip_port}"
        self.workdir = workdir
        self.base_port = base_port
        # an agent who hangs up sooner than this may do so before the PBX has
        # connected the caller (Asterisk 16 runs channel commands up to 200 ms late)
        self.min_talk_ms = min_talk_ms
        self.running: list[SippCall] = []
        self.peers: list[RtpPeer] = []

    def _ports(self) -> tuple[int, int]:
        n = next(_ports) % 400
        return self.base_port + n * 2, self.base_port + 1000 + n * 4

    def render(self, scenario: str, values: dict[str, str], into: Path) -> Path:
        text = (SCENARIOS / scenario).read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        leftover = sorted(set(re.findall(r"@([A-Z][A-Z_]*)@", text)))
        if leftover:
            raise ValueError(f"{scenario}: no value for {leftover}")
        out = into / scenario
        out.write_text(text)
        return out

    async def start(
        self,
        scenario: str,
        *,
        service: str = "100",
        digits: str = "",
        values: dict[str, str] | None = None,
        calls: int = 1,
        rate: float | None = None,
        extra: list[str] | None = None,
        timeout_s: int = 60,
        uas_port: int | None = None,
        source: str = "127.0.0.1",
    ) -> SippCall:
        n = len(self.running)
        workdir = self.workdir / f"sipp-{n}-{scenario.removesuffix('.xml')}"
        workdir.mkdir(parents=True, exist_ok=True)
        defaults = {
            "CALLER": "5550100", "WAIT_MS": "300", "BYE_TIMEOUT_MS": "20000",
            "HOLD_MS": "1000", "RING_MS": "100", "TALK_MS": "0", "HANGUP_JUMP": "",
            "CANCEL_TIMEOUT_MS": "60000", "DIGITS": digits or "(none)",
        }  # fmt: skip
        all_values = {**defaults, **(values or {})}
        if digits:
            pcap = write_dtmf_pcap(workdir / "dtmf.pcap", digits)
            all_values["DTMF"] = dtmf_block(pcap)
        else:
            all_values.setdefault("DTMF", "")
        path = self.render(scenario, all_values, workdir)
        sip_port, media_port = self._ports()
        if uas_port is not None:  # a phone the PBX calls: listens on its contact's port
            target: list[str] = []
            sip_port = uas_port
        else:
            target = [self.target, "-s", service]
        args = [
            *target, "-sf", str(path), "-i", source, "-p", str(sip_port),
            "-mp", str(media_port), "-m", str(calls), "-timeout", f"{timeout_s}s",
            "-timeout_error", "-nostdin", "-trace_err", "-error_file",
            str(workdir / "errors.log"), "-max_recv_loops", "1000",
        ]  # fmt: skip
        if rate is not None:
            args += ["-r", str(rate)]
        args += extra or []
        stdout = (workdir / "stdout.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            "sipp", *args, cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=stdout,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        stdout.close()
        call = SippCall(scenario, workdir, process, args)
        self.running.append(call)
        if uas_port is not None:  # the PBX may call it at once: wait until it listens
            await poll_until(
                lambda: listening(process, uas_port, call),
                timeout=10,
                message=f"SIPp {scenario} listening on port {uas_port}",
            )
        return call

    async def agent(
        self, port: int, *, answer: bool = True, ring_ms: int = 100, talk_ms: int = 0,
        calls: int = 1, timeout_s: int = 60,
    ) -> SippCall:  # fmt: skip
        """An agent's phone at ``port``: answers (and hangs up after ``talk_ms``
        when > 0, else waits for BYE) or, with ``answer=False``, rings until cancelled."""
        if not answer:
            return await self.start(
                "agent_ignores.xml", calls=calls + STRAY_CALLS, uas_port=port,
                values={"CALLS": str(calls)}, timeout_s=timeout_s,
            )  # fmt: skip
        talk_ms = max(talk_ms, self.min_talk_ms) if talk_ms > 0 else 0
        values = {
            "RING_MS": str(ring_ms), "TALK_MS": str(talk_ms), "CALLS": str(calls),
            "HANGUP_JUMP": '  <nop next="hangup"/>' if talk_ms > 0 else "",
        }  # fmt: skip
        # it quits after ``calls`` answered calls; a cancelled ring or a qualify
        # is a SIPp call too, hence the room
        return await self.start(
            "agent_answers.xml", calls=calls + STRAY_CALLS, uas_port=port, values=values,
            timeout_s=timeout_s,
        )  # fmt: skip

    async def customer(
        self, service: str, *, hang_up_after_ms: int | None = None, caller: str = "5550100",
        digits: str = "", bye_timeout_ms: int = 30000, wait_ms: int = 300,
    ) -> SippCall:  # fmt: skip
        """A customer calling ``service``: waits for the PBX's BYE, or hangs up
        (``digits``: keyed ``wait_ms`` after the answer)."""
        values = {
            "CALLER": caller, "BYE_TIMEOUT_MS": str(bye_timeout_ms), "WAIT_MS": str(wait_ms)
        }  # fmt: skip
        scenario = "customer_dtmf.xml"
        if hang_up_after_ms is not None:
            values["HOLD_MS"] = str(hang_up_after_ms)
            scenario = "customer_hangs_up.xml"
        return await self.start(
            scenario, service=service, digits=digits, values=values,
            timeout_s=bye_timeout_ms // 1000 + 30,
        )  # fmt: skip

    async def feature_code(self, agent: str, password: str, code: str) -> SippCall:
        """``agent``'s phone dials ``code`` (authenticating like a real phone)."""
        return await self.start(
            "agent_feature_code.xml", service=code, values={"AGENT": agent, "PASSWORD": password}
        )

    async def phone_inbox(self, port: int) -> SippCall:
        """A SIP phone at ``port`` that accepts MESSAGEs and logs their bodies."""
        return await self.start(
            "phone_inbox.xml", calls=1000, uas_port=port, extra=["-trace_logs"], timeout_s=300
        )

    @staticmethod
    def inbox(call: SippCall) -> list[str]:
        return [
            line
            for path in call.workdir.glob("*_logs.log")
            for line in path.read_text(errors="replace").splitlines()
            if line.strip()
        ]

    async def phone_says(self, user: str, password: str, body: str) -> SippCall:
        """``user``'s SIP phone sends one MESSAGE (authenticating like a phone)."""
        return await self.start(
            "phone_says.xml", values={"USER": user, "PASSWORD": password, "BODY": body}
        )

    async def close(self) -> None:
        for call in self.running:
            call.kill()
            if call.process is not None:
                await call.process.wait()
        for peer in self.peers:
            await peer.close()


@dataclass
class MediaPhone:
    """A SIPp phone whose audio is a test RTP peer (see tests.harness.rtp)."""

    call: SippCall
    rtp: RtpPeer

    def log_lines(self, kind: str) -> list[list[str]]:
        """The words after ``kind`` on each line the scenario logged as ``kind``."""
        lines = [line.split() for line in Sipp.inbox(self.call)]
        return [words[1:] for words in lines if words and words[0] == kind]

    async def connected(self, timeout: float = 20) -> None:
        """Once the call is set up, send audio to the PBX's port from its SDP
        (as a phone does: Asterisk 16 with symmetric RTP sends nothing before
        it has heard the phone), then wait for the PBX's first packet."""
        before = self.rtp.received

        def up() -> bool:
            ports = self.log_lines("rtp")
            if ports and self.rtp.remote is None:
                self.rtp.start(int(ports[-1][0]))
            return self.rtp.received > before or (before > 0 and self.rtp.remote is not None)

        await poll_until(up, timeout=timeout, message=f"{self.rtp.name}'s call up")

    async def finished(self, timeout: float = 30) -> None:
        """Let SIPp finish its call and exit, then check that the call ended by
        a BYE (either way) and that SIPp saw nothing unexpected."""
        process = self.call.process
        assert process is not None
        if process.returncode is None:
            process.send_signal(signal.SIGUSR1)  # quit once the current call is over
        with contextlib.suppress(AssertionError):
            await self.call.wait(timeout)
        assert self.log_lines("ended"), f"{self.rtp.name}'s call did not end: {self.call.errors}"
        errors = self.call.workdir / "errors.log"
        text = errors.read_text(errors="replace") if errors.exists() else ""
        assert "Aborting" not in text and "unexpected" not in text, text

    def messages(self) -> list[str]:
        """Texts of the SIP MESSAGEs the phone received."""
        return [
            line[len("message ") :] for line in Sipp.inbox(self.call) if line.startswith("message ")
        ]

    def times(self, kind: str) -> list[float]:
        """When the phone rang ("invite") and answered ("answer") for the calls
        it answered, as epoch seconds."""
        return [float(s) + float(u) / 1e6 for s, u in self.log_lines(kind)]


async def media_phone(
    sipp: Sipp, port: int, name: str, *, tone: float | None = None, ring_ms: int = 100,
    talk_ms: int = 0, bye_timeout_ms: int = 60000,
) -> MediaPhone:  # fmt: skip
    """An agent's or expert's phone at SIP ``port`` that answers with a test
    RTP peer playing ``tone``; hangs up after ``talk_ms`` if > 0. It takes
    one call (and any number of MESSAGEs): ``await phone.finished()``."""
    rtp = await RtpPeer.open(name, tone)
    sipp.peers.append(rtp)
    values = {
        "RTP_PORT": str(rtp.port), "RING_MS": str(ring_ms), "TALK_MS": str(talk_ms),
        "BYE_TIMEOUT_MS": str(bye_timeout_ms),
        "HANGUP_JUMP": '  <nop next="hangup"/>' if talk_ms > 0 else "",
    }  # fmt: skip
    call = await sipp.start(
        "phone_media.xml", uas_port=port, values=values, calls=100, extra=["-trace_logs"],
        timeout_s=bye_timeout_ms // 1000 + 30,
    )  # fmt: skip
    return MediaPhone(call, rtp)


async def media_customer(
    sipp: Sipp, service: str, *, tone: float | None = None, hold_ms: int = 0,
    bye_timeout_ms: int = 60000,
) -> MediaPhone:  # fmt: skip
    """A customer calling ``service`` with a test RTP peer playing ``tone``;
    hangs up after ``hold_ms`` if > 0, else waits for the PBX's BYE."""
    rtp = await RtpPeer.open("customer", tone)
    sipp.peers.append(rtp)
    values = {
        "RTP_PORT": str(rtp.port), "HOLD_MS": str(hold_ms),
        "BYE_TIMEOUT_MS": str(bye_timeout_ms),
        "HANGUP_JUMP": '  <nop next="hangup"/>' if hold_ms > 0 else "",
    }  # fmt: skip
    call = await sipp.start(
        "customer_media.xml", service=service, values=values, extra=["-trace_logs"],
        timeout_s=bye_timeout_ms // 1000 + 30,
    )  # fmt: skip
    return MediaPhone(call, rtp)
