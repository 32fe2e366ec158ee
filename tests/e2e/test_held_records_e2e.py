"""End to end on the Zendesk simulator: users and organizations held in quarantine are read again
by id (Show Many Users, Show Many Organizations) and resolved, on DuckDB and PostgreSQL.

Before, only tickets were; a held user or organization stayed held until the export sent it
again (it changed upstream), so every run was ``partial`` (exit 3) and a cron line
``sync && build`` skipped the build all that time. A held user the API no longer has is not in
the answer: it is resolved too, saying so.
"""

from __future__ import annotations

import datetime as dt

from connectors import registry
from schemas.payload import Rejection
from simulators.zendesk import ZendeskSimulator
from tests.e2e.helpers import sync_with_env
from warehouse import quarantine
from warehouse.sql import connection
from warehouse.target import parse_target

GONE = 987_654_321


def test_held_users_and_organizations_are_read_again_by_id_and_resolved(warehouse_url: str) -> None:
    spec = registry.get("zendesk")
    assert spec.simulator is not None
    sim = ZendeskSimulator(seed=6, n_tickets=200, export_rpm=1_000_000, account_rpm=1_000_000)
    with sim.serve() as url:
        env = dict(spec.simulator.settings(sim, url))
        first = sync_with_env(warehouse_url, env, ["zendesk"])
        assert {t.status for t in first.tables if t.table_name in ("users", "organizations")} == {"success"}
        with connection(parse_target(warehouse_url)) as con:
            user = con.query("select min(id) from zendesk.users where active")[0][0]
            org = con.query("select min(id) from zendesk.organizations")[0][0]
            # as if an earlier run had rejected them (the export will not send them again)
            seeded = [
                Rejection("users", user, "seeded by the test", {"id": user}),
                Rejection("organizations", org, "seeded by the test", {"id": org}),
                # a user deleted for good since: Show Many Users leaves it out of its answer
                Rejection("users", GONE, "seeded by the test", {"id": GONE}),
            ]
            quarantine.store(con, "zendesk", "earlier", dt.datetime.now(dt.UTC), seeded)
            assert quarantine.held_counts(con, "zendesk") == {"users": 2, "organizations": 1}

        second = sync_with_env(warehouse_url, env, ["zendesk"])

        assert sim.stats.requests["/api/v2/users/show_many.json"] == 1
        assert sim.stats.requests["/api/v2/organizations/show_many.json"] == 1
        with connection(parse_target(warehouse_url)) as con:
            assert quarantine.held_counts(con, "zendesk") == {}
            resolved = con.query(
                f"select table_name, record_key from {quarantine.TABLE} where resolved_at is not null order by 1"
            )
            assert sorted(resolved) == sorted([("organizations", str(org)), ("users", str(user)), ("users", str(GONE))])
            (reason,) = con.query(f"select reason from {quarantine.TABLE} where record_key = %s", [str(GONE)])[0]
            assert "not returned when read again by id" in reason
        assert {t.status for t in second.tables if t.table_name in ("users", "organizations")} == {"success"}
        (users,) = [t for t in second.tables if t.table_name == "users"]
        assert users.warning is not None
        assert "1 record(s) held in quarantine were not returned when read again by id" in users.warning
