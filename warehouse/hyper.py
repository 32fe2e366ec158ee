"""Tableau extracts: every table of a warehouse schema (default ``marts``) as a ``.hyper`` file.

``supportlake export-hyper --out DIR`` writes ``DIR/<table>.hyper`` per table with Tableau's own
Hyper API (the optional extra ``supportlake[tableau]``, imported only here). Each file holds one
table, ``"Extract"."<table>"`` (``Extract`` is the schema Tableau itself writes extracts into).

How a table travels, never row by row:

1. the warehouse writes the table to a temporary file in one statement — DuckDB
   ``COPY (SELECT …) TO 'x.parquet' (FORMAT PARQUET)``; PostgreSQL ``COPY (SELECT …) TO STDOUT
   WITH (FORMAT csv, HEADER, NULL '')`` streamed to disk by psycopg2's ``copy_expert``; Spark
   (any engine whose connection has ``read_arrow``) reads the table as Arrow through its
   connection and pyarrow writes it as Parquet;
2. Hyper creates the table from the warehouse's column types and loads the file with one
   ``COPY "Extract"."<table>" FROM '<file>' WITH (FORMAT …)``: Hyper parses the file itself, in
   parallel, with no Python per row (the Inserter would convert every value in Python).

NULLs survive both ways. Parquet carries them natively. PostgreSQL's CSV writes NULL as an
unquoted empty field and an empty string as ``""``; Hyper reads CSV with the same rule when told
``NULL ''`` (both sides say so explicitly), so ``NULL`` and ``''`` stay distinct, and a string
``'NULL'`` or ``'\\N'`` stays a string.

Types are mapped, never cast: DATE, TIMESTAMP (without time zone), DOUBLE, BIGINT, INTEGER,
BOOLEAN and VARCHAR/TEXT (:data:`HYPER_TYPES`). Any other type stops the export before a file
is written, naming the table and the column, so a model is fixed instead of an extract silently
differing from the warehouse.

Each extract is built as ``DIR/<table>.hyper.tmp-<host>-<pid>-<random>``, flushed to disk, given
the mode the user's umask says (Hyper itself creates files ``0640``), then renamed over
``DIR/<table>.hyper`` (``os.replace``): a Tableau that has the old file open never sees half a
file. The temporary Parquet/CSV files (in ``DIR/.supportlake-export-<host>-<pid>-…/``) and a
half-built extract are deleted on any failure; what a killed export left behind is deleted at
the start of the next export (:func:`remove_leftovers`), except the files of an export still
running (its process is alive, or it runs on another machine). One Hyper process serves the
whole export.

The export is a reader: on DuckDB it holds the run lock shared and opens the file read-only
(:mod:`warehouse.lock`), so a sync or build running meanwhile makes it stop at once (exit 75)
and one starting meanwhile waits for it. On PostgreSQL every table is read in one REPEATABLE
READ transaction, so the extracts form one consistent snapshot even while ``supportlake build``
publishes a new build.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from common.coltypes import COLUMN_TYPES, hyper_types
from common.errors import SupportlakeError
from warehouse.sql import quote_ident as _quote
from warehouse.target import Target, connect_postgres, home, parse_target

INSTALL_HINT = "Tableau extracts need Tableau's Hyper API: pip install 'supportlake[tableau]'"
EXTRACT_SCHEMA = "Extract"
DEFAULT_SCHEMA = "marts"
SKIPPED_SUFFIX = "__sl_new"  # transforms.graph.RESERVED_SUFFIX: a model being built, not a table yet

WORK_PREFIX = ".supportlake-export-"
"""The export's working folder in ``--out``: ``.supportlake-export-<host>-<pid>-<random>``."""
PARTIAL_MARK = ".hyper.tmp-"
"""An extract being written: ``<table>.hyper.tmp-<host>-<pid>-<random>``."""
_OWNER = re.compile(r"^([0-9a-f]{8})-(\d+)-")

log = logging.getLogger("supportlake.hyper")

# The command's exit codes, as in warehouse.cli: 0 success, 1 an export failed, 2 bad usage.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

HYPER_TYPES: dict[str, str] = hyper_types()
"""The Tableau-ready warehouse types and the Hyper type each becomes; nothing else is exported:
``information_schema.columns.data_type`` (lower case; DuckDB's and PostgreSQL's spellings) → the
``tableauhyperapi.SqlType`` factory, from :data:`common.coltypes.COLUMN_TYPES`."""

ARROW_TYPES = {t.hyper: t.arrow for t in COLUMN_TYPES.values() if t.hyper is not None}
"""Hyper type → the Arrow type its Parquet column is written as (:class:`ArrowReader`)."""


