"""End to end: the Zendesk simulator → supportlake sync → DuckDB and PostgreSQL.

Full sync, then the simulator changes (updates, inserts, deletions), then an incremental sync:
every table must equal the simulator's data — every id once, at its latest version, deletions
flagged — and the incremental run must cost in proportion to what changed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.zendesk import ZendeskSimulator
from tests.e2e.helpers import assert_warehouse_equals_simulator, deletion_flags, loaded, norm
from warehouse.sql import connection
from warehouse.sync import sync
from warehouse.target import parse_target

N_TICKETS = 2500


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[ZendeskSimulator]:
    simulator = ZendeskSimulator(seed=11, n_tickets=N_TICKETS)
    with simulator.serve() as base_url:
        monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", base_url)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", simulator.email)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", simulator.api_token)
        # correctness tests do not wait on the 10-a-minute export limit (a slow test does)
        simulator.export_rpm = 100_000
        monkeypatch.setenv("SOURCES__ZENDESK__EXPORT_RATE_LIMIT", "100000")
        yield simulator


def _ticket_export_requests(sim: ZendeskSimulator) -> int:
    return sum(n for path, n in sim.stats.requests.items() if "incremental/tickets/cursor" in path)


TICKET_CHILDREN = ("ticket_metrics", "ticket_comments", "ticket_metric_events", "satisfaction_ratings")


def assert_deletions_flagged(url: str, sim: ZendeskSimulator) -> int:
    """``_sl_deleted``/``_sl_deleted_at`` of every raw table, from the simulator's records: deleted
    tickets (status, at updated_at) and what belongs to them, deleted users (``active`` false) and
    groups; nothing else. Returns the number of deleted tickets."""
    flags = {t: {k[0]: v for k, v in rows.items()} for t, rows in deletion_flags(url, "zendesk").items()}
    tickets = {r["id"]: r for r in sim.records("tickets")}
    deleted = {i: norm(r["updated_at"]) for i, r in tickets.items() if r["status"] == "deleted"}
    assert flags["tickets"] == {i: (i in deleted, deleted.get(i)) for i in tickets}
    users = sim.records("users")
    assert flags["users"] == {r["id"]: (not r["active"], None if r["active"] else norm(r["updated_at"])) for r in users}
    groups = sim.records("groups")
    assert flags["groups"] == {
        r["id"]: (bool(r["deleted"]), norm(r["updated_at"]) if r["deleted"] else None) for r in groups
    }
    with connection(parse_target(url)) as con:
        for table in TICKET_CHILDREN:
            parents = dict(con.query(f"select id, ticket_id from zendesk.{table}"))
            want = {i: (t in deleted, deleted.get(t)) for i, t in parents.items()}
            assert flags[table] == want, table
    for table in ("calls", "organizations", "ticket_fields", "sla_policies"):
        assert not any(d for d, _ in flags[table].values()), table
    return len(deleted)


def test_full_then_incremental_sync_equals_simulator(sim: ZendeskSimulator, warehouse_url: str) -> None:
    target = parse_target(warehouse_url)
    sim.export_rpm = 10_000

    first = sync(target, ["zendesk"])
    assert first.ok, [(t.table_name, t.error) for t in first.tables if t.error]
    assert_warehouse_equals_simulator(warehouse_url, sim)
    deleted_before = assert_deletions_flagged(warehouse_url, sim)
    # ceil(N/1000)+1 export requests at most, and no per-ticket request
    assert _ticket_export_requests(sim) <= -(-N_TICKETS // 1000) + 1
    assert not any("/tickets/" in p and p.split("/tickets/")[1][:1].isdigit() for p in sim.stats.requests)

    before = dict(sim.stats.requests)
    sim.mutate(seed=1)
    second = sync(target, ["zendesk"])
    assert second.ok, [(t.table_name, t.error) for t in second.tables if t.error]
    assert_warehouse_equals_simulator(warehouse_url, sim)
    assert assert_deletions_flagged(warehouse_url, sim) > deleted_before, "the changes deleted tickets"

    # incremental: one or two export pages for what changed, not the whole history again
    tickets_after = sum(n for p, n in sim.stats.requests.items() if "incremental/tickets/cursor" in p)
    tickets_before = sum(n for p, n in before.items() if "incremental/tickets/cursor" in p)
    assert tickets_after - tickets_before <= 2
    by_table = {t.table_name: t for t in second.tables}
    changed = by_table["tickets"].rows
    assert 0 < changed < N_TICKETS / 2

    # deletions are flagged, not missing
    got, _ = loaded(warehouse_url, "tickets", ("status",))
    deleted = [k for k, (status,) in got.items() if status == "deleted"]
    assert deleted, "the mutation deletes tickets; they must stay with status 'deleted'"

    # the run log has a row per run and table
    with connection(target) as con:
        rows = con.query("select run_id, status, count(*) from supportlake.supportlake_runs group by run_id, status")
    assert {(r[0], r[1]) for r in rows} == {(first.run_id, "success"), (second.run_id, "success")}


def test_resource_selection_and_full_refresh(sim: ZendeskSimulator, warehouse_url: str) -> None:
    target = parse_target(warehouse_url)
    sim.export_rpm = 10_000
    result = sync(target, ["zendesk"], ["tickets", "groups"])
    assert result.ok
    assert {t.table_name for t in result.tables} == {"tickets", "ticket_metrics", "groups"}
    assert_warehouse_equals_simulator(warehouse_url, sim, ["tickets", "ticket_metrics", "groups"])

    before = _ticket_export_requests(sim)
    again = sync(target, ["zendesk"], ["tickets"], full_refresh=True)
    assert again.ok
    # a full refresh forgets the cursor: the whole export is read again
    assert _ticket_export_requests(sim) - before >= -(-N_TICKETS // 1000)
    assert_warehouse_equals_simulator(warehouse_url, sim, ["tickets", "ticket_metrics"])


def test_tickets_without_metric_sets_load_with_a_warning_in_the_summary_and_run_log(
    sim: ZendeskSimulator, warehouse_url: str
) -> None:
    """``include=metric_sets`` answered with none in either shape: never silent."""
    target = parse_target(warehouse_url)
    sim.metric_sets = "missing"
    result = sync(target, ["zendesk"], ["tickets"])
    assert result.ok
    by_table = {t.table_name: t for t in result.tables}
    assert by_table["tickets"].rows == N_TICKETS
    warning = by_table["ticket_metrics"].warning
    assert warning is not None
    assert "no metric set" in warning
    with connection(target) as con:
        logged = con.query(
            "select table_name, warning from supportlake.supportlake_runs where run_id = %s", (result.run_id,)
        )
    assert {name for name, text in logged if text and "no metric set" in text} >= {"tickets", "ticket_metrics"}
