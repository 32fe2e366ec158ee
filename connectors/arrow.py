"""Pages of API records → Arrow tables, the fast load path of dlt.

Why Arrow: dlt's row-by-row normaliser costs more CPU than fetching the pages. An Arrow table per
page goes to Parquet (DuckDB) or CSV + COPY (Postgres) without a Python loop per value.

The layout is the same on every warehouse, and is what dlt's own normaliser would produce with
nesting switched off one level down:

- nested objects are flattened with ``__`` (``via.source.from.address`` → ``via__source__from__address``);
- lists (tags, custom_fields, ...) become JSON text, so no child tables and no nested types;
- declared timestamp columns become ``TIMESTAMP WITH TIME ZONE`` (UTC);
- a column's Arrow type is fixed by its first non-null page for the rest of the run, so a later
  page cannot change it; a value that does not fit is kept as text in the same column only when
  the column is text, otherwise the record is rejected with its field named. That includes the
  values Arrow's own conversions would change without a word: ``2.5`` in a whole-number column
  (→ ``2``), a boolean in a number column (→ ``1``), a number in a boolean column (→ ``true``);
- a column whose first page mixes types (``[true, 2.5]``, and ``[2.5, true]``, which Arrow alone
  would read as ``[1.0, 2.5]``) is text, each value as JSON writes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from common.coltypes import TIMESTAMP, arrow_type, dlt_type

try:
    import orjson

    def _dumps(value: Any) -> str:
        return orjson.dumps(value).decode()
except ImportError:  # pragma: no cover
    import json

    def _dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


log = logging.getLogger("supportlake.arrow")


def flatten(record: Mapping[str, Any], max_depth: int = 4) -> dict[str, Any]:
    """Flatten nested objects with ``__``; lists (and objects deeper than ``max_depth``) → JSON."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any, depth: int) -> None:
        if isinstance(value, dict):
            if depth >= max_depth:
                out[prefix] = _dumps(value)
                return
            if not value and prefix:
                out[prefix] = None
                return
            for k, v in value.items():
                walk(f"{prefix}__{k}" if prefix else str(k), v, depth + 1)
        elif isinstance(value, list | tuple):
            out[prefix] = _dumps(value)
        else:
            out[prefix] = value

    walk("", record, 0)
    return out


