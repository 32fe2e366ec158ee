"""Build benchmark: every model of ``transforms/models`` over 1,000,000 Zendesk tickets in DuckDB.

    nox -s bench                                   # runs this after the sync benchmarks
    python bench/bench_build.py                    # 1M tickets, ~50k Salesforce cases
    python bench/bench_build.py --tickets 20000    # small, to try it out

The raw tables are generated directly in a DuckDB file with SQL (``range()``; pseudo-random values
from ``hash()`` of the row number and a fixed seed, so every run and every thread count gives the
same data), with exactly the columns and types a sync declares (``raw_table_columns()``,
``SQL_TYPES``); tables left out here are read as empty stand-ins, as in a real build. Sizes follow
the ticket count: per 1M tickets, 1M ticket metric sets, 20k organizations, 200k users, 3M
comments, 4M metric events, 300k satisfaction ratings, and 50k Salesforce cases with their
comments, history, milestones and accounts.

Then ``transforms.runner.build()`` runs every model (staging, intermediate, core and marts, whatever
the folder holds) and this prints seconds per model, per layer and in total, and the peak RSS of
the process during the build (psutil, sampled every 20 ms; DuckDB runs in-process). The aim (DESIGN
performance budget) is the whole build under 60 s on 2 cores. Nothing here asserts: CI never times
anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transforms.graph import MODEL_SCHEMAS  # noqa: E402
from transforms.runner import SQL_TYPES, ModelResult, build, raw_table_columns  # noqa: E402
from warehouse.target import parse_target  # noqa: E402

START = "TIMESTAMPTZ '2023-01-01 00:00:00+00'"
"""Every generated time is within two years from here."""
TWO_YEARS = 2 * 365 * 86400


class Gen:
    """SQL expressions of pseudo-random values for row number ``i`` (deterministic: ``hash``)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def u(self, k: int) -> str:
        """Uniform in [0, 1)."""
        return f"((hash(i, {k}, {self.seed}) % 1000000) / 1000000.0)"

    def whole(self, k: int, low: int, high: int) -> str:
        """Whole number in [low, high]."""
        return f"({low} + (hash(i, {k}, {self.seed}) % {high - low + 1})::BIGINT)"

    def pick(self, k: int, weighted: Mapping[str, float]) -> str:
        """One of the SQL expressions (keys), with the given weights."""
        total = sum(weighted.values())
        parts, acc = [], 0.0
        items = list(weighted.items())
        for expr, weight in items[:-1]:
            acc += weight / total
            parts.append(f"when {self.u(k)} < {acc:.6f} then {expr}")
        return f"(case {' '.join(parts)} else {items[-1][0]} end)"

    def ts(self, k: int, base: str = START, seconds: int = TWO_YEARS) -> str:
        """A time up to ``seconds`` after ``base``."""
        return f"({base} + to_seconds(({self.u(k)} * {seconds})::BIGINT))"


