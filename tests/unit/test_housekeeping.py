"""dlt's working folder does not grow with every run: loaded packages are pruned after each
successful load, pending ones are kept for the next run to complete."""

from __future__ import annotations

from pathlib import Path

import dlt
import pyarrow as pa
import pytest

from simulators.zendesk import ZendeskSimulator
from warehouse.housekeeping import prune_loaded_packages
from warehouse.sync import sync
from warehouse.target import parse_target, pipelines_dir


@dlt.resource(name="items", primary_key="id", write_disposition="merge")
def items() -> object:
    yield pa.table({"id": [1, 2, 3], "v": ["a", "b", "c"]})


def _packages(folder: Path, state: str) -> list[Path]:
    return [p for p in folder.glob(f"*/load/{state}/*") if p.is_dir()]


def test_prune_removes_loaded_packages_and_keeps_pending_ones(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    pipeline = dlt.pipeline(
        "prune_test", pipelines_dir=str(tmp_path / "pl"), destination=target.destination(), dataset_name="raw"
    )
    pipeline.run(items())
    pipeline.run(items())
    pipeline.extract(items())  # pending: not loaded yet
    assert len(pipeline._get_load_storage().loaded_packages.list_packages()) == 2

    assert prune_loaded_packages(pipeline) == 2

    assert pipeline._get_load_storage().loaded_packages.list_packages() == []
    assert pipeline.list_extracted_load_packages(), "a pending package is the next run's to complete"
    assert prune_loaded_packages(pipeline) == 0


def test_a_sync_leaves_no_loaded_package_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    simulator = ZendeskSimulator(seed=2, n_tickets=200, export_rpm=1_000_000)
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with simulator.serve() as url:
        monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", url)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", simulator.email)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", simulator.api_token)
        monkeypatch.setenv("SOURCES__ZENDESK__EXPORT_RATE_LIMIT", "1000000")
        results = [sync(target, ["zendesk"], ["tickets"]) for _ in range(2)]
    assert all(r.ok for r in results), [(t.table_name, t.error) for r in results for t in r.tables]
    assert _packages(pipelines_dir(target), "loaded") == []
    first = [t.rows for t in results[0].tables if t.table_name == "tickets"]
    assert first == [200], "the counts a run reports come from its trace, not from the pruned packages"
