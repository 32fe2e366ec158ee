"""A minimal SQL connection to the warehouse for what dlt does not do: the run log, the lock,
tests and (later) the transforms. Parameters are written ``%s`` for both engines."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from common.errors import ConfigError
from warehouse.lock import busy_error
from warehouse.target import Target, connect_postgres


def quote_ident(name: str) -> str:
    """An SQL identifier in double quotes (both engines, and Hyper): names may be keywords
    (Salesforce's ``case``) or hold any character."""
    return '"' + name.replace('"', '""') + '"'


class Connection(Protocol):
    kind: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def execute_verbatim(self, sql: str) -> None: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def read_arrow(self, sql: str) -> Any: ...
    def close(self) -> None: ...


SQL_DUCKDB_DEFAULTS = {"memory_limit": "1GB"}
"""DuckDB settings of :class:`DuckDBConnection` that the warehouse URL does not set."""

BUSY_WAIT_SECONDS = 10.0
"""How long a read-write DuckDB connection keeps trying to open a file another process has open."""


SAME_FILE_OTHER_SETTINGS = "same database file with a different configuration"
"""DuckDB's error for a file this process already has open with other settings."""


class DuckDBConnection:
    """A DuckDB file, read-write (created if missing), or ``read_only`` (it must exist; other
    read-only processes may have it open at the same time, a writer may not). A file another
    process holds is retried for :data:`BUSY_WAIT_SECONDS` (read-write) then
    :class:`warehouse.lock.WarehouseBusy`; read-only fails at once.

    ``plain`` opens it without settings, as dlt does (dlt sets them once open): DuckDB lets a
    process open one file twice only with the same settings, so a lease's heartbeat opens it so
    beside a load (:mod:`warehouse.lease`). A file this process has open with other settings is
    retried too, for a heartbeat's connection to close."""

    kind = "duckdb"

    def __init__(self, target: Target, *, read_only: bool = False, plain: bool = False) -> None:
        import duckdb

        assert target.path is not None
        if read_only and not target.path.exists():
            raise ConfigError(f"no DuckDB warehouse at {target.path}: run `supportlake sync` and `build` first")
        target.path.parent.mkdir(parents=True, exist_ok=True)
        # The URL's own settings (``?memory_limit=2GB&threads=2``) hold for builds, reports and
        # inputs too. The default cap is 1GB, not the loads' 128MB (a build's joins would spill
        # needlessly) nor DuckDB's 80% of RAM: the 1M-ticket build bench peaks at ~1.2 GB RSS with
        # it in the same time as without (bench/bench_build.py).
        config: dict[str, Any] = {} if plain else {**SQL_DUCKDB_DEFAULTS, **dict(target.settings)}
        deadline = time.monotonic() + (0.0 if read_only else BUSY_WAIT_SECONDS)
        while True:
            try:
                self._con = duckdb.connect(str(target.path), read_only=read_only, config=config)
                return
            except duckdb.Error as exc:
                busy = busy_error(exc, target)
                if busy is None and not (SAME_FILE_OTHER_SETTINGS in str(exc) and not plain):
                    raise
                if time.monotonic() >= deadline:
                    if busy is None:
                        raise
                    raise busy from None
            time.sleep(0.25)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._con.execute(sql.replace("%s", "?"), list(params))

    def execute_verbatim(self, sql: str) -> None:
        """Run ``sql`` exactly as written, without parameters: ``%`` and ``%s`` in it (``LIKE
        'a%'``, ``b % 2``, ``'%sales%'``) stay literal. For SQL that is not ours, e.g. models."""
        self._con.execute(sql)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._con.execute(sql.replace("%s", "?"), list(params)).fetchall())

    def read_arrow(self, sql: str) -> Any:
        """The rows of ``sql`` (run as written, no parameters) as a ``pyarrow.Table``."""
        return self.arrow_reader(sql, 1 << 20).read_all()

    def arrow_reader(self, sql: str, batch_rows: int) -> Any:
        """The rows of ``sql`` as a ``pyarrow.RecordBatchReader`` of up to ``batch_rows`` rows a
        batch, streamed (read it to the end before the next statement on this connection)."""
        relation = self._con.sql(sql)
        if hasattr(relation, "to_arrow_reader"):  # DuckDB 1.4+
            return relation.to_arrow_reader(batch_rows)
        return relation.fetch_arrow_reader(batch_rows)  # pragma: no cover - older DuckDB

    def close(self) -> None:
        self._con.close()


class PostgresConnection:
    """A PostgreSQL session in autocommit (``transaction`` groups statements); ``read_only``
    makes it a read-only session."""

    kind = "postgres"

    def __init__(self, target: Target, *, read_only: bool = False) -> None:
        self._con = connect_postgres(target)  # a refused connection: WarehouseError (exit 2)
        self._con.autocommit = True
        if read_only:
            self._con.set_session(readonly=True, autocommit=True)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._con.cursor() as cur:
            cur.execute(sql, tuple(params))

    def execute_verbatim(self, sql: str) -> None:
        """Run ``sql`` exactly as written (see :meth:`DuckDBConnection.execute_verbatim`)."""
        with self._con.cursor() as cur:
            cur.execute(sql)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._con.cursor() as cur:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall())

    def read_arrow(self, sql: str) -> Any:
        """The rows of ``sql`` (run as written) as a ``pyarrow.Table``, its types inferred from
        the values (a column of NULLs only is of Arrow's null type)."""
        import pyarrow as pa

        with self._con.cursor() as cur:
            cur.execute(sql)
            names = [d.name for d in cur.description or ()]
            rows = cur.fetchall()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    def close(self) -> None:
        self._con.close()


def connect(target: Target, *, read_only: bool = False) -> Connection:
    """A connection to ``target``; ``read_only`` for readers (``kpis``, ``export-hyper``): on
    DuckDB several may read at once, and they hold the run lock shared meanwhile
    (:class:`warehouse.lock.RunLock`), so a writer waits for them instead of failing."""
    if target.kind == "duckdb":
        return DuckDBConnection(target, read_only=read_only)
    if target.kind == "spark":
        from warehouse.spark import SparkConnection

        return SparkConnection(target)
    if target.kind == "dlt":  # another dlt destination, through dlt's own connection
        from warehouse.dlt_sql import DltConnection

        return DltConnection(target, read_only=read_only)
    return PostgresConnection(target, read_only=read_only)


@contextmanager
def connection(target: Target, *, read_only: bool = False) -> Iterator[Connection]:
    con = connect(target, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def insert_values(
    con: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], batch: int = 500
) -> None:
    """``rows`` into ``table`` (qualified, as written), ``batch`` rows per ``insert … values``
    statement: any engine, through the connection's own parameter binding."""
    names = ", ".join(quote_ident(c) for c in columns)
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        values = ", ".join([row] * len(chunk))
        con.execute(f"insert into {table} ({names}) values {values}", [v for r in chunk for v in r])


@contextmanager
def transaction(con: Connection) -> Iterator[None]:
    """``begin`` … ``commit``; on any error (even KeyboardInterrupt) ``rollback`` and re-raise, so the
    warehouse is as it was. A rollback that fails itself (the connection died) is only logged: the
    server rolls back when the connection closes, and the original error is the one worth seeing.

    An engine without transactions (Spark: ``con.transactional`` is False) runs the block statement
    by statement: what ran before an error stays done."""
    if not getattr(con, "transactional", True):
        yield
        return
    con.execute("begin")
    try:
        yield
    except BaseException:
        try:
            con.execute("rollback")
        except Exception:
            logging.getLogger(__name__).debug("rollback failed", exc_info=True)
        raise
    con.execute("commit")
