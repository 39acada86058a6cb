"""baresip (Debian's baresip-core) as a real softphone in the tests.

Theory of operation
-------------------
Each phone is one ``baresip`` process with its own configuration directory:
one account that registers with digest authentication, SIP and RTP on
loopback only, a sine tone as its microphone. Three ways in and out:

* **ctrl_tcp** (JSON in netstrings): long commands (``accept``, ``hangup``,
  ``message``) and the phone's events (``REGISTER_OK``, ``CALL_INCOMING``,
  ``CALL_ESTABLISHED``, ``CALL_CLOSED``...), which a reader task collects;
* **cons** (a console over TCP): single keys, as a user presses them; during
  a call the digit keys are sent as RFC 4733 DTMF;
* **the console's output**: what a user would read, e.g. the text of the
  SIP MESSAGEs it receives (``received``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness.poll import poll_until

BARESIP = "/usr/bin/baresip"
MODULES = "/usr/lib/baresip/modules"
# A console key stays down (its RFC 4733 event goes on) until the release
# code or the next key; a person holds a key about this long.
KEY_RELEASE = b"\x04"
KEY_HELD = 0.15


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _netstring(payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload).encode()
    return str(len(data)).encode() + b":" + data + b","


@dataclass
class Baresip:
    user: str
    password: str
    pbx_port: int
    workdir: Path
    tone_hz: int = 440
    sip_port: int = field(default_factory=lambda: _free_port(socket.SOCK_DGRAM))
    ctrl_port: int = field(default_factory=_free_port)
    cons_port: int = field(default_factory=_free_port)
    rtp_base: int = 0  # 0: derived from the SIP port
    events: list[dict[str, Any]] = field(default_factory=list)
    process: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None
    _writer: asyncio.StreamWriter | None = None
    _console: asyncio.StreamWriter | None = None
    _console_reader: asyncio.Task[None] | None = None
    screen: str = ""  # what the console showed
    _responses: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    @property
    def pbx(self) -> str:
        return f"127.0.0.1:{self.pbx_port}"

    @property
    def log(self) -> str:
        path = self.workdir / "baresip.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        rtp = self.rtp_base or 40000 + (self.sip_port % 200) * 100
        (self.workdir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    "net_interface 127.0.0.1",
                    "net_af ipv4",
                    f"rtp_ports {rtp}-{rtp + 98}",
                    f"audio_source ausine,{self.tone_hz}",
                    "ausrc_srate 48000",  # the sine source makes 48 kHz only
                    "ausrc_channels 2",  # and stereo (mixed down to the call)
                    "audio_player aubridge,none",
                    "audio_alert aubridge,none",
                    f"module_path {MODULES}",
                    "module g711.so",
                    "module ausine.so",
                    "module aubridge.so",
                    "module cons.so",
                    "module_app account.so",
                    "module_app contact.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    f"cons_listen 127.0.0.1:{self.cons_port}",
                    "",
                ]
            )
        )
        (self.workdir / "accounts").write_text(
            f"<sip:{self.user}@{self.pbx};transport=udp>;auth_pass={self.password};"
            "regint=600;answermode=manual;audio_codecs=PCMU\n"
        )
        # the "current contact" a /message goes to: callflow, through the PBX
        (self.workdir / "contacts").write_text(f'"callflow" <sip:callflow@{self.pbx}>\n')

    async def start(self, attempts: int = 3) -> None:
        """Start it; new ports when one of them was taken meanwhile."""
        for attempt in range(attempts):
            self._write_config()
            log = (self.workdir / "baresip.log").open("ab")
            self.process = await asyncio.create_subprocess_exec(
                BARESIP, "-f", str(self.workdir), stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            log.close()
            try:
                link = await poll_until(
                    self._connect, timeout=10, message=f"baresip {self.user}'s control port"
                )
                break
            except AssertionError:
                if "Address already in use" not in self.log or attempt == attempts - 1:
                    raise
                self.sip_port = _free_port(socket.SOCK_DGRAM)
                self.ctrl_port, self.cons_port = _free_port(), _free_port()
        assert link is not None
        reader, writer = link
        self._writer = writer
        self._reader = asyncio.create_task(self._read(reader))
        console, self._console = await asyncio.open_connection("127.0.0.1", self.cons_port)
        self._console_reader = asyncio.create_task(self._watch(console))

    async def _watch(self, console: asyncio.StreamReader) -> None:
        while chunk := await console.read(4096):
            self.screen += chunk.decode(errors="replace")

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"baresip {self.user} exited:\n{self.log}")
        try:
            return await asyncio.open_connection("127.0.0.1", self.ctrl_port)
        except OSError:
            return None

    async def _read(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                length = int((await reader.readuntil(b":"))[:-1])
                message = json.loads(await reader.readexactly(length))
                await reader.readexactly(1)  # the netstring's ","
                if message.get("event"):
                    self.events.append(message)
                else:
                    await self._responses.put(message)

    async def command(self, name: str, params: str = "") -> dict[str, Any]:
        """Run a long command (as typed after "/"); its response."""
        assert self._writer is not None
        self._writer.write(_netstring({"command": name, "params": params, "token": name}))
        await self._writer.drain()
        response = await asyncio.wait_for(self._responses.get(), 10)
        assert response.get("ok"), f"baresip {name} {params}: {response}"
        return response

    async def event(self, kind: str, timeout: float = 20) -> dict[str, Any]:
        """The first event of ``kind`` (waiting for it if need be)."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.events if e.get("type") == kind), None)

        result = await poll_until(found, timeout=timeout, message=f"baresip {self.user}: {kind}")
        assert result is not None
        return result

    async def registered(self, timeout: float = 20) -> None:
        """Wait for the registrar's 200 OK (it may come before the control port
        is connected, so it is read from the log, not the events)."""
        await poll_until(
            lambda: f"{self.user}@127.0.0.1: {{0/UDP/v4}} 200 OK" in self.log,
            timeout=timeout,
            message=f"baresip {self.user} registered",
        )

    async def press(self, keys: str) -> None:
        """Keys as a user presses them (digits in a call: RFC 4733 DTMF)."""
        assert self._console is not None
        for key in keys:
            self._console.write(key.encode())  # down: the digit's events start
            await self._console.drain()
            await asyncio.sleep(KEY_HELD)
            self._console.write(KEY_RELEASE)  # up: its end events go out
            await self._console.drain()
            await asyncio.sleep(KEY_HELD)

    async def say(self, text: str) -> None:
        """Send a SIP MESSAGE to callflow."""
        await self.command("message", text)

    async def received(self, text: str, timeout: float = 20) -> None:
        """Wait until the console shows ``text`` (a received MESSAGE)."""
        await poll_until(
            lambda: text in self.screen,
            timeout=timeout,
            message=f"baresip {self.user} shows {text!r}",
        )

    async def close(self) -> None:
        for writer in (self._writer, self._console):
            if writer is not None:
                writer.close()
        for task in (self._reader, self._console_reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
