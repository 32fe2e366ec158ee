"""One writer at a time per warehouse, readers that never break a writer, and a lock that is
checked before every commit.

Writers (``sync``, ``build``, ``load-input``) take the run lock exclusively:

- DuckDB: an exclusive ``flock`` on ``<file>.lock`` beside the database; the holder writes
  ``pid N on HOST`` into it and empties it when it lets go.
- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a dedicated connection,
  so runs on different machines exclude each other too. That connection is kept alive: TCP
  keepalives, ``idle_session_timeout`` off for that session, and a heartbeat query every
  :data:`HEARTBEAT_SECONDS` from a daemon thread, so neither a firewall nor the server drops it
  as idle.

Both are released by the operating system or the server when the process dies, so a ``kill -9``
never leaves a stale lock. A lock can still be lost while the run lives (the lock's connection is
cut, the lock file is deleted): :meth:`RunLock.verify` (or :func:`verify_held` with the target)
raises :class:`LockLost` then, and writers call it before each commit — before each load, before
the run log's rows are written, before a build is published — so a run that lost its lock stops
instead of writing beside the run that took it over.

Readers (``kpis``, ``export-hyper``) on DuckDB take the same lock *shared* (``shared=True``) and
open the file read-only: a reader while a writer runs stops at once with :class:`WarehouseBusy`
(exit 75), and a writer that finds only readers waits up to :data:`READER_WAIT_SECONDS` for them
to finish, so a ``kpis`` never makes a sync fail half-way (DuckDB lets one process write a file,
and no other process open it meanwhile). On PostgreSQL readers take no lock.

Every "busy" condition — this lock, DuckDB's ``Could not set lock on file``, a PostgreSQL lock
timeout — is a :class:`WarehouseBusy` with a one-line message (:func:`busy_error`); the CLI exits
75 for it.

Spark (``spark:`` warehouses) takes the same ``flock``, on a file under
``$SUPPORTLAKE_HOME/locks`` named after the target (runs on this machine), and a *lease*: a row
of ``supportlake.run_lease`` in the warehouse, with an expiry its heartbeat pushes on
(:mod:`warehouse.lease`), so runs on hosts sharing the catalog exclude each other too.
Other dlt destinations (``--warehouse snowflake://…``, :mod:`warehouse.dlt_sql`) take the lease
alone; their readers take no lock. ``SUPPORTLAKE_LOCK=lease`` makes DuckDB and PostgreSQL writers
take the lease *instead of* the ``flock`` or the advisory lock (:func:`uses_lease`); a killed
run's lease keeps the next run out until it expires.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from common.errors import ConfigError, SupportlakeError, one_line
from warehouse.target import Target, connect_postgres, home

EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later

HEARTBEAT_SECONDS = 30.0
"""How often the PostgreSQL lock's connection is queried (and so checked) while a run holds it."""

READER_WAIT_SECONDS = 120.0
"""How long a DuckDB writer waits for readers (``kpis``, ``export-hyper``) to finish."""

LOCK_KEY = int.from_bytes(hashlib.sha256(b"supportlake-run").digest()[:8], "big", signed=True)
"""The PostgreSQL advisory lock's key (one per database)."""

ENV_LOCK = "SUPPORTLAKE_LOCK"
"""``lease``: writers lock the warehouse with a lease row instead of a ``flock`` (DuckDB) or an
advisory lock (PostgreSQL); unset (or ``auto``): each engine's own lock (Spark: a lease anyway)."""

log = logging.getLogger("supportlake.lock")


def uses_lease(target: Target) -> bool:
    """Whether a writer's lock on ``target`` is a lease (:mod:`warehouse.lease`): always on
    Spark and other dlt destinations (no advisory lock to take), and on every engine with
    ``SUPPORTLAKE_LOCK=lease``."""
    value = os.environ.get(ENV_LOCK, "").strip().lower()
    if value not in ("", "auto", "lease"):
        raise ConfigError(
            f"{ENV_LOCK}={value!r} is not a lock supportlake knows: set it to 'lease' (a lease row in the "
            "warehouse) or leave it unset (each engine's own lock)"
        )
    return target.kind in ("spark", "dlt") or value == "lease"


class WarehouseBusy(SupportlakeError):
    """The warehouse is in use and this command cannot go on now; trying later will work (exit 75)."""


class AlreadyRunning(WarehouseBusy):
    """Another supportlake run holds this warehouse's lock."""


class LockLost(WarehouseBusy):
    """This run held the warehouse's lock and no longer does: it stops without writing more."""


