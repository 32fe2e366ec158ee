"""First loads by appending (connectors/firstload.py): a table the warehouse lacks is appended,
unless a key repeats in the chunk — then it merges, and the latest row of each key is the one kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pytest
import responses

from connectors import chunks
from connectors.chunks import ChunkBudget
from connectors.deletions import SourceDeletions
from connectors.endpoints import WalkContext, walk
from connectors.firstload import FirstLoads
from connectors.http import HttpClient, RetryPolicy
from connectors.stats import STATS
from connectors.writer import SEQ_COLUMN, StreamWriter
from connectors.zendesk.endpoints import BY_NAME
from warehouse.sql import connection
from warehouse.target import parse_target

BASE = "https://acme.zendesk.com"
USERS = f"{BASE}/api/v2/incremental/users/cursor.json"


@pytest.fixture(autouse=True)
def _fresh_stats() -> None:
    STATS.reset()


def ids(*values: int) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64())})


# -- the bookkeeping --------------------------------------------------------------------------


def test_an_absent_table_appends_until_a_key_repeats() -> None:
    loads = FirstLoads(["users"])
    assert loads.hint("users", ids(1, 2), ["id"], hinted=False) == "append"
    assert loads.hint("users", ids(3), ["id"], hinted=True) is None  # no new hint needed
    assert loads.appending("users")
    assert loads.hint("users", ids(4, 2), ["id"], hinted=True) == "merge"  # 2 again: this item switches
    assert not loads.appending("users")
    assert loads.hint("users", ids(5), ["id"], hinted=True) is None  # merging already
    assert loads.hint("users", ids(6), ["id"], hinted=False) == "merge"  # another writer's first item


def test_a_key_repeated_inside_one_item_merges() -> None:
    loads = FirstLoads(["users"])
    assert loads.hint("users", ids(1, 1), ["id"], hinted=False) == "merge"


def test_a_present_table_merges() -> None:
    loads = FirstLoads(["users"])
    assert loads.hint("tickets", ids(1), ["id"], hinted=False) == "merge"
    assert loads.hint("tickets", ids(2), ["id"], hinted=True) is None


def test_composite_keys_repeat_only_as_a_whole() -> None:
    loads = FirstLoads(["deleted_records"])

    def rows(*pairs: tuple[str, str]) -> pa.Table:
        return pa.table({"object": [p[0] for p in pairs], "id": [p[1] for p in pairs]})

    key = ["object", "id"]
    assert loads.hint("deleted_records", rows(("Case", "1"), ("Account", "1")), key, hinted=False) == "append"
    assert loads.hint("deleted_records", rows(("Case", "2")), key, hinted=True) is None
    assert loads.hint("deleted_records", rows(("Account", "1")), key, hinted=True) == "merge"


def test_a_missing_key_column_or_too_many_keys_merges() -> None:
    loads = FirstLoads(["users", "tickets"], max_keys=3)
    assert loads.hint("users", pa.table({"name": ["a"]}), ["id"], hinted=False) == "merge"
    assert loads.hint("tickets", ids(1, 2, 3), ["id"], hinted=False) == "append"
    assert loads.hint("tickets", ids(4), ["id"], hinted=True) == "merge"


def test_a_chunk_names_its_absent_tables_afresh() -> None:
    budget = ChunkBudget()
    assert not budget.first_loads.appending("users")  # outside a chunk nothing appends
    budget.begin(["users"])
    assert budget.first_loads.appending("users")
    budget.begin([])  # the next chunk: the table exists now
    assert not budget.first_loads.appending("users")


# -- the writer's hints -----------------------------------------------------------------------


def writer() -> Any:
    return BY_NAME["users"].writer(SourceDeletions(), source="zendesk")


def disposition(item: Any) -> str | None:
    hints = getattr(item.meta, "hints", None)
    return None if hints is None else str(hints["write_disposition"])


def test_the_writer_hints_append_without_dedup_then_merge_with_it() -> None:
    w = writer()
    with chunks.active("zendesk", ChunkBudget()) as budget:
        budget.begin(["users"])
        first = w.mark("users", ids(1, 2))
        assert disposition(first) == "append"
        assert "dedup_sort" not in first.meta.hints["columns"][SEQ_COLUMN]  # dlt warns about it on append
        assert disposition(w.mark("users", ids(3))) is None
        switch = w.mark("users", ids(2))
        assert disposition(switch) == "merge"
        assert switch.meta.hints["columns"][SEQ_COLUMN]["dedup_sort"] == "desc"


def test_outside_a_chunked_sync_the_writer_merges() -> None:
    assert disposition(writer().mark("users", ids(1))) == "merge"
    w = BY_NAME["users"].writer(SourceDeletions())  # no source named: no budget looked up
    with chunks.active("zendesk", ChunkBudget()) as budget:
        budget.begin(["users"])
        assert disposition(w.mark("users", ids(1))) == "merge"


# -- through dlt, into DuckDB and PostgreSQL --------------------------------------------------


def user(i: int, name: str) -> dict[str, Any]:
    t = f"2024-01-0{i}T00:00:00Z"
    return {"id": i, "name": name, "active": True, "created_at": t, "updated_at": t, "role": "end-user"}


def serve(pages: list[list[dict[str, Any]]]) -> None:
    for n, users in enumerate(pages):
        last = n == len(pages) - 1
        body = {
            "users": users,
            "after_cursor": f"c{n + 1}",
            "after_url": f"{USERS}?cursor=c{n + 1}",
            "end_of_stream": last,
        }
        responses.add(responses.GET, USERS, json=body)


def chunk(pipeline: dlt.Pipeline, absent: list[str]) -> None:
    client = HttpClient(BASE, name="zendesk", policy=RetryPolicy(max_attempts=1), sleep=lambda _: None)
    ctx = WalkContext(client=client, prefetch=0)

    @dlt.resource(name="users", **BY_NAME["users"].table.resource_hints())
    def users() -> Iterator[Any]:
        yield from walk(BY_NAME["users"], ctx, dlt.current.resource_state())

    with chunks.active("zendesk", ChunkBudget()) as budget:
        budget.begin(absent)
        pipeline.run(users())


def schemas(url: str) -> set[str]:
    with connection(parse_target(url)) as con:
        return {str(r[0]) for r in con.query("select schema_name from information_schema.schemata")}


def rows(url: str) -> list[tuple[Any, ...]]:
    with connection(parse_target(url)) as con:
        return [tuple(r) for r in con.query("select id, name from zendesk.users order by id")]


@responses.activate
def test_a_first_load_appends_and_the_next_merges(warehouse_url: str, tmp_path: Path) -> None:
    pipeline = dlt.pipeline(
        "first_load",
        pipelines_dir=str(tmp_path / "pl"),
        destination=parse_target(warehouse_url).destination(),
        dataset_name="zendesk",
    )
    serve([[user(1, "a"), user(2, "b")], [user(3, "c")]])
    chunk(pipeline, ["users"])
    assert rows(warehouse_url) == [(1, "a"), (2, "b"), (3, "c")]
    assert "zendesk_staging" not in schemas(warehouse_url), "an append needs no staging table"

    responses.reset()
    serve([[user(2, "b2"), user(4, "d")]])
    chunk(pipeline, [])  # the table exists now: merged on id
    assert rows(warehouse_url) == [(1, "a"), (2, "b2"), (3, "c"), (4, "d")]
    assert "zendesk_staging" in schemas(warehouse_url)


@responses.activate
def test_a_first_load_that_repeats_a_key_keeps_the_latest(
    warehouse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StreamWriter, "full", property(lambda self: self.pending_rows > 0))  # a batch per page
    pipeline = dlt.pipeline(
        "first_load",
        pipelines_dir=str(tmp_path / "pl"),
        destination=parse_target(warehouse_url).destination(),
        dataset_name="zendesk",
    )
    # user 2 changed while the export ran: it comes again on a later page, in a later batch.
    serve([[user(1, "a"), user(2, "b")], [user(3, "c")], [user(2, "b-latest")]])
    chunk(pipeline, ["users"])
    assert rows(warehouse_url) == [(1, "a"), (2, "b-latest"), (3, "c")]
