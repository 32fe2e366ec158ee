"""A sync run: lock, run log, the sources extracted in parallel, each committed in chunks.

**Chunks.** A source's run is committed in chunks (:mod:`connectors.chunks`): every
``chunk_rows`` rows (default 500,000) or ``chunk_seconds`` seconds (default 300) of extraction —
``SUPPORTLAKE_CHUNK_ROWS`` / ``SUPPORTLAKE_CHUNK_SECONDS``, or the arguments of :func:`sync` —
each stream stops at its next release point, and the chunk is normalized and loaded; its cursors
live in the dlt state, which is committed in the same load package as its data. Then the source
is built again with only the streams that said they have more, until none has. A stream that
finished does not run again; a cut stream resumes from the cursor it committed, so the only page
read twice is the one fetched ahead when it stopped.

**Crash safety.** A run killed at any point leaves the chunks committed before it, and at most one
of: nothing of the chunk in flight (killed during extract: its state and data are both dropped),
or a pending package (killed during normalize or load). The next run first completes pending
packages, then extracts from the committed cursors — so it converges to the source's data,
nothing lost and nothing duplicated (tables are merged on their keys). A stream that fails
(retries exhausted, the server gone) is reported ``failed`` with the rows committed before the
failure (the run log's ``rows``); what it released before the failure is committed with its chunk.

**Sources in parallel.** Each source runs in its own thread with its own dlt pipeline, paced by
its own API, so a sync takes about as long as its slowest source. Extraction and normalization
overlap freely; what touches the warehouse (loading, restoring state, deletion flags) is
serialized with one lock on DuckDB (one writer per file), not on PostgreSQL. Ctrl-C (a
``KeyboardInterrupt`` in the main thread) stops every stream at its next release point, commits
what was released, marks the unfinished tables ``interrupted`` and raises again; a second Ctrl-C
stops at once.

**Quarantine.** Before a source runs, the keys it holds in ``supportlake.rejected_records`` are
offered to its streams (re-read by id where the API allows); after each committed chunk its
rejected records are stored and the held records it read valid are resolved
(:mod:`warehouse.quarantine`), so a cursor never moves past a rejected record that is not kept.

**Spark.** dlt has no Spark destination: a sync into ``spark:…`` loads a local DuckDB landing
file with all of the above, and publishes each source's raw tables from it into the Spark
catalog when the source's run ends, and the run log and the quarantine at the start and the end
of the run (:mod:`warehouse.spark_landing`). ``target`` is then what the lock is taken on, and the
landing (:func:`warehouse.spark_landing.store_for`) what dlt and the run log write.

**The lock.** Before every commit (each chunk's load, the deletion flags, the run log) the run
checks it still holds the warehouse lock (:func:`warehouse.lock.verify_held`); a run that lost it
stops, logging its own tables ``failed``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import dlt

from common.errors import AuthError, ConfigError, SupportlakeError
from common.secrets import install_log_redaction, redact
from connectors import chunks, registry
from connectors.chunks import ChunkBudget
from connectors.registry import SourceSpec
from connectors.rejects import REJECTS
from connectors.stats import STATS
from warehouse import deletions, quarantine, repeats, spark_landing
from warehouse.housekeeping import prune_loaded_packages
from warehouse.lock import LockLost, RunLock, WarehouseBusy, busy_error, verify_held
from warehouse.runlog import RunLog, TableResult
from warehouse.sql import connection
from warehouse.target import Target

log = logging.getLogger("supportlake.sync")


@dataclass
class SyncResult:
    run_id: str
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0
    killed_before: int = 0
    config_errors: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    """Sources that failed because another process had the warehouse (a DuckDB file opened by a
    tool, a PostgreSQL lock timeout): nothing for the user to fix, try again later (exit 75)."""
    chunks: dict[str, int] = field(default_factory=dict)
    """Chunks committed per source."""
    cuts: dict[str, int] = field(default_factory=dict)
    """Per source, how many times a stream stopped to resume in the next chunk."""
    extraction: dict[str, tuple[float, float]] = field(default_factory=dict)
    """When each source's extraction started and ended (``time.monotonic``): the sources overlap."""
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return all(t.status in ("success", "skipped", "partial") for t in self.tables)

    @property
    def partial(self) -> bool:
        """Loaded, but records are held in quarantine or a one-second page was cut (exit 3)."""
        return any(t.status == "partial" for t in self.tables)


