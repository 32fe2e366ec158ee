"""``supportlake demo`` end to end, as the README's first command runs it: sync the three
simulators, build, write the extracts, print the KPI table."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

import warehouse.sync as warehouse_sync
from schemas.marts import MART_TABLES
from simulators import clock
from warehouse.cli import main
from warehouse.sql import connection
from warehouse.target import parse_target


def test_demo_ends_with_the_kpi_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPPORTLAKE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    extracts = tmp_path / "extracts"
    warehouse = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    code = main(["demo", "--warehouse", warehouse, "--tickets", "300", "--extracts", str(extracts)])
    out = capsys.readouterr().out
    assert code == 0, out
    # the demo runs ``supportlake check`` first: every endpoint of the three simulators readable
    checked = out[out.index("supportlake check:") : out.index("demo run ")]
    for source, primary in (("zendesk", "tickets"), ("salesforce", "Case"), ("confluence", "pages")):
        assert re.search(rf"^{source}\s+{primary}\s+primary\s+ok", checked, re.MULTILINE), checked
    assert not re.search(r"refused|unreachable|not found|failed|not checked", checked), checked
    table = out[out.index("KPIs for ") :]
    for caption in ("First contact resolution", "SLA compliance", "Net Promoter Score", "Time to value"):
        assert caption in table
    # the demo loads sample NPS answers and support cost (written beside the DuckDB file) with load-input
    assert {p.name for p in (tmp_path / "supportlake_demo_inputs").iterdir()} == {"nps.csv", "support_cost.csv"}
    nps = next(line for line in table.splitlines() if line.startswith("Net Promoter Score"))
    assert "no data" not in nps
    assert "KPIs with a target meet it" in table.splitlines()[-1]
    if importlib.util.find_spec("tableauhyperapi"):
        assert sorted(p.stem for p in extracts.glob("*.hyper")) == sorted(str(c.__tablename__) for c in MART_TABLES)
    else:
        assert "Tableau extracts skipped" in out


_REAL_DATETIME = dt.datetime
_OURS = ("connectors", "schemas", "transforms", "warehouse")


class _AnyDatetime(type):
    """``isinstance(value, datetime)`` stays true for real datetimes where the class is faked."""

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _REAL_DATETIME)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _REAL_DATETIME)


def _import_all() -> None:
    """Every module of ours, so that the fake reaches each one that reads the clock."""
    for package in _OURS:
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def _reads_the_date(module: types.ModuleType) -> bool:
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return False
    return re.search(r"datetime\.(now|utcnow|today)\(", source) is not None


def _fake_wall_clock(monkeypatch: pytest.MonkeyPatch, at: dt.datetime) -> None:
    """The machine's date moved to ``at``: ``time.time``/``time_ns`` everywhere, and
    ``datetime.now``/``utcnow``/``today`` in each of our modules that reads them (through its
    ``dt`` or its imported ``datetime``). The datetime module itself stays as it is (dlt, pickle
    and type annotations need the real class)."""
    offset = at.timestamp() - time.time()
    real_time, real_time_ns = time.time, time.time_ns
    monkeypatch.setattr(time, "time", lambda: real_time() + offset)
    monkeypatch.setattr(time, "time_ns", lambda: real_time_ns() + int(offset * 1e9))

    class FakeDatetime(_REAL_DATETIME, metaclass=_AnyDatetime):
        def __new__(cls, *args: Any, **kwargs: Any) -> dt.datetime:  # type: ignore[misc]
            return _REAL_DATETIME(*args, **kwargs)  # fromisoformat, strptime, ...: real datetimes

        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return _REAL_DATETIME.fromtimestamp(time.time(), tz)

        @classmethod
        def utcnow(cls) -> dt.datetime:  # type: ignore[override]
            return _REAL_DATETIME.fromtimestamp(time.time(), dt.UTC).replace(tzinfo=None)

        @classmethod
        def today(cls) -> dt.datetime:  # type: ignore[override]
            return _REAL_DATETIME.fromtimestamp(time.time())

        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
            return handler.generate_schema(_REAL_DATETIME)

    shim = types.ModuleType("datetime")
    shim.__dict__.update(vars(dt))
    shim.datetime = FakeDatetime  # type: ignore[attr-defined]
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _OURS or not _reads_the_date(module):
            continue  # elsewhere (annotations, type maps) datetime stays the real class
        for attr, value in list(vars(module).items()):
            if value is dt:
                monkeypatch.setattr(module, attr, shim)
            elif value is _REAL_DATETIME:
                monkeypatch.setattr(module, attr, FakeDatetime)


def test_demo_prints_the_same_kpi_table_on_any_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's sync, build and report run with the machine's date faked to two days a year and a
    half apart: the simulators' one timeline makes the KPI tables identical, every month of it holds
    Zendesk tickets, Salesforce cases and links to Confluence pages, and the month shown holds both
    ticketing systems with each one's share of its tickets."""
    _import_all()
    tables = []
    for day in (dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC), dt.datetime(2027, 7, 2, 23, 5, tzinfo=dt.UTC)):
        run = tmp_path / day.strftime("%Y%m%d")
        run.mkdir()
        warehouse = f"duckdb:///{run / 'demo.duckdb'}"
        with monkeypatch.context() as m:
            m.setenv("SUPPORTLAKE_HOME", str(run / "home"))
            m.chdir(run)
            _fake_wall_clock(m, day)
            assert abs(warehouse_sync.dt.datetime.now(dt.UTC) - day) < dt.timedelta(minutes=5)
            code = main(["demo", "--warehouse", warehouse, "--tickets", "600", "--seed", "3", "--extracts", ""])
        captured = capsys.readouterr()
        out = captured.out
        assert code == 0, out + captured.err
        with connection(parse_target(warehouse)) as con:
            started = con.query("select min(started_at) from supportlake.supportlake_runs")[0][0]
            months = {
                kind: {r[0] for r in con.query(f"select distinct date_trunc('month', {column})::DATE from {table}")}
                for kind, column, table in (
                    ("zendesk", "created_at", "marts.fct_tickets where source_system = 'zendesk'"),
                    ("salesforce", "created_at", "marts.fct_tickets where source_system = 'salesforce'"),
                    (
                        "confluence links",
                        "linked_at",
                        "marts.fct_article_usage where article_source_system = 'confluence'",
                    ),
                )
            }
        for kind, seen in months.items():
            assert seen == set(clock.months()), f"{kind}: {sorted(seen ^ set(clock.months()))}"
        assert abs(started - day) < dt.timedelta(minutes=5), "the faked clock reached the sync"
        tables.append(out[out.index("KPIs for ") :])
    assert tables[0] == tables[1]
    shares = re.findall(r"^  (Zendesk|Salesforce) +(\d+)% \(([\d,]+) (tickets|cases)\)$", tables[0], re.M)
    assert [s[0] for s in sorted(shares)] == ["Salesforce", "Zendesk"], tables[0]
    assert all(int(count.replace(",", "")) > 0 for _, _, count, _ in shares)
    assert 99 <= sum(int(pct) for _, pct, _, _ in shares) <= 101


def test_the_readme_shows_the_kpi_table_the_demo_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's first command is ``supportlake demo`` with its defaults; the KPI table the
    README shows is the one that command prints (the simulators' fixed timeline makes it the same
    on every machine and day), so the README cannot drift from the code."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(KPIs for .*?)\n```", readme, re.S)
    assert shown, "README.md shows the demo's KPI table in a ```text block starting 'KPIs for'"
    monkeypatch.setenv("SUPPORTLAKE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--extracts", ""])
    out = capsys.readouterr().out
    assert code == 0, out
    printed = out[out.index("KPIs for ") :].rstrip("\n")
    assert printed == shown.group(1), "update README.md's demo table with what `supportlake demo` prints"
