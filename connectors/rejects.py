"""The run's rejected records, on their way to the quarantine table.

A record is rejected when it breaks its table's payload contract (:class:`schemas.payload.Validator`)
or holds a value its column cannot take (:meth:`connectors.writer.StreamWriter.salvage`). Streams
hand their rejections here when they end; the sync stores them in
``supportlake.rejected_records`` (:mod:`warehouse.quarantine`) after the source's load, so a
rejected record is never skipped silently: it stays there, with its reason and payload, until a
later run reads it valid.

The other way round, the sync tells the streams which keys are still held (:meth:`Rejects.hold`),
so a connector can fetch them again by id (Zendesk ``show_many``) and every stream notes the held
keys it read valid (:meth:`Rejects.accept`); those are resolved once their load has committed. A
held key that a read by id asked for and the API did not return (:meth:`Rejects.missing`) no longer
exists for this account (deleted for good, purged, archived, or out of the account's reach): it is
resolved too, saying so, or the table would stay ``partial`` on every run for a record that can
never come back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from schemas.payload import Rejection

__all__ = ["MAX_PAYLOADS", "REJECTS", "Rejects"]

MAX_PAYLOADS = 10_000
"""Rejections of one source per run kept with their payload; later ones keep key and reason."""
PAYLOAD_DROPPED = f"more than {MAX_PAYLOADS:,} records of this source were rejected in one run"


def key_text(value: Any) -> str:
    """A record key as the quarantine stores it (text; ``""`` for a record without one)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class Rejects:
    """Thread-safe: dlt may run several resources at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rejected: dict[str, list[Rejection]] = {}
        self._held: dict[tuple[str, str], set[str]] = {}
        self._accepted: dict[tuple[str, str], set[str]] = {}
        self._missing: dict[tuple[str, str], set[str]] = {}

    def reset(self) -> None:
        with self._lock:
            self._rejected.clear()
            self._held.clear()
            self._accepted.clear()
            self._missing.clear()

    # -- rejections ---------------------------------------------------------------------------

    def add(self, source: str, rejections: Iterable[Rejection]) -> None:
        """Keep ``rejections`` of ``source``; past :data:`MAX_PAYLOADS` a run keeps their keys and
        reasons only (a source whose every record breaks the contract must not fill the memory)."""
        with self._lock:
            kept = self._rejected.setdefault(source, [])
            for r in rejections:
                if len(kept) >= MAX_PAYLOADS and r.payload is not None:
                    r = Rejection(r.table, r.record_id, r.problems, {"not kept": PAYLOAD_DROPPED})
                kept.append(r)

    def take(self, source: str) -> list[Rejection]:
        """The source's rejections of this run (and forget them)."""
        with self._lock:
            return self._rejected.pop(source, [])

    # -- keys held in quarantine ----------------------------------------------------------------

    def hold(self, source: str, held: Mapping[str, Iterable[str]]) -> None:
        """The keys of ``source`` still held in quarantine, by table (set before the source runs)."""
        with self._lock:
            for table, keys in held.items():
                self._held[(source, table)] = set(keys)
                self._accepted.pop((source, table), None)
                self._missing.pop((source, table), None)

    def held(self, source: str, table: str) -> list[str]:
        with self._lock:
            return sorted(self._held.get((source, table), ()))

    def accept(self, source: str, table: str, records: Iterable[Mapping[str, Any]], key: str) -> None:
        """``records`` of ``table`` were read valid: note those whose key is held."""
        with self._lock:
            held = self._held.get((source, table))
            if not held:
                return
            found = {k for k in (key_text(r.get(key)) for r in records) if k and k in held}
            if found:
                self._accepted.setdefault((source, table), set()).update(found)

    def accepted(self, source: str) -> dict[str, set[str]]:
        """The held keys read valid during this run, by table (and forget them)."""
        return self._take(self._accepted, source)

    def missing(self, source: str, table: str, asked: Iterable[str], answered: Iterable[Any]) -> None:
        """A read by id of ``asked`` succeeded and its answer held the records ``answered`` (their
        keys, valid or not): note the held keys it left out. Call it only with a whole answer (every
        page of it, no error): an id not in it is one the API does not have."""
        with self._lock:
            held = self._held.get((source, table))
            if not held:
                return
            got = {key_text(k) for k in answered}
            gone = {k for k in (key_text(a) for a in asked) if k in held and k not in got}
            if gone:
                self._missing.setdefault((source, table), set()).update(gone)

    def gone(self, source: str) -> dict[str, set[str]]:
        """The held keys a read by id did not return during this run, by table (and forget them)."""
        return self._take(self._missing, source)

    def _take(self, keys: dict[tuple[str, str], set[str]], source: str) -> dict[str, set[str]]:
        with self._lock:
            out = {t: found for (s, t), found in keys.items() if s == source}
            for t in out:
                keys.pop((source, t), None)
            return out


REJECTS = Rejects()
"""The one collector of the process (reset at the start of each sync)."""
