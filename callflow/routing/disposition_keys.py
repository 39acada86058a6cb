"""The disposition keyed on the agent's phone during the call.

Theory of operation
-------------------
On a queue with disposition codes, the agent keys ``*8`` (the
``disposition.keys`` setting) and then one digit during the conversation:
``1`` is the queue's first code, ``2`` the second, in the order the queue
lists them. One beep: taken (the console shows it); the error beep: no such
code, or the queue has none. The code is kept for the call
(``Dispositions.preset``) and written, with no note, when the call ends and
wrap-up starts; the agent may still key another one until then. The digit
must come within ``digit_timeout`` of the sequence; a later one is an
ordinary key.
"""

from __future__ import annotations

import contextlib
import logging

from callflow.calls.key_sequence import FeatureDetector
from callflow.routing.board import Board
from callflow.routing.call_state import CallState
from callflow.routing.wrapup import Dispositions
from callflow.settings import DispositionSettings
from callflow.telephony.port import Race

log = logging.getLogger("callflow.desk")

TAKEN, REFUSED = ["sound:beep"], ["sound:beeperr"]


class DispositionKeys:
    def __init__(
        self, board: Board, dispositions: Dispositions, settings: DispositionSettings
    ) -> None:
        self.board = board
        self.dispositions = dispositions
        self.settings = settings
        self.detectors: dict[str, FeatureDetector] = {}  # by the agent's leg
        self.keyed: dict[str, float] = {}  # leg -> when the sequence was keyed

    async def key(self, leg: str, digit: str) -> bool:
        call = self.board.conversation_of_leg(leg)
        if call is None or call.agent_leg != leg or call.state is not CallState.CONNECTED:
            self.detectors.pop(leg, None)
            self.keyed.pop(leg, None)
            return False
        now = self.board.now()
        since = self.keyed.pop(leg, None)
        if since is not None and now - since <= self.settings.digit_timeout:
            await self._pick(leg, call.agent or "", call.interaction_id, call.queue, digit)
            return True
        detector = self.detectors.setdefault(
            leg, FeatureDetector(self.settings.keys, self.settings.key_gap)
        )
        if not detector.press(digit, now):
            return False
        conf = self.board.queues.get(call.queue)
        if conf is None or not conf.disposition.codes:
            await self._beep(leg, REFUSED)
        else:
            self.keyed[leg] = now
        return True

    async def _pick(self, leg: str, agent: str, interaction: int, queue: str, digit: str) -> None:
        conf = self.board.queues.get(queue)
        codes = list(conf.disposition.codes) if conf is not None else []
        if not digit.isdigit() or not 1 <= int(digit) <= len(codes):
            log.info("agent %s keyed disposition %s: no such code on %s", agent, digit, queue)
            await self._beep(leg, REFUSED)
            return
        await self.dispositions.preset(agent, interaction, queue, codes[int(digit) - 1])
        await self._beep(leg, TAKEN)

    async def _beep(self, leg: str, sound: list[str]) -> None:
        with contextlib.suppress(Race):
            await self.board.port.play(leg, sound)
