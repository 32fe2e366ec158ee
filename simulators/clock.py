"""The one timeline of the simulators: a fixed clock and a two-year history window.

The Zendesk, Salesforce and Confluence simulators all start at :data:`NOW` (their clock before any
``mutate``) and spread their initial history over the :data:`HISTORY_DAYS` before it, so every month
from :data:`WINDOW_START` to :data:`NOW` holds Zendesk tickets, Salesforce cases and Confluence page
edits alike, and what they generate never depends on the day they run: nothing in the data reads
the wall clock. Each simulator's clock moves on only when its ``mutate`` says so, and is the time
its responses carry (server time, delete-log windows, modification stamps).

The anchor is the Zendesk simulator's original one (history 2023-07 → 2025-06).
"""

from __future__ import annotations

import datetime as dt

NOW = dt.datetime(2025, 6, 30, 12, 0, 0, tzinfo=dt.UTC)
"""Every simulator's clock at construction."""

HISTORY_DAYS = 730
"""How far back the initial history of tickets and cases reaches from :data:`NOW`."""

WINDOW_START = NOW - dt.timedelta(days=HISTORY_DAYS)
"""The first moment of the shared history (2023-07-01 12:00 UTC)."""


def months(start: dt.datetime = WINDOW_START, end: dt.datetime = NOW) -> list[dt.date]:
    """First days of the calendar months from ``start``'s to ``end``'s, both included."""
    out: list[dt.date] = []
    month = dt.date(start.year, start.month, 1)
    while month <= end.date():
        out.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


__all__ = ["HISTORY_DAYS", "NOW", "WINDOW_START", "months"]
