"""``export-hyper`` from a dlt destination (``--warehouse snowflake://…``; :mod:`warehouse.dlt_sql`).

The tables are read through the same connection as everything else on that warehouse, dlt's
``sql_client``: the catalog from ``information_schema`` (column types named as DuckDB names them,
so :data:`warehouse.hyper.HYPER_TYPES` decides what an extract takes on every engine), and each
table's rows as Arrow (dlt's cursor ``.arrow()``), written to a Parquet file Hyper then copies in
one statement, each column as the Arrow type of its Hyper type. Where the engine has one, every
table is read in one read-only snapshot (``Engine.snapshot`` in :mod:`warehouse.engines`:
PostgreSQL's REPEATABLE READ, DuckDB's transaction), so the extracts match each other even while
a build publishes; elsewhere each table is read as it stands (on engines whose publish replaces
each table atomically, a table is never half-written).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlglot import exp

from warehouse.dlt_sql import DltConnection
from warehouse.hyper import ArrowReader
from warehouse.target import Target

NATIVE_TYPE_NAMES = ("duckdb", "postgres")
"""Dialects whose ``information_schema`` type names the Hyper type table already lists."""


class DltReader(ArrowReader):
    """:class:`warehouse.hyper.ArrowReader` over a :class:`DltConnection`, whose catalog names
    column types as its engine does: those are named as DuckDB names them."""

    def __init__(self, con: DltConnection) -> None:
        super().__init__(con)
        self.kind = "dlt"
        self._dlt = con

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = self._dlt.query(sql, params)
        if "data_type" not in sql or self._dlt.engine.dialect in NATIVE_TYPE_NAMES:
            return rows
        return [
            tuple(_duckdb_type(v, self._dlt.engine.dialect) if i == 2 else v for i, v in enumerate(r)) for r in rows
        ]


def _duckdb_type(name: Any, dialect: str) -> Any:
    """An engine's type name (Snowflake ``TIMESTAMP_NTZ``, BigQuery ``INT64``) as DuckDB names it."""
    if not isinstance(name, str):
        return name
    try:
        return exp.DataType.build(name, dialect=dialect).sql(dialect="duckdb").lower()
    except Exception:  # not a type sqlglot knows: left as it is, and the export names it
        return name


@contextmanager
def reader(target: Target) -> Iterator[DltReader]:
    """A reader of ``target``, in one read-only snapshot where the engine has one."""
    con = DltConnection(target, read_only=True)
    try:
        with con.snapshot():
            yield DltReader(con)
    finally:
        con.close()
