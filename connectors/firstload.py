"""First loads by appending: a table the warehouse does not have yet needs no merge.

dlt's merge copies a chunk into a staging table, deletes the keys it holds from the table and
inserts the latest row of each key. On a table that does not exist yet all of that is wasted:
measured on a 100k-ticket first sync into DuckDB it was a third of the load (the copy into staging,
the de-duplicating window, and the staging table written to disk at the checkpoint), against a
plain append straight into the new table.

So the sync (:mod:`warehouse.sync`) names, before each chunk, the tables its warehouse lacks
(:meth:`connectors.chunks.ChunkBudget.begin`), and the stream writer
(:meth:`connectors.writer.StreamWriter.mark`) hints their first item ``append`` and hands every
item's keys to :meth:`FirstLoads.check`. A key seen twice in the chunk — a ticket updated while
the export ran, a record read again from quarantine, two streams filling one table — switches the
table back to ``merge`` with the item that repeats it; dlt then loads the whole chunk's table by
merge (the last hint of a table is the one its load follows), exactly as it would have anyway.
A table that reached the warehouse in an earlier chunk is not named again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

MAX_KEYS = 2_000_000
"""Keys remembered per table before giving up the append (memory stays bounded: a chunk is
500,000 rows by default, and an unbounded chunk of a huge table merges as before)."""


class FirstLoads:
    """The tables of one chunk that load by appending while no key repeats. Thread-safe: two
    streams of a source may fill one table."""

    def __init__(self, tables: Iterable[str], max_keys: int = MAX_KEYS) -> None:
        self._seen: dict[str, set[Any]] = {t: set() for t in tables}
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def hint(self, table: str, tbl: pa.Table, key: Sequence[str], *, hinted: bool) -> str | None:
        """The write disposition an item of ``table`` must carry, noting its keys: ``"append"``
        for a writer's first item of a table still appending, ``"merge"`` for the item that
        repeats a key (or a first item of a table that merges), ``None`` when the item needs no
        hint (``hinted``: the writer hinted this table before)."""
        with self._lock:
            seen = self._seen.get(table)
            if seen is None:
                return None if hinted else "merge"
            if all(k in tbl.column_names for k in key):
                keys = _keys(tbl, key)
                before = len(seen)
                seen.update(keys)
                if len(seen) - before == len(keys) and len(seen) <= self._max_keys:
                    return None if hinted else "append"
            # A key repeats (or cannot be read, or there are too many to keep): merge, as always.
            del self._seen[table]
            return "merge"

    def appending(self, table: str) -> bool:
        """Whether ``table`` still loads by appending."""
        with self._lock:
            return table in self._seen


def _keys(tbl: pa.Table, key: Sequence[str]) -> list[Any]:
    columns = [tbl.column(k).to_pylist() for k in key]
    return columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
