"""The one column-type table: each kind of column the warehouse holds, and its name everywhere.

A column is declared once by its *kind* (``text``, ``bigint``, ``timestamp``, ...): payload models
(:func:`schemas.payload.column_types`), Salesforce ``describe``, the input tables. Every other
name of that column's type derives from :data:`COLUMN_TYPES`:

- the Arrow type the extraction builds (:func:`arrow_type`);
- the dlt ``data_type`` hint that creates the column while still all NULL (:func:`dlt_type`);
- the DDL of the stand-ins and input tables per engine (:func:`sql_types`);
- what ``information_schema.columns.data_type`` reports per engine (:func:`info_names`);
- the Tableau Hyper type an extract column becomes (:func:`hyper_types`).

Python annotations map to kinds in two ways: payload timestamps are instants (``timestamp``, with
time zone), while the modelled core/mart and input tables hold UTC wall-clock times without a zone
(``naive_timestamp``): :data:`PAYLOAD_KINDS` and :data:`TABLE_KINDS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")
"""Instants: microseconds in UTC (``TIMESTAMP WITH TIME ZONE`` in the warehouse)."""

ENGINES = ("duckdb", "postgres")

TRANSPILING_ENGINES = ("spark", "dlt")
"""Engines whose connection reads DuckDB's SQL and transpiles it (``warehouse/spark.py``, and
``warehouse/dlt_sql.py`` for other dlt destinations): their DDL is written with DuckDB's type names."""


@dataclass(frozen=True)
class ColumnType:
    """One kind of column and its name in each system."""

    kind: str
    arrow: pa.DataType
    dlt: str
    duckdb: str
    """DDL on DuckDB."""
    postgres: str
    """DDL on PostgreSQL."""
    info: tuple[str, str]
    """``information_schema.columns.data_type`` (lower case) on DuckDB and on PostgreSQL."""
    hyper: str | None = None
    """The ``tableauhyperapi.SqlType`` factory; ``None``: extracts do not take it."""
    aliases: tuple[str, ...] = ()
    """Other ``information_schema`` spellings of the same type (``character varying``; Spark's
    ``string``, ``int``, ``timestamp_ntz``, as :class:`warehouse.spark.SparkConnection` reports them)."""


COLUMN_TYPES: Mapping[str, ColumnType] = {
    t.kind: t
    for t in (
        ColumnType(
            kind="text",
            arrow=pa.string(),
            dlt="text",
            duckdb="VARCHAR",
            postgres="TEXT",
            info=("varchar", "text"),
            hyper="text",
            aliases=("character varying", "string"),
        ),
        ColumnType(
            kind="bigint",
            arrow=pa.int64(),
            dlt="bigint",
            duckdb="BIGINT",
            postgres="BIGINT",
            info=("bigint", "bigint"),
            hyper="big_int",
        ),
        ColumnType(
            kind="integer",
            arrow=pa.int32(),
            dlt="bigint",
            duckdb="INTEGER",
            postgres="INTEGER",
            info=("integer", "integer"),
            hyper="int",
            aliases=("int",),
        ),
        ColumnType(
            kind="double",
            arrow=pa.float64(),
            dlt="double",
            duckdb="DOUBLE",
            postgres="DOUBLE PRECISION",
            info=("double", "double precision"),
            hyper="double",
        ),
        ColumnType(
            kind="bool",
            arrow=pa.bool_(),
            dlt="bool",
            duckdb="BOOLEAN",
            postgres="BOOLEAN",
            info=("boolean", "boolean"),
            hyper="bool",
        ),
        # Instants loaded from the APIs. Extracts take wall-clock times only (the marts cast).
        ColumnType(
            kind="timestamp",
            arrow=TIMESTAMP,
            dlt="timestamp",
            duckdb="TIMESTAMP WITH TIME ZONE",
            postgres="TIMESTAMP WITH TIME ZONE",
            info=("timestamp with time zone", "timestamp with time zone"),
        ),
        # Lists and objects deeper than the flattening goes: JSON text (connectors/arrow.py).
        ColumnType(
            kind="json",
            arrow=pa.string(),
            dlt="text",
            duckdb="VARCHAR",
            postgres="TEXT",
            info=("varchar", "text"),
        ),
        ColumnType(
            kind="date",
            arrow=pa.date32(),
            dlt="date",
            duckdb="DATE",
            postgres="DATE",
            info=("date", "date"),
            hyper="date",
        ),
        ColumnType(
            kind="naive_timestamp",
            arrow=pa.timestamp("us"),
            dlt="timestamp",
            duckdb="TIMESTAMP",
            postgres="TIMESTAMP WITHOUT TIME ZONE",
            info=("timestamp", "timestamp without time zone"),
            hyper="timestamp",
            aliases=("timestamp_ntz",),
        ),
    )
}

PAYLOAD_KINDS: Mapping[type, str] = {
    int: "bigint",
    float: "double",
    bool: "bool",
    str: "text",
    dt.datetime: "timestamp",
}
"""Python annotation of a payload model field → kind (instants keep their zone)."""

TABLE_KINDS: Mapping[type, str] = {
    str: "text",
    int: "bigint",
    float: "double",
    bool: "bool",
    dt.datetime: "naive_timestamp",
    dt.date: "date",
}
"""Python annotation of a modelled (core, marts) or input table column → kind."""


def arrow_type(kind: str) -> pa.DataType:
    return COLUMN_TYPES[kind].arrow


def dlt_type(kind: str) -> str:
    return COLUMN_TYPES[kind].dlt


def sql_types(engine: str) -> dict[str, str]:
    """Kind → DDL type on ``engine`` (``duckdb`` or ``postgres``; DuckDB's for ``spark``)."""
    if engine in TRANSPILING_ENGINES:
        engine = "duckdb"
    if engine not in ENGINES:
        raise KeyError(engine)
    return {k: getattr(t, engine) for k, t in COLUMN_TYPES.items()}


def info_names(engine: str) -> dict[str, str]:
    """Kind → ``information_schema.columns.data_type`` on ``engine``."""
    i = ENGINES.index(engine)
    return {k: t.info[i] for k, t in COLUMN_TYPES.items()}


def hyper_types() -> dict[str, str]:
    """``information_schema.columns.data_type`` (either engine's spelling) → Hyper type, for the
    kinds extracts take."""
    out: dict[str, str] = {}
    for t in COLUMN_TYPES.values():
        if t.hyper is not None:
            for name in (*t.info, *t.aliases):
                out[name] = t.hyper
    return out
