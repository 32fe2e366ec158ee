"""One run at a time per warehouse.

DuckDB: an exclusive ``flock`` on ``<file>.lock`` beside the database. PostgreSQL: a session
advisory lock (``pg_try_advisory_lock``) held on a dedicated connection, so runs on different
machines exclude each other too. Both are released by the operating system or the server when
the process dies, so a ``kill -9`` never leaves a stale lock. Spark: the same ``flock``, on a file
under ``$SUPPORTLAKE_HOME/locks`` named after the target, so it excludes runs on this machine only.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from types import TracebackType
from typing import IO, Any

from common.errors import SupportlakeError
from warehouse.target import Target, home

EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later


class AlreadyRunning(SupportlakeError):
    """Another supportlake run holds this warehouse's lock."""


class RunLock:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._file: IO[str] | None = None
        self._pg: Any = None

    def __enter__(self) -> RunLock:
        if self.target.kind in ("duckdb", "spark"):
            if self.target.kind == "spark":
                path = home() / "locks" / f"spark-{self.target.fingerprint}.lock"
            else:
                assert self.target.path is not None
                path = self.target.path.with_name(self.target.path.name + ".lock")
            path.parent.mkdir(parents=True, exist_ok=True)
            f = open(path, "a+")
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip()
                f.close()
                raise AlreadyRunning(
                    f"another supportlake run is using {self.target.display} ({holder or 'pid unknown'}); "
                    "this run exits without doing anything"
                ) from None
            f.seek(0)
            f.truncate()
            f.write(f"pid {os.getpid()}")
            f.flush()
            self._file = f
        elif self.target.kind == "dlt":
            from warehouse.destinations import not_supported

            name = str(self.target.destination_name)
            raise not_supported(self.target.display, name, "sync, build and every SQL step")
        else:
            import psycopg2

            key = int.from_bytes(hashlib.sha256(b"supportlake-run").digest()[:8], "big", signed=True)
            con = psycopg2.connect(self.target.dsn, connect_timeout=15)
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute("select pg_try_advisory_lock(%s)", (key,))
                row = cur.fetchone()
            if not row or not row[0]:
                con.close()
                raise AlreadyRunning(
                    f"another supportlake run is using {self.target.display}; this run exits without doing anything"
                )
            self._pg = con
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._pg is not None:
            self._pg.close()
            self._pg = None