@dataclass
class TableBuilder:
    """Builds Arrow tables for one warehouse table across the pages of a run.

    ``columns`` declares types by name (``text``, ``bigint``, ``double``, ``bool``,
    ``timestamp``, ``json``); other columns are inferred from their first non-null page and then
    kept. ``extra`` columns (e.g. a sequence for de-duplication) are appended to every table.

    Rows may be flat or nested (as the API sent them). The fast path hands the page to Arrow
    one top-level key at a time (Arrow infers structs and lists in C++), flattens structs to ``a__b`` columns
    and turns list columns into JSON text; declared ``json`` fields are encoded first, in place,
    because their elements' types vary (Zendesk's custom field values). A page Arrow cannot infer
    (a field whose type changes from row to row) takes the per-value path, with the same result.
    """

    name: str
    columns: Mapping[str, str] = field(default_factory=dict)
    _types: dict[str, pa.DataType] = field(default_factory=dict, init=False)
    _json_keys: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        for col, kind in self.columns.items():
            self._types[col] = arrow_type(kind)
        self._json_keys = tuple(c for c, kind in self.columns.items() if kind == "json")

    def build(self, rows: Sequence[Mapping[str, Any]], extra: Mapping[str, pa.Array] | None = None) -> pa.Table:
        """The page as an Arrow table. May replace declared ``json`` fields of ``rows`` in place
        by their JSON text (the caller's records are parsed pages, not shared data)."""
        for key in self._json_keys:
            for row in rows:
                value = row.get(key)
                if isinstance(value, list | dict):
                    row[key] = _dumps(value)  # type: ignore[index]
        try:
            columns = _arrow_columns(rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            columns = None
        arrays: list[pa.Array] = []
        fields: list[pa.Field] = []
        if columns is None:  # the per-value path
            flat = [flatten(r) for r in rows]
            names: dict[str, None] = {}
            for row in flat:
                for k in row:
                    names.setdefault(k, None)
            for name in names:
                arr = self._column(name, [row.get(name) for row in flat])
                if arr is not None:
                    arrays.append(arr)
                    fields.append(pa.field(name, arr.type))
        else:
            for name, col in columns:
                arr = self._conform(name, col)
                if arr is not None:
                    arrays.append(arr)
                    fields.append(pa.field(name, arr.type))
        for name, arr in (extra or {}).items():
            arrays.append(arr)
            fields.append(pa.field(name, arr.type))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def column(self, name: str, values: list[Any]) -> pa.Array | None:
        """One column from Python values, typed as this table types ``name`` (``None`` while
        the column has no type and no value)."""
        return self._column(name, values)

    def _column(self, name: str, values: list[Any]) -> pa.Array | None:
        known = self._types.get(name)
        if known is None:
            if all(v is None for v in values):
                return None  # no type to learn yet; the column appears with its first value
            arr = _infer(values)
            self._types[name] = arr.type
            return arr
        return _as_type(values, known, self.name, name)

    def _conform(self, name: str, arr: pa.Array) -> pa.Array | None:
        """An Arrow column with this table's type for ``name`` (declared, or learnt earlier)."""
        known = self._types.get(name)
        if known is None:
            if arr.null_count == len(arr):
                return None
            arr = _normalise(arr)
            self._types[name] = arr.type
            return arr
        if arr.type == known:
            return arr
        if arr.null_count == len(arr):
            return pa.nulls(len(arr), known)
        if known == TIMESTAMP and not pa.types.is_string(arr.type):
            arr = arr.cast(pa.string())
        if pa.types.is_boolean(arr.type) != pa.types.is_boolean(known) and _numeric_or_bool(arr.type, known):
            # Arrow casts true → 1 and 2 → true without a word; the values are refused by name.
            return _as_type(arr.to_pylist(), known, self.name, name)
        try:
            return arr.cast(known)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return _as_type(arr.to_pylist(), known, self.name, name)


def _arrow_columns(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, pa.Array]]:
    """Nested rows → flat Arrow columns named ``a__b``; lists as JSON text.

    Column by column: each key's values go to Arrow on their own. Measured on the simulator's
    ticket pages this takes about half the CPU of one ``pa.array`` over the rows, whose struct
    inference looks every key of every row up again; the columns, names and types are the same
    (a key missing from a row is a null, keys in order of first appearance)."""
    out: list[tuple[str, pa.Array]] = []
    for key, values in _transposed(rows):
        arr = pa.array(values)
        if _bool_read_as_number(arr.type, values):
            raise pa.ArrowInvalid(f"{key}: booleans among numbers")  # the per-value path keeps them
        _flat(str(key), arr, out)
    return out


def _bool_read_as_number(typ: pa.DataType, values: Iterable[Any]) -> bool:
    """Whether Arrow's inference of ``typ`` from ``values`` took a boolean for a number: it reads
    ``[2.5, true]`` as doubles ``[2.5, 1.0]`` without a word (it refuses ``[true, 2.5]`` and
    ``[1, true]``), also inside objects and lists. Only the parts typed floating are looked at."""
    if not _holds_float(typ):
        return False
    if pa.types.is_floating(typ):
        return any(v is True or v is False for v in values)
    if pa.types.is_struct(typ):
        objects = [v for v in values if isinstance(v, Mapping)]
        return any(_bool_read_as_number(f.type, [o.get(f.name) for o in objects]) for f in typ)
    # a list
    return _bool_read_as_number(typ.value_type, [x for v in values if isinstance(v, list) for x in v])


def _holds_float(typ: pa.DataType) -> bool:
    if pa.types.is_floating(typ):
        return True
    if pa.types.is_struct(typ):
        return any(_holds_float(f.type) for f in typ)
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _holds_float(typ.value_type)
    return False


def _transposed(rows: Sequence[Mapping[str, Any]]) -> Iterable[tuple[Any, Sequence[Any]]]:
    """``(key, one value per row)`` for every key of ``rows``, in order of first appearance. Rows
    of one API page usually carry the same keys in the same order: those are transposed by
    ``zip`` in C; any other page key by key."""
    if not rows:
        return []
    first = tuple(rows[0])
    if all(tuple(row) == first for row in rows):
        return zip(first, zip(*[row.values() for row in rows], strict=True), strict=True)
    keys = dict.fromkeys(chain.from_iterable(rows))
    return [(key, [row.get(key) for row in rows]) for key in keys]


