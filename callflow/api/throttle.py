"""The throttle on failed sign-ins: per user name and per client address.

A password guesser gets ``429 Too Many Requests`` with ``Retry-After`` once a
user name, or an address, has failed more than its allowance within a
minute (a moving window, the ``limits`` library, kept in memory). Only
failures count, so a console signing in now and then is never throttled; a
success clears its user name's count. A refused attempt costs no password
hash, so a storm of guesses costs the event loop little.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from callflow.settings import AuthSettings

KEY_CHARS = 64  # of a user name, as a throttle key


class LoginThrottle:
    def __init__(self, settings: AuthSettings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_user = RateLimitItemPerMinute(settings.failures_per_user)
        self._per_address = RateLimitItemPerMinute(settings.failures_per_address)

    def _keys(self, username: str, address: str) -> list[tuple[RateLimitItemPerMinute, str]]:
        return [
            (self._per_user, f"user:{username.casefold()[:KEY_CHARS]}"),
            (self._per_address, f"address:{address}"),
        ]

    async def retry_after(self, username: str, address: str) -> int:
        """Seconds until this user name and address may try again; 0: now."""
        wait = 0.0
        for item, key in self._keys(username, address):
            if not await self._limiter.test(item, key):
                stats = await self._limiter.get_window_stats(item, key)
                wait = max(wait, stats.reset_time - time.time())
        return max(1, math.ceil(wait)) if wait > 0 else 0

    async def failed(self, username: str, address: str) -> None:
        for item, key in self._keys(username, address):
            await self._limiter.hit(item, key)

    async def succeeded(self, username: str) -> None:
        await self._limiter.clear(self._per_user, f"user:{username.casefold()[:KEY_CHARS]}")
