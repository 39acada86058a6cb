"""The telephony port: what callflow's features ask of the PBX, and what comes back.

Features see only this module. ``telephony.ari.AriClient`` implements the
port against a real Asterisk; ``telephony.memory.MemoryPbx`` implements it
in memory for fast flow tests. Both deliver events through one ``EventBus``
(``telephony.bus``): handlers run as tasks serialised per key (a channel,
an endpoint), and timers armed with ``arm`` come back as ``Timer`` events on
the same keys, so a handler never sees a timer and a key of the same channel
at once.

Races with the PBX's own state are outcomes, not bugs: a channel can hang up
between any two commands. They come back as ``Race`` subclasses (404
``NotFound``, 409 ``Conflict``, 422 ``Unprocessable``); ``Unavailable`` means
the PBX cannot be reached at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

# -- what the PBX holds ----------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """A channel as the PBX describes it."""

    id: str
    name: str = ""
    caller_number: str = ""
    caller_name: str = ""
    exten: str = ""
    app_name: str = ""  # the dialplan application it is in (Stasis, ...)
    app_data: str = ""

    @property
    def endpoint(self) -> str:
        """``PJSIP/agent1-0000002a`` -> ``PJSIP/agent1``."""
        return self.name.rsplit("-", 1)[0] if "-" in self.name else self.name

    def in_app(self, app: str) -> bool:
        return self.app_name.lower() == "stasis" and self.app_data.split(",", 1)[0] == app


@dataclass(frozen=True)
class Bridge:
    id: str
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """What the PBX holds right after a (re)connect."""

    channels: tuple[Channel, ...]
    bridges: tuple[Bridge, ...]

    def channel_ids(self) -> set[str]:
        return {c.id for c in self.channels}

    def bridge(self, bridge_id: str) -> Bridge | None:
        return next((b for b in self.bridges if b.id == bridge_id), None)


# -- what comes back -------------------------------------------------------------


class Event:
    """Base of every event; ``key`` serialises events of one channel or endpoint."""

    @property
    def key(self) -> str | None:
        return None


@dataclass(frozen=True)
class StasisStart(Event):
    """A channel entered the application: ``Stasis(<app>,<verb>,<args>...)``."""

    channel: Channel
    args: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"channel:{self.channel.id}"


@dataclass(frozen=True)
class StasisEnd(Event):
    channel_id: str

    @property
    def key(self) -> str:
        return f"channel:{self.channel_id}"


@dataclass(frozen=True)
class ChannelDestroyed(Event):
    channel_id: str
    cause: int = 0
    cause_txt: str = ""

    @property
    def key(self) -> str:
        return f"channel:{self.channel_id}"


@dataclass(frozen=True)
class Dtmf(Event):
    channel_id: str
    digit: str

    @property
    def key(self) -> str:
        return f"channel:{self.channel_id}"


@dataclass(frozen=True)
class PlaybackFinished(Event):
    playback_id: str
    channel_id: str | None = None

    @property
    def key(self) -> str | None:
        return f"channel:{self.channel_id}" if self.channel_id else None


@dataclass(frozen=True)
class EndpointState(Event):
    endpoint: str  # PJSIP/agent1
    online: bool

    @property
    def key(self) -> str:
        return f"endpoint:{self.endpoint}"


@dataclass(frozen=True)
class TextMessage(Event):
    """A SIP MESSAGE from ``endpoint`` (the authenticated sender)."""

    endpoint: str
    body: str

    @property
    def key(self) -> str:
        return f"endpoint:{self.endpoint}"


@dataclass(frozen=True)
class DeviceState(Event):
    """A device changed state (from AMI): ``INUSE``, ``NOT_INUSE``, ..."""

    device: str
    state: str

    @property
    def key(self) -> str:
        return f"device:{self.device}"


@dataclass(frozen=True)
class Timer(Event):
    """A timer armed with ``arm(key, name, ...)`` ran out."""

    timer_key: str
    name: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.timer_key


# -- races and failures ------------------------------------------------------------


class TelephonyError(Exception):
    def __init__(self, operation: str, status: int | None, detail: str) -> None:
        super().__init__(f"ARI {operation} failed ({status or 'no answer'}): {detail}")
        self.operation = operation
        self.status = status
        self.detail = detail


class Unavailable(TelephonyError):
    """The PBX is not reachable right now (not connected, or connection lost)."""


class Fenced(Unavailable):
    """This node may not act on the PBX (it is not, or no longer, the active
    node): nothing was sent."""


Gate = Callable[[], str | None]  # why this node may not act now (None: it may)


def always_open() -> str | None:
    return None


class Race(TelephonyError):
    """A normal race with the PBX's own state; the caller decides what it means."""


