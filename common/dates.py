"""The one date parser of the settings: ``start_date`` of every source, and API times.

``start_date`` is accepted as an ISO date (``2024-01-31``), an ISO datetime (``Z`` or an offset;
naive means UTC), a Unix time (``1706659200``, as text or a number) or a datetime; empty means
all history (``None``). An invalid value is a :class:`ConfigError` naming the setting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.errors import ConfigError

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO time (``Z`` accepted), a Unix time or a datetime as an aware datetime (UTC when
    naive); ``None`` for nothing. Raises ``ValueError`` for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    else:
        text = str(value).strip()
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text), dt.UTC)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_start_date(value: Any, setting: str) -> dt.datetime | None:
    """A ``start_date`` setting as an aware datetime; ``None`` means all history. ``setting`` is
    the name the error gives (``SOURCES__ZENDESK__START_DATE``)."""
    try:
        return parse_time(value)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(f"{setting} must be an ISO date (2024-01-31) or datetime, got {value!r}") from None


def epoch(value: dt.datetime | None) -> int:
    """Unix seconds of ``value``; ``None`` and times before 1970 are 0 (all history)."""
    if value is None:
        return 0
    return max(0, int(value.timestamp()))


def to_epoch(value: Any) -> int:
    """An API time (Unix seconds, or ISO text) as Unix seconds."""
    if isinstance(value, int | float):
        return int(value)
    parsed = parse_time(value)
    return 0 if parsed is None else int(parsed.timestamp())
