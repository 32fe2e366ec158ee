"""Small, fast helpers: Salesforce Ids, timestamp formats, seeded randomness."""

from __future__ import annotations

import datetime as dt
import random
import re
import time

from simulators.world import (
    salesforce_id18,
    weighted,  # noqa: F401 - re-exported for the modules here
)

MINUTE = 60
HOUR = 3600
DAY = 86400

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
"""Base-62 digits in ASCII order, so fixed-width encodings sort like the numbers they encode."""
_B62_VALUE = {ch: i for i, ch in enumerate(B62)}
POD = "Hs"
"""The two characters after the key prefix in every generated Id (Salesforce's instance/pod part)."""


_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_PAIRS = [(a + b, (1 if "A" <= a <= "Z" else 0) | (2 if "A" <= b <= "Z" else 0)) for a in B62 for b in B62]
_HEADS: dict[str, tuple[str, str]] = {}


def make_id(prefix: str, index: int) -> str:
    """The 18-character Id of record ``index`` of the object with key prefix ``prefix``.

    ``prefix`` (3) + pod (2) + ``00000`` + five base-62 digits = 15 case-sensitive characters,
    then Salesforce's 3-character checksum suffix. Ids of one object sort like their indexes.
    """
    head = _HEADS.get(prefix)
    if head is None:
        base = prefix + POD + "00000"
        head = _HEADS[prefix] = (base, salesforce_id18(base + "00000")[15:17])
    high, low = divmod(index, 3844)
    top, mid = divmod(high, 3844)
    mid_chars, mid_bits = _PAIRS[mid]
    low_chars, low_bits = _PAIRS[low]
    first = B62[top % 62]
    bits = (1 if "A" <= first <= "Z" else 0) | mid_bits << 1 | low_bits << 3
    return f"{head[0]}{first}{mid_chars}{low_chars}{head[1]}{_SUFFIX[bits]}"


def index_of(record_id: str, prefix: str) -> int | None:
    """The index encoded in an Id made by :func:`make_id` (15 or 18 characters), or None."""
    if len(record_id) not in (15, 18) or not record_id.startswith(prefix + POD + "00000"):
        return None
    n = 0
    for ch in record_id[10:15]:
        value = _B62_VALUE.get(ch)
        if value is None:
            return None
        n = n * 62 + value
    if len(record_id) == 18 and salesforce_id18(record_id[:15]) != record_id:
        return None
    return n


_DAY_CACHE: dict[int, tuple[str, str]] = {}


def _day(ts: int) -> tuple[str, str, int]:
    day, rest = divmod(ts, DAY)
    cached = _DAY_CACHE.get(day)
    if cached is None:
        date = time.strftime("%Y-%m-%d", time.gmtime(day * DAY))
        cached = (date, date + "T")
        _DAY_CACHE[day] = cached
    return cached[0], cached[1], rest


def _clock(rest: int) -> str:
    hours, rest = divmod(rest, HOUR)
    minutes, seconds = divmod(rest, MINUTE)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def sf_datetime(ts: int) -> str:
    """Unix seconds → ``2024-01-31T10:00:00.000+0000`` (REST API JSON dateTime format)."""
    _, prefix, rest = _day(ts)
    return f"{prefix}{_clock(rest)}.000+0000"


def csv_datetime(ts: int) -> str:
    """Unix seconds → ``2024-01-31T10:00:00.000Z`` (Bulk API 2.0 CSV dateTime format)."""
    _, prefix, rest = _day(ts)
    return f"{prefix}{_clock(rest)}.000Z"


def sf_date(ts: int) -> str:
    """Unix seconds → ``2024-01-31``."""
    return _day(ts)[0]


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$",
)


def parse_iso(text: str) -> float | None:
    """An ISO 8601 date-time with ``Z`` or a numeric offset → Unix seconds, or None."""
    m = _ISO.match(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        base = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=dt.UTC)
    except ValueError:
        return None
    seconds = base.timestamp() + (float("0." + frac) if frac else 0.0)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * HOUR + int(digits[2:]) * MINUTE)
    return seconds


def rng_for(seed: int, *parts: int) -> random.Random:
    """An independent, reproducible random stream for ``(seed, parts...)``."""
    key = seed & 0xFFFFFFFF
    for part in parts:
        key = (key * 1_000_003) ^ (part & 0xFFFFFFFFFFFF)
    return random.Random(key)
