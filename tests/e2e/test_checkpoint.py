"""Checkpointed extraction: a sync commits in chunks, so an interruption loses at most the chunk
in flight and the rerun resumes from the last committed cursor; and the sources run in parallel.

Small chunks (a few thousand rows, pages of 1,000) make several chunks happen in every test."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from simulators.zendesk import ZendeskSimulator
from tests.e2e.helpers import assert_warehouse_equals_simulator, kill_sync_midway, sync_with_env
from warehouse.progress import resume_notes, summary_table
from warehouse.sql import connection
from warehouse.sync import SyncInterrupted, SyncResult, sync
from warehouse.target import parse_target

CHUNK_ROWS = 3000
TICKETS = "/api/v2/incremental/tickets/cursor.json"
FULL_PATHS = ("/api/v2/groups.json", "/api/v2/slas/policies.json")


def zendesk(seed: int = 5, n_tickets: int = 1500, **kw: float) -> ZendeskSimulator:
    sim = ZendeskSimulator(seed=seed, n_tickets=n_tickets)
    sim.export_rpm = 100_000
    for k, v in kw.items():
        setattr(sim, k, v)
    return sim


def env_of(sim: ZendeskSimulator, **extra: str) -> dict[str, str]:
    assert sim.base_url is not None
    return {
        "SOURCES__ZENDESK__BASE_URL": sim.base_url,
        "SOURCES__ZENDESK__CREDENTIALS__EMAIL": sim.email,
        "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN": sim.api_token,
        "SOURCES__ZENDESK__EXPORT_RATE_LIMIT": "100000",
        **extra,
    }


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    def set_env(values: dict[str, str]) -> None:
        for k, v in values.items():
            monkeypatch.setenv(k, v)

    return set_env


def run(url: str, sources: list[str], resources: list[str] | None = None, **kw: object) -> SyncResult:
    return sync(parse_target(url), sources, resources, **kw)  # type: ignore[arg-type]


def when(condition: Callable[[], bool], action: Callable[[], None]) -> threading.Thread:
    """Run ``action`` once ``condition()`` holds (polled in a thread)."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.002)
        action()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_chunked_sync_equals_one_chunk_and_reads_each_page_once(
    warehouse_url: str, tmp_path: Path, env: Callable[[dict[str, str]], None]
) -> None:
    """Several chunks give the same warehouse as one; streams that finished are not run again
    (the full reads are requested once), and each cut costs at most the page fetched ahead plus
    the partial page where a time export resumes."""
    one = zendesk()
    with one.serve() as base_url:
        one.base_url = base_url
        env(env_of(one))
        single = run(f"duckdb:///{tmp_path / 'one.duckdb'}", ["zendesk"], chunk_rows=0, chunk_seconds=0)
    assert single.ok
    assert single.chunks == {"zendesk": 1}
    sim = zendesk()
    with sim.serve() as base_url:
        sim.base_url = base_url
        env(env_of(sim))
        result = run(warehouse_url, ["zendesk"], chunk_rows=CHUNK_ROWS)
        assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
        assert result.chunks["zendesk"] >= 4
        assert_warehouse_equals_simulator(warehouse_url, sim)
    assert [(t.table_name, t.rows) for t in single.tables] == [(t.table_name, t.rows) for t in result.tables]
    for path in FULL_PATHS:
        assert sim.stats.requests[path] == one.stats.requests[path] == 1, path
    assert sim.stats.total <= one.stats.total + 2 * result.cuts["zendesk"]
    with connection(parse_target(warehouse_url)) as con:
        loads = con.query("select count(*) from zendesk._dlt_loads where status = 0")[0][0]
    assert loads == result.chunks["zendesk"]


