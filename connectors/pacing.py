"""Proactive pacing (:class:`RateLimiter`): a client-side sliding window per rate group (e.g.
Zendesk's incremental exports, 10 requests a minute) and the server's own
``X-Rate-Limit-Remaining`` / ``ratelimit-remaining`` + ``ratelimit-reset`` headers, so a run does
not bounce off 429s; and :func:`parse_retry_after` for ``Retry-After``.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

__all__ = ["RateLimit", "RateLimiter", "parse_retry_after"]

log = logging.getLogger("supportlake.http")


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` in any ``per_seconds`` window (a documented endpoint limit)."""

    requests: int
    per_seconds: float = 60.0


class RateLimiter:
    """Paces requests so the API's limits are used, not exceeded.

    Two sources of knowledge, both honoured:

    - declared limits per rate group: a sliding-window log of the last ``requests`` send times;
      a request waits until the oldest falls out of the window. Bursts are allowed up to the
      limit, and a server with a fixed or sliding window of the same size never sees an excess;
    - the server's headers: when ``X-Rate-Limit-Remaining`` (or ``ratelimit-remaining``) reaches
      zero, requests wait ``ratelimit-reset`` seconds (or, without it, one window / limit); a 429
      with ``Retry-After`` blocks its group until then.
    """

    def __init__(
        self,
        limits: Mapping[str, RateLimit] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = dict(limits or {})
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._blocked_until: dict[str, float] = {}

    def acquire(self, group: str) -> float:
        """Wait until a request in ``group`` may go; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = max(0.0, self._blocked_until.get(group, 0.0) - now)
                wait = max(wait, self._blocked_until.get("*", 0.0) - now)
                limit = self.limits.get(group)
                if limit is not None:
                    sent = self._sent[group]
                    while sent and sent[0] <= now - limit.per_seconds:
                        sent.popleft()
                    if len(sent) >= limit.requests:
                        wait = max(wait, sent[0] + limit.per_seconds - now + 0.05)
                if wait <= 0:
                    if limit is not None:
                        self._sent[group].append(now)
                    return waited
            log.debug("pacing %s: waiting %.2fs", group, wait)
            self._sleep(wait)
            waited += wait

    def observe(self, group: str, response: requests.Response) -> None:
        """Read the rate-limit headers of a response: Zendesk's ``X-Rate-Limit-*``, the IETF
        draft's ``ratelimit-*`` and Atlassian's ``X-RateLimit-*`` (whose reset is a timestamp)."""
        h = response.headers
        remaining = _first_number(h, "X-Rate-Limit-Remaining", "ratelimit-remaining", "X-RateLimit-Remaining")
        if remaining is None or remaining > 0:
            return
        reset = _first_number(h, "ratelimit-reset", "X-Rate-Limit-Reset", "Retry-After")
        if reset is None:
            reset = _seconds_until(h.get("X-RateLimit-Reset"))
        if reset is None:
            limit = _first_number(h, "X-Rate-Limit", "ratelimit-limit", "X-RateLimit-Limit") or 60.0
            reset = 60.0 / max(limit, 1.0)
        self.block("*", reset)

    def block(self, group: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._blocked_until[group] = max(self._blocked_until.get(group, 0.0), until)


def _first_number(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return float(raw.split(",")[0].strip())
        except ValueError:
            continue
    return None


def _seconds_until(value: str | None) -> float | None:
    """Seconds until an ISO 8601 instant (Atlassian's ``X-RateLimit-Reset: 2024-01-31T10:05Z``);
    a plain number is taken as seconds."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))
