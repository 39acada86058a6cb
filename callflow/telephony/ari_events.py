"""ARI's JSON events as the telephony port's typed events."""

from __future__ import annotations

from typing import Any

from callflow.telephony.port import (
    Channel,
    ChannelDestroyed,
    Dtmf,
    EndpointState,
    Event,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    TextMessage,
)


def channel_of(raw: dict[str, Any]) -> Channel:
    caller = raw.get("caller") or {}
    dialplan = raw.get("dialplan") or {}
    return Channel(
        id=str(raw["id"]),
        name=str(raw.get("name", "")),
        caller_number=str(caller.get("number", "")),
        caller_name=str(caller.get("name", "")),
        exten=str(dialplan.get("exten", "")),
        app_name=str(dialplan.get("app_name", "")),
        app_data=str(dialplan.get("app_data", "")),
    )


def _endpoint_name(raw: dict[str, Any]) -> str:
    return f"{raw.get('technology')}/{raw.get('resource')}"


# the ARI event types ``parse_event`` reads; Asterisk is asked to send only
# these (and the answers to requests made on the event socket)
EVENT_TYPES = (
    "StasisStart",
    "StasisEnd",
    "ChannelDestroyed",
    "ChannelDtmfReceived",
    "PlaybackFinished",
    "EndpointStateChange",
    "TextMessageReceived",
    "RESTResponse",
)


def parse_event(raw: dict[str, Any]) -> Event | None:
    """An ARI event as a typed port event (None: not one callflow uses)."""
    kind = raw.get("type")
    channel = raw.get("channel") or {}
    if kind == "StasisStart":
        return StasisStart(channel_of(channel), tuple(str(a) for a in raw.get("args") or []))
    if kind == "StasisEnd":
        return StasisEnd(str(channel["id"]))
    if kind == "ChannelDestroyed":
        return ChannelDestroyed(
            str(channel["id"]), int(raw.get("cause") or 0), str(raw.get("cause_txt", ""))
        )
    if kind == "ChannelDtmfReceived":
        return Dtmf(str(channel["id"]), str(raw.get("digit", "")))
    if kind == "PlaybackFinished":
        playback = raw.get("playback") or {}
        target = str(playback.get("target_uri", ""))
        on_channel = target.removeprefix("channel:") if target.startswith("channel:") else None
        return PlaybackFinished(str(playback.get("id", "")), on_channel)
    if kind == "EndpointStateChange":
        endpoint = raw.get("endpoint") or {}
        return EndpointState(_endpoint_name(endpoint), endpoint.get("state") == "online")
    if kind == "TextMessageReceived":
        endpoint = raw.get("endpoint") or {}
        body = str((raw.get("message") or {}).get("body", ""))
        return TextMessage(_endpoint_name(endpoint), body)
    return None