def test_chunk_size_from_the_environment(
    tmp_path: Path, env: Callable[[dict[str, str]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = zendesk(n_tickets=600)
    with sim.serve() as base_url:
        sim.base_url = base_url
        env(env_of(sim))
        monkeypatch.setenv("SUPPORTLAKE_CHUNK_ROWS", "2_000")
        result = run(f"duckdb:///{tmp_path / 'env.duckdb'}", ["zendesk"])
        assert result.ok
        assert result.chunks["zendesk"] > 1
        monkeypatch.setenv("SUPPORTLAKE_CHUNK_ROWS", "many")
        from common.errors import ConfigError

        with pytest.raises(ConfigError, match="SUPPORTLAKE_CHUNK_ROWS"):
            run(f"duckdb:///{tmp_path / 'env.duckdb'}", ["zendesk"])


def test_full_refresh_in_chunks_drops_once(tmp_path: Path, env: Callable[[dict[str, str]], None]) -> None:
    """--full-refresh drops the tables and cursors with the first chunk only: the later chunks
    add to what the first one loaded."""
    url = f"duckdb:///{tmp_path / 'refresh.duckdb'}"
    sim = zendesk(n_tickets=1500)
    with sim.serve() as base_url:
        sim.base_url = base_url
        env(env_of(sim))
        first = run(url, ["zendesk"], chunk_rows=CHUNK_ROWS)
        assert first.ok
        again = run(url, ["zendesk"], full_refresh=True, chunk_rows=CHUNK_ROWS)
        assert again.ok
        assert again.chunks["zendesk"] > 2
        assert [(t.table_name, t.rows) for t in again.tables] == [(t.table_name, t.rows) for t in first.tables]
        assert_warehouse_equals_simulator(url, sim)


KILL_SEED, KILL_TICKETS = 9, 4000


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> int:
    """Requests of one uninterrupted chunked sync of the kill tests' simulator (the same seed and
    size give the same pages), run once per module rather than once per kill test."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    base = zendesk(seed=KILL_SEED, n_tickets=KILL_TICKETS)
    with base.serve() as base_url:
        base.base_url = base_url
        env = env_of(base, SUPPORTLAKE_CHUNK_ROWS=str(CHUNK_ROWS), SUPPORTLAKE_HOME=str(tmp / "home"))
        baseline = sync_with_env(f"duckdb:///{tmp / 'base.duckdb'}", env, ["zendesk"])
    assert baseline.ok
    return base.stats.total


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [0.4, 0.75, "load"])
def test_sigkill_between_chunks_rerun_redoes_at_most_the_chunk_in_flight(
    tmp_path: Path, kill_at: object, uninterrupted: int
) -> None:
    _kill_and_rerun(f"duckdb:///{tmp_path / 'kill.duckdb'}", kill_at, uninterrupted)


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkill_between_chunks_on_postgres(pg_url: str, uninterrupted: int) -> None:
    _kill_and_rerun(pg_url, 0.6, uninterrupted)


def _kill_and_rerun(url: str, kill_at: object, n0: int) -> None:
    """kill -9 part-way (by requests served, or while a chunk loads), then sync again: the
    warehouse equals the source, and the requests of both runs together exceed those of one
    uninterrupted run by at most the chunk in flight (its pages, one page fetched ahead per
    stream, a partial page where a stream resumes) and the full reads made again. Without chunks
    the rerun repeats every request the killed run made (measured: 175 requests uninterrupted in
    chunks, 178-191 killed + rerun; before checkpointing 124 uninterrupted, 173 killed at 40 %)."""
    home = Path(os.environ["SUPPORTLAKE_HOME"])
    chunk_env = {"SUPPORTLAKE_CHUNK_ROWS": str(CHUNK_ROWS)}
    sim = zendesk(seed=KILL_SEED, n_tickets=KILL_TICKETS, latency_ms=15)
    with sim.serve() as base_url:
        sim.base_url = base_url

        normalized_seen: set[str] = set()

        def reached() -> bool:
            if kill_at == "load":  # a later chunk's load: an earlier one is committed
                # Loaded packages are pruned after each chunk, so a committed chunk shows as an
                # earlier normalized package that is gone (chunks load one after the other).
                now = {p.name for p in home.glob("pipelines/*/*/load/normalized/*") if p.is_dir()}
                normalized_seen.update(now)
                return bool(now) and len(normalized_seen) >= 2
            assert isinstance(kill_at, float)
            return sim.stats.total >= int(n0 * kill_at)

        kill_sync_midway(url, env_of(sim, **chunk_env), ["zendesk"], reached)
        killed = sim.stats.total
        sim.latency_ms = 0
        os.environ.update(env_of(sim, **chunk_env))
        try:
            result = run(url, ["zendesk"])
        finally:
            for k in (*env_of(sim), *chunk_env):
                os.environ.pop(k, None)
        assert result.ok, [(t.table_name, t.error) for t in result.tables if t.error]
        assert_warehouse_equals_simulator(url, sim)
    streams = len(result.tables)
    # The chunk in flight: its pages (about CHUNK_ROWS of rows), the page each stream fetched
    # ahead, and where a stream resumes mid-way a partial page read again (at most one per
    # stream); plus the lists read whole every run (groups, ticket fields twice, SLA policies).
    in_flight = CHUNK_ROWS // 1000 + 1 + streams + streams
    full_reads = 4
    assert sim.stats.total <= n0 + in_flight + full_reads, (killed, sim.stats.total, n0)
    with connection(parse_target(url)) as con:
        statuses = {r[0] for r in con.query("select status from supportlake.supportlake_runs")}
    assert statuses == {"killed", "success"}


def test_5xx_storm_commits_what_was_read_and_the_rerun_resumes_after_it(
    warehouse_url: str, env: Callable[[dict[str, str]], None]
) -> None:
    """Retries exhausted on the tickets export after some pages: tickets fail, with the pages
    read before the storm committed; users finish; the rerun reads only what is left of the
    tickets and ends exact."""
    sim = zendesk(n_tickets=6000)
    wanted = ["tickets", "users"]
    with sim.serve() as base_url:
        sim.base_url = base_url
        env(env_of(sim, SOURCES__ZENDESK__MAX_ATTEMPTS="2"))
        storm = when(lambda: sim.stats.requests[TICKETS] >= 3, lambda: sim.inject(TICKETS, ["503"] * 100))
        first = run(warehouse_url, ["zendesk"], wanted, chunk_rows=1000)
        storm.join()
        sim._injected.clear()
        by_table = {t.table_name: t for t in first.tables}
        tickets = by_table["tickets"]
        assert tickets.status == "failed"
        assert "503" in (tickets.error or "")
        assert tickets.rows >= 1000
        assert by_table["users"].status == "success"
        notes = resume_notes(first.tables)
        assert f"zendesk.tickets: {tickets.rows:,} rows committed; the next run resumes after them" in notes
        assert "rows committed; the next run resumes after them" in summary_table(first.tables)
        with connection(parse_target(warehouse_url)) as con:
            logged = con.query("select status, rows from supportlake.supportlake_runs where table_name = 'tickets'")
        assert logged == [("failed", tickets.rows)]
        served = sim.stats.requests[TICKETS] - sim.stats.faults["503"]
        second = run(warehouse_url, ["zendesk"], wanted, chunk_rows=1000)
        assert second.ok, [(t.table_name, t.error) for t in second.tables if t.error]
        assert_warehouse_equals_simulator(warehouse_url, sim, ["tickets", "users"])
        answered = sim.stats.requests[TICKETS] - sim.stats.faults["503"]
        # Both runs together: each page once, plus the page in flight at the failure and one per cut.
        assert answered <= 6000 // 1000 + 1 + 1 + first.cuts["zendesk"] + second.cuts["zendesk"], (served, answered)


def test_server_gone_mid_run_then_back(warehouse_url: str, env: Callable[[dict[str, str]], None]) -> None:
    """The API disappears part-way: the streams fail with what they committed before; when it is
    back, the rerun ends exact."""
    sim = zendesk(n_tickets=6000)
    port = 0
    with ExitStack() as stack:
        base_url = stack.enter_context(sim.serve())
        sim.base_url = base_url
        port = int(base_url.rsplit(":", 1)[1])
        env(env_of(sim, SOURCES__ZENDESK__MAX_ATTEMPTS="2", SOURCES__ZENDESK__DEADLINE_SECONDS="5"))

        def vanish() -> None:  # connections kept alive are cut too, new ones are refused
            sim.inject("/", ["drop"] * 100_000)
            sim.stop()

        gone = when(lambda: sim.stats.requests[TICKETS] >= 3, vanish)
        first = run(warehouse_url, ["zendesk"], ["tickets", "users"], chunk_rows=1000)
        gone.join()
    assert not first.ok
    failed = [t for t in first.tables if t.status == "failed"]
    assert failed
    assert sum(t.rows for t in first.tables) > 0
    assert any("rows committed; the next run resumes after them" in n for n in resume_notes(first.tables))
    sim._injected.clear()
    with sim.serve(port=port) as base_url:
        sim.base_url = base_url
        second = run(warehouse_url, ["zendesk"], ["tickets", "users"], chunk_rows=1000)
        assert second.ok, [(t.table_name, t.error) for t in second.tables if t.error]
        assert_warehouse_equals_simulator(warehouse_url, sim, ["tickets", "users"])


def test_ctrl_c_commits_what_was_read_and_marks_the_rest_interrupted(
    tmp_path: Path, env: Callable[[dict[str, str]], None]
) -> None:
    """Ctrl-C (SIGINT to the process) mid-run: every stream stops at its next release point,
    what was read is committed, the unfinished tables are ``interrupted`` in the run log with the
    rows committed, KeyboardInterrupt is raised again; the rerun ends exact."""
    url = f"duckdb:///{tmp_path / 'int.duckdb'}"
    sim = zendesk(n_tickets=8000, latency_ms=20)
    wanted = ["tickets", "users"]
    with sim.serve() as base_url:
        sim.base_url = base_url
        env(env_of(sim))
        stop = when(lambda: sim.stats.requests[TICKETS] >= 4, lambda: os.kill(os.getpid(), signal.SIGINT))
        with pytest.raises(SyncInterrupted) as stopped:
            run(url, ["zendesk"], wanted, chunk_rows=100_000)
        stop.join()
        assert {t.table_name: t.status for t in stopped.value.result.tables}["tickets"] == "interrupted"
        assert "rows committed; the next run resumes after them" in summary_table(stopped.value.result.tables)
        with connection(parse_target(url)) as con:
            logged = dict(
                con.query("select table_name, status from supportlake.supportlake_runs where resource = 'tickets'")
            )
            (rows,) = con.query("select count(*) from zendesk.tickets")[0]
            (logged_rows,) = con.query("select rows from supportlake.supportlake_runs where table_name = 'tickets'")[0]
        assert logged["tickets"] == "interrupted"
        assert rows >= 3000  # the pages read before Ctrl-C, although the chunk was far from spent
        assert logged_rows == rows
        sim.latency_ms = 0
        again = run(url, ["zendesk"], wanted)
        assert again.ok
        assert_warehouse_equals_simulator(url, sim, wanted)


@pytest.fixture
def three(env: Callable[[dict[str, str]], None]) -> Iterator[list[object]]:
    """The three simulators, each answering every request 20 ms late."""
    from connectors import registry

    with ExitStack() as stack:
        sims = []
        values: dict[str, str] = {}
        for spec in registry.specs():
            if spec.simulator is None:
                continue
            simulator = spec.simulator.create(3, 400)
            simulator.latency_ms = 20
            url = stack.enter_context(simulator.serve())
            values.update(spec.simulator.settings(simulator, url))
            sims.append(simulator)
        env(values)
        yield sims


def _tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with connection(parse_target(url)) as con:
        for schema in ("zendesk", "salesforce", "confluence"):
            names = con.query("select table_name from information_schema.tables where table_schema = %s", [schema])
            for (name,) in names:
                if str(name).startswith("_dlt"):
                    continue
                cols = [
                    r[0]
                    for r in con.query(
                        "select column_name from information_schema.columns "
                        "where table_schema = %s and table_name = %s",
                        [schema, name],
                    )
                    if not str(r[0]).startswith("_dlt") and r[0] not in ("_sl_seq",)
                ]
                select = ", ".join(f'"{c}"' for c in sorted(cols))
                out[f"{schema}.{name}"] = sorted(con.query(f'select {select} from {schema}."{name}"'), key=repr)
    return out


def test_sources_extract_in_parallel_and_equal_the_sequential_run(three: list[object], tmp_path: Path) -> None:
    sources = ["zendesk", "salesforce", "confluence"]
    parallel = run(f"duckdb:///{tmp_path / 'par.duckdb'}", sources, chunk_rows=2000)
    assert parallel.ok, [(t.source, t.table_name, t.error) for t in parallel.tables if t.error]
    windows = parallel.extraction
    assert set(windows) == set(sources)
    latest_start = max(start for start, _ in windows.values())
    earliest_end = min(end for _, end in windows.values())
    assert latest_start < earliest_end, windows  # all three were extracting at the same time
    sequential = run(f"duckdb:///{tmp_path / 'seq.duckdb'}", sources, chunk_rows=2000, parallel=False)
    assert sequential.ok
    ends = sorted(windows for windows in sequential.extraction.values())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))  # one after the other
    assert [(t.table_name, t.rows, t.status) for t in parallel.tables] == [
        (t.table_name, t.rows, t.status) for t in sequential.tables
    ]
    assert _tables(f"duckdb:///{tmp_path / 'par.duckdb'}") == _tables(f"duckdb:///{tmp_path / 'seq.duckdb'}")
