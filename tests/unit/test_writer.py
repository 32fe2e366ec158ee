"""The shared stream writer, the incremental modes as data, prefetching pages, the column-type table."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pyarrow as pa
import pytest
import responses
from dlt.extract.items import TableNameMeta

from common.coltypes import COLUMN_TYPES, PAYLOAD_KINDS, TABLE_KINDS, arrow_type, dlt_type, hyper_types, sql_types
from common.dates import epoch, parse_start_date, parse_time
from common.errors import ConfigError, NotAvailableError
from connectors.deletions import DELETED, DELETED_AT, Deletion, RecordDeleted, SourceDeletions
from connectors.endpoints import Endpoint, WalkContext, walk
from connectors.http import HttpClient, RetryPolicy
from connectors.incremental import MODES, window_start
from connectors.paginators import ZendeskCursorExportPaginator
from connectors.prefetch import gc_paused
from connectors.stats import STATS
from connectors.writer import SEQ_COLUMN, StreamWriter
from connectors.zendesk.endpoints import BY_NAME
from schemas.payload import column_types

BASE = "https://acme.zendesk.com"
USERS = f"{BASE}/api/v2/incremental/users/cursor.json"


@pytest.fixture(autouse=True)
def _fresh_stats() -> None:
    STATS.reset()


def client() -> HttpClient:
    return HttpClient(BASE, name="zendesk", policy=RetryPolicy(max_attempts=1), sleep=lambda _: None)


def user(i: int, *, active: bool = True) -> dict[str, Any]:
    t = f"2024-01-0{i}T00:00:00Z"
    return {"id": i, "name": f"u{i}", "active": active, "created_at": t, "updated_at": t, "role": "end-user"}


def export_page(users: list[dict[str, Any]], cursor: str, *, last: bool) -> dict[str, Any]:
    return {"users": users, "after_cursor": cursor, "after_url": f"{USERS}?cursor={cursor}", "end_of_stream": last}


# -- the writer -------------------------------------------------------------------------------


def users_writer() -> StreamWriter:
    deletions = SourceDeletions(
        tables={"users": Deletion(record=RecordDeleted(column="active", values=(False,), at=("updated_at",)))}
    )
    return BY_NAME["users"].writer(deletions)


def test_writer_numbers_rows_across_pages_and_flags_deletions() -> None:
    writer = users_writer()
    first = writer.build("users", [user(1), user(2, active=False)])
    second = writer.build("users", [user(3)])
    assert first.column(SEQ_COLUMN).to_pylist() == [0, 1]
    assert second.column(SEQ_COLUMN).to_pylist() == [2]
    assert first.column(DELETED).to_pylist() == [False, True]
    assert first.column(DELETED_AT).to_pylist()[0] is None
    assert first.column(DELETED_AT).type == arrow_type("timestamp")
    assert first.column_names[-3:] == [SEQ_COLUMN, DELETED, DELETED_AT]


def test_writer_hints_the_first_item_of_each_table_only() -> None:
    writer = users_writer()
    writer.add("users", writer.build("users", [user(1)]))
    writer.add("users", writer.build("users", [user(2)]))
    (item,) = list(writer.drain())
    assert item.meta.create_table_variant
    assert item.meta.hints["columns"][SEQ_COLUMN]["dedup_sort"] == "desc"
    assert item.meta.hints["columns"][DELETED]["data_type"] == "bool"
    assert item.data.num_rows == 2  # the batch is one item
    writer.add("users", writer.build("users", [user(3)]))
    (later,) = list(writer.drain())
    assert isinstance(later.meta, TableNameMeta)  # named, not hinted again
    assert later.meta.table_name == "users"
    assert later.data.column(SEQ_COLUMN).to_pylist() == [2]


def test_writer_counts_rejections_and_keeps_the_rest() -> None:
    writer = users_writer()
    good = writer.validate("users", [user(1), {"name": "no id"}, "not an object"])
    assert [r["id"] for r in good] == [1]
    assert writer.rejected == 2


def test_a_fraction_in_a_whole_number_column_rejects_its_record_not_its_page() -> None:
    """A column learnt as whole numbers on one page, then a fraction on the next: that record is
    rejected with field and value named (Arrow alone would load 2 for 2.5); the rest load."""
    writer = users_writer()
    writer.build("users", [{**user(1), "logins": 3}])
    page = [{**user(2), "logins": 4}, {**user(3), "logins": 2.5}, {**user(4), "logins": None}]
    table = writer.build("users", writer.validate("users", page))
    assert table.column("id").to_pylist() == [2, 4]
    assert table.column("logins").to_pylist() == [4, None]
    (rejection,) = writer.rejections()
    assert rejection.record_id == 3
    assert "users.logins: value 2.5" in rejection.problems


# -- prefetching ------------------------------------------------------------------------------


def test_prefetch_makes_the_same_requests_and_raises_in_order() -> None:
    def run(prefetch: int) -> tuple[list[str], int, type[BaseException] | None]:
        got: list[str] = []
        error: type[BaseException] | None = None
        with responses.RequestsMock() as rsps:
            rsps.get(USERS, json=export_page([user(1)], "c1", last=False))
            rsps.get(USERS, json=export_page([user(2)], "c2", last=False))
            rsps.get(USERS, status=404, json={"error": "gone"})
            try:
                for page in client().paginate(
                    USERS, endpoint="users", paginator=ZendeskCursorExportPaginator(), prefetch=prefetch
                ):
                    got.append(page.data["after_cursor"])
            except NotAvailableError as exc:
                error = type(exc)
            return got, len(rsps.calls), error

    assert run(prefetch=1) == run(prefetch=0) == (["c1", "c2"], 3, NotAvailableError)


def test_prefetch_stops_its_thread_when_the_reader_stops() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for i in range(1, 6):
            rsps.get(USERS, json=export_page([user(1)], f"c{i}", last=i == 5))
        pages = client().paginate(USERS, endpoint="users", paginator=ZendeskCursorExportPaginator(), prefetch=1)
        assert next(pages).data["after_cursor"] == "c1"
        pages.close()  # type: ignore[attr-defined]
        assert not [t for t in threading.enumerate() if t.name.startswith("prefetch zendesk.users")]
        assert len(rsps.calls) < 5


def test_walk_stores_the_cursor_of_the_last_page_loaded_not_of_a_page_fetched_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a page fetched ahead, the paginator already stands after it when a batch is released:
    the state must take the released page's cursor (a crash would otherwise skip the next page)."""
    endpoint: Endpoint = BY_NAME["users"]
    original = Endpoint.writer

    def one_page_batches(self: Endpoint, *args: Any, **kwargs: Any) -> StreamWriter:
        writer = original(self, *args, **kwargs)
        writer.batch_rows = 1  # release every page
        return writer

    monkeypatch.setattr(Endpoint, "writer", one_page_batches)
    state: dict[str, Any] = {}
    cursors: list[str | None] = []
    with responses.RequestsMock() as rsps:
        rsps.get(USERS, json=export_page([user(1)], "c1", last=False))
        rsps.get(USERS, json=export_page([user(2)], "c2", last=False))
        rsps.get(USERS, json=export_page([user(3)], "c3", last=True))
        for _ in walk(endpoint, WalkContext(client=client(), prefetch=1), state):
            cursors.append(state.get("cursor"))  # as dlt would commit it with this item
    # each item is yielded before the state moves past it
    assert cursors == [None, "c1", "c2"]
    assert state["cursor"] == "c3"


