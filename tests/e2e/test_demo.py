"""``supportlake demo`` end to end, as the README's first command runs it: sync the three
simulators, build, write the extracts, print the KPI table."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from schemas.marts import MART_TABLES
from warehouse.cli import main


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