class NotFound(Race):
    """404: the channel, bridge or playback is already gone."""


class Conflict(Race):
    """409: e.g. the channel is not (yet) in our Stasis application."""


class Unprocessable(Race):
    """422: e.g. the channel already moved or the bridge is gone."""


RACES: dict[int, type[Race]] = {404: NotFound, 409: Conflict, 422: Unprocessable}

# -- what features ask -------------------------------------------------------------

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]
ResyncHook = Callable[[Snapshot], Awaitable[None]]


class Telephony(Protocol):
    """The PBX as features see it."""

    app: str

    def now(self) -> float:
        """Wall-clock seconds (the memory PBX's own, movable clock in tests)."""

    def on(self, kind: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        """Call ``handler`` for every event of type ``kind``."""

    def on_resync(self, hook: ResyncHook) -> None:
        """Call ``hook`` with a fresh snapshot after every (re)connect."""

    def arm(self, key: str, name: str, delay: float, **data: Any) -> None:
        """Deliver ``Timer(key, name, data)`` after ``delay`` seconds; arming the
        same key and name again replaces the earlier timer."""

    def cancel(self, key: str, name: str) -> bool:
        """Cancel a timer; True if one was armed."""

    async def answer(self, channel_id: str) -> None: ...

    async def hangup(self, channel_id: str, reason: str = "normal") -> bool:
        """False when the channel was already gone."""

    async def originate(
        self,
        channel_id: str,
        endpoint: str,
        args: list[str],
        *,
        caller_id: str | None = None,
        timeout: int = 30,
        near: str | None = None,
    ) -> None:
        """Call ``endpoint``; when answered it enters Stasis with ``args``.
        ``near``: a channel the new one will share a bridge or snoop with
        (with several servers, the new channel is made on that one's)."""

    async def continue_in_dialplan(
        self, channel_id: str, context: str | None = None, exten: str | None = None,
        priority: int | str | None = None,
    ) -> None: ...  # fmt: skip

    async def set_var(self, channel_id: str, name: str, value: str) -> None: ...

    async def create_bridge(self, bridge_id: str, kind: str, name: str = "") -> None:
        """``kind``: holding, mixing, or mixing,dtmf_events."""

    async def destroy_bridge(self, bridge_id: str) -> bool:
        """False when the bridge was already gone."""

    async def add_to_bridge(
        self, bridge_id: str, channel_id: str, *, absorb_dtmf: bool = False
    ) -> None: ...

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None: ...

    async def snoop(
        self, channel_id: str, snoop_id: str, *, spy: str, whisper: str, args: list[str]
    ) -> None:
        """Spy on / whisper to a channel (``in``/``out``/``both``/``none``)."""

    async def bridge_moh(self, bridge_id: str, moh_class: str) -> None: ...

    async def start_moh(self, channel_id: str, moh_class: str) -> None: ...

    async def stop_moh(self, channel_id: str) -> None: ...

    async def play(
        self, channel_id: str, media: list[str], playback_id: str | None = None
    ) -> None: ...

    async def stop_playback(self, playback_id: str) -> bool:
        """False when the playback was already over."""

    async def record_call(
        self, channel_id: str, name: str, *, said: str | None = None, heard: str | None = None
    ) -> None:
        """Record what the channel says and hears, mixed, to ``<name>.wav`` in
        the PBX's monitor directory, until stopped or hung up, wherever the
        channel goes (bridges, holds); ``said``/``heard``: also each direction
        alone to ``<said>.wav``/``<heard>.wav``."""

    async def mute_call_recording(self, channel_id: str, muted: bool) -> None:
        """Write silence instead of the call (card numbers), or the call again
        (no recording on the channel: nothing happens)."""

    async def stop_call_recording(self, channel_id: str) -> bool:
        """Stop and close the files; False when the channel had none (or is gone)."""

    async def send_message(self, endpoint: str, sender: str, body: str) -> None: ...

    async def configure(self, kind: str, name: str, fields: dict[str, str]) -> None:
        """Create or replace a PJSIP object (``endpoint``, ``auth``, ``aor``) in
        Asterisk's dynamic configuration."""

    async def unconfigure(self, kind: str, name: str) -> bool:
        """Delete a PJSIP object; False when there was none."""

    async def endpoints(self) -> dict[str, bool]:
        """Every PJSIP endpoint (``PJSIP/<name>``) and whether it is online."""
