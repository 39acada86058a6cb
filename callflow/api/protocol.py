"""The live socket's protocol (``/api/ws``): every frame, each with an example.

One list serves three readers: the socket names the frames it accepts when
it refuses one, ``GET /asyncapi.json`` serves it as an AsyncAPI document
beside the OpenAPI one, and a test holds it against the frame types the code
sends and handles and against the README's table.

Every frame is a JSON object of text with a ``type``. A client frame may
carry a ``ref`` (text or a number, up to 64 characters); the answer to it
(``ack``, ``pong`` or ``error``) carries the same ``ref``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from callflow import __version__


@dataclass(frozen=True)
class Frame:
    type: str
    sender: Literal["client", "server"]
    summary: str
    example: dict[str, Any]


FRAMES: tuple[Frame, ...] = (
    # client -> server
    Frame("auth", "client", "The first frame, within 5 s: the bearer token, and the id of the "
          "last message seen (messages after it are replayed).",
          {"type": "auth", "token": "<bearer token>", "last_id": 41}),
    Frame("message", "client", "Post a message into one of your open sessions; answered by an "
          "ack with the stored message's id once it is stored.",
          {"type": "message", "session": 7, "body": "Is the refund window 30 days?", "ref": "m1"}),
    Frame("typing", "client", "Tell the session's other members you are typing.",
          {"type": "typing", "session": 7}),
    Frame("presence", "client", "Experts: choose available, away, busy or offline.",
          {"type": "presence", "presence": "available", "ref": "p1"}),
    Frame("accept", "client", "Experts: take an offered request; the ack names the new session.",
          {"type": "accept", "request": 12, "ref": "a1"}),
    Frame("decline", "client", "Experts: decline an offer (reason busy, wrong_group or other).",
          {"type": "decline", "request": 12, "reason": "busy", "ref": "d1"}),
    Frame("replay", "client", "Send again every message after an id (0: all of your sessions').",
          {"type": "replay", "after": 41}),
    Frame("ping", "client", "Ask for a pong (a liveness check).", {"type": "ping", "ref": 3}),
    # server -> client
    Frame("hello", "server", "Signed in: your user name and role.",
          {"type": "hello", "user": "agent1", "role": "agent"}),
    Frame("ack", "server", "A client frame was done: for a message its stored id, for "
          "presence the presence now in force, for accept the session.",
          {"type": "ack", "ref": "m1", "id": 42}),
    Frame("error", "server", "A frame was refused; the sentence names the field and the type "
          "it expects. The socket stays open.",
          {"type": "error", "ref": "m1",
           "error": "field 'session' must be a whole number from 1 to 2147483647, "
                    "not 'seven'"}),
    Frame("pong", "server", "The answer to a ping.", {"type": "pong", "ref": 3}),
    Frame("message", "server", "A message in one of your sessions (yours too, as stored), live "
          "or replayed.",
          {"type": "message", "id": 42, "session": 7, "from": "agent1", "kind": "text",
           "via": "web", "body": "Is the refund window 30 days?",
           "at": "2026-11-24T14:05:09.120000+00:00"}),
    Frame("typing", "server", "Another member of a session is typing.",
          {"type": "typing", "session": 7, "from": "expert1"}),
    Frame("presence", "server", "An expert's presence changed (to supervisors, and to the "
          "expert): what is in force, and what they chose.",
          {"type": "presence", "user": "expert1", "presence": "busy", "chosen": "available"}),
    Frame("groups", "server", "Agents and supervisors: experts available now, per group.",
          {"type": "groups", "available": {"billing": 2, "technical": 0}}),
    Frame("offer", "server", "Experts: a request offered to you, until its timeout in seconds.",
          {"type": "offer", "request": 12, "group": "billing", "mode": "chat",
           "interaction": 301, "agent": "agent1", "agent_name": "Ann Agent",
           "message": "Customer asks about a double charge", "timeout": 20}),
    Frame("offer_withdrawn", "server", "Experts: an offer is gone (taken by someone else, "
          "timed out, cancelled).",
          {"type": "offer_withdrawn", "request": 12, "why": "taken"}),
    Frame("request", "server", "Agents: your request moved on (offered, escalated, no expert "
          "available, ...).",
          {"type": "request", "request": 12, "status": "offered", "state": "offered",
           "group": "billing", "experts": ["expert1", "expert2"]}),
    Frame("session_opened", "server", "An expert accepted: the session between agent and "
          "expert is open (to both).",
          {"type": "session_opened", "session": 7, "request": 12, "interaction": 301,
           "agent": "agent1", "expert": "expert1", "expert_name": "Eve Expert"}),
    Frame("session_closed", "server", "A session ended (to both), and why.",
          {"type": "session_closed", "session": 7, "request": 12, "why": "closed"}),
)  # fmt: skip

CLIENT_TYPES = tuple(f.type for f in FRAMES if f.sender == "client")
SERVER_TYPES = tuple(f.type for f in FRAMES if f.sender == "server")


def asyncapi() -> dict[str, Any]:
    """The protocol as an AsyncAPI 2.6 document."""

    def messages(sender: str) -> list[dict[str, Any]]:
        return [
            {
                "name": f.type,
                "summary": f.summary,
                "payload": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"const": f.type}},
                },
                "examples": [{"payload": f.example}],
            }
            for f in FRAMES
            if f.sender == sender
        ]

    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": "callflow live socket",
            "version": __version__,
            "description": __doc__,
        },
        "channels": {
            "/api/ws": {
                "publish": {
                    "summary": "client to server",
                    "message": {"oneOf": messages("client")},
                },
                "subscribe": {
                    "summary": "server to client",
                    "message": {"oneOf": messages("server")},
                },
            }
        },
    }
