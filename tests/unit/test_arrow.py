"""Pages → Arrow tables: the fast path and the per-value path must give the same table."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from connectors.arrow import TIMESTAMP, TableBuilder, _arrow_columns, _dumps, _list_json


def test_every_rows_keys_become_columns_not_only_the_first_rows() -> None:
    rows: list[dict[str, Any]] = [{"id": 1}, {"id": 2, "name": "b", "via": {"channel": "voice"}}]
    table = TableBuilder("t").build(rows)
    assert table.column_names == ["id", "name", "via__channel"]
    assert table.to_pylist() == [
        {"id": 1, "name": None, "via__channel": None},
        {"id": 2, "name": "b", "via__channel": "voice"},
    ]


def test_nested_objects_flatten_and_lists_become_json_text() -> None:
    rows: list[dict[str, Any]] = [
        {"id": 1, "tags": ["a", "b"], "via": {"source": {"from": {"address": "x@y"}}}, "ids": [1, 2]},
        {"id": 2, "tags": [], "via": {"source": {"from": {"address": None}}}, "ids": None},
    ]
    table = TableBuilder("t", {"tags": "json"}).build(rows)
    assert table.to_pylist() == [
        {"id": 1, "tags": '["a","b"]', "via__source__from__address": "x@y", "ids": "[1,2]"},
        {"id": 2, "tags": "[]", "via__source__from__address": None, "ids": None},
    ]


def _struct_columns(rows: list[dict[str, Any]]) -> list[tuple[str, pa.Array]]:
    """Arrow's own reading of the rows: one struct over every row, flattened."""
    table = pa.Table.from_struct_array(pa.array(rows))
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return [(n.replace(".", "__"), c.combine_chunks()) for n, c in zip(table.column_names, table.columns, strict=True)]


@pytest.mark.parametrize(
    "rows",
    [
        [{"id": 1, "a": "x"}, {"id": 2, "a": None}],  # the same keys in the same order: transposed at once
        [{"id": 1, "a": "x"}, {"a": "y", "id": 2}],  # the same keys in another order
        [{"id": 1}, {"id": 2, "b": 2.5}, {"c": True, "id": 3}],  # keys only some rows carry
        [
            {"id": 1, "via": {"channel": "web", "source": {"from": {"name": "a"}}}},
            {"id": 2, "via": None},
            {"id": 3, "via": {"source": {"to": {"phone": "1"}}, "channel": "voice"}},
        ],
        [{"id": 1, "a.b": 1, "n": {"c.d": "x"}}],  # dots in keys
        [{"id": 1, "tags": ["a"], "ids": [], "none": None}, {"id": 2, "tags": None, "ids": [], "none": None}],
    ],
)
def test_the_columns_are_those_of_arrows_own_struct_reading_of_the_rows(rows: list[dict[str, Any]]) -> None:
    """Rows go to Arrow column by column (half the CPU); names, order, types and values are those
    of one struct read over every row."""
    got = _arrow_columns(rows)
    expected = [(n, _list_json(a) if pa.types.is_list(a.type) else a) for n, a in _struct_columns(rows)]
    assert [n for n, _ in got] == [n for n, _ in expected]
    for (name, arr), (_, want) in zip(got, expected, strict=True):
        assert arr.type == want.type, name
        assert arr.to_pylist() == want.to_pylist(), name


def test_values_whose_type_varies_in_one_column_are_an_arrow_error_as_in_one_struct() -> None:
    rows: list[dict[str, Any]] = [{"id": 1, "v": "text"}, {"id": 2, "v": 5}]
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        _struct_columns(rows)
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        _arrow_columns(rows)


def test_values_whose_type_varies_take_the_per_value_path_with_the_same_layout() -> None:
    rows: list[dict[str, Any]] = [{"id": 1, "v": "text"}, {"id": 2, "v": 5}]
    table = TableBuilder("t").build(rows)
    assert table.schema.field("v").type == pa.string()
    assert table.column("v").to_pylist() == ["text", "5"]


def test_declared_types_and_types_learnt_on_the_first_page_hold_for_later_pages() -> None:
    builder = TableBuilder("t", {"updated_at": "timestamp", "score": "double"})
    first = builder.build([{"id": 1, "updated_at": "2024-01-01T00:00:00Z", "score": 1, "n": 3}])
    later = builder.build([{"id": 2, "updated_at": None, "score": None, "n": None}])
    assert first.schema.field("updated_at").type == TIMESTAMP
    assert first.schema.field("score").type == pa.float64()
    assert later.schema.field("updated_at").type == TIMESTAMP
    assert later.schema.field("n").type == pa.int64()  # learnt from the first page, kept while null


def test_a_timestamp_that_is_not_one_is_an_error_naming_table_and_column() -> None:
    builder = TableBuilder("tickets", {"updated_at": "timestamp"})
    with pytest.raises(ValueError, match=r"tickets\.updated_at"):
        builder.build([{"id": 1, "updated_at": "yesterday"}])


