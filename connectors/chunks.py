"""Checkpointed extraction: a source's run is committed in chunks, not all at once.

A dlt ``pipeline.run`` extracts everything before it normalizes and loads, and the cursors in the
resource state are committed with that one load package. So that a crash, an outage or Ctrl-C
loses at most the chunk in flight, the sync (:mod:`warehouse.sync`) gives each source a
:class:`ChunkBudget` — at most :data:`DEFAULT_ROWS` rows or :data:`DEFAULT_SECONDS` seconds per
chunk, settable with ``SUPPORTLAKE_CHUNK_ROWS`` / ``SUPPORTLAKE_CHUNK_SECONDS`` or the library
API — and every stream checks it at its *release points*: right after a batch was yielded and the
stream's state advanced past it (:func:`connectors.endpoints.walk`'s ``release``, Salesforce's
ordered pages). When the budget is spent the stream stops there and says it has more
(:meth:`ChunkBudget.stop`); the sync commits the chunk (data and cursors in one load package) and
builds the source again with only the streams that have more. A stream that finished is not run
again; a stream cut at a release point resumes from the cursor it committed.

:func:`guarded` wraps every resource body: a stream is not started once the chunk's budget is
spent (it waits for the next chunk), and a stream that fails — retries exhausted, the server
gone — is recorded as failed (:attr:`ChunkBudget.failed`) while the pages it released before the
failure are committed with the chunk. Without a budget (a source run in someone's own dlt
pipeline) nothing changes: one run, errors raised.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from common.errors import AuthError, ConfigError
from connectors.firstload import FirstLoads

__all__ = [
    "DEFAULT_ROWS",
    "DEFAULT_SECONDS",
    "ENV_ROWS",
    "ENV_SECONDS",
    "READ_AGAIN",
    "ChunkBudget",
    "active",
    "current",
    "guarded",
    "is_fatal",
    "memo",
    "settings_from_env",
]

log = logging.getLogger("supportlake.chunks")

ENV_ROWS = "SUPPORTLAKE_CHUNK_ROWS"
ENV_SECONDS = "SUPPORTLAKE_CHUNK_SECONDS"
DEFAULT_ROWS = 500_000
"""Rows read (all streams of a source together) before the chunk is committed. A chunk bounds what
a killed run reads again; each boundary costs a load that merges into ever larger tables. Measured
(``bench/bench_zendesk.py``, 200k tickets, 400k rows, on 2 cores): 100,000-row chunks took 20.1 s,
500,000 16.0 s, one chunk 14.3 s. A paced API is cut by :data:`DEFAULT_SECONDS` long before."""
DEFAULT_SECONDS = 300.0
"""Seconds of extraction before the chunk is committed (a slow, paced API commits by time)."""


@dataclass
class ChunkBudget:
    """How much one chunk of one source may read, and what its streams reported.

    ``rows`` / ``seconds``: ``None`` or 0 is no limit. Thread-safe: the streams of a source run in
    one thread, but the progress display and the sync read it from others.
    """

    rows: int | None = DEFAULT_ROWS
    seconds: float | None = DEFAULT_SECONDS
    more: set[str] = field(default_factory=set)
    """Streams that stopped at a release point with pages left: they run again in the next chunk."""
    failed: dict[str, BaseException] = field(default_factory=dict)
    """Streams that failed (in any chunk), with their error; they do not run again in this sync."""
    whole: set[str] = field(default_factory=set)
    """Failed streams that have no position to resume from (read whole, or a Confluence content
    walk whose watermark moves only at its end): the next run reads them again from the start."""
    aborted: bool = False
    """A failure no other stream of the source can outlive (configuration, credentials): the
    streams not started yet are not started."""
    not_run: set[str] = field(default_factory=set)
    """Streams not started because the source was aborted: they fail with the source's cause."""
    cancelled: bool = False
    """Stop at the next release point (Ctrl-C): what was released is committed."""
    memo: dict[str, Any] = field(default_factory=dict)
    """What a source read once and needs in every chunk (Zendesk's ticket fields), kept so the
    next chunk does not ask again."""
    first_loads: FirstLoads = field(default_factory=lambda: FirstLoads(()))
    """The tables the warehouse lacked when the chunk began: loaded by appending while no key
    repeats (:mod:`connectors.firstload`)."""
    chunks: int = 0
    cuts: int = 0
    """Times a stream stopped for the next chunk (each may cost one page read again)."""
    released: int = 0
    """Rows released in the current chunk."""
    _started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self, absent: Iterable[str] = ()) -> None:
        """A new chunk: the row count and clock start again; ``more`` is cleared. ``absent``: the
        source's tables the warehouse does not have (see :mod:`connectors.firstload`)."""
        with self._lock:
            self.first_loads = FirstLoads(absent)
            self.chunks += 1
            self.released = 0
            self._started = time.monotonic()
            self.more.clear()

    def due(self, pending: int = 0) -> bool:
        """Whether the chunk is spent: ``released`` plus ``pending`` rows (read, not yet released)
        reached ``rows``, or ``seconds`` have passed since it began, or the run is cancelled."""
        with self._lock:
            if self.cancelled:
                return True
            if self.rows and self.released + pending >= self.rows:
                return True
            return bool(self.seconds) and time.monotonic() - self._started >= float(self.seconds or 0)

    def release(self, rows: int) -> None:
        """Count ``rows`` handed to dlt with the state that covers them."""
        with self._lock:
            self.released += rows

    def stop(self, resource: str) -> None:
        """``resource`` stopped at a release point and has more to read."""
        with self._lock:
            self.more.add(resource)
            self.cuts += 1
        log.debug("%s: chunk %d spent; the stream resumes in the next chunk", resource, self.chunks)

    def admit(self, resource: str) -> bool:
        """Whether ``resource`` may start in this chunk (else it waits for the next one)."""
        if self.aborted:
            with self._lock:
                self.not_run.add(resource)
            return False
        # Nothing released yet: the chunk has not made progress, so the stream starts whatever
        # the clock says (a chunk always moves forward).
        if self.cancelled or (self.released and self.due()):
            self.stop(resource)
            return False
        return True

    def fail(self, resource: str, exc: BaseException) -> None:
        with self._lock:
            self.failed[resource] = exc
            if is_fatal(exc):
                self.aborted = True


