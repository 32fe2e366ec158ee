"""A sync run: lock, run log, one dlt pipeline per source, and the summary.

Crash safety comes from dlt: a source's cursors live in its dlt state, which is committed in the
same load package as the data. A run killed at any point leaves either nothing (killed during
extract: state and data are both dropped) or a pending package (killed during normalize or load);
the next run first completes pending packages, then extracts what is new — so it converges to the
source's data, nothing lost and nothing duplicated (tables are merged on their keys).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import dlt

from common.errors import ConfigError, SupportlakeError
from common.secrets import install_log_redaction, redact
from connectors import registry
from connectors.registry import SourceSpec
from connectors.stats import STATS
from warehouse import deletions
from warehouse.lock import RunLock
from warehouse.runlog import RunLog, TableResult
from warehouse.sql import connection
from warehouse.target import Target, pipelines_dir

log = logging.getLogger("supportlake.sync")


@dataclass
class SyncResult:
    run_id: str
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0
    killed_before: int = 0
    config_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.status in ("success", "skipped") for t in self.tables)


def pipeline_for(target: Target, source: str) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"supportlake_{source}",
        pipelines_dir=str(pipelines_dir(target)),
        destination=target.destination(),
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
) -> SyncResult:
    """Sync ``sources`` (all their resources, or those named) into ``target``.

    Raises :class:`warehouse.lock.AlreadyRunning` when another run holds the warehouse, and
    :class:`ConfigError` for settings that cannot work; failures of a source are recorded in the
    result (and the run log) and the other sources still run.
    """
    install_log_redaction()
    target.check_loadable()
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
    with RunLock(target):
        with connection(target) as con:
            runlog = RunLog(con)
            runlog.ensure()
            result.killed_before = runlog.mark_killed()
            started = dt.datetime.now(dt.UTC)
            for spec in specs:
                listed: set[str] = set()
                for r in selections[spec.name]:
                    for t in tables[spec.name][r]:
                        if t not in listed:  # a table several resources fill is listed once
                            listed.add(t)
                            result.tables.append(TableResult(spec.name, r, t))
            runlog.start(result.run_id, started, result.tables, full_refresh)
        if on_start:
            on_start(result.tables)
        STATS.reset()
        for spec in specs:
            _sync_source(target, spec, tables[spec.name], selections[spec.name], full_refresh, result)
        with connection(target) as con:
            RunLog(con).finish(result.run_id, dt.datetime.now(dt.UTC), result.tables)
    result.seconds = time.monotonic() - t_run
    return result


def _sync_source(
    target: Target,
    spec: SourceSpec,
    tables: Mapping[str, tuple[str, ...]],
    selected: list[str],
    full_refresh: bool,
    result: SyncResult,
) -> None:
    mine = [t for t in result.tables if t.source == spec.name]
    error: str | None = None
    counts: dict[str, int] = {}
    try:
        pipeline = pipeline_for(target, spec.name)
        complete_pending(pipeline)
        source = spec.build(selected)
        if full_refresh:
            pipeline.run(source, refresh="drop_resources")
        else:
            pipeline.run(source)
        # Purges and deleted parents flag rows the load just wrote (or left alone), every run.
        with connection(target) as con:
            deletions.apply(con, spec.name)
        trace = pipeline.last_trace
        info = trace.last_normalize_info if trace else None
        counts = dict(info.row_counts) if info else {}
    except Exception as exc:  # recorded per table, reported by the CLI, exit code non-zero
        error = _explain(exc)
        if _is_config_error(exc):
            result.config_errors.append(spec.name)
        log.error("%s: sync failed: %s", spec.name, error)
    stats = STATS.snapshot()
    for t in mine:
        s = stats.get((spec.name, t.resource))
        is_main = t.table_name == tables[t.resource][0]
        # A table a resource fills besides its main one (Confluence ``labels``) can be skipped or
        # warned about on its own: counters recorded under the table's name, when that is not
        # also the name of a resource.
        own = None if is_main or t.table_name in tables else stats.get((spec.name, t.table_name))
        t.rows = int(counts.get(t.table_name, 0))
        if s is not None and is_main:
            t.requests, t.retries, t.rate_limited = s.requests, s.retries, s.rate_limited
            t.rejected, t.seconds = s.rejected, s.seconds
        warnings = [*(s.warnings if s else ()), *(own.warnings if own else ())]
        if warnings:
            t.warning = "; ".join(dict.fromkeys(warnings))
        skipped = (s.skipped if s else "") or (own.skipped if own else "")
        if error is not None:
            t.status, t.error = "failed", error
        elif s is not None and s.stopped:
            t.status, t.error = "stopped", s.stopped
        elif skipped:
            t.status, t.error = "skipped", skipped
        else:
            t.status = "success"


def _is_config_error(exc: BaseException) -> bool:
    from dlt.common.configuration.exceptions import ConfigurationException

    cur: BaseException | None = exc
    while cur is not None:
        if isinstance(cur, ConfigError | ConfigurationException):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def _explain(exc: BaseException) -> str:
    """The most useful message of an exception chain: our own error if dlt wrapped it."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, SupportlakeError):
            return str(cur)
        cur = cur.__cause__ or cur.__context__
    return redact(f"{type(exc).__name__}: {exc}")
