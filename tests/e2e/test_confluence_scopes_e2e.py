"""A scoped API token without ``read:label:confluence``, end to end (issue 10).

Atlassian's v2 OpenAPI document gives ``GET /wiki/api/v2/labels`` the scope
``read:label:confluence`` and every page, blog post and content's own labels ``read:page:confluence``;
a token without the first is refused the label catalogue (401 "scope does not match") and nothing
else. The sync must still complete with every label exact, and say in the run log and the summary
which scope is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.confluence import ConfluenceSimulator
from tests.e2e.test_confluence_e2e import cf_env
from warehouse.progress import summary_table
from warehouse.runlog import TABLE
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import parse_target

SEED, PAGES, BLOGPOSTS = 17, 120, 10
Label = tuple[str, str, str]


@pytest.fixture
def scopeless(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConfluenceSimulator]:
    simulator = ConfluenceSimulator(SEED, PAGES, BLOGPOSTS, without_scopes=("read:label",))
    with simulator.serve() as base_url:
        for key, value in cf_env(simulator, base_url).items():
            monkeypatch.setenv(key, value)
        yield simulator


def truth(sim: ConfluenceSimulator) -> set[Label]:
    """(content type, content id, label name) of every page and blog post the site still has."""
    pages = {("page", r["page_id"], r["name"]) for r in sim.records("labels")}
    return pages | {("blogpost", r["blogpost_id"], r["name"]) for r in sim.records("blogpost_labels")}


def stored(url: str, sim: ConfluenceSimulator) -> set[Label]:
    """The labels of the warehouse, for the content the site still has (purged content keeps its last)."""
    alive = {r["id"] for kind in ("pages", "blogposts") for r in sim.records(kind)}
    with connection(parse_target(url)) as con:
        rows = con.query("select content_type, content_id, name from confluence.labels")
    return {(str(r[0]), str(r[1]), str(r[2])) for r in rows if r[1] in alive}


def warnings(url: str, run_id: str) -> dict[str, str | None]:
    with connection(parse_target(url)) as con:
        rows = con.query(f"select table_name, warning from {TABLE} where run_id = '{run_id}'")
    return {str(r[0]): r[1] for r in rows}


def test_a_token_without_read_label_syncs_exact_labels_and_says_so(
    scopeless: ConfluenceSimulator, warehouse_url: str, tmp_path: Path
) -> None:
    target = parse_target(warehouse_url)
    first = sync(target, ["confluence"])
    assert first.ok, [(t.table_name, t.error) for t in first.tables if t.error]
    assert scopeless.stats.scope_refused >= 1, "the label catalogue was asked for, and refused"
    want = truth(scopeless)
    assert {x[0] for x in want} == {"page", "blogpost"}
    assert stored(warehouse_url, scopeless) == want

    # the same site with every scope: the same labels
    full = ConfluenceSimulator(SEED, PAGES, BLOGPOSTS)
    full_url = f"duckdb:///{tmp_path / 'full.duckdb'}"
    with pytest.MonkeyPatch.context() as mp, full.serve() as base_url:
        for key, value in cf_env(full, base_url).items():
            mp.setenv(key, value)
        with_scope = sync(parse_target(full_url), ["confluence"])
    assert with_scope.ok
    assert full.stats.scope_refused == 0
    assert stored(full_url, full) == want
    assert not any(warnings(full_url, with_scope.run_id).values())

    # said once, in the run log and the summary, naming the scope
    logged = warnings(warehouse_url, first.run_id)
    assert "read:label:confluence" in (logged["labels"] or "")
    assert "read:label:confluence" in summary_table(first.tables)
    assert {t.status for t in first.tables} == {"success"}

    # labels added and removed without a new version are still found, one content at a time
    changes = scopeless.mutate(seed=4, relabels=6)
    assert changes.relabelled
    second = sync(target, ["confluence"])
    assert second.ok, [(t.table_name, t.error) for t in second.tables if t.error]
    assert stored(warehouse_url, scopeless) == truth(scopeless)
    assert "read:label:confluence" in (warnings(warehouse_url, second.run_id)["labels"] or "")


def statuses(url: str, run_id: str) -> dict[str, tuple[str, str | None]]:
    with connection(parse_target(url)) as con:
        rows = con.query(f"select table_name, status, error from {TABLE} where run_id = '{run_id}'")
    return {str(r[0]): (str(r[1]), r[2]) for r in rows}


def test_without_read_space_the_spaces_table_is_skipped_and_the_run_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb:///{tmp_path / 'cf.duckdb'}"
    simulator = ConfluenceSimulator(SEED, 20, 3, without_scopes=("read:space:confluence",))
    with simulator.serve() as base_url:
        for key, value in cf_env(simulator, base_url).items():
            monkeypatch.setenv(key, value)
        result = sync(parse_target(url), ["confluence"])
    assert result.ok
    got = statuses(url, result.run_id)
    assert got["spaces"][0] == "skipped"
    assert "scope does not match" in (got["spaces"][1] or "")
    assert {t: s for t, (s, _) in got.items() if t != "spaces"} == dict.fromkeys(got.keys() - {"spaces"}, "success")
    assert "read:space:confluence" in (warnings(url, result.run_id)["pages"] or "")


def test_a_contents_labels_refused_skip_only_the_labels_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path / 'cf.duckdb'}"
    simulator = ConfluenceSimulator(SEED, 20, 3)
    simulator.inject("/wiki/api/v2/pages/", [403])  # the first content's own labels (a trashed page)
    with simulator.serve() as base_url:
        for key, value in cf_env(simulator, base_url).items():
            monkeypatch.setenv(key, value)
        result = sync(parse_target(url), ["confluence"])
    assert result.ok
    got = statuses(url, result.run_id)
    assert got["labels"][0] == "skipped"
    assert "HTTP 403" in (got["labels"][1] or "")
    assert got["pages"] == ("success", None)
    assert got["blogposts"] == ("success", None)
