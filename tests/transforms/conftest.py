"""Helpers of the transforms tests: the fixture model folders and raw tables seeded by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from connectors import registry
from transforms.runner import SQL_TYPES, raw_table_columns
from warehouse import deletions
from warehouse.sql import Connection, connection
from warehouse.target import parse_target

FIXTURES = Path(__file__).parent / "fixtures"


def seed_raw(url: str, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Create raw tables with every declared column, typed, and insert ``rows``; then run the
    sync's load step of deletions, so ``_sl_deleted``/``_sl_deleted_at`` are what a sync would
    leave (a row says ``status = 'deleted'`` or ``is_deleted``, or is listed as purged, or belongs
    to a deleted parent). (A sync creates only the columns that ever held a value; the runner
    covers the others with NULLs.)"""
    with connection(parse_target(url)) as con:
        for table, rows in tables.items():
            columns = raw_table_columns()[table]
            schema = table.split(".", 1)[0]
            con.execute(f"create schema if not exists {schema}")
            ddl = ", ".join(f"{c} {SQL_TYPES[con.kind][k]}" for c, k in columns.items())
            con.execute(f"create table {table} ({ddl})")
            for row in rows:
                names = list(row)
                con.execute(
                    f"insert into {table} ({', '.join(names)}) values ({', '.join(['%s'] * len(names))})",
                    [row[n] for n in names],
                )
        for dataset in sorted({t.split(".", 1)[0] for t in tables} & set(registry.names())):
            deletions.apply(con, dataset)


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with connection(parse_target(url)) as con:
        return con.query(sql)


def columns(con: Connection, schema: str, table: str) -> dict[str, str]:
    rows = con.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        [schema, table],
    )
    return {name: str(kind).lower() for name, kind in rows}


def write_models(root: Path, files: Mapping[str, str]) -> Path:
    """A models folder made of ``{"core/x.sql": "select ..."}``."""
    for rel, sql in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    return root
