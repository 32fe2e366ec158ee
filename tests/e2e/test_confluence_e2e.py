"""End to end: the Confluence simulator → supportlake sync → DuckDB and PostgreSQL.

Full sync, then the simulator changes (edits, new pages, trashed, deleted, archived and purged
pages, relabels), then an incremental sync: the warehouse equals the simulator — every page and
blog post once at its latest version and status, ``is_deleted`` where gone, purged ones kept as
last seen and listed in ``deleted_content`` — and the incremental run reads what changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.confluence import ConfluenceSimulator
from tests.e2e.helpers import deletion_flags, kill_sync_midway, norm, sync_with_env
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import parse_target

ROOT = Path(__file__).resolve().parents[2]


def cf_env(sim: ConfluenceSimulator, base_url: str) -> dict[str, str]:
    return {
        "SOURCES__CONFLUENCE__BASE_URL": base_url,
        "SOURCES__CONFLUENCE__CREDENTIALS__EMAIL": sim.email,
        "SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN": sim.api_token,
    }


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConfluenceSimulator]:
    simulator = ConfluenceSimulator(seed=13, n_extra_pages=400, n_blogposts=20)
    with simulator.serve() as base_url:
        for key, value in cf_env(simulator, base_url).items():
            monkeypatch.setenv(key, value)
        yield simulator


def assert_equals_simulator(url: str, sim: ConfluenceSimulator) -> None:
    with connection(parse_target(url)) as con:
        exists = con.query(
            "select count(*) from information_schema.tables "
            "where table_schema = 'confluence' and table_name = 'deleted_content'"
        )[0][0]
        # dlt creates a table with its first rows: no purge yet, no table
        purged_rows = {r[0] for r in con.query("select id from confluence.deleted_content")} if exists else set()
        for kind in ("pages", "blogposts"):
            want = {r["id"]: (r["version"]["number"], r["status"]) for r in sim.records(kind)}
            rows = con.query(f"select id, version__number, status, is_deleted from confluence.{kind}")
            got = {r[0]: (r[1], r[2]) for r in rows}
            assert len(rows) == len(got), f"{kind}: duplicate ids"
            assert not set(want) - set(got), f"{kind}: missing {sorted(set(want) - set(got))[:3]}"
            extra = set(got) - set(want)
            purged = sim.purged(kind)
            assert extra <= purged, f"{kind}: unexpected ids {sorted(extra - purged)[:3]}"
            assert extra <= purged_rows, f"{kind}: purged ids not in deleted_content {sorted(extra - purged_rows)[:3]}"
            wrong = [i for i in want if want[i] != got[i]]
            assert not wrong, f"{kind}: {len(wrong)} differ, e.g. {wrong[0]}: {want[wrong[0]]} vs {got[wrong[0]]}"
            flags = {r[0]: r[3] for r in rows}
            for i, (_, status) in want.items():
                assert bool(flags[i]) == (status in ("trashed", "deleted")), f"{kind} {i}: is_deleted vs {status}"
        want_spaces = {r["id"] for r in sim.records("spaces")}
        got_spaces = {r[0] for r in con.query("select id from confluence.spaces")}
        assert want_spaces <= got_spaces
        want_labels = {(r["page_id"], r["name"]) for r in sim.records("labels")}
        got_labels = {
            (r[0], r[1])
            for r in con.query("select content_id, name from confluence.labels where content_type = 'page'")
        }
        live_pages = {r["id"] for r in sim.records("pages") if r["status"] == "current"}
        assert {x for x in want_labels if x[0] in live_pages} == {x for x in got_labels if x[0] in live_pages}


def assert_deletions_flagged(url: str, sim: ConfluenceSimulator) -> dict[str, int]:
    """``_sl_deleted``/``_sl_deleted_at`` of pages, blog posts and labels from the simulator:
    trashed and deleted content at its last version's time, purged content (kept as last seen) at
    the time the purge was detected, labels with their content. Returns deleted rows per table."""
    flags = deletion_flags(url, "confluence")
    with connection(parse_target(url)) as con:
        detected = (
            {
                (r[0], r[1]): norm(r[2])
                for r in con.query("select id, content_type, detected_at from confluence.deleted_content")
            }
            if "deleted_content" in flags
            else {}
        )
        # the last-seen rows (their statuses equal the simulator's: assert_equals_simulator)
        last_seen = {
            kind: {
                r[0]: (r[1], norm(r[2]))
                for r in con.query(f"select id, status, version__created_at from confluence.{kind}")
            }
            for kind in ("pages", "blogposts")
        }
    want: dict[tuple[str, str], tuple[bool, str | None]] = {}
    for kind, content_type in (("pages", "page"), ("blogposts", "blogpost")):
        purged = sim.purged(kind)
        for i, (status, version_at) in last_seen[kind].items():
            if status in ("trashed", "deleted"):  # trashed, maybe purged later: the first deletion
                want[(content_type, i)] = (True, version_at)
            elif i in purged:
                want[(content_type, i)] = (True, detected[(i, content_type)])
            else:
                want[(content_type, i)] = (False, None)
        assert {k[0]: v for k, v in flags[kind].items()} == {i: v for (t, i), v in want.items() if t == content_type}
    labels = {k: v for k, v in flags["labels"].items()}
    assert labels == {(c, t, label): want.get((t, c), (False, None)) for (c, t, label) in labels}
    for table in ("spaces", "deleted_content"):
        assert not any(d for d, _ in flags.get(table, {}).values()), table
    return {
        "content": sum(d for d, _ in want.values()),
        "purged": sum(1 for (t, i), v in want.items() if v[0] and i in sim.purged(f"{t}s")),
        "labels": sum(d for d, _ in labels.values()),
    }


def test_full_then_incremental_sync_equals_simulator(sim: ConfluenceSimulator, warehouse_url: str) -> None:
    target = parse_target(warehouse_url)
    first = sync(target, ["confluence"])
    assert first.ok, [(t.table_name, t.error) for t in first.tables if t.error]
    assert_equals_simulator(warehouse_url, sim)
    assert_deletions_flagged(warehouse_url, sim)

    sim.mutate(seed=4)
    requests_before = sum(sim.stats.requests.values())
    second = sync(target, ["confluence"])
    assert second.ok, [(t.table_name, t.error) for t in second.tables if t.error]
    assert_equals_simulator(warehouse_url, sim)
    deleted = assert_deletions_flagged(warehouse_url, sim)
    assert deleted["purged"], deleted
    assert deleted["labels"], deleted
    rows = {t.table_name: t.rows for t in second.tables if t.resource == "pages"}
    assert 0 < rows["pages"] < len(sim.records("pages")) / 2, "the incremental run re-reads what changed"
    assert sum(sim.stats.requests.values()) - requests_before < first.tables[0].requests + 200


@pytest.mark.slow
def test_sigkill_then_rerun_converges(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'cf.duckdb'}"
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=1500, latency_ms=10)
    with simulator.serve() as base_url:
        kill_sync_midway(
            url, cf_env(simulator, base_url), ["confluence"], lambda: sum(simulator.stats.requests.values()) >= 8
        )
        simulator.latency_ms = 0
        simulator.mutate(seed=6)
        result = sync_with_env(url, cf_env(simulator, base_url), ["confluence"])
        assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
        assert_equals_simulator(url, simulator)
        assert_deletions_flagged(url, simulator)
