"""The real marts as Tableau extracts, read back with the Hyper API: the same tables, the same row
counts and the same column types as in the warehouse (DuckDB and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from schemas.marts import MART_TABLES
from transforms.runner import build
from warehouse.hyper import export_hyper
from warehouse.sql import connection
from warehouse.target import parse_target

from ..e2e.test_export_hyper import _hyperapi, hyper_endpoint  # noqa: F401  (fixture)
from .conftest import columns
from .test_core_models import AGENTS, seed_raw
from .test_marts_kpis import ORG, SETTINGS

HYPER_TYPE = {
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp without time zone": "TIMESTAMP",
    "double": "DOUBLE",
    "double precision": "DOUBLE",
    "bigint": "BIG_INT",
    "boolean": "BOOL",
    "varchar": "TEXT",
    "text": "TEXT",
}


def test_marts_round_trip_through_hyper(warehouse_url: str, tmp_path: Path, hyper_endpoint: Any) -> None:  # noqa: F811
    hyper = _hyperapi()
    seed_raw(warehouse_url, {**ORG, "zendesk.users": AGENTS["zendesk.users"]})
    target = parse_target(warehouse_url)
    build(target, settings=SETTINGS)

    written = export_hyper(target, tmp_path / "extracts")

    names = sorted(str(cls.__tablename__) for cls in MART_TABLES)
    assert sorted(p.name for p in (tmp_path / "extracts").glob("*.hyper")) == [f"{n}.hyper" for n in names]
    assert len(written) == len(names)
    with connection(target) as con:
        for name in names:
            rows = con.query(f"select count(*) from marts.{name}")[0][0]
            assert rows > 0, name
            wanted = {c: HYPER_TYPE[t] for c, t in columns(con, "marts", name).items()}
            with hyper.Connection(hyper_endpoint, str(tmp_path / "extracts" / f"{name}.hyper")) as h:
                table = hyper.TableName("Extract", name)
                definition = h.catalog.get_table_definition(table)
                got = {c.name.unescaped: str(c.type).upper() for c in definition.columns}
                count = h.execute_scalar_query(f"select count(*) from {table}")
            assert got == wanted, name
            assert count == rows, name
