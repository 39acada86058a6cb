"""The caller's side of a queued callback: the prompts and keys that turn
"press 1 to be called back" into a number to call.

Theory of operation
-------------------
A waiting caller who was offered a callback presses the key; ``start``
then reads them the number their call came from and asks them to confirm
it (confirm key) or to key another (other-number key, then the digits,
ended by ``#`` or a pause). A number that is not one (``number_problem``)
or that the site does not call back (``allowed``) gets the invalid prompt
and the question again; after three such tries the caller just goes on
waiting. Each step's prompt replaces the one before (one playback per
caller). The caller stays in the queue the whole time: an agent may take
the call meanwhile (``stop``), or the caller may hang up.

Each caller's menu is one small machine::

    confirm -[other]-> entering -[number]-> confirm -[confirm]-> (asked)
    entering -[invalid]-> entering | (given up, after three)
"""

from __future__ import annotations

import contextlib
import enum
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from callflow.routing.callback_policy import number_problem
from callflow.settings import CallbackSettings
from callflow.telephony.port import Race, Telephony, Timer

log = logging.getLogger("callflow.callback")

DIGITS_TIMER = "callback_digits"
MAX_TRIES = 3

Asked = Callable[[str, str], Awaitable[None]]  # (channel, number)


class Step(enum.Enum):
    CONFIRM = "confirm"
    ENTERING = "entering"


@dataclass
class Asking:
    channel_id: str
    number: str
    step: Step
    digits: str = ""
    tries: int = 0
    prompts: int = 0

    @property
    def playback_id(self) -> str:
        return f"callback-{self.channel_id}-{self.prompts}"


class CallbackMenu:
    def __init__(self, port: Telephony, settings: CallbackSettings, asked: Asked) -> None:
        """``asked(channel, number)``: the caller confirmed the number to call."""
        self.port = port
        self.settings = settings
        self.asked = asked
        self.allowed = re.compile(settings.allowed_numbers)
        self.menus: dict[str, Asking] = {}

    def offer_media(self) -> list[str]:
        """'Press <key> to be called back', appended to what a caller hears."""
        s = self.settings
        return ["sound:vm-press", f"digits:{s.key}", f"sound:{s.offer_sound}"]

    def problem(self, number: str) -> str | None:
        problem = number_problem(number)
        if problem is None and not self.allowed.match(number):
            problem = f"{number} is not a number this site calls back"
        return problem

    async def start(self, channel_id: str, caller_number: str) -> None:
        """The caller pressed the callback key."""
        number = caller_number or ""
        if self.problem(number) is None:
            asking = Asking(channel_id, number, Step.CONFIRM)
            self.menus[channel_id] = asking
            await self._prompt(asking, self._confirm_media(number))
        else:  # no usable caller ID: ask for one at once
            asking = Asking(channel_id, "", Step.ENTERING)
            self.menus[channel_id] = asking
            await self._prompt(asking, [f"sound:{self.settings.enter_sound}"])
        log.info("callback menu on %s: %s", channel_id, asking.step.value)

    def _confirm_media(self, number: str) -> list[str]:
        s = self.settings
        return [
            "sound:to-call-this-number", f"digits:{number}",
            "sound:vm-press", f"digits:{s.confirm_key}",
            "sound:vm-toenternumber", "sound:vm-press", f"digits:{s.other_number_key}",
        ]  # fmt: skip

    async def key(self, channel_id: str, digit: str) -> bool:
        """A key of a caller in the menu; False: not in the menu."""
        asking = self.menus.get(channel_id)
        if asking is None:
            return False
        s = self.settings
        if asking.step is Step.CONFIRM:
            if digit == s.confirm_key:
                await self.stop(channel_id)
                await self.asked(channel_id, asking.number)
            elif digit == s.other_number_key:
                asking.step, asking.digits = Step.ENTERING, ""
                await self._prompt(asking, [f"sound:{s.enter_sound}"])
            return True
        if digit == "#":
            await self._entered(asking)
        elif digit.isdigit() and len(asking.digits) < 20:
            if not asking.digits:  # the caller started: the prompt has done its job
                await self._silence(asking)
            asking.digits += digit
            self.port.arm(f"channel:{channel_id}", DIGITS_TIMER, s.digit_timeout)
        return True

    async def on_timer(self, event: Timer) -> None:
        if event.name != DIGITS_TIMER:
            return
        asking = self.menus.get(event.key.removeprefix("channel:"))
        if asking is not None and asking.step is Step.ENTERING:
            await self._entered(asking)

    async def _entered(self, asking: Asking) -> None:
        self.port.cancel(f"channel:{asking.channel_id}", DIGITS_TIMER)
        number, asking.digits = asking.digits, ""
        problem = self.problem(number)
        if problem is None:
            asking.number, asking.step = number, Step.CONFIRM
            await self._prompt(asking, self._confirm_media(number))
            return
        asking.tries += 1
        log.info("callback menu on %s: %s (try %d)", asking.channel_id, problem, asking.tries)
        if asking.tries >= MAX_TRIES:
            await self.stop(asking.channel_id)  # the caller goes on waiting
            return
        await self._prompt(
            asking, [f"sound:{self.settings.invalid_sound}", f"sound:{self.settings.enter_sound}"]
        )

    async def _prompt(self, asking: Asking, media: list[str]) -> None:
        await self._silence(asking)
        asking.prompts += 1
        with contextlib.suppress(Race):
            await self.port.play(asking.channel_id, media, asking.playback_id)

    async def _silence(self, asking: Asking) -> None:
        if asking.prompts:
            with contextlib.suppress(Race):
                await self.port.stop_playback(asking.playback_id)

    async def stop(self, channel_id: str) -> None:
        """Out of the menu (asked, answered, hung up, given up)."""
        asking = self.menus.pop(channel_id, None)
        if asking is None:
            return
        self.port.cancel(f"channel:{channel_id}", DIGITS_TIMER)
        await self._silence(asking)
