"""The chunk budget (connectors/chunks.py) and the per-source counters a parallel sync shares."""

from __future__ import annotations

import threading

import pytest

from common.errors import AuthError, ConfigError
from connectors import chunks
from connectors.chunks import ChunkBudget
from connectors.stats import StatsRegistry


def test_budget_is_due_by_rows_or_when_cancelled() -> None:
    budget = ChunkBudget(rows=100, seconds=None)
    budget.begin()
    assert not budget.due(99)
    assert budget.due(100)
    budget.release(60)
    assert budget.due(40)
    budget.begin()  # a new chunk counts from zero
    assert not budget.due(40)
    budget.cancelled = True
    assert budget.due()


def test_a_stream_waits_for_the_next_chunk_only_once_the_chunk_made_progress() -> None:
    budget = ChunkBudget(rows=10, seconds=0.000001)
    budget.begin()
    assert budget.admit("tickets")  # nothing released yet: it starts whatever the clock says
    budget.release(10)
    assert not budget.admit("users")
    assert budget.more == {"users"}
    budget.begin()
    assert budget.more == set()


def test_guarded_records_a_failure_and_a_401_stops_the_source() -> None:
    def failing(exc: Exception):  # type: ignore[no-untyped-def]
        yield 1
        raise exc

    budget = ChunkBudget(rows=None, seconds=None)
    with chunks.active("toy", budget):
        assert list(chunks.guarded("toy", "a", failing(RuntimeError("boom")))) == [1]
        assert not budget.aborted
        assert list(chunks.guarded("toy", "b", failing(AuthError("401")), resumable=False)) == [1]
        assert budget.aborted
        assert set(budget.failed) == {"a", "b"}
        assert budget.whole == {"b"}
        assert list(chunks.guarded("toy", "c", iter([1]))) == []  # not started after a 401
    with pytest.raises(RuntimeError):  # outside a chunked sync: errors are raised as before
        list(chunks.guarded("toy", "a", failing(RuntimeError("boom"))))


def test_chunk_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(chunks.ENV_ROWS, raising=False)
    monkeypatch.delenv(chunks.ENV_SECONDS, raising=False)
    assert chunks.settings_from_env() == (chunks.DEFAULT_ROWS, chunks.DEFAULT_SECONDS)
    monkeypatch.setenv(chunks.ENV_ROWS, "0")
    monkeypatch.setenv(chunks.ENV_SECONDS, "90")
    assert chunks.settings_from_env() == (None, 90.0)
    monkeypatch.setenv(chunks.ENV_SECONDS, "-1")
    with pytest.raises(ConfigError, match=chunks.ENV_SECONDS):
        chunks.settings_from_env()


def test_stats_per_source_from_several_threads() -> None:
    stats = StatsRegistry()

    def count(source: str) -> None:
        for _ in range(2000):
            stats.add(source, "stream", requests=1)

    threads = [threading.Thread(target=count, args=(s,)) for s in ("zendesk", "salesforce", "confluence")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {k[0]: v.requests for k, v in stats.snapshot().items()} == {
        "zendesk": 2000,
        "salesforce": 2000,
        "confluence": 2000,
    }
    stats.reset("zendesk")
    assert stats.get("zendesk", "stream").requests == 0
    assert stats.get("salesforce", "stream").requests == 2000


def test_progress_line_shows_every_source_with_its_totals() -> None:
    from warehouse.progress import Progress

    stats = StatsRegistry()
    stats.add("zendesk", "tickets", requests=3, records=2000)
    stats.add("zendesk", "users", requests=2, records=1000)
    stats.add("salesforce", "case", requests=4, records=800, retries=1)
    stats.add("confluence", "pages", requests=1, records=50)
    line = Progress(stats=stats).line()
    assert "zendesk 3,000r/5q: tickets 2,000r/3q users 1,000r/2q" in line
    assert "salesforce 800r/4q: case 800r/4q 1↻" in line
    assert "confluence 50r/1q: pages 50r/1q" in line
