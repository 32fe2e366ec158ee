"""The README's "Adding a source" walkthrough, proven: a fourth source from a test package
(``tests/toy_source/``) is registered without editing any other module, then checked, synced into
DuckDB by the ordinary :func:`warehouse.sync.sync` and built by the ordinary runner."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from connectors import registry
from tests.toy_source import SOURCE
from transforms.runner import build, raw_table_columns
from warehouse.check import check
from warehouse.cli import build_parser, main
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import parse_target, reserved_schemas

BASE = "https://widgets.example.test"
WIDGETS_1 = {
    "widgets": [{"id": 1, "name": "sprocket", "owner_id": 7}, {"id": 2, "name": "gear", "archived": True}],
    "next_page": f"{BASE}/api/widgets?page=2&per_page=2",
}
WIDGETS_2 = {"widgets": [{"id": 3, "name": "cog", "owner_id": 7}], "next_page": None}


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    registry.register(SOURCE)
    monkeypatch.setenv("SUPPORTLAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOURCES__TOY__BASE_URL", BASE)
    monkeypatch.setenv("SOURCES__TOY__API_TOKEN", "toy-secret-token")
    try:
        yield
    finally:
        registry.unregister("toy")


def _api(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{BASE}/api/widgets",
        json=WIDGETS_2,
        match=[responses.matchers.query_param_matcher({"page": "2", "per_page": "2"})],
    )
    rsps.get(f"{BASE}/api/widgets", json=WIDGETS_1)
    rsps.get(f"{BASE}/api/owners", status=403, json={"error": "Forbidden", "description": "missing scope owners:read"})


@pytest.mark.usefixtures("toy")
def test_a_registered_source_is_known_everywhere() -> None:
    assert "toy" in registry.names()
    assert registry.get("toy") is SOURCE
    assert "toy" in registry.configured()  # SOURCES__TOY__BASE_URL is set
    # the CLI offers it, the runner can stand in for its tables, DuckDB files may not be named after it
    assert build_parser().parse_args(["sync", "--source", "toy"]).source == ["toy"]
    assert raw_table_columns()["toy.widgets"] == {
        "id": "bigint",
        "name": "text",
        "archived": "bool",
        "owner_id": "bigint",
        "_sl_seq": "bigint",
        "_sl_deleted": "bool",
        "_sl_deleted_at": "timestamp",
    }
    assert "toy" in reserved_schemas()


def test_unregistered_the_toy_source_is_unknown() -> None:
    assert "toy" not in registry.names()
    assert "toy.widgets" not in raw_table_columns()


@pytest.mark.usefixtures("toy")
def test_the_toy_source_syncs_into_duckdb_with_its_run_log(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with responses.RequestsMock() as rsps:
        _api(rsps)
        result = sync(target, ["toy"])
    by_table = {t.table_name: t for t in result.tables}
    assert set(by_table) == {"widgets", "owners"}
    assert (by_table["widgets"].status, by_table["widgets"].rows, by_table["widgets"].requests) == ("success", 3, 2)
    assert by_table["owners"].status == "skipped"
    assert "403" in (by_table["owners"].error or "")
    assert result.ok
    with connection(target) as con:
        rows = con.query("select id, name, _sl_deleted from toy.widgets order by id")
        log = con.query(
            "select resource, table_name, status, rows, requests from supportlake.supportlake_runs "
            "where run_id = %s order by table_name",
            [result.run_id],
        )
    assert rows == [(1, "sprocket", False), (2, "gear", True), (3, "cog", False)]
    assert log == [("owners", "owners", "skipped", 0, 1), ("widgets", "widgets", "success", 3, 2)]

    # its own staging model (SourceSpec.models) is built with the shipped ones, from the real table
    built = build(target, select=["stg_toy__widgets"])
    assert [(r.model, r.rows, r.standins) for r in built] == [("staging.stg_toy__widgets", 2, ())]


@pytest.mark.usefixtures("toy")
def test_the_toy_source_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _api(rsps)
        results = check(["toy"])
    assert [(r.name, r.verdict, r.primary) for r in results] == [
        ("widgets", "ok", True),
        ("owners", "missing scope or permission", False),
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _api(rsps)
        assert main(["check", "--source", "toy"]) == 0
    assert "toy-secret-token" not in capsys.readouterr().out


def test_a_plug_in_adds_a_source_by_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    group = registry.ENTRY_POINT_GROUP
    plug_in = importlib.metadata.EntryPoint(name="toy", value="tests.toy_source:SOURCE", group=group)

    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        return [plug_in] if group == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    registry.refresh()
    try:
        assert registry.get("toy") is SOURCE
        assert registry.names()[:3] == ["zendesk", "salesforce", "confluence"]
    finally:
        monkeypatch.undo()
        registry.refresh()
    assert "toy" not in registry.names()