class HyperExportError(SupportlakeError):
    """The export cannot start (exit code 2): the extra is missing, the schema has no tables, a
    column has a type extracts do not take, or the warehouse is not there. Nothing was written."""


class HyperApiMissing(HyperExportError):
    """``tableauhyperapi`` is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


class HyperExportFailed(SupportlakeError):
    """Exporting one table failed (exit code 1); its previous ``.hyper`` file, if any, is untouched."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # as the warehouse reports it
    hyper_type: str  # a key of tableauhyperapi.SqlType, from HYPER_TYPES
    nullable: bool


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class HyperExport:
    """One written extract."""

    table: str  # schema.table in the warehouse
    path: Path
    rows: int
    seconds: float
    bytes: int


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def import_hyper() -> Any:
    """The ``tableauhyperapi`` module, or :class:`HyperApiMissing`."""
    try:
        import tableauhyperapi
    except ImportError as exc:
        raise HyperApiMissing() from exc
    return tableauhyperapi


# --------------------------------------------------------------------------- reading the warehouse


class _Reader(Protocol):
    kind: str
    data_format: str  # the Hyper COPY format of the files dump() writes

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def dump(self, table: Table, path: Path) -> None: ...


class _DuckDBReader:
    """DuckDB through :mod:`warehouse.sql`; tables leave as Parquet (typed, NULLs native)."""

    kind = "duckdb"
    data_format = "parquet"
    suffix = ".parquet"

    def __init__(self, con: Any) -> None:
        self._con = con

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._con.query(sql, params))

    def dump(self, table: Table, path: Path) -> None:
        cols = ", ".join(_quote(c.name) for c in table.columns)
        source = f"{_quote(table.schema)}.{_quote(table.name)}"
        self._con.execute_verbatim(f"COPY (SELECT {cols} FROM {source}) TO {_literal(str(path))} (FORMAT PARQUET)")


class ArrowReader:
    """Any connection of :mod:`warehouse.sql` with ``read_arrow`` (Spark; a dlt destination through
    :class:`warehouse.dlt_hyper.DltReader`): each table read as Arrow and written as Parquet, every
    column cast to the Arrow type of its Hyper type. A driver types a column from its values, so
    one holding only NULLs comes as Arrow's null type, NUMERIC as decimal, a timestamp in the
    session's zone: the cast makes the file what Hyper's COPY expects on every engine."""

    data_format = "parquet"
    suffix = ".parquet"

    def __init__(self, con: Any) -> None:
        self._con = con
        self.kind = str(con.kind)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._con.query(sql, params))

    def dump(self, table: Table, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = ", ".join(_quote(c.name) for c in table.columns)
        data = self._con.read_arrow(f"SELECT {cols} FROM {_quote(table.schema)}.{_quote(table.name)}")
        schema = pa.schema([(c.name, ARROW_TYPES[c.hyper_type]) for c in table.columns])
        pq.write_table(data.cast(schema), str(path))


class _PostgresReader:
    """PostgreSQL through psycopg2 directly: ``COPY … TO STDOUT`` needs ``copy_expert``, which
    :class:`warehouse.sql.Connection` does not offer, and the catalog queries must run in the same
    snapshot as the copies. Tables leave as CSV: NULL is an unquoted empty field, '' is ``""``."""

    kind = "postgres"
    data_format = "csv"
    suffix = ".csv"

    def __init__(self, con: Any) -> None:
        self._con = con

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._con.cursor() as cur:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall())

    def dump(self, table: Table, path: Path) -> None:
        cols = ", ".join(_quote(c.name) for c in table.columns)
        source = f"{_quote(table.schema)}.{_quote(table.name)}"
        sql = f"COPY (SELECT {cols} FROM {source}) TO STDOUT WITH (FORMAT csv, HEADER true, NULL '')"
        with self._con.cursor() as cur, open(path, "wb") as out:  # bytes as the server sends them: UTF-8
            cur.copy_expert(sql, out, size=1 << 20)


