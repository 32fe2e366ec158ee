"""The quota guard: never spend more than a share of the org's remaining daily API requests.

Salesforce orgs have a rolling 24-hour allocation of API requests, shared by every integration.
Every REST and Bulk response carries ``Sforce-Limit-Info: api-usage=<used>/<allocation>``
(:meth:`QuotaGuard.observe` reads it through the HTTP layer's ``on_response`` hook). The first
reading of a run fixes the budget: ``quota_share`` of what remained then. Before each request that
fetches data the connector asks :meth:`QuotaGuard.check`; once the usage has grown by the budget
it raises :class:`QuotaReserved`, which the resources turn into a clean stop: every page already
yielded is loaded with its cursor, the rest waits for the next run, and the outcome is recorded
with ``stats.stop(...)`` (the run log says "stopped", never "success").

``GET /limits`` reports the same numbers as ``DailyApiRequests`` ``{"Max": allocation,
"Remaining": ...}``; :func:`reading_from_limits` and :meth:`QuotaGuard.observe_limits` read it for
callers that ask for it (a probe of the org, or a response path where a proxy stripped the header).
A sync does not call it: every REST and Bulk response carries the header.

The usage counts every integration's requests, not only ours, so the guard errs on the side of
stopping early. When Salesforce itself refuses a request with ``REQUEST_LIMIT_EXCEEDED`` the
allocation is spent: :class:`RequestLimitExceeded` fails the run with a clear message.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from common.errors import FatalAPIError, QuotaExhausted

log = logging.getLogger("supportlake.salesforce.quota")

_API_USAGE = re.compile(r"api-usage=(\d+)\s*/\s*(\d+)", re.IGNORECASE)


class RequestLimitExceeded(QuotaExhausted, FatalAPIError):
    """``REQUEST_LIMIT_EXCEEDED``: the org's API allocation is spent. The run fails (never a silent
    success); data loaded by earlier runs is intact and the next run resumes from its cursors."""


class QuotaReserved(Exception):
    """The guard's budget for this run is spent: stop cleanly (not an error of the run)."""


def parse_limit_info(value: str | None) -> tuple[int, int] | None:
    """``api-usage=18/5000; per-app-api-usage=...`` → ``(18, 5000)``."""
    if not value:
        return None
    match = _API_USAGE.search(value)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def reading_from_limits(body: object) -> tuple[int, int] | None:
    """``GET /limits`` → ``(used, allocation)`` from ``DailyApiRequests`` (``Max``, ``Remaining``)."""
    entry = body.get("DailyApiRequests") if isinstance(body, Mapping) else None
    if not isinstance(entry, Mapping):
        return None
    try:
        allocation, remaining = int(entry["Max"]), int(entry["Remaining"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(0, allocation - remaining), allocation


@dataclass
class QuotaReading:
    used: int
    allocation: int


class QuotaGuard:
    """Tracks ``Sforce-Limit-Info`` and decides when a run must stop to leave quota to others.

    ``share`` is the fraction of the requests that remained at the first reading this run may
    spend (0 < share ≤ 1). Thread-safe; one guard per source instance.
    """

    def __init__(self, share: float = 0.5) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"quota_share must be in (0, 1], got {share}")
        self.share = share
        self.start: QuotaReading | None = None
        self.latest: QuotaReading | None = None
        self._lock = threading.Lock()

    def observe(self, response: requests.Response) -> None:
        reading = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if reading is not None:
            self._record(*reading)

    def observe_limits(self, body: object) -> None:
        """A ``GET /limits`` body: the same reading as the header (for callers that read ``/limits``)."""
        reading = reading_from_limits(body)
        if reading is not None:
            used, allocation = reading
            self._record(used + 1, allocation)  # like the header, count the request that read it

    def _record(self, used: int, allocation: int) -> None:
        with self._lock:
            if self.start is None:
                # The first reading already counts the request that carried it.
                self.start = QuotaReading(max(0, used - 1), allocation)
                log.info(
                    "salesforce API usage %d/%d; this run may spend %d request(s) (%.0f%% of what remains)",
                    used,
                    allocation,
                    self.budget or 0,
                    self.share * 100,
                )
            if self.latest is None or used >= self.latest.used or allocation != self.latest.allocation:
                self.latest = QuotaReading(used, allocation)

    @property
    def budget(self) -> int | None:
        """Requests this run may spend, or ``None`` before the first reading."""
        if self.start is None:
            return None
        return int(max(0, self.start.allocation - self.start.used) * self.share)

    @property
    def spent(self) -> int:
        if self.start is None or self.latest is None:
            return 0
        return max(0, self.latest.used - self.start.used)

    @property
    def exhausted(self) -> bool:
        budget = self.budget
        return budget is not None and self.spent >= budget

    def reason(self) -> str:
        start, latest = self.start, self.latest
        assert start is not None
        assert latest is not None
        return (
            f"quota guard: stopped after {self.spent} request(s), the budget of {self.budget} "
            f"({self.share:.0%} of the {start.allocation - start.used} that remained of the org's "
            f"{start.allocation} daily API requests; usage now {latest.used}/{latest.allocation}). "
            "Loaded data and cursors are consistent; the next run continues from here "
            "(raise SOURCES__SALESFORCE__QUOTA_SHARE to spend more per run)."
        )

    def check(self) -> None:
        """Raise :class:`QuotaReserved` when the next request would exceed the budget."""
        if self.exhausted:
            raise QuotaReserved(self.reason())
