"""``supportlake export-hyper``: the mart tables as Tableau extracts, read back with the Hyper API.

Every Tableau-ready type, a NULL in every column, an empty table, unicode, microseconds, the
extremes of BIGINT and negative doubles, on DuckDB and on PostgreSQL; then the refusals (no extra,
no schema, a type extracts do not take) and the clean-up after a failure.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from warehouse.cli import main
from warehouse.hyper import INSTALL_HINT
from warehouse.sql import connection
from warehouse.target import parse_target


def _hyperapi() -> Any:
    try:
        import tableauhyperapi
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true requires tableauhyperapi (nox installs supportlake[tableau])")
        pytest.skip("tableauhyperapi is not installed (pip install 'supportlake[tableau]')")
    return tableauhyperapi


@pytest.fixture(scope="module")
def hyper_endpoint() -> Iterator[Any]:
    """One Hyper process for reading every extract of this module back."""
    hyper = _hyperapi()
    with hyper.HyperProcess(
        hyper.Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_config": ""}
    ) as process:
        yield process.endpoint


# column, declared type (valid on both engines), the Hyper type it must become
EVERYTHING = [
    ("id", "bigint", "big_int"),
    ("n", "integer", "int"),
    ("d", "double precision", "double"),
    ("b", "boolean", "bool"),
    ("day", "date", "date"),
    ("ts", "timestamp", "timestamp"),
    ("s", "varchar", "text"),
    ("t", "text", "text"),
]
EVERYTHING_ROWS: list[tuple[Any, ...]] = [
    (1, 7, 1.5, True, dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 23, 59, 59, 999999), "a", "plain"),
    (2, None, None, None, None, None, None, None),  # a NULL in every column but the key
    (9223372036854775807, 2147483647, -1.25e300, False, dt.date(1, 1, 1), dt.datetime(1970, 1, 1, 0, 0, 0, 1), "", " "),
    (-9223372036854775808, -2147483648, -0.1, True, dt.date(9999, 12, 31), dt.datetime(1900, 1, 1), "NULL", "\\N"),
    (5, 0, 1 / 3, False, dt.date(2000, 1, 1), dt.datetime(2099, 12, 31, 12, 0, 0, 123456), 'ü "q", x\ny', "😀,\t;\r\n"),
    (6, -1, float("-inf"), None, None, dt.datetime(2024, 1, 1, 0, 0, 0, 500000), "日本語", None),
    (7, 1, float("nan"), True, dt.date(1970, 1, 1), None, None, ""),
    (8, None, 5e-324, None, None, None, "'; drop table x; --", None),
]
KPI = [("month", "date", "date"), ("numerator", "bigint", "big_int"), ("denominator", "bigint", "big_int")]
KPI_ROWS: list[tuple[Any, ...]] = [(dt.date(2024, m, 1), m * 3, m * 4) for m in range(1, 13)]
EMPTY = [("id", "bigint", "big_int"), ("name", "text", "text"), ("at", "timestamp", "timestamp")]
TABLES = {"everything": (EVERYTHING, EVERYTHING_ROWS), "agg_kpi_monthly": (KPI, KPI_ROWS), "empty": (EMPTY, [])}


def _create(url: str, schema: str, tables: dict[str, tuple[list[tuple[str, str, str]], list[tuple[Any, ...]]]]) -> None:
    with connection(parse_target(url)) as con:
        con.execute(f"create schema if not exists {schema}")
        for name, (cols, rows) in tables.items():
            columns = ", ".join(f'"{c}" {t}' for c, t, _ in cols)
            con.execute(f"create table {schema}.{name} ({columns})")
            marks = ", ".join(["%s"] * len(cols))
            for row in rows:
                con.execute(f"insert into {schema}.{name} values ({marks})", row)


def _norm(value: Any) -> Any:
    """Hyper's Date/Timestamp as Python's; NaN comparable."""
    if hasattr(value, "to_datetime"):
        return value.to_datetime()
    if hasattr(value, "to_date"):
        return value.to_date()
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def _read_back(endpoint: Any, path: Path) -> tuple[str, list[tuple[str, Any, bool]], list[tuple[Any, ...]]]:
    hyper = _hyperapi()
    with hyper.Connection(endpoint, str(path)) as con:
        names = con.catalog.get_table_names(hyper.SchemaName("Extract"))
        assert len(names) == 1, names
        definition = con.catalog.get_table_definition(names[0])
        cols = [(c.name.unescaped, c.type, c.nullability == hyper.NULLABLE) for c in definition.columns]
        rows = con.execute_list_query(f"select * from {names[0]} order by 1")
    return names[0].name.unescaped, cols, [tuple(_norm(v) for v in r) for r in rows]


def _export(url: str, out: Path, *extra: str) -> int:
    return main(["export-hyper", "--out", str(out), "--warehouse", url, *extra])


def test_every_type_round_trips(
    warehouse_url: str, tmp_path: Path, hyper_endpoint: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    hyper = _hyperapi()
    _create(warehouse_url, "marts", TABLES)
    _create(warehouse_url, "core", {"not_a_mart": (KPI, KPI_ROWS[:1])})
    out = tmp_path / "extracts"

    assert _export(warehouse_url, out) == 0

    printed = capsys.readouterr().out
    assert "marts.everything" in printed
    assert "3 extract(s)" in printed
    assert sorted(os.listdir(out)) == sorted(f"{n}.hyper" for n in TABLES)  # no temporary file left
    with connection(parse_target(warehouse_url)) as con:
        for name, (cols, rows) in TABLES.items():
            table, got_cols, got_rows = _read_back(hyper_endpoint, out / f"{name}.hyper")
            assert table == name
            assert got_cols == [(c, getattr(hyper.SqlType, kind)(), True) for c, _, kind in cols]
            expected = sorted((tuple(_norm(v) for v in r) for r in rows), key=lambda r: r[0])
            assert got_rows == expected, name
            # and the warehouse agrees with what we inserted (the comparison is not vacuous)
            in_warehouse = con.query(f"select * from marts.{name} order by 1")
            assert [tuple(_norm(v) for v in r) for r in in_warehouse] == expected


def test_second_export_replaces_files(tmp_path: Path, hyper_endpoint: Any) -> None:
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    _create(url, "marts", {"agg_kpi_monthly": (KPI, KPI_ROWS)})
    out = tmp_path / "extracts"
    assert _export(url, out) == 0
    with connection(parse_target(url)) as con:
        con.execute("delete from marts.agg_kpi_monthly where numerator > 6")
    assert _export(url, out) == 0
    assert _read_back(hyper_endpoint, out / "agg_kpi_monthly.hyper")[2] == KPI_ROWS[:2]
    assert os.listdir(out) == ["agg_kpi_monthly.hyper"]


def test_other_schema(tmp_path: Path, hyper_endpoint: Any) -> None:
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    _create(url, "core", {"tickets": (EMPTY, [(1, "x", dt.datetime(2024, 5, 6, 7, 8, 9, 10))])})
    assert _export(url, tmp_path / "out", "--schema", "core") == 0
    name, _, rows = _read_back(hyper_endpoint, tmp_path / "out" / "tickets.hyper")
    assert (name, rows) == ("tickets", [(1, "x", dt.datetime(2024, 5, 6, 7, 8, 9, 10))])


def test_missing_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "tableauhyperapi", None)  # import raises ImportError
    db = tmp_path / "wh.duckdb"
    assert _export(f"duckdb:///{db}", tmp_path / "out") == 2
    assert INSTALL_HINT in capsys.readouterr().err
    assert INSTALL_HINT == "Tableau extracts need Tableau's Hyper API: pip install 'supportlake[tableau]'"
    assert not db.exists()
    assert not (tmp_path / "out").exists()


def test_unsupported_type_names_table_and_column(
    warehouse_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _hyperapi()
    _create(warehouse_url, "marts", {"fine": (KPI, KPI_ROWS[:1])})
    _create(
        warehouse_url,
        "marts",
        {"money": ([("id", "bigint", ""), ("amount", "decimal(12,2)", ""), ("at", "timestamptz", "")], [])},
    )
    out = tmp_path / "out"
    assert _export(warehouse_url, out) == 2
    err = capsys.readouterr().err
    assert "marts.money.amount" in err
    assert "marts.money.at" in err
    assert "marts.money.id" not in err
    assert "fine" not in err
    assert not out.exists()  # refused before writing anything


def test_no_schema_and_empty_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _hyperapi()
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    _create(url, "core", {"x": (KPI, [])})
    assert _export(url, tmp_path / "out") == 2
    assert "no schema 'marts'" in capsys.readouterr().err
    _create(url, "marts", {})
    assert _export(url, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "schema 'marts'" in err
    assert "has no tables" in err
    missing = tmp_path / "nowhere.duckdb"
    assert _export(f"duckdb:///{missing}", tmp_path / "out") == 2
    assert "no DuckDB warehouse" in capsys.readouterr().err
    assert not missing.exists()


def test_failure_leaves_previous_extract_and_no_temporary_files(
    tmp_path: Path, hyper_endpoint: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import warehouse.hyper

    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    _create(url, "marts", {"agg_kpi_monthly": (KPI, KPI_ROWS)})
    out = tmp_path / "out"
    assert _export(url, out) == 0
    before = (out / "agg_kpi_monthly.hyper").read_bytes()
    with connection(parse_target(url)) as con:
        con.execute("delete from marts.agg_kpi_monthly")
    monkeypatch.setattr(warehouse.hyper, "_copy_options", lambda fmt: "FORMAT nonsense")  # Hyper's COPY fails

    assert _export(url, out) == 1

    assert "marts.agg_kpi_monthly" in capsys.readouterr().err
    assert os.listdir(out) == ["agg_kpi_monthly.hyper"]  # no .tmp extract, no Parquet, no work folder
    assert (out / "agg_kpi_monthly.hyper").read_bytes() == before
    assert _read_back(hyper_endpoint, out / "agg_kpi_monthly.hyper")[2] == KPI_ROWS
