"""A sliding-window request limit, as the simulators' 429 answers need it."""

from __future__ import annotations

import math
from collections import deque


class RateWindow:
    """At most ``limit`` requests in any ``window`` seconds (limit and window are passed on each
    call, so a simulator can change them while it serves). Not thread-safe: hold a lock."""

    def __init__(self) -> None:
        self.stamps: deque[float] = deque()

    def _prune(self, now: float, window: float) -> None:
        while self.stamps and self.stamps[0] <= now - window:
            self.stamps.popleft()

    def acquire(self, now: float, limit: int, window: float) -> tuple[bool, int, int]:
        """Take a slot if one is free: ``(allowed, remaining, seconds until a slot frees)``."""
        self._prune(now, window)
        if len(self.stamps) >= limit:
            return False, 0, self._reset(now, window)
        self.stamps.append(now)
        return True, limit - len(self.stamps), self._reset(now, window)

    def release(self) -> None:
        """Give back the slot taken last (a request refused by another limit does not count)."""
        self.stamps.pop()

    def peek(self, now: float, limit: int, window: float) -> tuple[int, int]:
        """``(remaining, seconds until a slot frees)`` without taking a slot."""
        self._prune(now, window)
        return max(limit - len(self.stamps), 0), self._reset(now, window)

    def _reset(self, now: float, window: float) -> int:
        if not self.stamps:
            return math.ceil(window)
        return max(1, math.ceil(self.stamps[0] + window - now))