def test_gc_pauses_overlap_and_restore_the_collector_once() -> None:
    assert gc.isenabled()
    a, b = gc_paused(), gc_paused()
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)  # the first pause ends first (interleaved resources)
    assert not gc.isenabled()
    b.__exit__(None, None, None)
    assert gc.isenabled()


# -- incremental modes as data ------------------------------------------------------------------


class _Position:
    def __init__(self, after_cursor: str | None = None, end_time: int | None = None) -> None:
        self.after_cursor = after_cursor
        self.end_time = end_time


@pytest.mark.parametrize(
    ("mode", "state", "params"),
    [
        ("cursor_export", {}, {"start_time": 100}),
        ("cursor_export", {"cursor": "abc"}, {"cursor": "abc"}),
        ("start_time", {"start_time": 50}, {"start_time": 100}),
        ("start_time", {"start_time": 500}, {"start_time": 500}),
        ("full", {"cursor": "ignored"}, {}),
        ("newest_first", {}, {}),
    ],
)
def test_mode_parameters(mode: str, state: dict[str, Any], params: dict[str, Any]) -> None:
    assert MODES[mode].params(state, start_time=100) == params


def test_modes_keep_what_they_declare() -> None:
    state: dict[str, Any] = {}
    MODES["start_time"].advance(state, _Position(end_time=1_000), "2024-01-01T00:00:00Z", overlap_seconds=1)
    assert state == {"start_time": 1_000 - 1}  # never past the page's end_time
    state = {}
    MODES["cursor_export"].advance(state, _Position("c1"), 1_704_067_200, overlap_seconds=1)
    assert state == {"cursor": "c1"}


def test_window_start_is_the_watermark_minus_the_overlap_never_before_start() -> None:
    d = parse_time
    assert window_start(None, None, 5) is None
    assert window_start(None, d("2024-01-01"), 5) == d("2024-01-01")
    assert window_start(10, None, 3) == 7
    assert window_start(10, 8, 3) == 8


# -- dates and column types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-01-31", 1706659200), ("1706659200", 1706659200), (1706659200, 1706659200), ("1960-01-01", 0), (None, 0)],
)
def test_one_start_date_parser(value: Any, expected: int) -> None:
    assert epoch(parse_start_date(value, "SOURCES__X__START_DATE")) == expected


def test_start_date_error_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="SOURCES__X__START_DATE"):
        parse_start_date("last tuesday", "SOURCES__X__START_DATE")


def test_every_declared_kind_has_every_name() -> None:
    kinds = {k for model_kinds in (PAYLOAD_KINDS, TABLE_KINDS) for k in model_kinds.values()}
    kinds |= {k for k in column_types(BY_NAME["tickets"].table.model).values()}
    assert kinds <= set(COLUMN_TYPES)
    for engine in ("duckdb", "postgres"):
        assert set(sql_types(engine)) == set(COLUMN_TYPES)
    for kind in COLUMN_TYPES:
        assert isinstance(arrow_type(kind), pa.DataType)
        assert dlt_type(kind) in {"text", "bigint", "double", "bool", "timestamp", "date"}
    # Extracts take wall-clock times only: an instant (with a zone) is not exported as is.
    assert "timestamp with time zone" not in hyper_types()
    assert hyper_types()["timestamp without time zone"] == "timestamp"
