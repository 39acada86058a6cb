"""The links to the Asterisk servers, as the application's life cycle sees them.

Features speak to one ``Telephony`` port. Starting, stopping and watching the
connections behind it is the application's job: each server has an ARI link
(events and commands; with one server it is the port itself) and an AMI link
(device states, qualify, the server's boot). ``Pbx`` holds both views;
``asterisk_servers`` builds the real one from the settings, and
``telephony.memory_links`` the in-memory one the tests use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from callflow.settings import Settings
from callflow.tasks import Tasks
from callflow.telephony.ami import AmiClient
from callflow.telephony.ari import AriClient
from callflow.telephony.cluster import PbxCluster
from callflow.telephony.port import Gate, Telephony, always_open

AmiHandler = Callable[[dict[str, str]], Awaitable[None]]


class AriLink(Protocol):
    """One server's event link (ARI's websocket and REST)."""

    @property
    def connected(self) -> bool: ...

    async def run(self) -> None:
        """Connect, serve, reconnect, until ``close``."""

    async def close(self, drain: float = 5.0) -> None:
        """Stop; handlers in flight may finish for up to ``drain`` seconds."""

    async def wait_connected(self, timeout: float | None = None) -> None: ...

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Connected, and every resync hook has seen the server's snapshot."""

    async def endpoints(self) -> dict[str, bool]: ...


class AmiLink(Protocol):
    """One server's manager link."""

    @property
    def ready(self) -> bool: ...

    def on(self, pattern: str, handler: AmiHandler) -> None: ...

    def on_fully_booted(self, hook: Callable[[], Awaitable[None]]) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def wait_ready(self, timeout: float | None = None) -> None: ...

    async def qualify(self, endpoints: Iterable[str]) -> int: ...


@dataclass(frozen=True)
class ServerLink:
    name: str  # as the settings (and the other servers' trunks) name it
    ari: AriLink
    ami: AmiLink


@dataclass(frozen=True)
class Pbx:
    """The port features use, and every server's links (this server's first)."""

    port: Telephony
    links: tuple[ServerLink, ...]


def asterisk_servers(settings: Settings, tasks: Tasks, *, gate: Gate = always_open) -> Pbx:
    """The servers the settings name: ``ari``/``ami`` for this one, ``servers``
    for the others. One server: its ARI link is the port; several: one port
    over them all (``PbxCluster``). ``gate``: whether this node may act on
    them now (every link asks it before each command and each event)."""
    clients = [
        (settings.server, AriClient(settings.ari, tasks, gate=gate),
         AmiClient(settings.ami, gate=gate)),
    ]  # fmt: skip
    clients += [
        (server.name, AriClient(server.ari, tasks, gate=gate), AmiClient(server.ami, gate=gate))
        for server in settings.servers
    ]
    for _, ari, ami in clients:
        ari.use_ami(ami)  # calls are recorded through AMI (MixMonitor)
    links = tuple(ServerLink(name, ari, ami) for name, ari, ami in clients)
    port: Telephony = (
        clients[0][1] if len(clients) == 1 else PbxCluster({n: ari for n, ari, _ in clients})
    )
    return Pbx(port, links)