def pipeline_for(target: Target, source: str) -> dlt.Pipeline:
    """The dlt pipeline of ``source`` into ``target`` (Spark: into its landing file)."""
    return dlt.pipeline(
        pipeline_name=f"supportlake_{source}",
        pipelines_dir=str(spark_landing.pipelines_folder(target)),
        destination=spark_landing.store_for(target).destination(),
        dataset_name=source,
    )


def drop_stale_packages(pipeline: dlt.Pipeline) -> int:
    """Remove what a kill between two of dlt's steps leaves in the way of completing a package.

    Normalizing writes ``load/new/<id>``, renames it to ``load/normalized/<id>`` (atomic), then
    deletes the extracted package. Killed after the rename, the extracted copy remains: dlt then
    normalizes it again and fails on the existing target (``Directory not empty``). An extracted
    package whose id is already normalized or loaded is therefore complete elsewhere and is
    dropped, and so is half-written normalize output (we hold the run lock: no other run is
    normalizing). Uses dlt's storages directly; the SIGKILL tests cover each kill point.
    """
    if not pipeline.has_pending_data:  # also: a new pipeline has no storages yet
        return 0
    dropped = 0
    normalize_storage = pipeline._get_normalize_storage()
    load_storage = pipeline._get_load_storage()
    done = set(load_storage.list_normalized_packages()) | set(load_storage.loaded_packages.list_packages())
    for load_id in normalize_storage.extracted_packages.list_packages():
        if load_id in done:
            normalize_storage.extracted_packages.delete_package(load_id)
            dropped += 1
    for load_id in load_storage.new_packages.list_packages():
        load_storage.new_packages.delete_package(load_id)
        dropped += 1
    if dropped:
        log.warning("%s: removed %d package(s) a killed run left half-way", pipeline.pipeline_name, dropped)
    return dropped


def complete_pending(pipeline: dlt.Pipeline) -> bool:
    """Finish load packages a killed or failed run left behind. ``pipeline.run`` would do this
    too, but would then return without extracting anything new."""
    drop_stale_packages(pipeline)
    if not pipeline.has_pending_data:
        return False
    log.warning("%s: completing load packages left by an earlier run", pipeline.pipeline_name)
    if pipeline.list_extracted_load_packages():
        pipeline.normalize()
    if pipeline.list_normalized_load_packages():
        pipeline.load()
    return True


def sync(
    target: Target,
    sources: Sequence[str],
    resources: Sequence[str] | None = None,
    *,
    full_refresh: bool = False,
    on_start: Callable[[list[TableResult]], None] | None = None,
    chunk_rows: int | None = None,
    chunk_seconds: float | None = None,
    parallel: bool = True,
) -> SyncResult:
    """Sync ``sources`` (all their resources, or those named) into ``target``.

    ``chunk_rows`` / ``chunk_seconds``: commit every so many rows / seconds of extraction (``None``:
    ``SUPPORTLAKE_CHUNK_ROWS`` / ``SUPPORTLAKE_CHUNK_SECONDS`` or the defaults, 500,000 rows and
    300 s; 0: no limit). ``parallel``: extract the sources at the same time (else one after the
    other).

    Raises :class:`warehouse.lock.AlreadyRunning` when another run holds the warehouse,
    :class:`warehouse.lock.LockLost` when this run lost the lock on the way (its tables are logged
    ``failed``), and :class:`ConfigError` for settings that cannot work; failures of a source are recorded in the
    result (and the run log) and the other sources still run. Ctrl-C raises
    :class:`SyncInterrupted` (a ``KeyboardInterrupt`` carrying the result) once what was released
    is committed and the run log says ``interrupted``.
    """
    install_log_redaction()
    store = spark_landing.store_for(target)  # what dlt and the run log write (Spark: the landing file)
    store.check_loadable()
    env_rows, env_seconds = chunks.settings_from_env()
    rows = env_rows if chunk_rows is None else (chunk_rows or None)
    seconds = env_seconds if chunk_seconds is None else (chunk_seconds or None)
    specs = [registry.get(s) for s in sources]
    selections: dict[str, list[str]] = {}
    tables: dict[str, Mapping[str, tuple[str, ...]]] = {}
    for spec in specs:
        wanted = [r for r in (resources or [])] or None
        if wanted and len(specs) > 1:
            # --resource with several sources: each source takes the names it knows.
            wanted = [r for r in wanted if spec.knows(r)] or None
        selections[spec.name] = spec.resolve(wanted)
        tables[spec.name] = spec.tables()

    result = SyncResult(run_id=uuid.uuid4().hex[:12])
    t_run = time.monotonic()
    with RunLock(target, run_id=result.run_id) as lock:
        with connection(store) as con:
            runlog = RunLog(con)
            runlog.ensure()
            quarantine.ensure(con)
            result.killed_before = runlog.mark_killed()
            started = dt.datetime.now(dt.UTC)
            for spec in specs:
                listed: set[str] = set()
                for r in selections[spec.name]:
                    for t in tables[spec.name][r]:
                        if t not in listed:  # a table several resources fill is listed once
                            listed.add(t)
                            result.tables.append(TableResult(spec.name, r, t))
            lock.verify()
            runlog.start(result.run_id, started, result.tables, full_refresh)
        _publish_own(target)  # Spark: the run log says 'running' there too
        if on_start:
            on_start(result.tables)
        STATS.reset()
        REJECTS.reset()
        runs = [
            _SourceRun(
                target,
                store,
                spec,
                tables[spec.name],
                selections[spec.name],
                full_refresh,
                ChunkBudget(rows=rows, seconds=seconds),
                _warehouse_lock(store),
                result.run_id,
            )
            for spec in specs
        ]
        try:
            _run_all(runs, parallel)
        except KeyboardInterrupt:
            result.interrupted = True
        for run in runs:
            run.report(result)
        if all(run.done.is_set() for run in runs):
            with connection(store) as con:
                RunLog(con).finish(result.run_id, dt.datetime.now(dt.UTC), result.tables, lock=lock)
            _publish_own(target)
        else:  # a second Ctrl-C: a source may be loading; the next run marks these rows killed
            log.warning("stopped at once: the chunks in flight are lost; the next run resumes after the last commit")
    result.seconds = time.monotonic() - t_run
    if result.interrupted:
        raise SyncInterrupted(result)
    return result


