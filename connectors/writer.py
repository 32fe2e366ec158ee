"""The one stream writer: what every connector does between a page of records and dlt.

For each warehouse table a stream fills, :class:`StreamWriter`:

1. validates records against the table's payload model (rejections are counted, not fatal);
2. builds an Arrow table (:class:`connectors.arrow.TableBuilder`), or takes one already built
   (Salesforce Bulk CSV);
3. appends ``_sl_seq``, the extraction order that merge uses to keep the latest duplicate;
4. appends the deletion flags ``_sl_deleted``/``_sl_deleted_at`` (:func:`connectors.deletions.flag_arrow`);
5. names the table of every item, the first one carrying the table's hints (columns, key,
   de-duplication) as a dlt table *variant*; resource-level column hints would leak into every
   table of the resource;
6. batches pages into items of about :data:`BATCH_ROWS` rows: dlt's cost per item (schema
   reconciliation, one Parquet row group) is constant, so fewer, larger tables load faster.

Zendesk's endpoint walk (:mod:`connectors.endpoints`), Confluence's content walk and
Salesforce's object sync all write through it; none builds Arrow tables or hints itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dlt
import pyarrow as pa

from connectors import chunks
from connectors.arrow import TableBuilder, flatten, sequence
from connectors.deletions import DLT_COLUMNS as DELETION_COLUMNS
from connectors.deletions import NEVER, Deletion, flag_arrow
from connectors.http import HttpClient
from connectors.rejects import REJECTS
from connectors.stats import StatsRegistry
from schemas.payload import Payload, Rejection, Validator

SEQ_COLUMN = "_sl_seq"
"""Extraction order within a run; merge keeps the highest, i.e. the latest version of a key."""

SEQ_HINT: dict[str, Any] = {"data_type": "bigint", "dedup_sort": "desc", "nullable": True}

BATCH_ROWS = 10_000
"""Pages are handed to dlt in batches of about this many rows; memory stays bounded."""


def table_hints(
    columns: Mapping[str, Mapping[str, Any]],
    primary_key: str | Sequence[str] = "id",
    write_disposition: str = "merge",
) -> dict[str, Any]:
    """The dlt hints of a raw table: its declared columns plus the loader's (``_sl_seq`` and the
    deletion flags), its key and how it is written."""
    return {
        "primary_key": list(primary_key) if not isinstance(primary_key, str) else primary_key,
        "write_disposition": write_disposition,
        "columns": {**{k: dict(v) for k, v in columns.items()}, SEQ_COLUMN: SEQ_HINT, **DELETION_COLUMNS},
    }


@dataclass
class Sink:
    """One warehouse table a stream writes: how its rows become Arrow, and its dlt hints."""

    name: str
    hints: dict[str, Any]
    """``primary_key``, ``write_disposition`` and ``columns`` (see :func:`table_hints`)."""
    builder: TableBuilder
    validator: Validator | None = None
    deletion: Deletion = NEVER
    not_null: tuple[str, ...] = ()
    """Columns made non-nullable Arrow fields, as their hints declare them (rows without them
    were rejected)."""


@dataclass
class StreamWriter:
    """Records of one stream → marked, batched Arrow tables for dlt (see the module's text)."""

    sinks: Mapping[str, Sink]
    source: str | None = None
    """The source whose chunk budget names the tables loaded by appending (:mod:`connectors.firstload`);
    ``None``: every merged table merges."""
    batch_rows: int = BATCH_ROWS
    _seq: dict[str, int] = field(default_factory=dict, init=False)
    _hinted: set[str] = field(default_factory=set, init=False)
    _pending: dict[str, list[pa.Table]] = field(default_factory=dict, init=False)
    _pending_rows: int = field(default=0, init=False)

    # -- rows -----------------------------------------------------------------------------------

    def validate(self, table: str, records: Sequence[Any]) -> list[Mapping[str, Any]]:
        """The records that keep the table's contract; the others are rejected by name."""
        validator = self.sinks[table].validator
        if validator is None:
            return [r for r in records if isinstance(r, Mapping)]
        return validator.filter(records)

    def build(
        self, table: str, rows: Sequence[Mapping[str, Any]], extra: Mapping[str, list[Any]] | None = None
    ) -> pa.Table:
        """``rows`` (validated) as an Arrow table with the loader's columns. ``extra``: more
        columns, one Python value per row (typed as the table declares them)."""
        builder = self.sinks[table].builder
        extra = extra or {}

        def build(idx: Sequence[int] | None) -> pa.Table:
            subset = rows if idx is None else [rows[i] for i in idx]
            arrays: dict[str, pa.Array] = {}
            for name, values in extra.items():
                arr = builder.column(name, values if idx is None else [values[i] for i in idx])
                if arr is not None:
                    arrays[name] = arr
            return builder.build(subset, arrays)

        return self.finish(table, self.salvage(table, rows, build))

    def salvage(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]],
        build: Callable[[Sequence[int] | None], pa.Table],
    ) -> pa.Table:
        """``build(None)`` (the whole page); when one value does not fit its column (Arrow refuses
        ``is_public: "yes"`` for a bool column), the records that break it are found by halving
        the page, rejected by key with the column and value named, and the rest is built: one bad
        record never stops its page, its table or its source. ``build(indices)`` builds a subset."""
        try:
            return build(None)
        except ValueError:
            pass
        bad: dict[int, str] = {}

        def find(idx: list[int]) -> None:
            try:
                build(idx)
            except ValueError as exc:
                if len(idx) == 1:
                    bad[idx[0]] = _with_value(str(exc), rows[idx[0]])
                    return
                half = len(idx) // 2
                find(idx[:half])
                find(idx[half:])

        find(list(range(len(rows))))
        for i, reason in bad.items():
            self.reject(table, rows[i], reason)
        keep = [i for i in range(len(rows)) if i not in bad]
        return build(keep) if keep else pa.table({})

    def reject(self, table: str, record: Mapping[str, Any], reason: str) -> None:
        """Reject one record (kept with its reason; counted; quarantined by the sync)."""
        sink = self.sinks[table]
        if sink.validator is None:
            sink.validator = Validator(table, Payload, _key_of(sink.hints))
        sink.validator.reject(record, reason)

    def finish(self, table: str, tbl: pa.Table) -> pa.Table:
        """An Arrow table built elsewhere (column names final) with ``_sl_seq`` and the deletion
        flags appended, and its key columns non-nullable."""
        sink = self.sinks[table]
        start = self._seq.get(table, 0)
        self._seq[table] = start + tbl.num_rows
        if SEQ_COLUMN in tbl.column_names:
            tbl = tbl.drop_columns([SEQ_COLUMN])
        tbl = tbl.append_column(pa.field(SEQ_COLUMN, pa.int64()), sequence(start, tbl.num_rows))
        tbl = flag_arrow(tbl, sink.deletion)
        return _not_null(tbl, sink.not_null) if sink.not_null else tbl

    # -- items for dlt --------------------------------------------------------------------------

    def mark(self, table: str, tbl: pa.Table) -> Any:
        """Name the item's table; the first item of each table carries the table's hints. A
        merged table the warehouse lacks is appended instead while no key repeats in the chunk;
        the item that repeats one carries the merge hints (:mod:`connectors.firstload`)."""
        hints = self.sinks[table].hints
        hinted = table in self._hinted
        self._hinted.add(table)
        disposition: str | None = None if hinted else str(hints["write_disposition"])
        budget = chunks.current(self.source) if self.source and hints["write_disposition"] == "merge" else None
        if budget is not None:
            key = hints["primary_key"]
            keys = [key] if isinstance(key, str) else list(key)
            disposition = budget.first_loads.hint(table, tbl, keys, hinted=hinted)
        if disposition is None:
            return dlt.mark.with_table_name(tbl, table)
        if disposition == "append":
            hints = {**hints, "write_disposition": "append", "columns": _without_dedup(hints["columns"])}
        made = dlt.mark.make_hints(table_name=table, **hints)
        return dlt.mark.with_hints(tbl, made, create_table_variant=True)

    def write(self, table: str, rows: Sequence[Mapping[str, Any]]) -> Any:
        """``rows`` as one item, at once (not batched)."""
        return self.mark(table, self.build(table, rows))

    def add(self, table: str, tbl: pa.Table) -> None:
        """Keep a finished table for the next batch (see :meth:`drain`)."""
        if tbl.num_rows:
            self._pending.setdefault(table, []).append(tbl)
            self._pending_rows += tbl.num_rows

    @property
    def pending_rows(self) -> int:
        """Rows kept for the next batch."""
        return self._pending_rows

    @property
    def full(self) -> bool:
        return self._pending_rows >= self.batch_rows

    def drain(self) -> Iterator[Any]:
        """The kept tables, one item per warehouse table."""
        pending, self._pending, self._pending_rows = self._pending, {}, 0
        for table, tables in pending.items():
            tbl = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
            yield self.mark(table, tbl)

    # -- counters -------------------------------------------------------------------------------

    @property
    def rejected(self) -> int:
        return sum(len(s.validator.rejections) for s in self.sinks.values() if s.validator is not None)

    def rejections(self) -> list[Rejection]:
        return [r for s in self.sinks.values() if s.validator is not None for r in s.validator.rejections]

    def count_rejections(self, client: HttpClient, endpoint: str) -> None:
        self.hand_over(client.name, client.stats, endpoint)

    def hand_over(self, source: str, stats: StatsRegistry, endpoint: str) -> None:
        """Count the stream's rejected records under ``endpoint`` and hand them to the run's
        quarantine (:data:`connectors.rejects.REJECTS`); each rejection is handed over once."""
        rejections = self.rejections()
        if rejections:
            stats.add(source, endpoint, rejected=len(rejections))
            REJECTS.add(source, rejections)
            for s in self.sinks.values():
                if s.validator is not None:
                    s.validator.rejections.clear()

    def accept(self, source: str, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Note the held (quarantined) keys among ``rows``, which were read valid."""
        REJECTS.accept(source, table, rows, self.key(table))

    def key(self, table: str) -> str:
        sink = self.sinks[table]
        return sink.validator.key if sink.validator is not None else _key_of(sink.hints)


def _without_dedup(columns: Mapping[str, Any]) -> dict[str, Any]:
    """Column hints without ``dedup_sort``, which dlt warns about on an appended table."""
    return {n: {k: v for k, v in c.items() if k != "dedup_sort"} for n, c in columns.items()}


def _key_of(hints: Mapping[str, Any]) -> str:
    key = hints.get("primary_key") or "id"
    return key if isinstance(key, str) else str(key[0])


def _with_value(message: str, record: Mapping[str, Any]) -> str:
    """The Arrow error (``tickets.is_public: values do not fit bool (…)``) with the record's value
    of that column named."""
    head = message.split(":", 1)[0]
    column = head.split(".", 1)[1] if "." in head else ""
    flat = flatten(record) if column else {}
    if column in flat:
        return f"{head}: value {_short(flat[column])} does not fit the column's type ({message})"
    return message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _not_null(table: pa.Table, names: Sequence[str]) -> pa.Table:
    schema = table.schema
    for name in names:
        i = schema.get_field_index(name)
        if i >= 0:
            schema = schema.set(i, schema.field(i).with_nullable(False))
    return table.cast(schema) if schema != table.schema else table
