"""Small, fast helpers: timestamps, business hours, seeded randomness, opaque cursors."""

from __future__ import annotations

import _random
import base64
import binascii
import time

MINUTE = 60
HOUR = 3600
DAY = 86400
BUSINESS_START = 9 * HOUR
"""Business hours are Monday to Friday, 09:00–17:00 UTC."""
BUSINESS_END = 17 * HOUR

_DAY_CACHE: dict[int, str] = {}
_CLOCK: tuple[str, ...] = ()


def iso(ts: int) -> str:
    """Unix seconds → ``2024-05-01T12:34:56Z`` (Zendesk's timestamp format)."""
    global _CLOCK
    day, rest = divmod(ts, DAY)
    prefix = _DAY_CACHE.get(day)
    if prefix is None:
        prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * DAY))
        _DAY_CACHE[day] = prefix
        if not _CLOCK:
            _CLOCK = tuple(f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60))
    return prefix + _CLOCK[rest]


# 1970-01-01 was a Thursday: day d of a 7-day block from the epoch is a weekday iff (d + 3) % 7 < 5.
_WEEKDAYS_BEFORE = tuple(sum(1 for d in range(k) if (d + 3) % 7 < 5) for k in range(7))
_IS_WEEKDAY = tuple((d + 3) % 7 < 5 for d in range(7))
_BUSINESS_DAY = BUSINESS_END - BUSINESS_START


def business_before(ts: int) -> int:
    """Business seconds from the epoch up to ``ts``."""
    days, rest = divmod(ts, DAY)
    weeks, day_in_week = divmod(days, 7)
    total = (weeks * 5 + _WEEKDAYS_BEFORE[day_in_week]) * _BUSINESS_DAY
    if _IS_WEEKDAY[day_in_week] and rest > BUSINESS_START:
        total += min(rest - BUSINESS_START, _BUSINESS_DAY)
    return total


def business_seconds(start: int, end: int) -> int:
    """Business seconds in ``[start, end)``."""
    if end <= start:
        return 0
    return business_before(end) - business_before(start)


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up as Zendesk's metrics do for a started minute."""
    return -(-seconds // MINUTE)


def rng_for(seed: int, *parts: int) -> _random.Random:
    """An independent, reproducible random stream for ``(seed, parts...)`` (Mersenne Twister)."""
    key = seed & 0xFFFFFFFF
    for part in parts:
        key = ((key * 1_000_003) ^ part) & 0xFFFFFFFFFFFFFFFF
    return _random.Random(key)


def encode_cursor(*parts: int) -> str:
    """An opaque, URL-safe cursor holding a position."""
    raw = "v1:" + ":".join(str(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n_parts: int) -> tuple[int, ...] | None:
    """The position in a cursor made by :func:`encode_cursor`, or None if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith("v1:"):
        return None
    try:
        parts = tuple(int(p) for p in raw[3:].split(":"))
    except ValueError:
        return None
    return parts if len(parts) == n_parts else None
