"""Shared fixtures: an isolated supportlake home, and a real PostgreSQL database per test.

PostgreSQL tests use the server at 127.0.0.1:5432 (override with SUPPORTLAKE_TEST_PG, a DSN
without a database name). Outside CI they are skipped, with the reason, when no server answers;
with CI=true they fail instead, so CI can never silently skip them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BASE = os.environ.get("SUPPORTLAKE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pipelines and locks under the test's own folder; no ambient supportlake or dlt settings."""
    home = tmp_path / "home"
    monkeypatch.setenv("SUPPORTLAKE_HOME", str(home))
    for key in list(os.environ):
        if key.startswith(("SOURCES__", "DESTINATION__", "SUPPORTLAKE_WAREHOUSE")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    return home


@pytest.fixture(autouse=True)
def _no_rejections_carried_over() -> None:
    """The process's rejection collector starts empty: a sync resets it, but a test that runs a
    source in its own dlt pipeline would otherwise read keys another test left held (and fetch
    them by id), depending on which tests ran before it in the same worker."""
    from connectors.rejects import REJECTS

    REJECTS.reset()


def _pg_available() -> str | None:
    try:
        import psycopg2
    except ImportError:
        return "psycopg2 is not installed (install supportlake[postgres])"
    try:
        psycopg2.connect(f"{PG_BASE}/postgres", connect_timeout=3).close()
    except Exception as exc:
        return f"no PostgreSQL server answers at {PG_BASE}: {exc}".strip()
    return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards; its URL."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires PostgreSQL: {problem}")
        pytest.skip(problem)
    import psycopg2

    name = f"supportlake_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{PG_BASE}/postgres", connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'drop database if exists "{name}"')
        admin.close()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each end-to-end test runs on DuckDB and on PostgreSQL."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'wh.duckdb'}"
    return str(request.getfixturevalue("pg_url"))
