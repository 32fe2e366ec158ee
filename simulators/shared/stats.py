"""Request statistics every simulator keeps; tests and benchmarks read them."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    """What a simulator served: requests per path, responses per status, 429s and faults by kind.

    A simulator subclasses it for the counters of its own API. The ``count_*`` methods may be
    called from the server's threads; they take the stats' own lock."""

    requests: Counter[str] = field(default_factory=Counter)
    """Requests per path (every request, answered or not)."""
    statuses: Counter[int] = field(default_factory=Counter)
    """Responses per HTTP status (dropped connections are not counted)."""
    rate_limited: int = 0
    """429 responses, from the rate limit or injected."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults served, by kind: ``"503"``, ``"drop"``, ``"truncate"``, ..."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def faults_served(self) -> int:
        return sum(self.faults.values())

    def count_request(self, path: str) -> None:
        with self._lock:
            self.requests[path] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1
            if kind == "429":
                self.rate_limited += 1

    def count_rate_limited(self) -> None:
        with self._lock:
            self.rate_limited += 1