@pytest.mark.parametrize(
    ("kinds", "first", "later", "value"),
    [
        ({}, 5, 5.5, "5.5"),  # a whole-number column learnt from the first page
        ({"n": "bigint"}, None, 2.5, "2.5"),  # a declared one
        ({"n": "bigint"}, None, True, "True"),
        ({"n": "bool"}, None, 2, "2"),
        ({"n": "bool"}, True, 0, "0"),
    ],
)
def test_a_value_arrow_would_change_is_refused_by_name_never_changed(
    kinds: dict[str, str], first: Any, later: Any, value: str
) -> None:
    """Arrow turns 2.5 into 2 in an int64 column, ``true`` into 1 and 2 into ``true`` without a
    word; the builder refuses such a value, naming table, column and value."""
    builder = TableBuilder("metrics", kinds)
    if first is not None:
        builder.build([{"id": 1, "n": first}])
    for page in ([{"id": 2, "n": later}], [{"id": 2, "n": later}, {"id": 3, "n": "x"}]):  # fast and per-value path
        with pytest.raises(ValueError, match=rf"metrics\.n: .*{value}"):
            builder.build(page)


def test_whole_numbers_written_as_floats_still_fit_a_whole_number_column() -> None:
    builder = TableBuilder("metrics", {"n": "bigint", "d": "double"})
    assert builder.build([{"id": 1, "n": 2.0, "d": 3}]).to_pylist() == [{"id": 1, "n": 2, "d": 3.0}]


@pytest.mark.parametrize(
    "lists",
    [
        [[1, 2], [], None, [-3, 2**62]],
        [[True, False], None, []],
        [[], []],
        [[], None, []],
        [[None], [None, None]],
        [[1, None]],
        [["a", 'quote " and \\ and \n'], ["é"]],
        [[1.5, 2.0]],
        [[{"id": 1}, {"id": 2, "value": None}]],
    ],
)
def test_list_columns_are_the_json_text_of_each_list(lists: list[Any]) -> None:
    """Lists Arrow writes itself (whole numbers, booleans) read exactly as the Python path writes them."""
    arr = pa.array(lists)
    for part in (arr, arr.slice(1)):
        expected = [None if v is None else _dumps(v) for v in part.to_pylist()]
        assert _list_json(part).to_pylist() == expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # a column Arrow would read as doubles: true became 1.0 without a word
        ([{"id": 1, "x": 2.5}, {"id": 2, "x": True}], ["2.5", "true"]),
        ([{"id": 1, "x": 2.5}, {"id": 2, "x": False}, {"id": 3, "x": None}], ["2.5", "false", None]),
        # the other order was always text (Arrow refuses 2.5 after a boolean)
        ([{"id": 1, "x": True}, {"id": 2, "x": 2.5}], ["true", "2.5"]),
    ],
)
def test_booleans_among_fractions_stay_booleans_as_text_on_both_paths(
    rows: list[dict[str, Any]], expected: list[Any]
) -> None:
    """A field that is sometimes a fraction and sometimes a boolean is mixed, as ``[true, 2.5]``
    is: text that keeps ``true``, never ``1.0``; the fast and the per-value path agree."""
    fast = TableBuilder("t").build([dict(r) for r in rows])
    per_value = TableBuilder("t").build([dict(r) for r in rows] + [{"id": 9, "y": {"z": 1}}, {"id": 10, "y": "w"}])
    assert fast.column("x").to_pylist() == expected
    assert per_value.column("x").to_pylist()[: len(rows)] == expected


@pytest.mark.parametrize(
    "rows",
    [
        [{"id": 1, "via": {"score": 2.5}}, {"id": 2, "via": {"score": True}}],  # inside an object
        [{"id": 1, "scores": [2.5, True]}],  # inside a list
        [{"id": 1, "scores": [{"s": 2.5}, {"s": True}]}],  # inside objects inside a list
    ],
)
def test_a_nested_boolean_among_fractions_is_never_written_as_a_number(rows: list[dict[str, Any]]) -> None:
    table = TableBuilder("t").build(rows)
    values = [v for col in table.columns for v in col.to_pylist()]
    assert 1.0 not in [v for v in values if not isinstance(v, bool) and isinstance(v, float)]
    assert not any(isinstance(v, str) and "1.0" in v for v in values)
    assert any(v is True or v == "true" or (isinstance(v, str) and "true" in v) for v in values)


def test_a_boolean_in_a_number_column_learnt_earlier_is_refused_on_the_fast_path_too() -> None:
    """The page ``[2.5, true]`` reads as doubles like the column it joins; the boolean is refused
    by name, as on its own."""
    builder = TableBuilder("metrics")
    builder.build([{"id": 1, "n": 1.5}])
    with pytest.raises(ValueError, match=r"metrics\.n: .*True"):
        builder.build([{"id": 2, "n": 2.5}, {"id": 3, "n": True}])


def test_fractions_and_booleans_in_different_fields_keep_the_fast_path() -> None:
    """Only a boolean where Arrow put a number sends a page down the per-value path."""
    rows = [{"id": 1, "via": {"score": 2.5, "ok": True}, "d": 1.5, "b": False}]
    assert _arrow_columns(rows) == _struct_columns(rows)
    table = TableBuilder("t").build(rows)
    assert table.to_pylist() == [{"id": 1, "via__score": 2.5, "via__ok": True, "d": 1.5, "b": False}]
