"""The recording notice: a queue's sound ("calls are recorded") played to
each caller before they join it.

Theory of operation
-------------------
``start`` answers the caller, plays the queue's ``recording_notice`` and
remembers the caller's ``queue`` arguments; nothing else knows the call yet
(no interaction, no place in the queue, no agent rung). When the notice's
playback ends — or a safety timer fires should that never come (a sound
missing from Asterisk ends at once, so this is for lost events) — the
caller goes on into the queue through ``join``, with the arguments as the
dialplan gave them, checked again (the queue may have gone meanwhile).
A caller who hangs up during the notice is forgotten and logged
(``notice_hangup``): they never waited in the queue. After a restart a
caller found in the notice has no interaction, so the router starts them
as new: they hear the notice again from its start.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from callflow.calls.event_log import EventLog
from callflow.calls.stasis import ArgumentError
from callflow.routing.runtime import channel_key
from callflow.telephony.port import Channel, PlaybackFinished, Race, StasisEnd, Telephony, Timer

NOTICE_TIMER = "recording_notice"
NOTICE_LIMIT = 120.0  # seconds: the longest a notice may take before the caller goes on

log = logging.getLogger("callflow.notice")

Join = Callable[[Channel, list[str]], Awaitable[None]]
Reject = Callable[[str, str], Awaitable[None]]


def notice_id(channel_id: str) -> str:
    return f"notice-{channel_id}"


@dataclass
class Hearing:
    channel: Channel
    queue: str
    args: list[str]


class RecordingNotice:
    def __init__(self, port: Telephony, events: EventLog, join: Join, reject: Reject) -> None:
        """``join``: the queue entry proper; ``reject``: hands a caller back
        to the dialplan with the problem named."""
        self.port = port
        self.events = events
        self.join = join
        self.reject = reject
        self.hearing: dict[str, Hearing] = {}  # channel id -> caller hearing the notice
        port.on(PlaybackFinished, self._on_playback_finished)
        port.on(Timer, self._on_timer)
        port.on(StasisEnd, self._on_stasis_end)

    async def start(self, channel: Channel, queue: str, args: list[str], sound: str) -> None:
        self.hearing[channel.id] = Hearing(channel, queue, args)
        self.port.arm(channel_key(channel.id), NOTICE_TIMER, NOTICE_LIMIT)
        try:
            await self.port.answer(channel.id)
            await self.port.play(channel.id, [f"sound:{sound}"], notice_id(channel.id))
        except BaseException:
            self._forget(channel.id)
            raise
        log.info("channel %s hears queue %s's recording notice %s", channel.id, queue, sound)

    def _forget(self, channel_id: str) -> Hearing | None:
        self.port.cancel(channel_key(channel_id), NOTICE_TIMER)
        return self.hearing.pop(channel_id, None)

    async def _on_playback_finished(self, event: PlaybackFinished) -> None:
        if event.channel_id and event.playback_id == notice_id(event.channel_id):
            await self._heard(event.channel_id)

    async def _on_timer(self, event: Timer) -> None:
        if event.name == NOTICE_TIMER:
            channel_id = event.key.removeprefix("channel:")
            log.warning("channel %s: the recording notice never ended; joining", channel_id)
            with contextlib.suppress(Race):
                await self.port.stop_playback(notice_id(channel_id))
            await self._heard(channel_id)

    async def _heard(self, channel_id: str) -> None:
        hearing = self._forget(channel_id)
        if hearing is None:
            return
        try:
            await self.join(hearing.channel, hearing.args)
        except ArgumentError as error:
            await self.reject(channel_id, f"queue: {error}")
        except Race as error:
            log.info("queue on %s: %s (the channel went away)", channel_id, error)
        except Exception as error:
            log.exception("queue on channel %s failed", channel_id)
            await self.reject(channel_id, f"queue: callflow failed ({type(error).__name__})")

    async def _on_stasis_end(self, event: StasisEnd) -> None:
        hearing = self._forget(event.channel_id)
        if hearing is not None:
            await self.events.record(
                "notice_hangup",
                channel=event.channel_id,
                queue=hearing.queue,
                caller=hearing.channel.caller_number,
            )
