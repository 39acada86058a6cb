"""The floor for any ARI design: a minimal router with no queue logic.

    .venv/bin/python -m bench.ari_floor URL USER PASSWORD APP AGENT [AGENT ...]

A customer channel entering Stasis(APP) gets the next free agent (round
robin) originated with the customer's number, then is answered; when the
agent answers, both go into a mixing bridge. Either side hanging up hangs up
the other, destroys the bridge and frees the agent. No database, no state
machine, no retries: what is left of callflow's offer delay beyond this
router's is the price of callflow's own logic. Raw aiohttp (one WebSocket,
one HTTP session), no ARI client library. Like callflow, it sends the
originate over the event WebSocket where Asterisk takes requests there
(22.4 and later: it answers a ping sent that way), else over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import deque
from typing import Any
from urllib.parse import urlencode

import aiohttp


class Floor:
    def __init__(self, url: str, user: str, password: str, app: str, agents: list[str]) -> None:
        self.url = url.rstrip("/")
        self.auth = aiohttp.BasicAuth(user, password)
        self.app = app
        self.free: deque[str] = deque(agents)
        self.waiting: deque[dict[str, Any]] = deque()
        self.partner: dict[str, str] = {}  # channel id -> the other side's
        self.agent_of: dict[str, str] = {}  # agent channel id -> agent name
        self.bridge_of: dict[str, str] = {}
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.on_socket = False  # Asterisk takes requests on the event socket

    async def call(self, method: str, path: str, **params: Any) -> Any:
        assert self.http is not None
        async with self.http.request(method, f"{self.url}/ari/{path}", params=params) as response:
            return await response.json() if response.content_type == "application/json" else None

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def run(self) -> None:
        async with aiohttp.ClientSession(auth=self.auth) as self.http:
            ws_url = self.url.replace("http", "ws", 1) + "/ari/events"
            async with self.http.ws_connect(ws_url, params={"app": self.app}) as self.ws:
                ping = {"type": "RESTRequest", "request_id": "ping", "method": "GET"}
                await self.ws.send_str(json.dumps(ping | {"uri": "asterisk/ping"}))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(3):
                        async for frame in self.ws:
                            if json.loads(frame.data).get("type") == "RESTResponse":
                                self.on_socket = True
                                break
                print("ready", flush=True)
                async for frame in self.ws:
                    if frame.type != aiohttp.WSMsgType.TEXT:
                        break
                    self.on_event(json.loads(frame.data))

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel = event.get("channel", {})
        if kind == "StasisStart":
            args = event.get("args", [])
            if args and args[0] == "agent":
                self.spawn(self.connect(channel["id"]))
            else:
                self.waiting.append(channel)
                self.dispatch()  # the agent's phone rings first
                self.spawn(self.call("POST", f"channels/{channel['id']}/answer"))
        elif kind in ("StasisEnd", "ChannelDestroyed"):
            self.ended(channel.get("id", ""))

    def dispatch(self) -> None:
        while self.free and self.waiting:
            customer = self.waiting.popleft()
            agent = self.free.popleft()
            agent_channel = f"floor-{customer['id']}"
            self.partner[customer["id"]] = agent_channel
            self.partner[agent_channel] = customer["id"]
            self.agent_of[agent_channel] = agent
            number = customer.get("caller", {}).get("number", "")
            query = {"endpoint": f"PJSIP/{agent}", "app": self.app, "appArgs": "agent",
                     "callerId": number, "timeout": "15"}  # fmt: skip
            if self.on_socket and self.ws is not None:
                uri = f"channels/{agent_channel}?{urlencode(query)}"
                request = {"type": "RESTRequest", "method": "POST", "uri": uri}
                self.spawn(self.ws.send_str(json.dumps(request)))
            else:
                self.spawn(self.call("POST", f"channels/{agent_channel}", **query))

    async def connect(self, agent_channel: str) -> None:
        customer = self.partner.get(agent_channel)
        if customer is None:
            await self.call("DELETE", f"channels/{agent_channel}")
            return
        bridge = await self.call("POST", "bridges", type="mixing")
        self.bridge_of[agent_channel] = self.bridge_of[customer] = bridge["id"]
        await self.call(
            "POST", f"bridges/{bridge['id']}/addChannel", channel=f"{customer},{agent_channel}"
        )

    def ended(self, channel_id: str) -> None:
        other = self.partner.pop(channel_id, None)
        bridge = self.bridge_of.pop(channel_id, None)
        agent = self.agent_of.pop(channel_id, None)
        if agent is not None:
            self.free.append(agent)
        self.waiting = deque(c for c in self.waiting if c["id"] != channel_id)
        if other is not None:
            self.partner.pop(other, None)
            self.bridge_of.pop(other, None)
            if (freed := self.agent_of.pop(other, None)) is not None:
                self.free.append(freed)
            self.spawn(self.call("DELETE", f"channels/{other}"))
        if bridge is not None:
            self.spawn(self.call("DELETE", f"bridges/{bridge}"))
        self.dispatch()


if __name__ == "__main__":
    url, user, password, app, *agents = sys.argv[1:]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Floor(url, user, password, app, agents).run())
