"""A minimal SQL connection to the warehouse for what dlt does not do: the run log, the lock,
tests and (later) the transforms. Parameters are written ``%s`` for both engines."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from warehouse.target import Target


def quote_ident(name: str) -> str:
    """An SQL identifier in double quotes (both engines, and Hyper): names may be keywords
    (Salesforce's ``case``) or hold any character."""
    return '"' + name.replace('"', '""') + '"'


class Connection(Protocol):
    kind: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def execute_verbatim(self, sql: str) -> None: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def close(self) -> None: ...


SQL_DUCKDB_DEFAULTS = {"memory_limit": "1GB"}
"""DuckDB settings of :class:`DuckDBConnection` that the warehouse URL does not set."""


class DuckDBConnection:
    kind = "duckdb"

    def __init__(self, target: Target) -> None:
        import duckdb

        assert target.path is not None
        target.path.parent.mkdir(parents=True, exist_ok=True)
        # The URL's own settings (``?memory_limit=2GB&threads=2``) hold for builds, reports and
        # inputs too. The default cap is 1GB, not the loads' 128MB (a build's joins would spill
        # needlessly) nor DuckDB's 80% of RAM: the 1M-ticket build bench peaks at ~1.2 GB RSS with
        # it in the same time as without (bench/bench_build.py).
        self._con = duckdb.connect(str(target.path), config={**SQL_DUCKDB_DEFAULTS, **dict(target.settings)})

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._con.execute(sql.replace("%s", "?"), list(params))

    def execute_verbatim(self, sql: str) -> None:
        """Run ``sql`` exactly as written, without parameters: ``%`` and ``%s`` in it (``LIKE
        'a%'``, ``b % 2``, ``'%sales%'``) stay literal. For SQL that is not ours, e.g. models."""
        self._con.execute(sql)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._con.execute(sql.replace("%s", "?"), list(params)).fetchall())

    def close(self) -> None:
        self._con.close()


class PostgresConnection:
    kind = "postgres"

    def __init__(self, target: Target) -> None:
        import psycopg2

        self._con = psycopg2.connect(target.dsn, connect_timeout=15)
        self._con.autocommit = True

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

    def close(self) -> None:
        self._con.close()


def connect(target: Target) -> Connection:
    if target.kind == "duckdb":
        return DuckDBConnection(target)
    if target.kind == "spark":
        from warehouse.spark import SparkConnection

        return SparkConnection(target)
    if target.kind == "dlt":
        from warehouse.destinations import not_supported

        raise not_supported(target.display, str(target.destination_name), "sync, build and every SQL step")
    return PostgresConnection(target)


@contextmanager
def connection(target: Target) -> Iterator[Connection]:
    con = connect(target)
    try:
        yield con
    finally:
        con.close()


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
