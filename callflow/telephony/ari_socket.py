"""ARI requests over the event WebSocket, where Asterisk takes them.

Theory of operation
-------------------
Asterisk 20.14, 21.9, 22.4 and later accept a REST request as a JSON frame on
the application's event WebSocket (``{"type": "RESTRequest", "request_id",
"method", "uri"}``) and answer it with a ``RESTResponse`` event carrying the
same ``request_id``, the status and the body as text. Sent this way, a
request costs one frame write instead of an HTTP request built in Python
(about a quarter of a millisecond of CPU), on the path from a caller's
arrival to the agent's phone ringing.

Asterisk reads these frames on the socket's single reader thread and runs
them one at a time, so only operations that return at once belong here
(``SOCKET_OPERATIONS``: the offer's originate, a hang-up, a new bridge).
Operations that wait on a channel's own thread (answer, moves between
bridges, music) or on a bridge's (destroying a mixing bridge stops its
mixing thread) stay on HTTP, where each request has a thread of its own.

After each connect, ``probe`` asks ``asterisk/ping`` over the socket. Until
it is answered — and for good on an older Asterisk, which ignores frames
from the client — ``ready`` is false and every request goes over HTTP. A
socket that closes fails the requests waiting on it at once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from callflow.telephony.ari_http import RestFailure, answer_of, route

log = logging.getLogger("callflow.ari")

# operations that return at once in Asterisk and come with every call
SOCKET_OPERATIONS = frozenset(
    {("channels", "originateWithId"), ("channels", "hangup"), ("bridges", "createWithId")}
)
PROBE_TIMEOUT = 3.0  # seconds for Asterisk to answer the probe


class SocketClosed(ConnectionError):
    """The event socket closed before Asterisk answered (the request may have run)."""


class SocketNotOpen(Exception):
    """No socket to send on: nothing was sent, the request may go over HTTP."""


class SocketRequests:
    """Requests in flight on one event socket, matched to answers by id."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self.ready = False

    def attach(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws, self.ready = ws, False

    def detach(self) -> None:
        """The socket is gone: fail whatever still waits on it."""
        self._ws, self.ready = None, False
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(SocketClosed("the ARI event socket closed"))

    async def probe(self, timeout: float = PROBE_TIMEOUT) -> bool:
        """Does Asterisk answer requests on this socket? Sets ``ready``."""
        ws = self._ws
        try:
            await self.request("asterisk", "ping", {}, timeout=timeout)
        except (TimeoutError, ConnectionError, SocketNotOpen, RestFailure, aiohttp.ClientError):
            log.info("ARI requests go over HTTP (this Asterisk does not take them on the socket)")
            return False
        if ws is not self._ws:  # reconnected meanwhile: that socket probes itself
            return False
        self.ready = True
        log.info("ARI originates go over the event socket")
        return True

    async def request(
        self, resource: str, operation: str, params: dict[str, Any], *, timeout: float | None = None
    ) -> Any:
        """Run one operation on the socket; its JSON answer (or None)."""
        ws = self._ws
        if ws is None or ws.closed:
            raise SocketNotOpen("the ARI event socket is not open")
        method, path, query = route(resource, operation, params)
        if query:
            path += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        request_id = f"callflow-{next(self._ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            frame = {"type": "RESTRequest", "request_id": request_id, "method": method, "uri": path}
            await ws.send_str(json.dumps(frame))
            async with asyncio.timeout(self._timeout if timeout is None else timeout):
                return await future
        finally:
            self._pending.pop(request_id, None)

    def answered(self, frame: dict[str, Any]) -> None:
        """A ``RESTResponse`` event: settle the request it answers."""
        future = self._pending.get(str(frame.get("request_id", "")))
        if future is None or future.done():
            log.debug("ARI answer for no request waiting: %.200s", frame)
            return
        try:
            future.set_result(
                answer_of(
                    int(frame.get("status_code") or 500),
                    str(frame.get("reason_phrase") or ""),
                    str(frame.get("content_type") or ""),
                    str(frame.get("message_body") or ""),
                )
            )
        except (RestFailure, ValueError) as error:
            future.set_exception(error)
