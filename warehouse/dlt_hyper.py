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
from pathlib import Path
from typing import Any, Protocol

from sqlglot import exp

from common.coltypes import COLUMN_TYPES
from warehouse.dlt_sql import DltConnection
from warehouse.sql import quote_ident
from warehouse.target import Target

NATIVE_TYPE_NAMES = ("duckdb", "postgres")
"""Dialects whose ``information_schema`` type names the Hyper type table already lists."""


ARROW_TYPES = {t.hyper: t.arrow for t in COLUMN_TYPES.values() if t.hyper is not None}
"""Hyper type → the Arrow type its Parquet column is written as."""


class _Column(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def hyper_type(self) -> str: ...


class _Table(Protocol):
    @property
    def schema(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def columns(self) -> Sequence[_Column]: ...


class DltReader:
    """:class:`warehouse.hyper._Reader` over a :class:`DltConnection`: catalog queries and Parquet dumps."""

    kind = "dlt"
    data_format = "parquet"
    suffix = ".parquet"

    def __init__(self, con: DltConnection) -> None:
        self._con = con

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = self._con.query(sql, params)
        if "data_type" not in sql or self._con.engine.dialect in NATIVE_TYPE_NAMES:
            return rows
        return [
            tuple(_duckdb_type(v, self._con.engine.dialect) if i == 2 else v for i, v in enumerate(r)) for r in rows
        ]

    def dump(self, table: _Table, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = ", ".join(quote_ident(c.name) for c in table.columns)
        data = self._con.read_arrow(f"select {cols} from {quote_ident(table.schema)}.{quote_ident(table.name)}")
        # Each column as its Hyper type reads it: a driver's cursor types a column from its values,
        # so one holding only NULLs has Arrow's null type, and NUMERIC comes as decimal.
        schema = pa.schema([(c.name, ARROW_TYPES[c.hyper_type]) for c in table.columns])
        pq.write_table(data.cast(schema), str(path))


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
