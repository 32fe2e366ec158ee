"""End to end: the Salesforce simulator → supportlake sync → DuckDB and PostgreSQL.

Full sync (through Bulk 2.0), then the simulator changes (updates, inserts, soft and hard
deletions, equal SystemModstamps), then an incremental sync (through REST): every object's
table equals the simulator's data — every Id once, at its latest SystemModstamp, soft deletes
flagged, purged rows recorded in ``deleted_records``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.salesforce.context import DEFAULT_API_VERSION as API_VERSION
from connectors.salesforce.objects import OBJECTS
from simulators.salesforce import SalesforceSimulator
from tests.e2e.helpers import deletion_flags, kill_sync_midway, norm, sync_with_env
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import parse_target

ROOT = Path(__file__).resolve().parents[2]
N_CASES = 1500


def sf_env(sim: SalesforceSimulator, base_url: str) -> dict[str, str]:
    return {
        "SOURCES__SALESFORCE__BASE_URL": base_url,
        "SOURCES__SALESFORCE__CREDENTIALS__CLIENT_ID": sim.client_id,
        "SOURCES__SALESFORCE__CREDENTIALS__CLIENT_SECRET": sim.client_secret,
        "SOURCES__SALESFORCE__CREDENTIALS__USERNAME": sim.username,
        "SOURCES__SALESFORCE__CREDENTIALS__PASSWORD": sim.password,
        "SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN": sim.security_token,
        # full syncs of the larger objects go through Bulk, small deltas through REST
        "SOURCES__SALESFORCE__BULK_THRESHOLD": "500",
        "SOURCES__SALESFORCE__BULK_POLL_SECONDS": "0.05",
    }


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSimulator]:
    # The simulators' shared clock (2025-06-30), long before this machine's: the connector must
    # take its windows from the server's clock, or the delete log would be asked about the wrong days.
    simulator = SalesforceSimulator(seed=21, n_cases=N_CASES)
    with simulator.serve() as base_url:
        for key, value in sf_env(simulator, base_url).items():
            monkeypatch.setenv(key, value)
        simulator.base_url = base_url
        yield simulator


def _cursor(record: dict[str, Any]) -> Any:
    for field in ("SystemModstamp", "LastModifiedDate", "CreatedDate"):
        if field in record:
            return norm(record[field])
    return None


def assert_equals_simulator(url: str, sim: SalesforceSimulator) -> None:
    target = parse_target(url)
    with connection(target) as con:
        purged_rows = {(r[0].lower(), r[1]) for r in con.query("select object, id from salesforce.deleted_records")}
        for obj in OBJECTS:
            records = sim.records(obj.name)
            want = {r["Id"]: (_cursor(r), bool(r.get("IsDeleted", False))) for r in records}
            cols = {
                r[0]
                for r in con.query(
                    "select column_name from information_schema.columns where table_schema = 'salesforce' "
                    "and table_name = %s",
                    [obj.table],
                )
            }
            cursor_col = next(c for c in ("system_modstamp", "last_modified_date", "created_date") if c in cols)
            deleted_col = "is_deleted" if "is_deleted" in cols else "false"
            rows = con.query(f'select id, {cursor_col}, {deleted_col} from salesforce."{obj.table}"')
            got = {r[0]: (norm(r[1]), bool(r[2])) for r in rows}
            assert len(rows) == len(got), f"{obj.table}: duplicate ids"
            missing = set(want) - set(got)
            assert not missing, f"{obj.table}: {len(missing)} ids missing, e.g. {sorted(missing)[:3]}"
            extra = set(got) - set(want)
            purged = set(sim.deleted(obj.name))
            assert extra <= purged, f"{obj.table}: unexpected ids {sorted(extra - purged)[:3]}"
            unrecorded = {i for i in extra if (obj.name.lower(), i) not in purged_rows}
            assert not unrecorded, f"{obj.table}: purged rows not in deleted_records: {sorted(unrecorded)[:3]}"
            wrong = [i for i in want if want[i] != got[i]]
            assert not wrong, (
                f"{obj.table}: {len(wrong)} rows differ, e.g. {wrong[0]}: {want[wrong[0]]} vs {got[wrong[0]]}"
            )


CASE_CHILDREN = {
    "case_comment": "parent_id",
    "case_history": "case_id",
    "case_milestone": "case_id",
    "case_article": "case_id",
}


def assert_deletions_flagged(url: str, sim: SalesforceSimulator) -> dict[str, int]:
    """``_sl_deleted``/``_sl_deleted_at`` of every object's rows, from the simulator: soft-deleted
    (IsDeleted, at SystemModstamp), purged (at the deleted records' date) and children of a
    deleted Case (at the Case's time), the rows keeping their last-seen values. Returns the
    number of deleted rows per table."""
    flags = {t: {k[-1]: v for k, v in rows.items()} for t, rows in deletion_flags(url, "salesforce").items()}
    assert not any(d for d, _ in flags["deleted_records"].values())
    with connection(parse_target(url)) as con:
        purged_at = {r[0]: norm(r[1]) for r in con.query("select id, deleted_date from salesforce.deleted_records")}
        parents: dict[str, dict[str, str]] = {
            table: dict(con.query(f"select id, {column} from salesforce.{table}"))
            for table, column in CASE_CHILDREN.items()
        }
    want: dict[str, dict[str, tuple[bool, str | None]]] = {}
    for obj in OBJECTS:  # parents (Case) come first in OBJECTS
        records = sim.records(obj.name)
        soft = {r["Id"]: norm(r.get("SystemModstamp") or r["LastModifiedDate"]) for r in records if r.get("IsDeleted")}
        alive = {r["Id"] for r in records}
        rows = want[obj.table] = {}
        for i in flags[obj.table]:
            assert i in alive or i in purged_at, f"{obj.table} {i}: neither in the org nor purged"
            at = soft.get(i) or purged_at.get(i)
            if at is None and obj.table in parents:
                at = want["case"].get(parents[obj.table][i], (False, None))[1]
            rows[i] = (at is not None, at)
        assert flags[obj.table] == rows, obj.table
    # the rows of purged records keep IsDeleted as last seen: only _sl_deleted says they are gone
    return {t: sum(d for d, _ in rows.values()) for t, rows in want.items()}


def test_full_bulk_then_incremental_rest_equals_simulator(sim: SalesforceSimulator, warehouse_url: str) -> None:
    target = parse_target(warehouse_url)
    first = sync(target, ["salesforce"])
    assert first.ok, [(t.table_name, t.error) for t in first.tables if t.error]
    assert sim.stats.queries["bulk:Case"] >= 1, "the full sync of Case goes through Bulk 2.0"
    assert_equals_simulator(warehouse_url, sim)
    assert_deletions_flagged(warehouse_url, sim)

    rest_before = sim.stats.queries["queryAll:Case"]
    bulk_before = sim.stats.queries["bulk:Case"]
    sim.mutate(seed=2, update_fraction=0.02, insert_count=20, delete_count=15)
    second = sync(target, ["salesforce"])
    assert second.ok, [(t.table_name, t.error) for t in second.tables if t.error]
    assert sim.stats.queries["bulk:Case"] == bulk_before, "a small delta goes through REST"
    assert sim.stats.queries["queryAll:Case"] > rest_before
    assert_equals_simulator(warehouse_url, sim)
    deleted = assert_deletions_flagged(warehouse_url, sim)
    assert deleted["case"], "the changes deleted cases"
    assert deleted["case_history"], "... with their history"
    by_table = {t.table_name: t for t in second.tables}
    assert 0 < by_table["case"].rows < N_CASES / 2, "the incremental run reads what changed"


OPTIONAL_REFUSED = ("Knowledge__kav", "AgentWork", "CaseArticle", "MilestoneType")


def test_refused_optional_objects_are_skipped_and_a_refused_case_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An org without Knowledge, Omni-Channel or Entitlements (or a user who may not read them)
    still syncs: those tables are skipped with the reason. Without Case the run fails."""
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    partial = SalesforceSimulator(seed=22, n_cases=150, hidden_objects=OPTIONAL_REFUSED)
    with partial.serve() as base_url:
        for key, value in sf_env(partial, base_url).items():
            monkeypatch.setenv(key, value)
        result = sync(target, ["salesforce"])
    by_table = {t.table_name: t for t in result.tables}
    assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
    for name in OPTIONAL_REFUSED:
        table = next(o.table for o in OBJECTS if o.name == name)
        assert by_table[table].status == "skipped", (table, by_table[table].status)
        assert name in (by_table[table].error or "")
    assert by_table["case"].status == "success"
    assert by_table["case"].rows > 0

    no_case = SalesforceSimulator(seed=22, n_cases=150, hidden_objects=("Case",))
    with no_case.serve() as base_url:
        for key, value in sf_env(no_case, base_url).items():
            monkeypatch.setenv(key, value)
        failed = sync(parse_target(f"duckdb:///{tmp_path / 'wh2.duckdb'}"), ["salesforce"])
    assert not failed.ok
    case = next(t for t in failed.tables if t.table_name == "case")
    assert case.status == "failed"
    assert "Case is the primary Salesforce object" in (case.error or "")


@pytest.mark.slow
def test_sigkill_then_rerun_converges(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'sf.duckdb'}"
    simulator = SalesforceSimulator(seed=8, n_cases=3000, latency_ms=20)
    with simulator.serve() as base_url:
        kill_sync_midway(
            url, sf_env(simulator, base_url), ["salesforce"], lambda: sum(simulator.stats.requests.values()) >= 25
        )
        simulator.latency_ms = 0
        simulator.mutate(seed=5, update_fraction=0.02, insert_count=10, delete_count=10)
        result = sync_with_env(url, sf_env(simulator, base_url), ["salesforce"])
        assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
        assert_equals_simulator(url, simulator)
        assert_deletions_flagged(url, simulator)


def test_rest_sync_in_chunks_equals_simulator(
    sim: SalesforceSimulator, warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REST pages of 200 and chunks of 500 rows: objects stop after an ordered page (their
    cursor committed with it) and resume in the next chunk; the result equals the simulator."""
    monkeypatch.setenv("SOURCES__SALESFORCE__BULK_THRESHOLD", "1000000000")
    sim.batch_size = 200
    result = sync(parse_target(warehouse_url), ["salesforce"], chunk_rows=500)
    assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
    assert result.chunks["salesforce"] > 3
    assert sim.stats.queries["bulk:Case"] == 0
    # One token, one object list and one describe per object for the whole run, not per chunk:
    # the context (and its quota guard: a share of what remained when the run started) is kept.
    assert sum(sim.stats.tokens.values()) == 1
    assert sim.stats.requests[f"/services/data/{API_VERSION}/sobjects"] == 1
    assert sim.stats.requests[f"/services/data/{API_VERSION}/sobjects/Case/describe"] == 1
    assert_equals_simulator(warehouse_url, sim)
    assert_deletions_flagged(warehouse_url, sim)
