"""Rows a load job wrote twice: removed after a killed run's load is completed.

A dlt load job commits its rows, and only then does dlt note the job done (it moves the job's
file). A run killed between the two leaves the job "started", and the next run's completion
(:func:`warehouse.sync.complete_pending`) runs it again. For a merged table that is harmless: the
merge keeps one row per key. A table loaded by appending — its first load
(:mod:`connectors.firstload`) — gets the job's rows a second time.

So before a left-over package is completed, the tables of its started jobs are noted in a file
in the pipeline's folder; after it, every noted table keeps one row per key (the copies are
identical: the one with the highest ``_sl_seq`` stays) and the note is removed. A run killed
during the repair finds the note and repairs again. Only a killed run pays for this.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import dlt

from warehouse.sql import Connection, quote_ident

log = logging.getLogger("supportlake.sync")

NOTE = "supportlake_repeats.json"


def _note_path(pipeline: dlt.Pipeline) -> Path:
    return Path(pipeline.working_dir) / NOTE


def _started_jobs(pipeline: dlt.Pipeline) -> Iterator[tuple[str, str]]:
    """(load id, table) of every job a killed run may have committed without dlt knowing
    (started, not done)."""
    for load_id in pipeline.list_normalized_load_packages():
        info = pipeline.get_load_package_info(load_id)
        for job in info.jobs.get("started_jobs", []):
            yield load_id, job.job_file_info.table_name


def started_tables(pipeline: dlt.Pipeline) -> set[str]:
    """The tables of jobs a killed run may have committed without dlt knowing (started, not done)."""
    return {table for _, table in _started_jobs(pipeline)}


def _exists(con: Connection, schema: str, table: str) -> bool:
    sql = "select 1 from information_schema.tables where table_schema = %s and table_name = %s"
    return bool(con.query(sql, [schema, table]))


def noted(pipeline: dlt.Pipeline) -> set[str]:
    path = _note_path(pipeline)
    if not path.exists():
        return set()
    try:
        return {str(t) for t in json.loads(path.read_text())}
    except (OSError, ValueError, TypeError):
        log.warning("%s: %s is unreadable; repairing every table of the source", pipeline.pipeline_name, path)
        return set(pipeline.default_schema.data_table_names())


def note(pipeline: dlt.Pipeline, tables: Iterable[str]) -> None:
    """Add ``tables`` to the note (written whole, then renamed: never half a file)."""
    todo = noted(pipeline) | set(tables)
    if not todo:
        return
    path = _note_path(pipeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(todo)))
    tmp.replace(path)


def repair(con: Connection, pipeline: dlt.Pipeline) -> dict[str, int]:
    """Remove the repeated rows of every noted table, then the note; rows removed, by table."""
    todo = noted(pipeline)
    removed: dict[str, int] = {}
    if not todo:
        return removed
    schema = pipeline.default_schema
    for table in sorted(todo):
        if table not in schema.tables:
            continue
        columns = schema.get_table_columns(table)
        key = [name for name, c in columns.items() if c.get("primary_key")]
        if not key:
            continue
        n = remove_repeats(con, pipeline.dataset_name, table, key, "_sl_seq" if "_sl_seq" in columns else None)
        if n:
            removed[table] = n
            log.warning(
                "%s.%s: removed %d row(s) that a load job of the killed run wrote twice",
                pipeline.dataset_name,
                table,
                n,
            )
    _note_path(pipeline).unlink(missing_ok=True)
    return removed


def forget_started_state(con: Connection, pipeline: dlt.Pipeline) -> int:
    """Before a left-over package is completed: remove the rows of dlt's state table that its
    *started* state job may already have committed; rows removed.

    That job is an insert into a table whose ``_dlt_id`` is unique (a constraint on PostgreSQL).
    Run again by the completion, it failed with a duplicate key, terminally, and so did every
    later run, behind the same package; on DuckDB it left the state row twice. The rows carry the
    package's load id, and the job writes them again."""
    state = pipeline.default_schema.state_table_name
    load_ids = sorted({load_id for load_id, table in _started_jobs(pipeline) if table == state})
    schema = pipeline.dataset_name
    if not load_ids or not _exists(con, schema, state):
        return 0
    qualified = f"{quote_ident(schema)}.{quote_ident(state)}"
    removed = 0
    for load_id in load_ids:
        (n,) = con.query(f"select count(*) from {qualified} where _dlt_load_id = %s", [load_id])[0]
        if n:
            con.execute(f"delete from {qualified} where _dlt_load_id = %s", [load_id])
            removed += int(n)
    if removed:
        log.warning(
            "%s: removed %d state row(s) that the killed run's load committed; its package writes them again",
            pipeline.pipeline_name,
            removed,
        )
    return removed


def remove_repeats(con: Connection, schema: str, table: str, key: Sequence[str], order: str | None) -> int:
    """Keep one row per ``key`` in ``schema.table`` (the highest ``order``); rows removed. DuckDB
    names a row by ``rowid``, PostgreSQL by ``ctid``."""
    row = {"duckdb": "rowid", "postgres": "ctid"}.get(str(getattr(con, "kind", "")))
    if row is None:
        return 0  # other engines never append a first load (warehouse.sync: only these two)
    if not _exists(con, schema, table):
        return 0
    qualified = f"{quote_ident(schema)}.{quote_ident(table)}"
    partition = ", ".join(quote_ident(k) for k in key)
    order_by = f"{quote_ident(order)} desc" if order else partition
    (before,) = con.query(f"select count(*) from {qualified}")[0]
    con.execute(
        f"delete from {qualified} where {row} in (select r from (select {row} as r, row_number() over "
        f"(partition by {partition} order by {order_by}) as n from {qualified}) as ranked where n > 1)"
    )
    (after,) = con.query(f"select count(*) from {qualified}")[0]
    return int(before) - int(after)