def _publish_own(target: Target) -> None:
    """Spark: the run log and the quarantine from the landing into the catalog. A failure is
    logged, not raised: the landing holds them, and the next run publishes them again."""
    if target.kind != "spark":
        return
    try:
        spark_landing.publish(target, own=True)
    except WarehouseBusy:
        raise
    except Exception as exc:
        log.error("could not publish the run log to %s: %s", target.display, _explain(exc))


class SyncInterrupted(KeyboardInterrupt):
    """Ctrl-C ended the sync after what was read was committed: ``result`` says per table what
    was committed (``rows``) and what is ``interrupted``, for the CLI to print before it exits
    with 130."""

    def __init__(self, result: SyncResult) -> None:
        super().__init__("interrupted")
        self.result = result


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _warehouse_lock(target: Target) -> contextlib.AbstractContextManager[object]:
    """What every step that writes the warehouse holds: one lock per DuckDB file (one writer),
    nothing on PostgreSQL (its transactions serialize what must be) nor other dlt destinations
    but dlt's own ``duckdb``, a local file too."""
    if target.kind != "duckdb" and not (target.kind == "dlt" and target.destination_name == "duckdb"):
        return contextlib.nullcontext()
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(target.path or target.fingerprint), threading.Lock())


def _run_all(runs: Sequence[_SourceRun], parallel: bool) -> None:
    """Run every source (each in a thread of its own when ``parallel``); on the first Ctrl-C ask
    them to stop at their next release point and wait, on a second stop waiting."""
    try:
        if parallel:
            _interruptible(runs)
        else:
            for run in runs:
                _interruptible([run])
    except KeyboardInterrupt:
        for run in runs:  # those not started yet are interrupted too
            run.budget.cancelled = True
        raise


def _interruptible(runs: Sequence[_SourceRun]) -> None:
    for run in runs:
        threading.Thread(target=run.run, name=f"sync {run.spec.name}", daemon=True).start()
    try:
        _wait(runs)
    except KeyboardInterrupt:
        log.warning("interrupted: committing what was read, then stopping (Ctrl-C again to stop at once)")
        for run in runs:
            run.budget.cancelled = True
        _wait(runs)
        raise


def _wait(runs: Sequence[_SourceRun]) -> None:
    """Wait for ``runs`` to end. Not ``Thread.join``: a join cut short by Ctrl-C may leave the
    thread looking finished while it runs on (CPython), so each run sets an event at its end."""
    for run in runs:
        while not run.done.wait(0.2):
            pass


