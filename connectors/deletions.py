"""Deletions flagged in the raw tables, declared as data: one :class:`Deletion` per table.

Every raw table a connector loads carries the same two columns, like Fivetran's
``_fivetran_deleted``:

- :data:`DELETED` (``_sl_deleted``, boolean, never NULL): the source deleted the record (soft
  delete, trash, purge, or the deletion of the parent it belongs to). The row keeps the values
  last seen.
- :data:`DELETED_AT` (``_sl_deleted_at``, timestamp with time zone): the best known time of the
  deletion; NULL when not deleted (or when the source records no time at all).

A :class:`Deletion` says how a table's rows are known to be deleted:

- ``record``: the record itself says so (Zendesk ``status = 'deleted'``, Salesforce
  ``IsDeleted``, Confluence ``status = 'trashed'``). Applied twice from the same declaration: at
  extraction, to the Arrow tables the connectors emit (:func:`flag_arrow`), so a row is never
  loaded without its flag; and in the load step (:mod:`warehouse.deletions`), which re-derives it
  with SQL for rows loaded before the columns existed.
- ``purged``: another table lists the record as purged (Salesforce ``deleted_records``,
  Confluence ``deleted_content``): the record is gone from the API and its row is never read
  again, so only the load step can flag it.
- ``parents``: the record belongs to a parent and is deleted with it (Salesforce CaseHistory of a
  deleted Case, Zendesk comments of a deleted ticket, labels of trashed content). Load step too.

The load step recomputes the flag of every row from all three after each load (idempotent: only
rows whose flag or time changes are written), so a row merged again from the API with
``_sl_deleted = false`` is flagged again in the same run when it was purged or its parent was
deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from common.coltypes import TIMESTAMP, dlt_type

DELETED = "_sl_deleted"
DELETED_AT = "_sl_deleted_at"

DLT_COLUMNS: dict[str, dict[str, Any]] = {
    # nullable in the hints only so that dlt can add the columns to tables loaded before they
    # existed; the load step fills those rows, and every new row arrives with a value.
    DELETED: {"data_type": dlt_type("bool"), "nullable": True},
    DELETED_AT: {"data_type": dlt_type("timestamp"), "nullable": True},
}
"""The two columns as dlt column hints (every raw table's hints include them)."""


@dataclass(frozen=True, kw_only=True)
class RecordDeleted:
    """The record says it is deleted: column ``column`` holds one of ``values`` (compared as
    lower-case text; any non-null value when ``values`` is empty). ``at``: timestamp columns
    holding the time of deletion, first non-null wins. Columns are warehouse column names (after
    flattening and renaming); a column the table lacks means "not deleted" (or no time)."""

    column: str
    values: tuple[Any, ...] = (True,)
    at: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Purged:
    """The record is listed in table ``log`` (same dataset) as purged: ``log.log_key = key``,
    restricted to log rows whose columns equal ``log_match``; ``log_at`` is the time recorded."""

    log: str
    log_at: str
    key: str = "id"
    log_key: str = "id"
    log_match: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Parent:
    """The record is deleted with its parent: ``parent.parent_key = column`` and the parent row
    is flagged (the parent's time is the child's). ``match``: only child rows whose columns equal
    these values point at this parent (Confluence labels of pages vs blog posts)."""

    parent: str
    column: str
    parent_key: str = "id"
    match: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Deletion:
    """How the rows of one table are known to be deleted (nothing declared: never deleted)."""

    record: RecordDeleted | None = None
    purged: tuple[Purged, ...] = ()
    parents: tuple[Parent, ...] = ()
    key: tuple[str, ...] = ("id",)
    """The table's key, which the load step joins on when ``purged`` or ``parents`` apply."""

    def but(self, **changes: Any) -> Deletion:
        """A copy with some fields replaced (a table that adds a rule to a source's default)."""
        return replace(self, **changes)


NEVER = Deletion()
"""Tables without deletion semantics: ``_sl_deleted`` is always false."""


@dataclass(frozen=True, kw_only=True)
class SourceDeletions:
    """The deletion rules of one source's dataset: per table, with a default for the others
    (Salesforce's objects all have ``IsDeleted`` and a place in ``deleted_records``)."""

    tables: Mapping[str, Deletion] = field(default_factory=dict)
    default: Deletion = NEVER

    def of(self, table: str) -> Deletion:
        return self.tables.get(table, self.default)


# --------------------------------------------------------------------------------------------
# At extraction: the two columns on an Arrow table
# --------------------------------------------------------------------------------------------


def flag_arrow(table: pa.Table, deletion: Deletion | None) -> pa.Table:
    """``table`` with :data:`DELETED` and :data:`DELETED_AT` appended (replaced if present), from
    the record-level rule of ``deletion``; without one, every row is not deleted."""
    n = table.num_rows
    for name in (DELETED, DELETED_AT):
        if name in table.column_names:
            table = table.drop_columns([name])
    rule = deletion.record if deletion is not None else None
    if rule is None or rule.column not in table.column_names:
        flags = pa.array([False] * n, pa.bool_())
        times = pa.nulls(n, TIMESTAMP)
    else:
        flags = _matches(_column(table, rule.column), rule.values)
        times = pc.if_else(flags, _first_time(table, rule.at, n), pa.nulls(n, TIMESTAMP))
    # A nullable Arrow field like the hint: a NOT NULL column could not be added to a table
    # that already has rows.
    table = table.append_column(pa.field(DELETED, pa.bool_()), flags)
    return table.append_column(pa.field(DELETED_AT, TIMESTAMP), times)


def _column(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _matches(col: pa.Array, values: tuple[Any, ...]) -> pa.Array:
    """Whether each value is one of ``values`` (any non-null value when empty); nulls: false.
    Compared as lower-case text, as the load step's SQL does (:func:`value_text`)."""
    if not values:
        return pc.is_valid(col)
    if pa.types.is_null(col.type):
        return pa.array([False] * len(col), pa.bool_())
    text = pc.utf8_lower(col.cast(pa.string()))
    hit = pc.is_in(text, value_set=pa.array([value_text(v) for v in values], pa.string()))
    return pc.fill_null(hit, False)


def value_text(value: Any) -> str:
    """A declared value as the lower-case text both sides compare (``True`` → ``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def _first_time(table: pa.Table, names: tuple[str, ...], n: int) -> pa.Array:
    """The first non-null of the ``names`` columns that are timestamps, in UTC (NULL where none;
    the load step reads only timestamp columns too)."""
    out: pa.Array = pa.nulls(n, TIMESTAMP)
    for name in reversed(names):
        if name in table.column_names:
            col = _column(table, name)
            if pa.types.is_timestamp(col.type):
                out = pc.coalesce(col.cast(TIMESTAMP), out)
    return out