def is_fatal(exc: BaseException) -> bool:
    """Errors that doom every stream of the source: bad settings, credentials refused."""
    cur: BaseException | None = exc
    while cur is not None:
        if isinstance(cur, ConfigError | AuthError):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


_lock = threading.Lock()
_budgets: dict[str, ChunkBudget] = {}


@contextmanager
def active(source: str, budget: ChunkBudget) -> Iterator[ChunkBudget]:
    """Make ``budget`` the one the streams of ``source`` check, for the ``with`` block."""
    with _lock:
        _budgets[source] = budget
    try:
        yield budget
    finally:
        with _lock:
            if _budgets.get(source) is budget:
                del _budgets[source]


def current(source: str) -> ChunkBudget | None:
    """The budget of ``source``'s current chunk; ``None`` outside a chunked sync."""
    with _lock:
        return _budgets.get(source)


READ_AGAIN = "no position to resume from: the next run reads this stream again from its last completed run"


def memo(source: str) -> dict[str, Any]:
    """What ``source`` keeps from one chunk to the next of a sync (its client, its context); a
    fresh dict outside a chunked sync."""
    budget = current(source)
    return budget.memo if budget is not None else {}


def guarded(source: str, resource: str, items: Iterator[Any], *, resumable: bool = True) -> Iterator[Any]:
    """A resource body under the chunk budget (see the module's text). ``items`` is a generator
    not started yet; nothing of it runs when the stream must wait for the next chunk.
    ``resumable``: whether the stream advances its state as it goes (else what it released before
    a failure is committed all the same, but the next run reads it again)."""
    budget = current(source)
    if budget is None:
        yield from items
        return
    if not budget.admit(resource):
        return
    try:
        yield from items
    except Exception as exc:  # recorded; the sync reports it and commits what was released
        # INFO only: the sync reports the cause (the CLI once per source on stderr).
        log.info("%s.%s failed: %s", source, resource, exc)
        budget.fail(resource, exc)
        if not resumable:
            budget.whole.add(resource)


def settings_from_env() -> tuple[int | None, float | None]:
    """``(rows, seconds)`` from ``SUPPORTLAKE_CHUNK_ROWS`` / ``SUPPORTLAKE_CHUNK_SECONDS`` (0: no
    limit), the defaults where unset."""
    return (
        _number(ENV_ROWS, int, DEFAULT_ROWS),
        _number(ENV_SECONDS, float, DEFAULT_SECONDS),
    )


def _number(name: str, kind: type[int] | type[float], default: float) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name} must be a number (0 for no limit), got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, got {raw!r}")
    return value or None
