"""A channel's recording through Asterisk's MixMonitor (AMI), for the port.

Theory of operation
-------------------
ARI records a bridge by adding a recorder channel to it, which turns a
two-party bridge into a mixing one: Asterisk then decodes, mixes and
encodes every frame of the call. MixMonitor instead taps the channel's own
audio (an audiohook) and writes what it says and hears, mixed, with no
change to the bridge — the cheap way to record every call. It has no ARI
resource, so ``AriClient`` runs it through its server's AMI link with this
class. AMI names channels by name, not id: the name is looked up over ARI
first. The file lands in Asterisk's monitor directory
(``<astspooldir>/monitor/<name>.wav``); with ``said``/``heard`` MixMonitor
also writes each direction alone (its ``r()`` and ``t()`` options).
Muting writes silence in place (the file keeps its length); stopping closes
the files before AMI answers; a hang-up closes them shortly after.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from callflow.telephony.port import NotFound, TelephonyError, Unavailable

FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")  # no path: always the monitor directory


class AmiActions(Protocol):
    async def action(self, action: dict[str, str], *, as_list: bool = False) -> Any: ...


class AmiRecorder:
    def __init__(
        self, ami: AmiActions | None, channel_name: Callable[[str], Awaitable[str]]
    ) -> None:
        """``channel_name(id)``: the channel's name (NotFound when gone)."""
        self.ami = ami
        self.channel_name = channel_name

    async def _run(self, operation: str, channel_id: str, fields: dict[str, str]) -> bool:
        """One action on the channel; False when Asterisk says it had nothing to act on."""
        if self.ami is None:
            raise Unavailable(operation, None, "no AMI link to this Asterisk")
        name = await self.channel_name(channel_id)
        try:
            answer = await self.ami.action({"Action": operation, "Channel": name, **fields})
        except Exception as error:  # AmiError: not connected, fenced, no answer
            raise Unavailable(operation, None, str(error)) from None
        if str(answer.get("Response", "")) == "Success":
            return True
        message = str(answer.get("Message", "refused"))
        if "no such channel" in message.lower():
            raise NotFound(operation, 404, f"Channel not found: {channel_id}")
        return False

    async def start(
        self, channel_id: str, name: str, *, said: str | None = None, heard: str | None = None
    ) -> None:
        for file in (name, said, heard):
            if file is not None and not FILE_NAME.match(file):
                raise ValueError(f"recording file name {file!r} is not a plain name")
        options = "".join(
            f"{flag}({file}.wav)" for flag, file in (("r", said), ("t", heard)) if file
        )
        if not await self._run(
            "MixMonitor", channel_id, {"File": f"{name}.wav", "Options": options}
        ):
            raise TelephonyError("MixMonitor", None, f"Asterisk did not record {channel_id}")

    async def mute(self, channel_id: str, muted: bool) -> None:
        """A channel with no recording: nothing happens (Asterisk answers Success)."""
        fields = {"Direction": "both", "State": "1" if muted else "0"}
        await self._run("MixMonitorMute", channel_id, fields)

    async def stop(self, channel_id: str) -> bool:
        try:
            return await self._run("StopMixMonitor", channel_id, {})
        except NotFound:
            return False
