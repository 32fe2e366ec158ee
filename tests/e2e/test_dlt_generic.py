"""The generic dlt path (``Target.kind == "dlt"``: dlt's own sql_client, the runner's SQL transpiled,
the lease as lock) executed for real, on dlt's ``postgres`` and ``duckdb`` destinations spelled
``dlt+postgresql://…`` and ``dlt+duckdb:///…``:

- ``supportlake demo`` through it (PostgreSQL): the three simulators synced, the sample inputs loaded
  (``load-input``), every model built, the KPI table printed and the Tableau extracts written;
  then the same warehouse built again by supportlake's native DuckDB/PostgreSQL path, and every
  mart compared row by row with the generic build's, the KPI reports too;
- export-hyper's test of every type, NULLs and extreme values, and load-input's upsert test,
  through the generic path (both engines);
- the lock: a run holding the lease (a second process, heartbeating past the lease's length) makes
  ``supportlake build`` on the generic path exit 75 naming the holder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from schemas.marts import MART_TABLES
from tests.e2e import test_export_hyper, test_load_input
from tests.e2e.test_export_hyper import _read_back, hyper_endpoint  # noqa: F401 - a fixture
from tests.e2e.test_lease_lock import ROOT, beating_holder
from transforms.runner import build
from warehouse.demo import run_demo
from warehouse.dlt_sql import DltConnection
from warehouse.lease import read_lease
from warehouse.report import kpi_report, pick_month
from warehouse.sql import connection
from warehouse.target import parse_target

pytestmark = pytest.mark.slow


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(the generic path's URL, the native path's URL) of one warehouse."""
    if request.param == "duckdb":
        path = tmp_path / "wh.duckdb"
        return f"dlt+duckdb:///{path}", f"duckdb:///{path}"
    pg = str(request.getfixturevalue("pg_url"))
    return f"dlt+{pg}", pg


def _value(v: Any) -> Any:
    """Doubles to 9 significant digits: DuckDB sums in parallel, so two builds of the same rows may
    differ in the last bit (139.4 and 139.39999999999998), whichever path runs them."""
    return float(f"{v:.9g}") if isinstance(v, float) else v


def _marts(url: str) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with connection(parse_target(url)) as con:
        for table in sorted(str(t.__tablename__) for t in MART_TABLES):
            rows = [tuple(_value(v) for v in row) for row in con.query(f'select * from marts."{table}"')]
            out[table] = sorted(rows, key=repr)
    return out


@pytest.mark.postgres
def test_demo_through_the_generic_path_builds_what_the_native_path_builds(
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    hyper_endpoint: Any,  # noqa: F811 - the fixture imported above
) -> None:
    # PostgreSQL only: on dlt's duckdb the same run takes ~15 s more of CI; the generic path's
    # DuckDB specifics (its Arrow reads, the file lock of loads) are covered by the type test below.
    generic, native = f"dlt+{pg_url}", pg_url
    monkeypatch.chdir(tmp_path)  # the demo's sample input files
    target = parse_target(generic)
    assert target.kind == "dlt"
    with connection(target) as con:
        assert isinstance(con, DltConnection)
    extracts = tmp_path / "extracts"

    assert run_demo(generic, tickets=60, seed=7, extracts=str(extracts)) == 0, capsys.readouterr().err[-3000:]
    out = capsys.readouterr().out
    assert "KPIs for " in out
    assert f"wrote {len(MART_TABLES)} Tableau extracts" in out
    built = _marts(generic)
    assert built["fct_tickets"]
    assert built["agg_kpi_monthly"]
    with connection(target) as con:
        month = pick_month(con)
        assert con.query("select count(*) from inputs.input_nps_responses")[0][0] > 0  # load-input wrote them
        assert con.query("select count(*) from supportlake.supportlake_runs where status = 'success'")[0][0] > 0
    report = kpi_report(target, month)
    _, _, extract_rows = _read_back(hyper_endpoint, extracts / "agg_kpi_monthly.hyper")
    assert len(extract_rows) == len(built["agg_kpi_monthly"])
    assert read_lease(target) is None  # the lease was taken and let go

    build(parse_target(native))  # the same raw data, built by the native path
    rebuilt = _marts(native)
    for table, rows in built.items():
        assert rows == rebuilt[table], table
    assert kpi_report(parse_target(native), month).replace(native, generic) == report.replace(native, generic)


def test_every_hyper_type_round_trips_through_the_generic_path(
    urls: tuple[str, str],
    tmp_path: Path,
    hyper_endpoint: Any,  # noqa: F811 - the fixture imported above
    capsys: pytest.CaptureFixture[str],
) -> None:
    """export-hyper's own type test (NULLs, extremes, NaN, infinities, quotes) with every value
    written and read through the generic path: the tables are created and filled through it too."""
    test_export_hyper.test_every_type_round_trips(urls[0], tmp_path, hyper_endpoint, capsys)


def test_load_input_upserts_through_the_generic_path(
    urls: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """load-input's upsert test (a changed row replaced by key, the others kept) through it."""
    test_load_input.test_upsert_changes_a_row_and_keeps_the_others(urls[0], tmp_path, capsys)


@pytest.mark.postgres
def test_a_second_run_is_refused_while_the_generic_path_lease_beats(pg_url: str) -> None:
    url = f"dlt+{pg_url}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SUPPORTLAKE_LOCK", None)  # the generic path takes the lease by itself
    with beating_holder(url, 2, env):
        pass  # refused (75) while the holder's lease beats, and extended by its heartbeat
