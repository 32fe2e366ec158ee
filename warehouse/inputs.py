"""``supportlake load-input KIND FILE.csv``: data that no API carries, loaded from CSV.

The kinds, their columns and their row models are in :mod:`schemas.inputs`. Loading is two steps:

1. :func:`parse_csv` reads the whole file and validates every row (UTF-8 with or without a BOM;
   header names matched case-insensitively, surrounding whitespace ignored). Every problem is
   collected with its physical line number (the header is line 1), column and reason, duplicate
   keys included; if there is any, :class:`InputError` lists them and nothing is loaded.
2. :func:`write_rows` writes the rows in one transaction: create ``inputs.<table>`` if missing,
   stage the rows in a temporary table (as column arrays, one statement per 10,000 rows), then
   delete the table's rows whose key is in the file (or every row, with ``replace``) and insert
   the file's rows. Any error rolls back: the previous table stays as it was. The write holds the
   warehouse's run lock (:mod:`warehouse.lock`), like ``sync`` and ``build``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from common.coltypes import sql_types
from common.errors import SupportlakeError, one_line
from common.secrets import redact
from schemas.inputs import INPUT_SCHEMA, KINDS, LOADER_COLUMNS, InputKind, InputRow, column_kinds, nullable
from warehouse.sql import Connection, connection, transaction
from warehouse.sql import quote_ident as _quote
from warehouse.target import Target, parse_target

log = logging.getLogger("supportlake.inputs")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2  # as in warehouse.cli

MAX_PROBLEMS_SHOWN = 20
"""An error message lists at most this many problems, then says how many more there are."""

BATCH_ROWS = 10_000
"""Rows per staging statement."""

_STAGE = "sl_input_stage"

_LOADER_DEFAULTS = {"source_file": "'sql'", "loaded_at": "(current_timestamp at time zone 'UTC')"}
"""Defaults of the loader's columns for rows users insert with SQL (the same on both engines)."""


@dataclass(frozen=True)
class Problem:
    """What is wrong with an input file: where (physical line, column) and why."""

    line: int | None
    """1-based physical line (the header is line 1); None for the file as a whole."""
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class InputError(SupportlakeError):
    """The input file cannot be loaded; ``problems`` says where and why. Nothing was loaded."""

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        self.file = file
        self.problems = tuple(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problems) == 1:
            return f"{self.file}: {self.problems[0]} (nothing was loaded)"
        shown = [f"  {p}" for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"  … and {len(self.problems) - MAX_PROBLEMS_SHOWN} more")
        return f"{self.file}: {len(self.problems)} problems, nothing was loaded:\n" + "\n".join(shown)


class WriteError(SupportlakeError):
    """The warehouse refused the write; it was rolled back, so the table is as it was."""


@dataclass(frozen=True)
class ParsedRow:
    line: int
    """Physical line where the row starts."""
    row: InputRow


@dataclass(frozen=True)
class LoadResult:
    table: str
    """``inputs.<table>``."""
    rows: int
    """Rows of the file, now in the table."""
    replaced: int
    """Rows of the table that were deleted: those sharing a key with the file, or all (``replace``)."""
    replace: bool

    def summary(self) -> str:
        """``loaded 3 rows into inputs.input_nps_responses (1 replaced, 2 new)``."""
        loaded = f"loaded {_rows(self.rows)} into {self.table}"
        if self.replace:
            return f"{loaded} (all {_rows(self.replaced, 'previous row')} replaced)"
        return f"{loaded} ({self.replaced} replaced, {self.rows - self.replaced} new)"


def _rows(n: int, noun: str = "row") -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def input_kind(name: str) -> InputKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown input kind {name!r}: use one of {', '.join(KINDS)}") from None


def describe_columns(kind: InputKind) -> str:
    """``respondent_email, account_id (optional), ...`` for messages."""
    parts = []
    for name, field in kind.model.model_fields.items():
        parts.append(name if field.is_required() else f"{name} (optional)")
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# Parsing and validation


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            file,
            [Problem(line, None, f"not UTF-8 text (byte 0x{data[exc.start]:02x}): save the file as CSV UTF-8")],
        ) from None