def sf_id(prefix: str, expr: str) -> str:
    """An 18-character Salesforce Id: prefix, zero-padded number, and the (all-digit) checksum 'AAA'."""
    return f"('{prefix}' || lpad(({expr})::VARCHAR, 12, '0') || 'AAA')"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables(g: Gen, tickets: int) -> dict[str, tuple[int, dict[str, str]]]:
    """Raw table → (rows, {column: SQL expression over the row number ``i``, 1-based})."""
    orgs = max(tickets // 50, 10)
    users = max(tickets // 5, 100)
    agents = max(users // 100, 10)
    comments, events, ratings = 3 * tickets, 4 * tickets, max(3 * tickets // 10, 1)
    calls = max(tickets // 20, 1)
    cases = max(tickets // 20, 10)
    accounts = max(orgs * 3 // 4, 10)
    sf_users = max(agents // 2, 10)
    zgroups = 30
    created = g.ts(1)
    channel = g.pick(
        7,
        {"'email'": 40, "'web'": 20, "'chat'": 12, "'voice'": 10, "'api'": 8, "'twitter'": 3, "'help_center'": 5,
         "'mobile'": 2},
    )  # fmt: skip
    status = g.pick(
        3, {"'closed'": 50, "'solved'": 20, "'open'": 12, "'pending'": 8, "'new'": 5, "'hold'": 3, "'deleted'": 2}
    )
    solved = f"({g.u(3)} < 0.70)"  # closed or solved: the first 70% of the status weights
    body = (
        "'Thanks for reaching out. We looked into the issue you reported with the dashboard exports and '"
        f" || (case when {g.u(31)} < 0.08 then 'this page explains the fix: https://acme.atlassian.net/wiki/spaces/SUP/"
        f"pages/' || {g.whole(32, 1, max(tickets // 200, 50))}::VARCHAR || '/Setting+up+SSO ' "
        f"when {g.u(31)} < 0.12 then 'see https://acme.zendesk.com/hc/en-us/articles/' || "
        f"{g.whole(33, 360000000000, 360000002000)}::VARCHAR || '-slow-dashboards ' else '' end)"
        " || 'Could you confirm whether it still happens after a refresh? Best regards, the support team.'"
    )
    return {
        "zendesk.groups": (
            zgroups,
            {
                "id": "i",
                "name": "(case i % 5 when 0 then 'Tier 1 Support ' when 1 then 'T2 Escalations ' "
                "when 2 then 'L3 Engineering ' when 3 then 'Billing ' else 'Onboarding ' end) || i::VARCHAR",
                "deleted": "false",
                "default": "i = 1",
                "created_at": START,
                "updated_at": START,
            },
        ),
        "zendesk.organizations": (
            orgs,
            {
                "id": "i",
                "name": "'Organization ' || i::VARCHAR",
                # 60% carry the Account Id (a third of them 15 characters long)
                "external_id": f"case when {g.u(40)} < 0.4 then {sf_id('001', 'i')} "
                f"when {g.u(40)} < 0.6 then left({sf_id('001', 'i')}, 15) end",
                "domain_names": "'[\"org' || i::VARCHAR || '.example.com\"]'",
                "tags": "'[]'",
                "created_at": g.ts(41),
                "updated_at": g.ts(42),
                "deleted_at": f"case when {g.u(43)} < 0.01 then {g.ts(44)} end",
            },
        ),
        "zendesk.users": (
            users,
            {
                "id": "i",
                "name": "'User ' || i::VARCHAR",
                "email": "'user' || i::VARCHAR || '@org' || (1 + i % " + str(orgs) + ")::VARCHAR || '.example.com'",
                "role": f"case when i <= {agents} then (case when i % 10 = 0 then 'admin' else 'agent' end) "
                "else 'end-user' end",
                "active": f"{g.u(50)} < 0.97",
                "suspended": "false",
                "organization_id": f"case when i > {agents} then 1 + i % {orgs} end",
                "default_group_id": f"case when i <= {agents} then 1 + i % {zgroups} end",
                "time_zone": "'UTC'",
                "created_at": g.ts(51),
                "updated_at": g.ts(52),
            },
        ),
        "zendesk.tickets": (
            tickets,
            {
                "id": "i",
                "created_at": created,
                "updated_at": f"{created} + to_seconds({g.whole(2, 60, 30 * 86400)})",
                "status": status,
                "generated_timestamp": "i",
                "subject": "'Dashboard export fails for ticket ' || i::VARCHAR",
                "priority": g.pick(4, {"'low'": 20, "'normal'": 60, "'high'": 15, "'urgent'": 5}),
                "type": g.pick(5, {"'question'": 50, "'incident'": 30, "'problem'": 10, "'task'": 10}),
                "requester_id": f"{agents} + 1 + (hash(i, 6, {g.seed}) % {users - agents})::BIGINT",
                "submitter_id": f"{agents} + 1 + (hash(i, 6, {g.seed}) % {users - agents})::BIGINT",
                "assignee_id": f"case when {g.u(8)} < 0.9 then {g.whole(9, 1, agents)} end",
                "organization_id": f"case when {g.u(10)} < 0.85 then {g.whole(11, 1, orgs)} end",
                "group_id": g.whole(12, 1, zgroups),
                "brand_id": "1",
                "via__channel": channel,
                "tags": f'case when {g.u(13)} < 0.01 then \'["billing","closed_by_merge"]\' '
                f'when {g.u(13)} < 0.05 then \'["onboarding"]\' else \'["billing","vip"]\' end',
                "custom_fields": '\'[{"id":360001,"value":"dashboards"}]\'',
                "is_public": "true",
                "satisfaction_rating__score": g.pick(
                    14, {"'unoffered'": 60, "'offered'": 20, "'good'": 15, "'bad'": 5}
                ),
            },
        ),
        "zendesk.ticket_metrics": (
            tickets,
            {
                "id": f"{tickets} + i",
                "ticket_id": "i",
                "created_at": created,
                "updated_at": f"{created} + to_seconds({g.whole(2, 60, 30 * 86400)})",
                "reopens": f"case when {g.u(20)} < 0.1 then 1 else 0 end",
                "replies": g.whole(21, 0, 5),
                "group_stations": g.pick(22, {"1": 80, "2": 15, "3": 5}),
                "assignee_stations": g.whole(23, 1, 3),
                "solved_at": f"case when {solved} then {created} + to_seconds({g.whole(24, 600, 5 * 86400)}) end",
                "status_updated_at": f"{created} + to_seconds({g.whole(24, 600, 5 * 86400)})",
                "reply_time_in_minutes__calendar": g.whole(25, 1, 2000),
                "reply_time_in_minutes__business": g.whole(26, 1, 900),
                "first_resolution_time_in_minutes__calendar": f"case when {solved} then {g.whole(27, 10, 7200)} end",
                "first_resolution_time_in_minutes__business": f"case when {solved} then {g.whole(28, 10, 3000)} end",
                "full_resolution_time_in_minutes__calendar": f"case when {solved} then {g.whole(29, 10, 9000)} end",
                "full_resolution_time_in_minutes__business": f"case when {solved} then {g.whole(30, 10, 4000)} end",
                "agent_wait_time_in_minutes__calendar": g.whole(34, 0, 3000),
                "requester_wait_time_in_minutes__calendar": g.whole(35, 0, 3000),
                "on_hold_time_in_minutes__calendar": g.whole(36, 0, 100),
            },
        ),
        "zendesk.ticket_comments": (
            comments,
            {
                "id": "i",
                "ticket_id": f"1 + (i - 1) % {tickets}",
                "created_at": g.ts(60),
                "public": f"{g.u(61)} < 0.8",
                "author_id": f"case when {g.u(62)} < 0.5 then {g.whole(63, 1, agents)} "
                f"else {agents} + 1 + (hash(i, 64, {g.seed}) % {users - agents})::BIGINT end",
                "body": body,
                "audit_id": "i",
                "via_channel": "'web'",
            },
        ),
        "zendesk.ticket_metric_events": (
            events,
            {
                "id": "i",
                "ticket_id": f"1 + (i - 1) // 4 % {tickets}",
                "metric": "case when i % 4 < 2 then 'reply_time' else 'requester_wait_time' end",
                "instance_id": "1",
                "type": f"case when i % 2 = 0 then 'apply_sla' when {g.u(70)} < 0.9 then 'fulfill' else 'breach' end",
                "time": f"{g.ts(1, seconds=TWO_YEARS)} + to_seconds((i % 4) * 3600)",
                "sla__target": "case when i % 2 = 0 then 480 end",
                "sla__business_hours": "case when i % 2 = 0 then false end",
                "sla__policy__id": "case when i % 2 = 0 then 7 end",
            },
        ),
        "zendesk.satisfaction_ratings": (
            ratings,
            {
                "id": "i",
                "ticket_id": f"1 + (i * 3 - 1) % {tickets}",
                "score": g.pick(80, {"'offered'": 40, "'good'": 45, "'bad'": 15}),
                "created_at": g.ts(81),
                "updated_at": g.ts(82),
                "assignee_id": g.whole(83, 1, agents),
                "group_id": g.whole(84, 1, zgroups),
                "requester_id": f"{agents} + 1 + (hash(i, 85, {g.seed}) % {users - agents})::BIGINT",
            },
        ),
        "zendesk.calls": (
            calls,
            {
                "id": "i",
                "created_at": g.ts(90),
                "updated_at": g.ts(90),
                "agent_id": f"case when {g.u(91)} < 0.9 then {g.whole(92, 1, agents)} end",
                "ticket_id": f"1 + (i * 20 - 1) % {tickets}",
                "talk_time": g.whole(93, 0, 1200),
                "hold_time": g.whole(94, 0, 120),
                "wrap_up_time": g.whole(95, 0, 180),
                "duration": g.whole(96, 0, 1500),
                "completion_status": f"case when {g.u(91)} < 0.9 then 'completed' else 'abandoned_in_queue' end",
                "direction": "'inbound'",
            },
        ),
        "salesforce.group": (
            6,
            {
                "id": sf_id("00G", "i"),
                "system_modstamp": START,
                "name": "case i when 1 then 'Tier 1 Support' when 2 then 'Tier 2 Support' when 3 then 'Tier 3 Support' "
                "when 4 then 'Billing Queue' else 'Group ' || i::VARCHAR end",
                "type": "case when i <= 4 then 'Queue' else 'Regular' end",
            },
        ),
        "salesforce.user": (
            sf_users,
            {
                "id": sf_id("005", "i"),
                "system_modstamp": START,
                "created_date": START,
                "name": "'Agent ' || i::VARCHAR",
                "email": "'user' || i::VARCHAR || '@org' || (1 + i % " + str(orgs) + ")::VARCHAR || '.example.com'",
                "is_active": "true",
                "user_type": "case when i % 20 = 0 then 'PowerCustomerSuccess' else 'Standard' end",
            },
        ),
        "salesforce.account": (
            accounts,
            {
                "id": sf_id("001", "i"),
                "system_modstamp": START,
                "created_date": g.ts(100),
                "is_deleted": f"{g.u(101)} < 0.01",
                "name": "'Account ' || i::VARCHAR",
                "type": "'Customer'",
                "website": "'https://www.org' || i::VARCHAR || '.example.com'",
                "annual_revenue": f"{g.whole(102, 10000, 10000000)}::DOUBLE",
            },
        ),
        "salesforce.contact": (
            cases,
            {
                "id": sf_id("003", "i"),
                "system_modstamp": START,
                "account_id": sf_id("001", f"1 + i % {accounts}"),
                "name": "'Contact ' || i::VARCHAR",
                "email": "'contact' || i::VARCHAR || '@example.com'",
            },
        ),
        "salesforce.case": (
            cases,
            {
                "id": sf_id("500", "i"),
                "system_modstamp": g.ts(110),
                "created_date": g.ts(111),
                "last_modified_date": g.ts(110),
                "is_deleted": f"{g.u(112)} < 0.005",
                "case_number": "lpad(i::VARCHAR, 8, '0')",
                "account_id": sf_id("001", f"1 + i % {accounts}"),
                "contact_id": sf_id("003", "i"),
                "owner_id": f"case when {g.u(113)} < 0.4 then {sf_id('00G', g.whole(114, 1, 4))} "
                f"else {sf_id('005', g.whole(115, 1, sf_users))} end",
                "subject": "'Case ' || i::VARCHAR",
                "status": f"case when {g.u(116)} < 0.7 then 'Closed' when {g.u(116)} < 0.8 then 'Working' "
                "else 'New' end",
                "priority": g.pick(117, {"'Low'": 20, "'Medium'": 60, "'High'": 20}),
                "origin": g.pick(118, {"'Phone'": 20, "'Email'": 40, "'Web'": 30, "'Chat'": 10}),
                "type": g.pick(119, {"'Problem'": 50, "'Question'": 40, "'Onboarding'": 10}),
                "is_closed": f"{g.u(116)} < 0.7",
                "closed_date": f"case when {g.u(116)} < 0.7 "
                f"then {g.ts(111)} + to_seconds({g.whole(120, 600, 864000)}) end",
                "master_record_id": f"case when {g.u(121)} < 0.01 then {sf_id('500', f'1 + (i + 7) % {cases}')} end",
            },
        ),
        "salesforce.case_comment": (
            3 * cases,
            {
                "id": sf_id("00a", "i"),
                "system_modstamp": g.ts(130),
                "created_date": g.ts(130),
                "created_by_id": sf_id("005", g.whole(131, 1, sf_users)),
                "is_deleted": "false",
                "parent_id": sf_id("500", f"1 + (i - 1) % {cases}"),
                "is_published": f"{g.u(132)} < 0.7",
                "comment_body": body,
            },
        ),
        "salesforce.case_history": (
            5 * cases,
            {
                "id": sf_id("017", "i"),
                "created_date": f"{g.ts(111, seconds=TWO_YEARS)} + to_seconds((i % 5) * 3600)",
                "case_id": sf_id("500", f"1 + (i - 1) // 5 % {cases}"),
                "created_by_id": sf_id("005", g.whole(140, 1, sf_users)),
                "field": "case i % 5 when 0 then 'created' when 1 then 'Owner' when 2 then 'Owner' else 'Status' end",
                "data_type": "case when i % 5 in (1, 2) then 'EntityId' else 'Text' end",
                "old_value": f"case i % 5 when 1 then {sf_id('00G', '1')} "
                f"when 2 then {sf_id('00G', g.whole(141, 1, 3))} when 3 then 'New' when 4 then 'Closed' end",
                "new_value": f"case i % 5 when 1 then {sf_id('00G', g.whole(141, 1, 3))} "
                f"when 2 then {sf_id('005', g.whole(142, 1, sf_users))} when 3 then 'Closed' "
                f"when 4 then (case when {g.u(143)} < 0.1 then 'Working' else 'Closed' end) end",
                "is_deleted": "false",
            },
        ),
        "salesforce.case_milestone": (
            2 * cases,
            {
                "id": sf_id("5Ms", "i"),
                "system_modstamp": g.ts(150),
                "case_id": sf_id("500", f"1 + (i - 1) // 2 % {cases}"),
                "milestone_type_id": sf_id("557", "1 + i % 2"),
                "start_date": g.ts(151),
                "target_date": f"{g.ts(151)} + to_seconds(14400)",
                "completion_date": f"case when {g.u(152)} < 0.8 "
                f"then {g.ts(151)} + to_seconds({g.whole(153, 60, 30000)}) end",
                "is_completed": f"{g.u(152)} < 0.8",
                "is_violated": f"{g.u(154)} < 0.1",
                "target_response_in_mins": "240",
                "is_deleted": "false",
            },
        ),
        "salesforce.knowledge_kav": (
            max(cases // 20, 10),
            {
                "id": sf_id("ka0", "i"),
                "system_modstamp": START,
                "knowledge_article_id": sf_id("kA0", "1 + (i - 1) // 2"),
                "title": "'Article ' || i::VARCHAR",
                "publish_status": "case when i % 2 = 0 then 'Online' else 'Archived' end",
                "version_number": "1 + (i - 1) % 2",
                "is_latest_version": "i % 2 = 0",
                "is_deleted": "false",
            },
        ),
        "salesforce.case_article": (
            max(cases // 5, 10),
            {
                "id": sf_id("ka1", "i"),
                "system_modstamp": g.ts(160),
                "case_id": sf_id("500", f"1 + (i * 5 - 1) % {cases}"),
                "knowledge_article_id": sf_id("kA0", g.whole(161, 1, max(cases // 40, 5))),
                "created_date": g.ts(160),
                "is_deleted": "false",
            },
        ),
        "salesforce.opportunity": (
            accounts,
            {
                "id": sf_id("006", "i"),
                "system_modstamp": START,
                "created_date": g.ts(170),
                "is_deleted": "false",
                "account_id": sf_id("001", "i"),
                "name": "'Opportunity ' || i::VARCHAR",
                "type": g.pick(171, {"'New Business'": 50, "'Renewal'": 30, "'Expansion'": 20}),
                "stage_name": "'Closed Won'",
                "amount": f"{g.whole(172, 1000, 500000)}::DOUBLE",
                "is_closed": "true",
                "is_won": f"{g.u(173)} < 0.8",
                "close_date": g.ts(174),
            },
        ),
        "salesforce.agent_work": (
            cases,
            {
                "id": sf_id("0Bz", "i"),
                "system_modstamp": g.ts(180),
                "is_deleted": "false",
                "user_id": sf_id("005", g.whole(181, 1, sf_users)),
                "work_item_id": sf_id("500", "i"),
                "status": "'Closed'",
                "accept_date_time": g.ts(180),
                "handle_time": g.whole(182, 60, 3000),
            },
        ),
        "salesforce.deleted_records": (
            max(cases // 100, 1),
            {"id": sf_id("500", "i * 97 % " + str(cases) + " + 1"), "deleted_date": g.ts(190)},
        ),
        "confluence.pages": (
            max(tickets // 200, 50),
            {
                "id": "i::VARCHAR",
                "status": "case when i % 50 = 0 then 'trashed' else 'current' end",
                "title": "'Setting up SSO ' || i::VARCHAR",
                "space_id": "'1'",
                "space_key": "'SUP'",
                "created_at": g.ts(200),
                "version__number": "1 + i % 5",
                "version__created_at": g.ts(201),
                "web_url": "'https://acme.atlassian.net/wiki/spaces/SUP/pages/' || i::VARCHAR",
                "is_deleted": "i % 50 = 0",
            },
        ),
        "confluence.deleted_content": (
            10,
            {"id": "(i * 7)::VARCHAR", "content_type": "'page'", "detected_at": g.ts(210)},
        ),
    }


def generate(db: Path, tickets: int, seed: int) -> dict[str, int]:
    """Create the raw tables in ``db``; rows per table."""
    import duckdb

    declared = raw_table_columns()
    types = SQL_TYPES["duckdb"]
    g = Gen(seed)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(db))
    try:
        con.execute("set TimeZone = 'UTC'")
        for table, (rows, values) in tables(g, tickets).items():
            columns = declared[table]
            unknown = sorted(set(values) - set(columns) - {"_sl_seq"})
            if unknown:
                raise SystemExit(f"{table}: {', '.join(unknown)} not declared (raw_table_columns)")
            schema, name = table.split(".", 1)
            con.execute(f"create schema if not exists {schema}")
            ddl = ", ".join(f"{quoted(c)} {types[k]}" for c, k in columns.items())
            con.execute(f"create or replace table {schema}.{quoted(name)} ({ddl})")
            exprs = {**values, "_sl_seq": "i"}
            select = ", ".join(
                f"cast({exprs[c]} as {types[k]})" if c in exprs else f"cast(null as {types[k]})"
                for c, k in columns.items()
            )
            # SQL of our own expressions and declared names; no outside text
            insert = f"insert into {schema}.{quoted(name)} select {select} from range(1, {rows + 1}) as r(i)"  # noqa: S608
            con.execute(insert)
            counts[table] = rows
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


class PeakRss:
    """The highest RSS of this process while active, sampled every 20 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=1_000_000, help="Zendesk tickets (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", type=Path, help="DuckDB file to use (default: a temporary one, removed afterwards)")
    ap.add_argument(
        "--duckdb-settings", default="", help="DuckDB settings for the build as a URL query, e.g. '?memory_limit=1GB'"
    )
    args = ap.parse_args()
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("SUPPORTLAKE_HOME", str(Path(tmp) / "home"))
        db = args.db or Path(tmp) / "bench_warehouse.duckdb"
        if db.exists():
            db.unlink()
        t0 = time.perf_counter()
        counts = generate(db, args.tickets, args.seed)
        print(f"generated {sum(counts.values()):,} raw rows in {time.perf_counter() - t0:.1f}s ({db})")
        for table, rows in counts.items():
            print(f"  {table:<32} {rows:>12,}")

        results: list[ModelResult] = []
        with PeakRss() as rss:
            t0 = time.perf_counter()
            build(parse_target(f"duckdb:///{db}{args.duckdb_settings}"), on_result=results.append)
            total = time.perf_counter() - t0

    width = max(len(r.model) for r in results)
    print(f"\n{'model':<{width}} {'rows':>12} {'seconds':>8}")
    for r in sorted(results, key=lambda r: -r.seconds):
        print(f"{r.model:<{width}} {r.rows:>12,} {r.seconds:>8.2f}")
    print(f"\n{'layer':<14} {'models':>6} {'seconds':>8}")
    for layer in MODEL_SCHEMAS:
        mine = [r for r in results if r.model.split(".", 1)[0] == layer]
        if mine:
            print(f"{layer:<14} {len(mine):>6} {sum(r.seconds for r in mine):>8.2f}")
    print(
        f"\nbuild: {len(results)} models in {total:.1f}s (models {sum(r.seconds for r in results):.1f}s; the rest is "
        f"settings and stand-ins) on {os.cpu_count()} cores; peak RSS {rss.peak / 2**20:,.0f} MiB "
        f"for {args.tickets:,} Zendesk tickets"
    )


if __name__ == "__main__":
    main()
