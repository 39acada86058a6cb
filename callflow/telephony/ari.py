"""The ARI adapter: the only module that knows about aioari.

Theory of operation
-------------------
``AriClient.run()`` loops forever: build an aioari client (which reads
Asterisk's Swagger description), open the event websocket for our Stasis
application, run the resync hooks with a fresh list of channels and bridges,
then read events until the socket closes — cleanly or with an error — and
start over after a jittered backoff. Asterisk keeps no events for an absent
client, which is why every (re)connect resyncs.

aioari's own receive loop awaits callbacks inline and ignores error frames,
so the adapter reads the websocket itself.

An application subscribed to a channel both through Stasis and through an
endpoint subscription (``endpoint:PJSIP``, for reachability and SIP MESSAGE)
receives each of that channel's events twice, byte for byte. The adapter
drops an exact repeat of a frame seen in the last few seconds; two real
events never match byte for byte (they carry millisecond timestamps).

Each frame becomes a typed event of the telephony port (``parse_event``)
and goes to the ``EventBus``: handlers run as tasks, serialised per channel.

REST calls go straight to their paths over HTTP (``ari_http``); the offer's
originate goes over the event socket where Asterisk takes requests there
(``ari_socket``). The socket carries only the event types callflow reads:
an event filter set on every connect drops the rest in Asterisk. The port's
commands are thin wrappers over ``request`` (``ari_commands``). ARI answers
404, 409 and 422 when a call races with Asterisk (the channel hung up, a
snoop channel is not in Stasis yet, a channel already moved); those become
the port's ``Race`` subclasses, which callers treat as outcomes and the bus
logs quietly.

Credentials travel in an HTTP Basic header of the aiohttp session, never in
URLs, so they cannot leak into logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aioari
import aiohttp
import orjson

from callflow.settings import AriSettings
from callflow.tasks import Tasks
from callflow.telephony.ami_recorder import AmiActions, AmiRecorder
from callflow.telephony.ari_commands import AriCommands
from callflow.telephony.ari_events import EVENT_TYPES, channel_of, parse_event
from callflow.telephony.ari_http import (
    RestFailure,
    _BasicAuthHttpClient,
    ari_base,
    describe_failure,
    rest,
)
from callflow.telephony.ari_socket import SOCKET_OPERATIONS, SocketNotOpen, SocketRequests
from callflow.telephony.bus import EventBus
from callflow.telephony.connection import Backoff, Link, LinkEvent
from callflow.telephony.port import (
    RACES,
    Bridge,
    ChannelDestroyed,
    Fenced,
    Gate,
    Race,
    ResyncHook,
    Snapshot,
    StasisEnd,
    StasisStart,
    TelephonyError,
    Unavailable,
    always_open,
)

log = logging.getLogger("callflow.ari")

DUPLICATE_WINDOW = 5.0  # seconds an event frame is remembered
DUPLICATE_MEMORY = 4096  # frames remembered at most

# the port's names, under the ones this adapter has always used
AriError = TelephonyError
AriUnavailable = Unavailable
AriRace = Race


class AriClient(AriCommands):
    """A reconnecting ARI client for one Stasis application: the port on Asterisk."""

    def __init__(
        self,
        settings: AriSettings,
        tasks: Tasks,
        *,
        backoff: Backoff | None = None,
        request_timeout: float = 10.0,
        gate: Gate = always_open,
    ) -> None:
        """``gate``: asked before every request and every event; while it
        refuses, requests fail with ``Fenced`` (nothing sent) and events
        are dropped."""
        self.settings = settings
        self._gate = gate
        self.app = settings.app
        self._base = ari_base(settings.url)  # where the REST paths start
        self.link = Link("ARI", log)
        self._backoff = backoff or Backoff()
        self._timeout = request_timeout
        self.bus = EventBus(
            tasks, lambda delay, fire: asyncio.get_running_loop().call_later(delay, fire),
            gate=gate,
        )  # fmt: skip
        self.on = self.bus.on
        self.arm = self.bus.arm
        self.cancel = self.bus.cancel
        self._resync_hooks: list[ResyncHook] = []
        # told when the link to Asterisk goes down (not when callflow closes it)
        self.lost_hooks: list[Callable[[], Awaitable[None]]] = []
        self._client: Any = None
        self._http: _BasicAuthHttpClient | None = None
        self._connected = asyncio.Event()
        self._synced = asyncio.Event()  # the resync hooks ran after the last connect
        self._closing = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks = tasks
        self.socket = SocketRequests(request_timeout)
        self.recorder = AmiRecorder(None, self.channel_name)  # AMI: ``use_ami``
        # the names of channels in the application (AMI names channels by name)
        self.names: dict[str, str] = {}
        self.connections = 0
        self.duplicates = 0
        self._recent: OrderedDict[bytes, float] = OrderedDict()

    @staticmethod
    def now() -> float:
        return time.time()

    async def channel_name(self, channel_id: str) -> str:
        """Known from the channel's StasisStart; asked of Asterisk otherwise."""
        name = self.names.get(channel_id)
        return name if name is not None else await super().channel_name(channel_id)

    def use_ami(self, ami: AmiActions) -> None:
        """This server's AMI link: calls are recorded through it (MixMonitor)."""
        self.recorder.ami = ami

    def on_resync(self, hook: ResyncHook) -> None:
        self._resync_hooks.append(hook)

    # -- life cycle ---------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Connected, and the resync hooks have run (callers re-adopted)."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    async def run(self) -> None:
        """Connect, serve, reconnect — until ``close()``."""
        self.link.fire(LinkEvent.START, f"{self.settings.url} app {self.app}")
        while not self._closing:
            try:
                await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                await self._teardown()
                if self._closing:
                    break
                self.link.fire(LinkEvent.FAILED, describe_failure(error))
                await asyncio.sleep(self._backoff.next_delay())
                continue
            self._backoff.reset()
            reason = await self._serve()
            if self._closing:
                break  # close() drains the handlers, then tears down
            await self._teardown()
            self.link.fire(LinkEvent.DOWN, reason)
            for hook in self.lost_hooks:
                try:
                    await hook()
                except Exception:
                    log.exception("lost-link hook %r failed", hook)
            await asyncio.sleep(self._backoff.next_delay())

    async def close(self, drain: float = 5.0) -> None:
        """Stop reading events, let handlers in flight finish (up to ``drain``
        seconds, so none is cut off mid-write), then cancel what is left."""
        self._closing = True
        self.socket.detach()  # requests of the drain go over HTTP
        if self._ws is not None:
            await self._ws.close()  # no new events; REST still works for the drain
        self.bus.cancel_all()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.bus.dispatcher.idle(), drain)
        await self._teardown()
        await self.bus.dispatcher.close()
        self.link.fire(LinkEvent.CLOSE)

    async def _connect(self) -> None:
        http = _BasicAuthHttpClient(
            self.settings.user, self.settings.password.get_secret_value(), self._timeout
        )
        self._http = http
        client = aioari.Client(self.settings.url, http)
        self._client = client
        await client.init()
        self._ws = await client.swagger.events.eventWebsocket(app=self.app, subscribeAll=False)
        self.socket.attach(self._ws)
        self._connected.set()
        self.connections += 1
        self.link.fire(LinkEvent.UP, f"{self.settings.url} app {self.app}")
        # endpoint state (reachability, presence) and SIP MESSAGEs
        await self.request(
            "applications", "subscribe", applicationName=self.app, eventSource="endpoint:PJSIP"
        )
        await self._filter_events()
        self._tasks.spawn(self.socket.probe(), "ari-socket-probe")
        channels = await self.request("channels", "list")
        bridges = await self.request("bridges", "list")
        snapshot = Snapshot(
            channels=tuple(channel_of(c) for c in channels),
            bridges=tuple(
                Bridge(str(b["id"]), tuple(str(c) for c in b.get("channels", []))) for b in bridges
            ),
        )
        self.names = {c.id: c.name for c in snapshot.channels if c.in_app(self.app)}
        for hook in self._resync_hooks:
            try:
                await hook(snapshot)
            except Exception:
                log.exception("resync hook %r failed", hook)
        self._synced.set()

    async def _filter_events(self) -> None:
        """Only the event types callflow reads cross the socket (the rest cost
        Asterisk a write and us a parse each); an Asterisk that cannot filter
        sends them all, and they are dropped here."""
        allowed = {"allowed": [{"type": kind} for kind in EVENT_TYPES]}
        try:
            await self.request(
                "applications", "filter", applicationName=self.app, json_body=allowed
            )
        except TelephonyError as error:
            log.info("ARI event filter not set (%s): every event type is sent", error)

    async def _serve(self) -> str:
        """Read events until the websocket ends; return why it ended."""
        ws = self._ws
        assert ws is not None
        while True:
            try:
                msg = await ws.receive()
            except Exception as error:
                return f"event websocket failed: {describe_failure(error)}"
            if msg.type is aiohttp.WSMsgType.TEXT:
                self._accept(msg.data)
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                return f"event websocket closed by Asterisk (code {ws.close_code})"
            elif msg.type is aiohttp.WSMsgType.ERROR:
                return f"event websocket error: {ws.exception()}"

    def _accept(self, data: str) -> None:
        if self._seen_recently(data):
            self.duplicates += 1
            return
        try:
            raw = orjson.loads(data)
        except ValueError:
            log.error("ignoring ARI frame that is not JSON: %.200s", data)
            return
        if not isinstance(raw, dict) or "type" not in raw:
            log.error("ignoring ARI frame without an event type: %.200s", data)
            return
        if raw["type"] == "RESTResponse":
            self.socket.answered(raw)
            return
        try:
            event = parse_event(raw)
        except (KeyError, TypeError, ValueError) as error:
            log.error("ignoring malformed ARI %s event (%s): %.200s", raw["type"], error, data)
            return
        if isinstance(event, StasisStart):
            self.names[event.channel.id] = event.channel.name
        elif isinstance(event, StasisEnd | ChannelDestroyed):
            self.names.pop(event.channel_id, None)
        if event is not None:
            self.bus.submit(event)

    def _seen_recently(self, data: str) -> bool:
        now = time.monotonic()
        recent = self._recent
        while recent and (
            len(recent) > DUPLICATE_MEMORY or next(iter(recent.values())) < now - DUPLICATE_WINDOW
        ):
            recent.popitem(last=False)
        digest = hashlib.blake2b(data.encode(), digest_size=16).digest()
        if digest in recent:
            return True
        recent[digest] = now
        return False

    async def _teardown(self) -> None:
        self.socket.detach()
        self._connected.clear()
        self._synced.clear()
        http, self._http, self._client, self._ws = self._http, None, None, None
        if http is not None:
            # aioari's Client.close() recurses when init() failed; close the
            # HTTP client (websockets and session) directly instead
            try:
                await http.close()
            except Exception:  # the session is going away anyway
                log.debug("error while closing the ARI session", exc_info=True)

    # -- REST ---------------------------------------------------------------

    async def request(
        self,
        resource: str,
        operation: str,
        /,
        json_body: dict[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """Run one ARI operation and return its JSON (dict, list or None)."""
        name = f"{resource}.{operation}"
        why = self._gate()
        if why is not None:
            raise Fenced(name, None, why)
        client = self._client
        if client is None or not self._connected.is_set():
            raise Unavailable(name, None, "not connected to Asterisk")
        params = {
            k: ("true" if v else "false") if isinstance(v, bool) else v
            for k, v in params.items()
            if v is not None
        }
        http = self._http
        assert http is not None
        try:
            if self.socket.ready and (resource, operation) in SOCKET_OPERATIONS:
                with contextlib.suppress(SocketNotOpen):  # nothing sent: HTTP instead
                    return await self.socket.request(resource, operation, params)
            return await rest(http.session, self._base, resource, operation, params, json_body)
        except RestFailure as error:
            raise RACES.get(error.status, TelephonyError)(
                name, error.status, error.detail
            ) from None
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as error:
            raise Unavailable(name, None, describe_failure(error)) from None
        except ValueError as error:
            raise TelephonyError(name, None, f"answer is not JSON ({error})") from None
