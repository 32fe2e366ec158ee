"""Comparing the warehouse with the simulator's own data."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from warehouse.sql import connection
from warehouse.target import parse_target

ROOT = Path(__file__).resolve().parents[2]

# warehouse table → (simulator record kind, the fields compared besides the key)
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tickets": ("tickets", ("updated_at", "status", "group_id", "assignee_id")),
    "ticket_metrics": ("metric_sets", ("ticket_id", "reopens", "replies")),
    "users": ("users", ("updated_at", "active", "email")),
    "organizations": ("organizations", ("updated_at", "external_id")),
    "groups": ("groups", ("name",)),
    "ticket_fields": ("ticket_fields", ("title", "type")),
    "sla_policies": ("sla_policies", ("title",)),
    "satisfaction_ratings": ("satisfaction_ratings", ("score", "ticket_id")),
    "ticket_metric_events": ("ticket_metric_events", ("ticket_id", "metric", "type")),
    "ticket_comments": ("comments", ("ticket_id", "public", "author_id")),
    "calls": ("calls", ("ticket_id", "talk_time")),
}


def norm(value: Any) -> Any:
    """Comparable form: timestamps as UTC ISO seconds, the rest as is."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and len(value) >= 19 and value[10] == "T":
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return norm(parsed)
    return value


def expected(records: Iterable[Mapping[str, Any]], fields: tuple[str, ...]) -> dict[Any, tuple[Any, ...]]:
    out: dict[Any, tuple[Any, ...]] = {}
    for r in records:
        out[r["id"]] = tuple(norm(r.get(f)) for f in fields)
    return out


def loaded(url: str, table: str, fields: tuple[str, ...]) -> tuple[dict[Any, tuple[Any, ...]], int]:
    """The warehouse table as {id: fields}, and its row count (to catch duplicates)."""
    target = parse_target(url)
    cols = ", ".join(["id", *fields])
    with connection(target) as con:
        rows = con.query(f"select {cols} from zendesk.{table}")
    return {r[0]: tuple(norm(v) for v in r[1:]) for r in rows}, len(rows)


def assert_warehouse_equals_simulator(url: str, sim: Any, tables: Iterable[str] | None = None) -> None:
    for table in tables or TABLES:
        kind, fields = TABLES[table]
        want = expected(sim.records(kind), fields)
        got, n_rows = loaded(url, table, fields)
        assert n_rows == len(got), f"{table}: {n_rows - len(got)} duplicate rows"
        missing = set(want) - set(got)
        extra = set(got) - set(want)
        assert not missing, f"{table}: {len(missing)} ids missing, e.g. {sorted(missing)[:5]}"
        assert not extra, f"{table}: {len(extra)} unexpected ids, e.g. {sorted(extra)[:5]}"
        wrong = [k for k in want if want[k] != got[k]]
        assert not wrong, (
            f"{table}: {len(wrong)} rows differ, e.g. id {wrong[0]}: want {want[wrong[0]]}, got {got[wrong[0]]}"
        )


def kill_sync_midway(url: str, env: Mapping[str, str], sources: Iterable[str], reached: Callable[[], bool]) -> None:
    """Start ``supportlake sync`` in a child process and SIGKILL it once ``reached()`` is true
    (e.g. the simulator has served N requests). Fails if the sync ends before that point."""
    full_env = dict(os.environ)
    full_env.update(env)
    args = [sys.executable, "-m", "warehouse", "sync", "--warehouse", url]
    for source in sources:
        args += ["--source", source]
    proc = subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not reached():
            assert proc.poll() is None, "the sync ended before the kill point"
            assert time.monotonic() < deadline, "the sync never reached the kill point"
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def sync_with_env(url: str, env: Mapping[str, str], sources: list[str]) -> Any:
    """The in-process sync with ``env`` set for its duration (the sources read dlt settings)."""
    from warehouse.sync import sync

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return sync(parse_target(url), sources)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def deletion_flags(url: str, dataset: str) -> dict[str, dict[tuple[Any, ...], tuple[bool, Any]]]:
    """Every raw table of ``dataset`` (dlt's ``_dlt_*`` aside) as {key: (_sl_deleted, _sl_deleted_at
    as ISO seconds)}, the key being ``id`` or, for labels, ``(content_id, content_type, label_id)``;
    asserts first that no table lacks the columns, that ``_sl_deleted`` is never NULL and that only
    deleted rows have a time."""
    out: dict[str, dict[tuple[Any, ...], tuple[bool, Any]]] = {}
    with connection(parse_target(url)) as con:
        tables = [
            r[0]
            for r in con.query(
                "select table_name from information_schema.tables "
                "where table_schema = %s and table_type = 'BASE TABLE'",
                [dataset],
            )
            if not str(r[0]).startswith("_dlt_")
        ]
        assert tables, f"{dataset}: no raw tables"
        types = {
            (r[0], r[1]): str(r[2]).lower()
            for r in con.query(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_schema = %s and column_name in ('_sl_deleted', '_sl_deleted_at')",
                [dataset],
            )
        }
        for table in tables:
            name = f'{dataset}."{table}"'
            assert types.get((table, "_sl_deleted")) == "boolean", f"{name}: _sl_deleted is not a boolean column"
            assert types.get((table, "_sl_deleted_at")) == "timestamp with time zone", f"{name}: _sl_deleted_at type"
            nulls = con.query(f"select count(*) from {name} where _sl_deleted is null")[0][0]
            assert nulls == 0, f"{name}: {nulls} rows with _sl_deleted NULL"
            stray = con.query(f"select count(*) from {name} where not _sl_deleted and _sl_deleted_at is not null")
            assert stray[0][0] == 0, f"{name}: a time of deletion on rows not deleted"
            key = "content_id, content_type, label_id" if table == "labels" else "id"
            if table == "deleted_records":
                key = "object, id"
            rows = con.query(f"select {key}, _sl_deleted, _sl_deleted_at from {name}")
            out[table] = {tuple(r[:-2]): (bool(r[-2]), norm(r[-1])) for r in rows}
    return out
