"""Requests on the ARI event socket: answers matched by id, errors named,
nothing left waiting when the socket goes."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import aiohttp
import pytest

from callflow.telephony.ari_http import RestFailure
from callflow.telephony.ari_socket import SocketClosed, SocketNotOpen, SocketRequests


class Socket:
    """Stands in for aiohttp's client WebSocket: keeps the frames sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed = False
        self.more = asyncio.Event()

    async def send_str(self, data: str) -> None:
        self.sent.append(json.loads(data))
        self.more.set()


def attached(timeout: float = 5.0) -> tuple[SocketRequests, Socket]:
    requests, socket = SocketRequests(timeout), Socket()
    requests.attach(cast(aiohttp.ClientWebSocketResponse, socket))
    return requests, socket


async def sent(socket: Socket, count: int = 1) -> dict[str, Any]:
    async with asyncio.timeout(1):
        while len(socket.sent) < count:
            socket.more.clear()
            await socket.more.wait()
    return socket.sent[count - 1]


def answer(requests: SocketRequests, frame: dict[str, Any], status: int, body: str) -> None:
    requests.answered(
        {"request_id": frame["request_id"], "status_code": status, "reason_phrase": "",
         "content_type": "application/json", "message_body": body}
    )  # fmt: skip


async def test_an_originate_is_one_frame_with_its_query_and_gets_its_own_answer() -> None:
    requests, socket = attached()
    params = {"channelId": "leg-1", "endpoint": "PJSIP/a b", "callerId": '"Ann" <100>'}
    first = asyncio.ensure_future(requests.request("channels", "originateWithId", params))
    second = asyncio.ensure_future(requests.request("asterisk", "ping", {}))
    one, two = await sent(socket, 1), await sent(socket, 2)
    assert one["method"] == "POST" and one["type"] == "RESTRequest"
    assert one["uri"] == "channels/leg-1?endpoint=PJSIP%2Fa%20b&callerId=%22Ann%22%20%3C100%3E"
    answer(requests, two, 200, '{"ping": "pong"}')  # answers come in any order
    answer(requests, one, 200, '{"id": "leg-1"}')
    assert await first == {"id": "leg-1"} and await second == {"ping": "pong"}


async def test_an_error_answer_carries_the_status_and_asterisks_message() -> None:
    requests, socket = attached()
    waiting = asyncio.ensure_future(requests.request("channels", "hangup", {"channelId": "gone"}))
    answer(requests, await sent(socket), 404, '{"message": "Channel not found"}')
    with pytest.raises(RestFailure) as caught:
        await waiting
    assert caught.value.status == 404 and caught.value.detail == "Channel not found"


async def test_a_socket_that_closes_fails_the_requests_waiting_on_it_at_once() -> None:
    requests, socket = attached()
    waiting = asyncio.ensure_future(requests.request("asterisk", "ping", {}))
    await sent(socket)
    requests.detach()
    with pytest.raises(SocketClosed):
        await waiting
    with pytest.raises(SocketNotOpen):  # nothing is sent: the caller may use HTTP
        await requests.request("asterisk", "ping", {})


async def test_an_asterisk_that_ignores_socket_requests_leaves_them_on_http() -> None:
    requests, _socket = attached()
    assert not await requests.probe(timeout=0.05)
    assert not requests.ready


async def test_an_answer_that_arrives_after_the_timeout_is_dropped_quietly() -> None:
    requests, socket = attached(timeout=0.05)
    with pytest.raises(TimeoutError):
        await requests.request("asterisk", "ping", {})
    requests.answered({"request_id": socket.sent[0]["request_id"], "status_code": 200})