@contextmanager
def _reader(target: Target) -> Iterator[_Reader]:
    if target.kind == "dlt":  # another dlt destination: through dlt's own connection
        from warehouse.dlt_hyper import reader

        with reader(target) as dlt_reader:
            yield dlt_reader
        return
    if target.kind == "duckdb":
        assert target.path is not None
        if not target.path.exists():  # warehouse.sql would create an empty database file
            raise HyperExportError(f"no DuckDB warehouse at {target.path}: run `supportlake sync` and `build` first")
        from warehouse.lock import RunLock, WarehouseBusy, busy_error
        from warehouse.sql import connect

        # A reader: the run lock shared and the file read-only, so a sync or build running now
        # stops this export at once (WarehouseBusy, exit 75) and one starting meanwhile waits.
        with RunLock(target, shared=True):
            try:
                con = connect(target, read_only=True)
            except WarehouseBusy:
                raise
            except Exception as exc:
                raise busy_error(exc, target) or HyperExportFailed(f"cannot open {target.display}: {exc}") from exc
            try:
                yield _DuckDBReader(con)
            finally:
                con.close()
        return
    if target.kind == "spark":
        from warehouse.lock import RunLock
        from warehouse.sql import connection

        # Spark's tables have no snapshot across statements: the shared lock keeps a sync or build
        # started on this machine out while the export reads.
        with RunLock(target, shared=True), connection(target, read_only=True) as spark:
            yield ArrowReader(spark)
        return
    pg = connect_postgres(target)  # refused, or no driver: WarehouseError, a configuration error (exit 2)
    try:
        pg.set_session(isolation_level="REPEATABLE READ", readonly=True)
        pg.set_client_encoding("UTF8")
        with pg.cursor() as cur:
            # The text forms Hyper's CSV reader takes; shortest exact doubles (PostgreSQL < 12: all digits).
            cur.execute("SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3")
        yield _PostgresReader(pg)
    finally:
        pg.close()  # read only: nothing to commit; closing ends the transaction


def describe_schema(reader: _Reader, schema: str, target: Target | None = None) -> list[Table]:
    """The base tables of ``schema`` with their columns, mapped to Hyper types.

    Raises :class:`HyperExportError` when the schema is missing or empty, or when any column of
    any table has a type outside :data:`HYPER_TYPES` (every such column is named)."""
    where = f" in {target.display}" if target is not None else ""
    names = [
        str(r[0])
        for r in reader.query(
            "select table_name from information_schema.tables where table_schema = %s "
            "and table_type = 'BASE TABLE' order by table_name",
            (schema,),
        )
        if not str(r[0]).endswith(SKIPPED_SUFFIX)
    ]
    if not names:
        exists = reader.query("select 1 from information_schema.schemata where schema_name = %s", (schema,))
        if not exists:
            raise HyperExportError(
                f"no schema {schema!r}{where}: run `supportlake build` first, or name one with --schema"
            )
        raise HyperExportError(f"schema {schema!r}{where} has no tables to export")
    rows = reader.query(
        "select table_name, column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = %s order by table_name, ordinal_position",
        (schema,),
    )
    columns: dict[str, list[Column]] = {n: [] for n in names}
    problems: list[str] = []
    for table_name, column_name, data_type, is_nullable in rows:
        if table_name not in columns:
            continue
        kind = HYPER_TYPES.get(str(data_type).lower())
        if kind is None:
            problems.append(f"{schema}.{table_name}.{column_name} is {data_type}")
            continue
        columns[table_name].append(Column(str(column_name), str(data_type), kind, str(is_nullable).upper() != "NO"))
    if problems:
        raise HyperExportError(
            "these columns have types a Tableau extract does not take as they are: "
            + "; ".join(problems)
            + ". Cast them in the model to DATE, TIMESTAMP (without time zone), DOUBLE, BIGINT, INTEGER, "
            "BOOLEAN or VARCHAR"
        )
    for name in names:
        if not columns[name]:
            raise HyperExportError(f"table {schema}.{name} has no columns")
        unsafe = not name or name in {".", ".."} or any(ch in name for ch in "/\\\0")
        if unsafe:
            raise HyperExportError(f"table {schema}.{name!r}: its name cannot be a file name")
    return [Table(schema, n, tuple(columns[n])) for n in names]


# --------------------------------------------------------------------------- writing the extracts


def _table_definition(hyper: Any, table: Table) -> Any:
    return hyper.TableDefinition(
        hyper.TableName(EXTRACT_SCHEMA, table.name),
        [
            hyper.TableDefinition.Column(
                c.name,
                getattr(hyper.SqlType, c.hyper_type)(),
                hyper.NULLABLE if c.nullable else hyper.NOT_NULLABLE,
            )
            for c in table.columns
        ],
    )


def _copy_options(data_format: str) -> str:
    if data_format == "csv":
        return "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULL ''"
    return "FORMAT parquet"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _owner_tag() -> str:
    """``<host>-<pid>``: whose temporary files these are (the host as 8 hex digits)."""
    return f"{hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]}-{os.getpid()}"


