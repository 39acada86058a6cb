"""Pausing the recording from the agent's phone: ``*7`` (``recording.pause_keys``)
during the call toggles the pause; one beep paused, two resumed, the error
beep when the call is not being recorded."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from callflow.calls.key_sequence import FeatureDetector
from callflow.recording.state import SegmentState
from callflow.routing.service import RoutingService
from callflow.telephony.port import Race, Telephony

if TYPE_CHECKING:  # the service builds its keys; only its type is needed here
    from callflow.recording.service import Recordings

KEY_GAP = 1.5  # seconds allowed between the pause keys


class PauseKeys:
    def __init__(
        self, recordings: Recordings, routing: RoutingService, port: Telephony, keys: str
    ) -> None:
        self.recordings = recordings
        self.routing = routing
        self.port = port
        self.keys = keys
        self.detectors: dict[str, FeatureDetector] = {}  # by the agent's leg
        routing.on_agent_key(self.key)

    async def key(self, leg: str, digit: str) -> bool:
        call = self.routing.conversation_of_leg(leg)
        if call is None or call.agent_leg != leg or call.agent is None:
            self.detectors.pop(leg, None)
            return False
        detector = self.detectors.setdefault(leg, FeatureDetector(self.keys, KEY_GAP))
        if not detector.press(digit, self.port.now()):
            return False
        segment = self.recordings.live.get(call.interaction_id)
        if segment is None:
            with contextlib.suppress(Race):
                await self.port.play(leg, ["sound:beeperr"])  # not recording: nothing to pause
            return True
        state = await self.recordings.pause(call.agent, segment.state is SegmentState.RECORDING)
        beeps = ["sound:beep"] if state == "paused" else ["sound:beep", "sound:beep"]
        with contextlib.suppress(Race):
            await self.port.play(leg, beeps)
        return True

    def forget_ended(self) -> None:
        """Drop the detectors of legs no longer in a conversation."""
        for leg in [leg for leg in self.detectors if self.routing.conversation_of_leg(leg) is None]:
            self.detectors.pop(leg, None)