def _flat(name: str, arr: pa.Array | pa.ChunkedArray, out: list[tuple[str, pa.Array]]) -> None:
    """``arr`` into ``out``: a struct as its fields (``name__field``), a list as JSON text."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_struct(arr.type):
        for child, values in zip(arr.type, arr.flatten(), strict=True):
            _flat(f"{name}__{child.name}", values, out)
        return
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        arr = _list_json(arr)
    out.append((name.replace(".", "__"), arr))


def _list_json(arr: pa.Array) -> pa.Array:
    """A list column as JSON text, as :func:`_dumps` writes each list. Lists of whole numbers or
    booleans without null elements (ids, flags; most are empty) are written by Arrow itself, whose
    text of those values is JSON's; any other list goes through Python."""
    value_type = arr.type.value_type
    if pa.types.is_null(value_type) and len(pc.list_flatten(arr)) == 0:  # only empty lists: "[]"
        return pc.if_else(arr.is_valid(), pa.scalar("[]"), pa.scalar(None, pa.string()))
    simple = pa.types.is_integer(value_type) or pa.types.is_boolean(value_type) or pa.types.is_null(value_type)
    if simple and pc.list_flatten(arr).null_count == 0:
        text = pa.large_list(pa.string()) if pa.types.is_large_list(arr.type) else pa.list_(pa.string())
        joined = pc.binary_join(arr.cast(text), ",")
        return pc.binary_join_element_wise(pa.scalar("["), joined, pa.scalar("]"), "")
    return pa.array([None if v is None else _dumps(v) for v in arr.to_pylist()], pa.string())


def _normalise(arr: pa.Array) -> pa.Array:
    if pa.types.is_integer(arr.type) and arr.type != pa.int64():
        return arr.cast(pa.int64())
    if pa.types.is_floating(arr.type) and arr.type != pa.float64():
        return arr.cast(pa.float64())
    return arr


def _infer(values: list[Any]) -> pa.Array:
    try:
        arr = pa.array(values, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_text(v) for v in values], pa.string())
    if _bool_read_as_number(arr.type, values):  # [2.5, true] is as mixed as [true, 2.5]
        return pa.array([_text(v) for v in values], pa.string())
    if pa.types.is_null(arr.type):
        return pa.array(values, pa.string())
    if pa.types.is_integer(arr.type) and arr.type != pa.int64():
        return arr.cast(pa.int64())
    if pa.types.is_floating(arr.type) and arr.type != pa.float64():
        return arr.cast(pa.float64())
    return arr


def _text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return _dumps(v)
    return str(v)


def _as_type(values: list[Any], typ: pa.DataType, table: str, column: str) -> pa.Array:
    if typ == pa.string():
        return pa.array([_text(v) for v in values], pa.string())
    if typ == TIMESTAMP:
        strs = pa.array([None if v is None else str(v) for v in values], pa.string())
        try:
            return strs.cast(TIMESTAMP)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValueError(f"{table}.{column}: not an ISO 8601 timestamp ({exc})") from None
    misfit = _misfit(values, typ)
    if misfit is not None:
        raise ValueError(f"{table}.{column}: values do not fit {typ} ({misfit!r} would become another value)")
    try:
        return pa.array(values, typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        try:
            return pa.array(values).cast(typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise ValueError(f"{table}.{column}: values do not fit {typ} ({exc})") from None


def _numeric_or_bool(*types: pa.DataType) -> bool:
    return all(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) for t in types)


def _misfit(values: list[Any], typ: pa.DataType) -> Any:
    """The first value that Arrow would silently turn into *another* value of ``typ``: a
    fraction in a whole-number column (``2.5`` → ``2``), a boolean in a number column
    (``true`` → ``1``), a number in a boolean column (``2`` → ``true``); ``None`` when none (a
    null always fits).
    The record holding it is rejected with its field named, as the module's text promises."""
    integer, boolean = pa.types.is_integer(typ), pa.types.is_boolean(typ)
    if not (integer or boolean or pa.types.is_floating(typ)):
        return None
    for v in values:
        if isinstance(v, bool):
            if not boolean:
                return v
        elif isinstance(v, int | float) and (boolean or (integer and isinstance(v, float) and not v.is_integer())):
            return v
    return None


def dlt_columns(columns: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Declared column types as dlt column hints, so the columns exist even while all null."""
    return {name: {"data_type": dlt_type(kind), "nullable": True} for name, kind in columns.items()}


def sequence(start: int, n: int) -> pa.Array:
    """``start .. start+n-1`` as int64: the extraction order, used to keep the latest duplicate."""
    return pa.array(range(start, start + n), pa.int64())