class _CsvError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(start line, fields) per CSV record; a quoted field may span lines. A record the csv module
    cannot read raises :class:`_CsvError` with the line where that record starts."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    end = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _CsvError(end + 1, f"not readable as CSV ({exc}): is a quote left open?") from None
        yield end + 1, record
        end = reader.line_num


def _format_error(error: Any) -> str:
    if error.get("type") == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    reason = str(error.get("msg", "invalid"))
    value = error.get("input")
    return f"{reason}, got {value!r}" if isinstance(value, str) else reason


def parse_csv(kind: InputKind | str, data: bytes, file: str) -> list[ParsedRow]:
    """Validate a whole CSV file of ``kind``; its rows, or :class:`InputError` with every problem.

    ``file`` names the file in messages.
    """
    kind = input_kind(kind) if isinstance(kind, str) else kind
    model = kind.model
    fields = model.model_fields
    text = _decode(data, file)
    records = _records(text)
    problems: list[Problem] = []

    try:
        header_line, header = next(((n, r) for n, r in records if any(c.strip() for c in r)), (0, []))
    except _CsvError as exc:
        raise InputError(file, [Problem(exc.line, None, str(exc))]) from None
    if not header:
        raise InputError(
            file, [Problem(None, None, f"the file is empty: expected a header line ({describe_columns(kind)})")]
        )

    names = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            continue  # a column without a name: tolerated while its cells are empty (checked per row)
        if name not in fields:
            hint = " (the file must be comma-separated)" if ";" in name or "\t" in name else ""
            problems.append(
                Problem(
                    header_line,
                    header[i].strip(),
                    f"unknown column{hint}; the columns of {kind.name} are {describe_columns(kind)}",
                )
            )
        elif name in columns:
            problems.append(
                Problem(header_line, name, f"appears twice in the header (fields {columns[name] + 1} and {i + 1})")
            )
        else:
            columns[name] = i
    for name, field in fields.items():
        if field.is_required() and name not in columns:
            problems.append(Problem(header_line, name, "required column missing from the header"))
    if problems:
        raise InputError(file, problems)

    required = {n for n, f in fields.items() if f.is_required() and not nullable(model, n)}
    nulls = {n for n in columns if nullable(model, n) and fields[n].is_required()}
    unnamed = [i for i, name in enumerate(names) if not name]
    rows: list[ParsedRow] = []
    seen: dict[tuple[Any, ...], int] = {}
    try:
        for line, record in records:
            if not any(c.strip() for c in record):
                continue  # blank line (or only commas)
            if len(record) != len(header):
                problems.append(Problem(line, None, f"has {len(record)} fields, the header has {len(header)}"))
                continue
            if any("\x00" in c for c in record):
                problems.append(Problem(line, None, "contains a NUL character"))
                continue
            found: list[Problem] = [
                Problem(line, f"#{i + 1}", "holds a value but has no name in the header")
                for i in unnamed
                if record[i].strip()
            ]
            values: dict[str, Any] = {}
            empty: set[str] = set()
            for name, i in columns.items():
                value = record[i].strip()
                if value:
                    values[name] = value
                elif name in required:
                    empty.add(name)
                elif name in nulls:
                    values[name] = None
                # else: an optional column left empty takes its default
            try:
                row = model.model_validate(values)
            except ValidationError as exc:
                for error in exc.errors():
                    loc = error.get("loc") or ()
                    column = str(loc[0]) if loc else None
                    if column in empty:
                        found.append(Problem(line, column, "empty; a value is required"))
                    else:
                        found.append(Problem(line, column, _format_error(error)))
            if found:
                problems.extend(found)
                continue
            key = tuple(getattr(row, k) for k in model.key)
            first = seen.setdefault(key, line)
            if first != line:
                shown = ", ".join(f"{k}={_show(v)}" for k, v in zip(model.key, key, strict=True))
                problems.append(Problem(line, ", ".join(model.key), f"duplicate key ({shown}): also on line {first}"))
                continue
            rows.append(ParsedRow(line, row))
    except _CsvError as exc:
        problems.append(Problem(exc.line, None, str(exc)))
    if problems:
        raise InputError(file, problems)
    if not rows:
        raise InputError(file, [Problem(None, None, f"the file has a header (line {header_line}) but no rows")])
    return rows


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return repr(value)


