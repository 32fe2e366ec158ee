"""Contract: every built mart table has exactly the columns and types of its class in schemas/marts.py,
only Tableau-ready types, and a unique, never-NULL grain."""

from __future__ import annotations

from schemas.core import SQL_TYPE_NAMES
from schemas.marts import MART_TABLES
from transforms.graph import load_models
from transforms.runner import MODELS_DIR, build
from warehouse.sql import connection
from warehouse.target import parse_target

from .conftest import columns
from .test_core_contract import expected_columns
from .test_core_models import AGENTS, seed_raw
from .test_marts_kpis import ORG, SETTINGS

TABLEAU_TYPES = {kind: {names[kind] for names in SQL_TYPE_NAMES.values()} for kind in ("duckdb", "postgres")}


def test_every_mart_model_has_a_class_and_every_column_a_description() -> None:
    models = {m.name for m in load_models(MODELS_DIR) if m.schema == "marts"}
    classes = {str(cls.__tablename__): cls for cls in MART_TABLES}
    assert models == set(classes)
    for cls in MART_TABLES:
        assert cls.__doc__, cls.__name__
        for name, field in cls.model_fields.items():
            assert field.description, f"{cls.__name__}.{name} has no description"


def test_built_mart_tables_match_their_classes(warehouse_url: str) -> None:
    seed_raw(warehouse_url, {**ORG, "zendesk.users": AGENTS["zendesk.users"]})
    build(parse_target(warehouse_url), settings=SETTINGS)

    with connection(parse_target(warehouse_url)) as con:
        for cls in MART_TABLES:
            table = str(cls.__tablename__)
            got = columns(con, "marts", table)
            assert got == expected_columns(cls, con.kind), table
            assert set(got.values()) <= TABLEAU_TYPES[con.kind], table
            grain = ", ".join(cls.__grain__)  # type: ignore[attr-defined]
            nulls = " or ".join(f"{c} is null" for c in cls.__grain__)  # type: ignore[attr-defined]
            total, distinct = con.query(f"select count(*), count(distinct ({grain})) from marts.{table}")[0]
            assert total > 0, table
            assert total == distinct, table
            assert con.query(f"select count(*) from marts.{table} where {nulls}")[0][0] == 0, table