def holder_id() -> str:
    """Who holds a lock, as the run log and the lock file record it: ``pid N on HOST``."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


_HOLDER = re.compile(r"^pid (\d+) on (.+)$")

_held: dict[str, list[RunLock]] = {}
"""The exclusive locks this process holds, by warehouse fingerprint (one, but for tests)."""
_held_guard = threading.Lock()


def run_alive(run_id: str, holder: str | None) -> bool:
    """Whether the run ``run_id`` recorded with ``holder`` may still be running: a run of this
    process that still holds its lock object (even a lost lock: it has not stopped yet), or a
    live process on this machine. A run of another machine, or one recorded before holders were
    kept, cannot be asked and counts as gone."""
    m = _HOLDER.match(holder or "")
    if m is None or m.group(2) != socket.gethostname():
        return False
    if int(m.group(1)) == os.getpid():
        with _held_guard:
            return any(lock.run_id == run_id for locks in _held.values() for lock in locks)
    return _process_alive(int(m.group(1)))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _writer_alive(holder: str) -> bool:
    """Whether the lock file's ``holder`` line names a live writer (a writer killed with ``-9``
    leaves its line behind; one on another machine, over a shared file system, counts as live)."""
    m = _HOLDER.match(holder)
    if m is None or m.group(2) != socket.gethostname():
        return bool(holder)
    return _process_alive(int(m.group(1)))


def verify_held(target: Target) -> None:
    """:meth:`RunLock.verify` for the exclusive lock this process holds on ``target``; nothing
    to check when it holds none (a caller that runs without the lock, e.g. ``build(lock=False)``)."""
    with _held_guard:
        locks = list(_held.get(target.fingerprint, ()))
    for lock in locks:
        lock.verify()


def busy_error(exc: BaseException, target: Target | None = None) -> WarehouseBusy | None:
    """The one-line :class:`WarehouseBusy` for an engine's "busy" error anywhere in ``exc``'s
    chain (DuckDB: another process has the file open; PostgreSQL: a lock timeout), else None."""
    where = target.display if target is not None else "the warehouse"
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, WarehouseBusy):
            return cur
        text = str(cur)
        if "Could not set lock on file" in text:
            m = re.search(r"\(PID (\d+)\)", text)
            who = f"process {m.group(1)}" if m else "another process"
            return WarehouseBusy(
                f"{where} is open in {who} (DuckDB lets one process write a file, and nobody else open it "
                "meanwhile); try again when it has finished"
            )
        if getattr(cur, "pgcode", None) == "55P03" or "lock timeout" in text:
            return WarehouseBusy(
                f"a table of {where} is locked by another session (gave up after the lock timeout; e.g. a long "
                "query or an open transaction); try again when it has finished"
            )
        cur = cur.__cause__ or cur.__context__
    return None


class RunLock:
    """The warehouse's run lock: ``with RunLock(target): ...`` (exclusive, for writers) or
    ``RunLock(target, shared=True)`` (DuckDB readers; nothing on PostgreSQL).

    ``run_id`` names the run holding it, so :func:`run_alive` knows a live run of this process.
    Raises :class:`AlreadyRunning` when another run holds the lock, :class:`WarehouseBusy` when
    readers keep a writer out too long or a writer keeps a reader out. ``lease_seconds`` and
    ``lease_beat``: the lease's length and heartbeat where a lease is taken (:func:`uses_lease`;
    default :data:`warehouse.lease.LEASE_SECONDS`, :data:`warehouse.lease.BEAT_SECONDS`)."""

    def __init__(
        self,
        target: Target,
        *,
        shared: bool = False,
        run_id: str | None = None,
        heartbeat: float | None = None,
        reader_wait: float | None = None,
        lease_seconds: float | None = None,
        lease_beat: float | None = None,
    ) -> None:
        self.target = target
        self.shared = shared
        self.run_id = run_id
        self.heartbeat = HEARTBEAT_SECONDS if heartbeat is None else heartbeat
        self.reader_wait = READER_WAIT_SECONDS if reader_wait is None else reader_wait
        self.lost: str | None = None
        """Why the lock was lost, once it was (set by :meth:`verify` or the heartbeat)."""
        self._file: IO[str] | None = None
        self._path: Path | None = None
        self._pg: Any = None
        self._pg_guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lease_seconds = lease_seconds
        self.lease_beat = lease_beat
        self._lease: Any = None  # a warehouse.lease.Lease while one is held

    # ------------------------------------------------------------------ taking and releasing

    def __enter__(self) -> RunLock:
        lease = not self.shared and uses_lease(self.target)
        if self.target.kind == "spark" or (self.target.kind == "duckdb" and not lease):
            self._lock_file()
        elif not self.shared and not lease:
            self._lock_postgres()
        if lease:
            try:
                self._take_lease()
            except BaseException:
                self._release_file()
                raise
        if not self.shared:
            with _held_guard:
                _held.setdefault(self.target.fingerprint, []).append(self)
        return self

    def _lock_file(self) -> None:
        if self.target.kind == "spark":
            path = home() / "locks" / f"spark-{self.target.fingerprint}.lock"
        else:
            assert self.target.path is not None
            path = self.target.path.with_name(self.target.path.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+")  # noqa: SIM115 - kept open while the lock is held
        try:
            if self.shared:
                self._take_shared(f)
            else:
                self._take_exclusive(f)
        except BaseException:
            f.close()
            raise
        self._file, self._path = f, path

    def _take_shared(self, f: IO[str]) -> None:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip()
            raise WarehouseBusy(
                f"a supportlake run is writing {self.target.display} ({holder or 'pid unknown'}); "
                "read it again when that run has finished"
            ) from None

    def _take_exclusive(self, f: IO[str]) -> None:
        deadline = time.monotonic() + self.reader_wait
        waited = False
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip()
            if holder and _writer_alive(holder):  # a writer writes who it is; readers write nothing
                raise AlreadyRunning(
                    f"another supportlake run is using {self.target.display} ({holder}); "
                    "this run exits without doing anything"
                ) from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{self.target.display} has been read (kpis, export-hyper) for more than "
                    f"{self.reader_wait:.0f}s; this run exits without doing anything"
                )
            if not waited:
                log.warning("%s is being read (kpis, export-hyper): waiting for it", self.target.display)
                waited = True
            time.sleep(0.2)
        f.seek(0)
        f.truncate()
        f.write(holder_id())
        f.flush()

    def _lock_postgres(self) -> None:
        con = connect_postgres(  # a refused connection: WarehouseError (exit 2)
            self.target,
            application_name=f"supportlake lock ({holder_id()})"[:63],
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
        con.autocommit = True
        try:
            with con.cursor() as cur:
                if con.server_version >= 140000:  # the server must not end this session as idle
                    cur.execute("set idle_session_timeout = 0")
                cur.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,))
                row = cur.fetchone()
        except BaseException:
            con.close()
            raise
        if not row or not row[0]:
            con.close()
            raise AlreadyRunning(
                f"another supportlake run is using {self.target.display}; this run exits without doing anything"
            )
        self._pg = con
        if self.heartbeat > 0:
            self._thread = threading.Thread(target=self._beat, name="supportlake-lock-heartbeat", daemon=True)
            self._thread.start()

    def _take_lease(self) -> None:
        from warehouse.lease import Lease

        lease = Lease(self.target, run_id=self.run_id, seconds=self.lease_seconds, beat=self.lease_beat)
        self._lease = lease.take()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with _held_guard:
            locks = _held.get(self.target.fingerprint, [])
            if self in locks:
                locks.remove(self)
            if not locks:
                _held.pop(self.target.fingerprint, None)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._lease is not None:
            try:
                self._lease.release()
            except Exception as exc:  # it expires by itself
                log.warning("could not release the lease on %s: %s", self.target.display, one_line(exc))
            self._lease = None
        self._release_file()
        self._close_pg()

    def _release_file(self) -> None:
        if self._file is not None:
            if not self.shared and not self.lost:
                self._file.seek(0)
                self._file.truncate()
                self._file.flush()
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _close_pg(self) -> None:
        if self._pg is not None:
            try:
                self._pg.close()
            except Exception:
                log.debug("closing the lock's connection failed", exc_info=True)
            self._pg = None

    # ------------------------------------------------------------------ checking

    def verify(self) -> None:
        """Raise :class:`LockLost` unless this run still holds the lock (PostgreSQL: one query on
        the lock's connection; DuckDB: the lock file is still the one locked). Call it before
        each commit. A lease: its row still names this run and has not expired."""
        if self.lost is None and self._lease is not None:
            try:
                self._lease.verify()
            except LockLost:
                self.lost = self._lease.lost or "its lease was lost"
        if self.lost is None:
            if self._pg is not None:
                self._check_postgres()
            elif self._file is not None and self._path is not None and not self.shared:
                self._check_file()
        if self.lost is not None:
            raise LockLost(
                f"lost the warehouse lock on {self.target.display}: {self.lost}; another run may hold it now, "
                "so this run stops without writing more"
            )

    def _check_postgres(self) -> None:
        unsigned = LOCK_KEY & 0xFFFFFFFFFFFFFFFF
        try:
            with self._pg_guard, self._pg.cursor() as cur:
                cur.execute(
                    "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() "
                    "and granted and classid = %s and objid = %s and objsubid = 1",
                    (unsigned >> 32, unsigned & 0xFFFFFFFF),
                )
                row = cur.fetchone()
        except Exception as exc:
            self.lost = "its connection ended (" + one_line(exc) + ")"
            return
        if not row or not row[0]:
            self.lost = "the server no longer lists it as held"

    def _check_file(self) -> None:
        assert self._file is not None
        assert self._path is not None
        try:
            same = os.stat(self._path).st_ino == os.fstat(self._file.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            self.lost = f"its lock file {self._path} was removed"

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            self._check_postgres()
            if self.lost is not None:
                log.error("lost the warehouse lock on %s: %s", self.target.display, self.lost)
                return