class _SourceRun:
    """One source's share of a sync: its chunks, then its rows of the summary."""

    def __init__(
        self,
        target: Target,
        store: Target,
        spec: SourceSpec,
        tables: Mapping[str, tuple[str, ...]],
        selected: list[str],
        full_refresh: bool,
        budget: ChunkBudget,
        writing: contextlib.AbstractContextManager[object],
        run_id: str,
    ) -> None:
        self.target = target
        self.store = store
        """Where dlt loads and the quarantine and deletion flags are written (Spark: the landing)."""
        self.spec = spec
        self.tables = tables
        self.selected = selected
        self.full_refresh = full_refresh
        self.budget = budget
        self.writing = writing
        self.run_id = run_id
        self.held: dict[str, int] = {}
        """Records of each table still held in quarantine when the source ended."""
        self.gone: dict[str, int] = {}
        """Held records resolved because a read by id did not return them, by table."""
        self.pending = list(selected)
        """Resources not finished (all, until the first chunk is committed)."""
        self.counts: dict[str, int] = {}
        """Rows committed per table."""
        self.error: BaseException | None = None
        self.window: tuple[float, float] | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self._chunks()
        except BaseException as exc:  # recorded per table, reported by the CLI, exit code non-zero
            self.error = exc
            # Logged at INFO only: the caller reports it (the CLI once per source on stderr).
            log.info("%s: sync failed: %s", self.spec.name, _explain(exc))
        finally:
            try:
                self._settle(loaded=False)  # rejections of a chunk that did not commit are kept too
                self._publish()
            finally:
                self.done.set()

    def _settle(self, *, loaded: bool) -> None:
        """Store the rejections read so far; resolve the held records read valid (``loaded``)."""
        try:
            with self.writing, connection(self.store) as con:
                self.held, gone = quarantine.settle(con, self.spec.name, self.run_id, loaded=loaded)
            for table, n in gone.items():
                self.gone[table] = self.gone.get(table, 0) + n
        except Exception as exc:  # the quarantine must not hide the source's own result
            if self.error is None:
                self.error = SupportlakeError(f"storing rejected records in {quarantine.TABLE} failed: {_explain(exc)}")
            log.info("%s: %s", self.spec.name, _explain(exc))

    def _publish(self) -> None:
        """Spark: the source's raw tables from the landing into the catalog, those that changed
        (also after a failure: what its chunks committed). A failure here fails the source."""
        if self.target.kind != "spark" or isinstance(self.error, LockLost):
            return
        try:
            with self.writing:
                spark_landing.publish(self.target, [self.spec.name])
        except Exception as exc:
            if self.error is None:
                self.error = (
                    exc
                    if isinstance(exc, SupportlakeError)
                    else SupportlakeError(
                        f"publishing {self.spec.name}'s tables to {self.target.display} failed: {_explain(exc)}"
                    )
                )
            log.info("%s: publishing to Spark failed: %s", self.spec.name, _explain(exc))

    def _chunks(self) -> None:
        spec, budget = self.spec, self.budget
        pipeline = pipeline_for(self.target, spec.name)
        with self.writing:
            verify_held(self.target)
            repeats.note(pipeline, repeats.started_tables(pipeline))  # jobs a killed run may have committed
            if pipeline.list_normalized_load_packages():
                with connection(self.store) as con:
                    repeats.forget_started_state(con, pipeline)  # a state row again would break the load
            complete_pending(pipeline)
            if pipeline.config.restore_from_destination:
                pipeline.sync_destination()  # cursors restored from the warehouse when the local folder is gone
            with connection(self.store) as con:
                repeats.repair(con, pipeline)  # what those jobs, run again, appended twice
                quarantine.offer(con, spec.name)  # held records: retried, resolved when read valid
        started = time.monotonic()
        first = True
        with chunks.active(spec.name, budget):
            while self.pending:
                budget.begin(self._absent(refresh=first and self.full_refresh))
                try:
                    source = spec.build(self.pending)
                    pipeline.extract(source, refresh="drop_resources" if first and self.full_refresh else None)
                finally:
                    self.window = (started, time.monotonic())
                first = False
                info = pipeline.normalize()
                with self.writing:
                    verify_held(self.target)
                    pipeline.load()
                self._settle(loaded=True)
                prune_loaded_packages(pipeline)
                for table, n in (info.row_counts if info else {}).items():
                    self.counts[table] = self.counts.get(table, 0) + int(n)
                self.pending = [r for r in self.pending if r in budget.more]
                if budget.cancelled or budget.aborted:
                    break
                if self.pending:
                    log.info("%s: chunk %d committed; %s go on", spec.name, budget.chunks, ", ".join(self.pending))
        # Purges and deleted parents flag rows the loads just wrote (or left alone), every run.
        with self.writing:
            verify_held(self.target)
            with connection(self.store) as con:
                deletions.apply(con, spec.name)

    def _absent(self, *, refresh: bool) -> set[str]:
        """The pending resources' tables the warehouse does not have: their first load appends
        (:mod:`connectors.firstload`). A full refresh drops them all before it loads. Another dlt
        destination is not asked: its tables merge."""
        names = {t for r in self.pending for t in self.tables.get(r, ())}
        if self.target.kind == "dlt":
            return set()
        if refresh:
            return names
        with self.writing, connection(self.store) as con:
            rows = con.query(
                "select table_name from information_schema.tables where table_schema = %s", [self.spec.name]
            )
        return names - {str(r[0]) for r in rows}

    def report(self, result: SyncResult) -> None:
        """This source's tables in ``result``: rows committed, counters, status and error."""
        spec, budget = self.spec, self.budget
        result.chunks[spec.name] = budget.chunks
        result.cuts[spec.name] = budget.cuts
        if self.window is not None:
            result.extraction[spec.name] = self.window
        errors = {
            r: _explain(e) + (f" ({chunks.READ_AGAIN})" if r in budget.whole else "") for r, e in budget.failed.items()
        }
        if self.error is not None:
            if _is_config_error(self.error):
                result.config_errors.append(spec.name)
        elif any(_is_config_error(e) for e in budget.failed.values()):
            result.config_errors.append(spec.name)
        failures = [e for e in (self.error, *budget.failed.values()) if e is not None]
        if failures and all(busy_error(e) is not None for e in failures):
            result.busy.append(spec.name)
        source_error = _explain(self.error) if self.error is not None else None
        interrupted = budget.cancelled
        stats = STATS.snapshot()
        for t in result.tables:
            if t.source != spec.name:
                continue
            s = stats.get((spec.name, t.resource))
            is_main = t.table_name == self.tables[t.resource][0]
            # A table a resource fills besides its main one (Confluence ``labels``) can be skipped or
            # warned about on its own: counters recorded under the table's name, when that is not
            # also the name of a resource.
            own = None if is_main or t.table_name in self.tables else stats.get((spec.name, t.table_name))
            t.rows = int(self.counts.get(t.table_name, 0))
            if s is not None and is_main:
                t.requests, t.retries, t.rate_limited = s.requests, s.retries, s.rate_limited
                t.rejected, t.seconds = s.rejected, s.seconds
            warnings = [*(s.warnings if s else ()), *(own.warnings if own else ())]
            if warnings:
                t.warning = "; ".join(dict.fromkeys(warnings))
            skipped = (s.skipped if s else "") or (own.skipped if own else "")
            unfinished = t.resource in self.pending
            if t.resource in errors:
                t.status, t.error = "failed", errors[t.resource]
            elif unfinished and interrupted:
                t.status, t.error = "interrupted", "interrupted by the user"
            elif source_error is not None and (unfinished or not self.pending):
                # unfinished, or all finished and the deletion flags failed
                t.status, t.error = "failed", source_error
            elif (unfinished or t.resource in budget.not_run) and budget.aborted:
                # Not started because the source cannot go on: the same cause, said once per source.
                fatal = [_explain(e) for e in budget.failed.values() if chunks.is_fatal(e)] or list(errors.values())
                t.status, t.error = "failed", "; ".join(dict.fromkeys(fatal))
            elif s is not None and s.stopped:
                t.status, t.error = "stopped", s.stopped
            elif skipped:
                t.status, t.error = "skipped", skipped
            else:
                t.status = "success"
            incomplete = (s.partial if s and is_main else "") or (own.partial if own else "")
            quarantine.mark(t, self.held.get(t.table_name, 0), incomplete, self.gone.get(t.table_name, 0))


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, kind):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def _is_config_error(exc: BaseException) -> bool:
    """Something the user fixes in the settings: a missing or malformed setting, or credentials
    the API refused (a 401 on the primary object, a refused Salesforce login)."""
    from dlt.common.configuration.exceptions import ConfigurationException

    return _caused_by(exc, ConfigError) or _caused_by(exc, ConfigurationException) or _caused_by(exc, AuthError)


def _explain(exc: BaseException) -> str:
    """The most useful message of an exception chain: our own error if dlt wrapped it."""
    busy = busy_error(exc)
    if busy is not None:
        return str(busy)
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, SupportlakeError):
            return str(cur)
        cur = cur.__cause__ or cur.__context__
    return redact(f"{type(exc).__name__}: {exc}")