def read_input(kind: InputKind | str, path: Path) -> list[ParsedRow]:
    """Read and validate ``path``; see :func:`parse_csv`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), [Problem(None, None, "no such file")]) from None
    except IsADirectoryError:
        raise InputError(str(path), [Problem(None, None, "is a directory, not a CSV file")]) from None
    except OSError as exc:
        raise InputError(str(path), [Problem(None, None, f"cannot be read: {exc.strerror or exc}")]) from None
    return parse_csv(kind, data, str(path))


# ---------------------------------------------------------------------------------------------
# Writing


def _sql_types(con: Connection) -> dict[str, str]:
    return sql_types(con.kind)  # the runner's stand-ins use the same types


def _table_exists(con: Connection, kind: InputKind) -> bool:
    rows = con.query(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        [INPUT_SCHEMA, kind.table],
    )
    return bool(rows)


def table_ddl(kind: InputKind, engine: str) -> str:
    """``CREATE TABLE`` of the kind's table on ``engine`` (``duckdb`` or ``postgres``): the columns
    of :func:`schemas.inputs.column_kinds`, NOT NULL where the row model never gives None, the
    natural key as primary key; ``source_file`` and ``loaded_at`` default to ``'sql'`` and now, so a
    row inserted with plain SQL needs only the CSV columns."""
    types = sql_types(engine)
    cols = []
    for name, k in column_kinds(kind).items():
        not_null = name in LOADER_COLUMNS or not nullable(kind.model, name)
        default = f" DEFAULT {_LOADER_DEFAULTS[name]}" if name in _LOADER_DEFAULTS else ""
        cols.append(f"{_quote(name)} {types[k]}{' NOT NULL' if not_null else ''}{default}")
    cols.append(f"PRIMARY KEY ({', '.join(_quote(k) for k in kind.model.key)})")
    return f"CREATE TABLE {_quote(INPUT_SCHEMA)}.{_quote(kind.table)} ({', '.join(cols)})"


def _stage(con: Connection, kind: InputKind, rows: Sequence[ParsedRow]) -> None:
    """The file's rows into the temporary table, column arrays at a time (one statement per batch,
    not per row: 100,000 rows take about a second)."""
    types = _sql_types(con)
    kinds = {n: k for n, k in column_kinds(kind).items() if n not in LOADER_COLUMNS}
    ddl = ", ".join(f"{_quote(n)} {types[k]}" for n, k in kinds.items())
    con.execute(f"create temporary table {_STAGE} ({ddl})")
    insert_rows = getattr(con, "insert_rows", None)  # a dlt destination: batched VALUES (warehouse/dlt_sql.py)
    if insert_rows is not None:
        insert_rows(_STAGE, list(kinds), [tuple(getattr(p.row, n) for n in kinds) for p in rows])
        return
    if con.kind == "duckdb":
        insert = f"insert into {_STAGE} select " + ", ".join(f"unnest(%s::{types[k]}[])" for k in kinds.values())
    else:
        arrays = ", ".join(f"%s::{types[k]}[]" for k in kinds.values())
        insert = f"insert into {_STAGE} select * from unnest({arrays})"
    for start in range(0, len(rows), BATCH_ROWS):
        batch = [p.row for p in rows[start : start + BATCH_ROWS]]
        con.execute(insert, [[getattr(r, n) for r in batch] for n in kinds])


def write_rows(
    con: Connection,
    kind: InputKind,
    rows: Sequence[ParsedRow],
    *,
    source_file: str,
    replace: bool = False,
    loaded_at: dt.datetime | None = None,
    before_commit: Callable[[], None] | None = None,
) -> int:
    """Write validated rows into ``inputs.<table>`` in one transaction; the number of rows deleted
    (sharing a key with the file, or all of them with ``replace``). On error, rolls back and raises.
    ``before_commit`` runs last inside the transaction (the caller checks it still holds its lock:
    what it raises rolls the write back)."""
    table = f"{_quote(INPUT_SCHEMA)}.{_quote(kind.table)}"
    loaded = loaded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    csv_columns = [n for n in column_kinds(kind) if n not in LOADER_COLUMNS]
    names = ", ".join(_quote(n) for n in csv_columns)
    matches = " and ".join(f"s.{_quote(k)} = t.{_quote(k)}" for k in kind.model.key)
    with transaction(con):
        if not _table_exists(con, kind):
            con.execute(f"create schema if not exists {_quote(INPUT_SCHEMA)}")
            con.execute(table_ddl(kind, con.kind))
        _stage(con, kind, rows)
        if replace:
            replaced = int(con.query(f"select count(*) from {table}")[0][0])
            con.execute(f"truncate table {table}" if con.kind == "postgres" else f"delete from {table}")
        else:
            where = f"where exists (select 1 from {_STAGE} s where {matches})"
            replaced = int(con.query(f"select count(*) from {table} t {where}")[0][0])
            if replaced:
                con.execute(f"delete from {table} t {where}")
        con.execute(
            f"insert into {table} ({names}, source_file, loaded_at) select {names}, %s, %s from {_STAGE}",
            [source_file, loaded],
        )
        con.execute(f"drop table {_STAGE}")
        if before_commit is not None:
            before_commit()
    return replaced


def load_input(target: Target, kind: InputKind | str, path: Path, *, replace: bool = False) -> LoadResult:
    """Validate ``path`` as a CSV file of ``kind`` and load it into ``target`` (upsert by the
    natural key, or ``replace`` the whole table). :class:`InputError` for a bad file (nothing
    loaded), :class:`WriteError` when the warehouse refuses (rolled back: the table is as it was).

    Spark: the rows are written into the landing DuckDB file, then the input tables that changed
    are published into the catalog (:mod:`warehouse.spark_landing`); a publish that fails is
    done again by the next ``sync``."""
    from warehouse import spark_landing
    from warehouse.lock import RunLock, WarehouseBusy, verify_held

    kind = input_kind(kind) if isinstance(kind, str) else kind
    rows = read_input(kind, path)
    with RunLock(target):
        with connection(spark_landing.store_for(target)) as con:
            try:
                replaced = write_rows(
                    con, kind, rows, source_file=path.name, replace=replace, before_commit=lambda: verify_held(target)
                )
            except WarehouseBusy:  # the lock was lost while writing: rolled back, exit 75
                raise
            except Exception as exc:
                message = one_line(exc)
                raise WriteError(
                    f"could not write {kind.qualified_table} on {con.kind} (rolled back; the table is as it was): "
                    f"{message}"
                ) from exc
        if target.kind == "spark":
            try:
                spark_landing.publish(target, [INPUT_SCHEMA])
            except WarehouseBusy:
                raise
            except Exception as exc:
                message = one_line(exc)
                raise WriteError(
                    f"{kind.qualified_table} is written in the landing file, but publishing it to {target.display} "
                    f"failed (the next sync publishes it): {message}"
                ) from exc
    log.info("loaded %d rows from %s into %s", len(rows), path.name, kind.qualified_table)
    return LoadResult(table=kind.qualified_table, rows=len(rows), replaced=replaced, replace=replace)


def cmd_load_input(args: argparse.Namespace) -> int:
    """The ``load-input`` subcommand: 0 loaded, 2 a bad file (nothing loaded), 1 the warehouse refused."""
    target = parse_target(args.warehouse)
    print(f"supportlake load-input → {target.display}", file=sys.stderr)
    try:
        result = load_input(target, args.kind, Path(args.file), replace=args.replace)
    except InputError as exc:
        print(f"supportlake: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WriteError as exc:
        print(f"supportlake: load-input failed: {redact(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    print(result.summary())
    return EXIT_OK
