"""A clock the lease tests move by hand (``Lease(clock=...)``): no test waits for a lease to expire."""

from __future__ import annotations

import datetime as dt

T0 = dt.datetime(2026, 12, 6, 3, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