def _owner_alive(tag: str) -> bool:
    """Whether the export that named a file ``…<host>-<pid>-…`` may still be running: a live
    process on this machine, or any process on another one (it cannot be asked). Files named
    otherwise (older versions) belong to no live export."""
    m = _OWNER.match(tag)
    if m is None:
        return False
    host, pid = m.group(1), int(m.group(2))
    if host != _owner_tag().split("-", 1)[0]:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Delete what killed exports left in ``out_dir`` (working folders, half-written extracts),
    sparing those of exports still running; the paths deleted."""
    removed: list[Path] = []
    for path in sorted(out_dir.iterdir()):
        if path.name.startswith(WORK_PREFIX) and path.is_dir() and not path.is_symlink():
            tag = path.name[len(WORK_PREFIX) :]
            if not _owner_alive(tag):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        elif PARTIAL_MARK in path.name and path.is_file():
            tag = path.name.rsplit(PARTIAL_MARK, 1)[1]
            if not _owner_alive(tag):
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        log.warning("removed %d file(s) a killed export left in %s", len(removed), out_dir)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _export_table(
    hyper: Any, endpoint: Any, reader: _Reader, table: Table, out_dir: Path, work: Path, mode: int = 0o644
) -> HyperExport:
    started = time.monotonic()
    final = out_dir / f"{table.name}.hyper"
    partial = out_dir / f"{table.name}{PARTIAL_MARK}{_owner_tag()}-{uuid.uuid4().hex[:12]}"
    data = work / f"{uuid.uuid4().hex}.{reader.data_format}"
    try:
        reader.dump(table, data)
        definition = _table_definition(hyper, table)
        with hyper.Connection(endpoint, str(partial), hyper.CreateMode.CREATE_AND_REPLACE) as con:
            con.catalog.create_schema(hyper.SchemaName(EXTRACT_SCHEMA))
            con.catalog.create_table(definition)
            rows = int(
                con.execute_command(
                    f"COPY {definition.table_name} FROM {hyper.escape_string_literal(str(data))} "
                    f"WITH ({_copy_options(reader.data_format)})"
                )
            )
        _fsync(partial)
        os.chmod(partial, mode)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        data.unlink(missing_ok=True)
    return HyperExport(table.qualified, final, rows, time.monotonic() - started, final.stat().st_size)


def export_hyper(
    target: Target,
    out_dir: Path | str,
    schema: str = DEFAULT_SCHEMA,
    *,
    on_result: Callable[[HyperExport], None] | None = None,
) -> list[HyperExport]:
    """Write every base table of ``schema`` as ``out_dir/<table>.hyper``; one result per table.

    Raises :class:`HyperExportError` before writing anything when the export cannot start, and
    :class:`HyperExportFailed` naming the table when one fails (the extracts written before it
    stay; the failed table's previous extract is untouched); :class:`warehouse.lock.WarehouseBusy`
    when a sync or build is writing the DuckDB file. First deletes what killed exports left in
    ``out_dir`` (:func:`remove_leftovers`). Extracts get mode ``0666`` less the umask."""
    hyper = import_hyper()
    out = Path(out_dir).expanduser().resolve()
    results: list[HyperExport] = []
    with _reader(target) as reader:
        tables = describe_schema(reader, schema, target)
        out.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out)
        mode = 0o666 & ~_umask()
        logs = home() / "hyper"
        logs.mkdir(parents=True, exist_ok=True)
        parameters = {"log_dir": str(logs), "log_file_max_count": "2", "log_file_size_limit": "10M"}
        with (
            tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{_owner_tag()}-", dir=out) as work,
            hyper.HyperProcess(hyper.Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters=parameters) as process,
        ):
            for table in tables:
                try:
                    result = _export_table(hyper, process.endpoint, reader, table, out, Path(work), mode)
                except (hyper.HyperException, OSError) as exc:
                    raise HyperExportFailed(f"{table.qualified}: {exc}") from exc
                except Exception as exc:  # the warehouse driver's own errors (duckdb, psycopg2)
                    raise HyperExportFailed(f"{table.qualified}: {type(exc).__name__}: {exc}") from exc
                results.append(result)
                if on_result is not None:
                    on_result(result)
    return results


# --------------------------------------------------------------------------- the command


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def summary_line(r: HyperExport) -> str:
    return f"{r.table:<40} {r.rows:>12,} rows {r.seconds:>7.2f}s {_size(r.bytes):>10}  {r.path}"


def cmd_export_hyper(warehouse: str | None, out_dir: str, schema: str = DEFAULT_SCHEMA) -> int:
    """``supportlake export-hyper``: the extracts, a line per table, an exit code."""
    try:
        import_hyper()  # before touching the warehouse: the commonest problem, with its fix
        target = parse_target(warehouse)
        print(f"supportlake export-hyper {target.display} ({schema}) → {out_dir}", file=sys.stderr)
        started = time.monotonic()
        results = export_hyper(target, out_dir, schema, on_result=lambda r: print(summary_line(r), flush=True))
    except HyperExportError as exc:
        print(f"supportlake: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HyperExportFailed as exc:
        print(f"supportlake: export failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    total = sum(r.rows for r in results)
    print(f"\n{len(results)} extract(s), {total:,} rows in {time.monotonic() - started:.1f}s")
    return EXIT_OK
