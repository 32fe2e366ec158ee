"""Per-endpoint counters (:class:`StatsRegistry`): requests, retries, 429s, seconds waited,
records, and why an endpoint was skipped, stopped or warned about.

:data:`STATS` is the one registry shared by every client of a process.
"""

from __future__ import annotations

import collections
import logging
import threading
from dataclasses import dataclass

__all__ = ["STATS", "EndpointStats", "StatsRegistry"]

log = logging.getLogger("supportlake.http")


@dataclass
class EndpointStats:
    """What one endpoint cost during a run."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    records: int = 0
    pages: int = 0
    bytes: int = 0
    rejected: int = 0
    seconds: float = 0.0
    skipped: str = ""
    stopped: str = ""
    warnings: tuple[str, ...] = ()
    partial: str = ""
    """Why the endpoint's data is known to be incomplete although it loaded (a table ``partial``)."""


class StatsRegistry:
    """Counters per ``(source, endpoint)``, shared by every client of a process.

    The sync run resets it at the start and reads it for the summary and the run log; the
    progress display reads it while the run goes on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], EndpointStats] = collections.defaultdict(EndpointStats)

    def reset(self, source: str | None = None) -> None:
        """Forget the counters of ``source`` (every source: ``None``). The sources of a sync run
        in parallel threads; every counter is keyed by source and taken under one lock."""
        with self._lock:
            if source is None:
                self._stats.clear()
            else:
                for key in [k for k in self._stats if k[0] == source]:
                    del self._stats[key]

    def add(self, source: str, endpoint: str, **increments: float) -> None:
        with self._lock:
            s = self._stats[(source, endpoint)]
            for name, value in increments.items():
                setattr(s, name, getattr(s, name) + value)

    def skip(self, source: str, endpoint: str, reason: str) -> None:
        """Record that an endpoint was skipped (not available to this account), and why."""
        with self._lock:
            self._stats[(source, endpoint)].skipped = reason

    def stop(self, source: str, endpoint: str, reason: str) -> None:
        """Record that an endpoint stopped early on purpose (e.g. a quota guard), and why: the
        data before the stop is loaded with consistent cursors, but the run is not complete."""
        with self._lock:
            self._stats[(source, endpoint)].stopped = reason

    def warn(self, source: str, endpoint: str, message: str) -> None:
        """Record something the user must know although the endpoint succeeded (data it could
        not read, a fallback it took): kept once per message, shown in the summary and stored
        in the run log's ``warning`` column. Logged once, at INFO: the summary says it, once."""
        with self._lock:
            s = self._stats[(source, endpoint)]
            if message in s.warnings:
                return
            s.warnings = (*s.warnings, message)
        log.info("%s.%s: %s", source, endpoint, message)

    def partial(self, source: str, endpoint: str, reason: str) -> None:
        """Record that what the endpoint loaded is known to be incomplete (the API could not page
        through a crowded second): a warning, and the table's status ``partial`` (exit code 3)."""
        with self._lock:
            s = self._stats[(source, endpoint)]
            s.partial = "; ".join(dict.fromkeys([*(s.partial.split("; ") if s.partial else []), reason]))
        self.warn(source, endpoint, reason)

    def get(self, source: str, endpoint: str) -> EndpointStats:
        with self._lock:
            s = self._stats.get((source, endpoint))
            return EndpointStats(**vars(s)) if s else EndpointStats()

    def snapshot(self) -> dict[tuple[str, str], EndpointStats]:
        with self._lock:
            return {k: EndpointStats(**vars(v)) for k, v in self._stats.items()}


STATS = StatsRegistry()
