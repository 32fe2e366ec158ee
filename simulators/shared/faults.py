"""Fault injection: faults queued per path prefix, and faults drawn at random rates.

What a fault *is* (a status, ``"drop"``, ``"truncate"``, a delay, a scripted body) and how it is
answered stays with each simulator: the error bodies are its API's."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

F = TypeVar("F")


class FaultQueue(Generic[F]):
    """Faults for the next requests whose path starts with a prefix, served in the order queued:
    each matching request takes the first fault queued for a prefix it matches."""

    def __init__(self, valid: Callable[[F], bool] | None = None) -> None:
        self._valid = valid
        self._queue: deque[tuple[str, F]] = deque()
        self._lock = threading.Lock()

    def inject(self, path_prefix: str, faults: Iterable[F]) -> None:
        """Queue ``faults`` for ``path_prefix``; ``ValueError`` (and nothing queued) if one is not valid."""
        items = list(faults)
        if self._valid is not None:
            for fault in items:
                if not self._valid(fault):
                    raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._queue.extend((path_prefix, fault) for fault in items)

    def take(self, path: str, default: Any = None) -> Any:
        """The next fault queued for ``path`` (an ``F``), removed from the queue; ``default`` if
        there is none (a sentinel tells a queued None, "answer normally", from no fault)."""
        with self._lock:
            for i, (prefix, fault) in enumerate(self._queue):
                if path.startswith(prefix):
                    del self._queue[i]
                    return fault
        return default

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


def roll_fault(
    rng: random.Random,
    *,
    drop_rate: float = 0.0,
    truncate_rate: float = 0.0,
    error_rate: float = 0.0,
    error_statuses: Sequence[int] = (500, 502, 503, 504),
) -> str | int | None:
    """A random fault at the given rates (one draw; exclusive shares): ``"drop"``, ``"truncate"``,
    an HTTP status from ``error_statuses``, or None. Draws nothing when every rate is 0, so a
    seeded simulator without random faults keeps its random stream for when it gets some."""
    if drop_rate <= 0 and truncate_rate <= 0 and error_rate <= 0:
        return None
    roll = rng.random()
    if roll < drop_rate:
        return "drop"
    roll -= drop_rate
    if roll < truncate_rate:
        return "truncate"
    roll -= truncate_rate
    if roll < error_rate:
        return rng.choice(tuple(error_statuses))
    return None
