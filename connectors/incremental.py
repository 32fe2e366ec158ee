"""How streams resume, declared as data: one :class:`Incremental` record per mode.

A stream names its mode; the code that reads pages asks the record what to send and what to keep,
and never tests a mode's name. The modes the three connectors use:

- :data:`CURSOR_EXPORT` (Zendesk tickets, users): an export cursor kept in state and sent as
  ``cursor``; ``start_time`` only on the first run;
- :data:`START_TIME` (Zendesk organizations, comments, metric events, calls, ratings): ``start_time`` from the
  newest cursor field seen (never past the page's ``end_time``), minus the overlap;
- :data:`FULL`: read whole every run;
- :data:`CHANGED_SINCE` (Salesforce): ``WHERE <cursor field> >= watermark - lookback``, the cursor
  field the first of ``SystemModstamp``, ``LastModifiedDate``, ``CreatedDate`` the object has;
- :data:`NEWEST_FIRST` (Confluence pages and blog posts): the list sorted newest-modified first and
  read until a page ends before the watermark minus the overlap.

Every watermark mode starts at :func:`window_start`: the stored watermark minus the overlap, never
before the configured ``start_date``. State moves only after the rows it covers were yielded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from common.dates import to_epoch


@dataclass(frozen=True, kw_only=True)
class Incremental:
    """One way of resuming a stream."""

    name: str
    start_param: str | None = None
    """The request parameter that takes the start time (Unix seconds)."""
    cursor_param: str | None = None
    """The request parameter that takes the stored cursor (``state["cursor"]``)."""
    start_with_cursor: bool = False
    """Whether the start time is sent along with a stored cursor (else: either one)."""
    keep_cursor: bool = False
    """Keep the paginator's ``after_cursor`` in state."""
    keep_start: bool = False
    """Keep the newest ``cursor_field`` value (minus the overlap) in state as ``start_time``."""
    bound_by_end_time: bool = False
    """... and never beyond the paginator's ``end_time`` (Zendesk time-based exports)."""
    newest_first: bool = False
    """The list is sorted newest first: reading stops at :func:`window_start`."""
    description: str = ""

    def params(self, state: Mapping[str, Any], start_time: int) -> dict[str, Any]:
        """The first request's parameters from the stored state and the configured start."""
        out: dict[str, Any] = {}
        start = max(int(state.get("start_time", 0)), start_time)
        cursor = state.get("cursor") if self.cursor_param else None
        if self.start_param and (not cursor or self.start_with_cursor):
            out[self.start_param] = start
        if cursor and self.cursor_param:
            out[self.cursor_param] = cursor
        return out

    def advance(self, state: dict[str, Any], paginator: Any, newest: Any, overlap_seconds: int) -> None:
        """Move ``state`` past the pages just released (``newest``: the newest cursor value in them)."""
        if self.keep_cursor:
            cursor = getattr(paginator, "after_cursor", None)
            if cursor:
                state["cursor"] = cursor
        if self.keep_start:
            candidates: list[int] = []
            end_time = getattr(paginator, "end_time", None) if self.bound_by_end_time else None
            if end_time is not None:
                candidates.append(int(end_time))
            if newest is not None:
                candidates.append(to_epoch(newest))
            if candidates:
                # Overlap: records sharing the last second are read again and merged on their key.
                nxt = min(candidates) - overlap_seconds
                state["start_time"] = max(int(state.get("start_time", 0)), nxt)


CURSOR_EXPORT = Incremental(
    name="cursor_export",
    start_param="start_time",
    cursor_param="cursor",
    keep_cursor=True,
    description="an export cursor kept in state; start_time only on the first run",
)
START_TIME = Incremental(
    name="start_time",
    start_param="start_time",
    keep_start=True,
    bound_by_end_time=True,
    description="start_time from the newest cursor_field seen, minus the overlap",
)
FULL = Incremental(name="full", description="read whole every run")
CHANGED_SINCE = Incremental(
    name="changed_since",
    description="rows whose cursor field is at or after the watermark minus the lookback",
)
NEWEST_FIRST = Incremental(
    name="newest_first",
    newest_first=True,
    description="sorted newest first, read until a page ends before the watermark minus the overlap",
)

MODES: Mapping[str, Incremental] = {
    m.name: m for m in (CURSOR_EXPORT, START_TIME, FULL, CHANGED_SINCE, NEWEST_FIRST)
}


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...
    def __sub__(self, other: Any, /) -> Any: ...


T = TypeVar("T", bound=_Ordered)


def window_start(stored: T | None, start: T | None, overlap: Any) -> T | None:
    """Where a watermark mode starts reading: the stored watermark minus ``overlap``, never before
    ``start`` (the configured ``start_date``); without a watermark, ``start`` (``None``: all history)."""
    if stored is None:
        return start
    lower: T = stored - overlap
    return max(lower, start) if start is not None else lower
