"""The transforms runner: build every model inside the warehouse, in dependency order.

``build(target)`` loads the models (:mod:`transforms.graph`), transpiles each for the warehouse
(:mod:`transforms.dialect`) and materialises it as a table; a build is published as a whole:

1. *stage*: every selected model, in dependency order, becomes ``<schema>.<name>__sl_new``
   (``CREATE TABLE … AS <select>``, its rows counted). A model reading another selected model
   reads that model's new table (the query is rewritten, :func:`render`); one reading a model not
   selected (``--select``) reads the published table;
2. *publish*: in one transaction, for each staged model (PostgreSQL) copy the published table's
   grants onto the new one, ``DROP TABLE <schema>.<name>``, ``ALTER TABLE <name>__sl_new RENAME
   TO <name>``; the run lock is verified (:func:`warehouse.lock.verify_held`); ``COMMIT``;
3. on any error, or a kill, before the commit: nothing is published — every table is still the
   previous build's — and the staged tables are dropped (a ``kill -9`` leaves them, and the next
   build drops them first). The run stops with a :class:`TransformError` naming the model, its
   file and the engine's message.

On another dlt destination (:mod:`warehouse.dlt_sql`) step 2 is the engine's own publish
(:data:`warehouse.engines.PUBLISH`): the same drop and rename in one transaction where DDL is
transactional (Redshift, SQL Server), else each table replaced atomically on its own (Snowflake's
``SWAP WITH``, ``CREATE OR REPLACE`` on BigQuery and Databricks), the lock verified first.

Both engines have transactional DDL, so a reader (Tableau, ``kpis``, ``export-hyper``) sees the
previous build or the new one, never a mix of the two (``core.tickets`` from one build beside
``marts.fct_tickets`` from the other) nor a missing table. PostgreSQL takes the exclusive locks on
the published tables only for the publishing transaction, not while the new tables are computed;
a reader's query that holds one of them past :data:`PUBLISH_LOCK_TIMEOUT` makes the build give up
with :class:`warehouse.lock.WarehouseBusy` (exit 75), the previous build still published. While
a build runs, the warehouse holds both builds' tables.

Every model is a table, never a view: a PostgreSQL view binds to the tables it reads, so it would
block the swap of anything upstream (or be dropped by a cascade) and would keep reading a stand-in
after the real table arrives; tables also give each model its row count and its failure at its
own step. The cost, a copy of the staging layer, is small next to the raw data.

Missing sources. A model may read raw tables of a system the user does not sync. Before the
build, each raw table the selected models read that is absent from the warehouse gets an empty
*stand-in* with the columns and types the payload models in ``schemas/`` declare
(:func:`raw_table_columns`), in the schema :data:`STANDIN_SCHEMA` as ``<schema>__<table>``; the
models' SQL is rewritten (on the parsed query, not the text) to read the stand-in instead. The raw
schemas thus hold only what dlt loaded (an empty ``zendesk.tickets`` would look like a sync that
found nothing, and dlt would later find a table it never created), and the stand-ins are dropped
after each build, so the next build after a first sync reads the real table. A model that reads a
column neither the stand-in nor the real table has fails with the engine's message, which names
the column.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlglot import exp

from common.coltypes import ENGINES, TRANSPILING_ENGINES, sql_types
from common.errors import ConfigError, one_line
from connectors import registry
from connectors.registry import SourceSpec
from transforms import dialect
from transforms.graph import (
    MODEL_SCHEMAS,
    MODELS_DIR,
    RESERVED_SUFFIX,
    DependencyCycleError,
    Model,
    ModelDefinitionError,
    TransformError,
    UnknownModelError,
    discover,
    identifier,
    load_models,
    qualified_name,
    select_models,
    sort_models,
    tables_read,
)
from transforms.settings import Settings, load_settings, write_settings
from warehouse.lock import WarehouseBusy, busy_error, verify_held
from warehouse.sql import Connection, connection, transaction
from warehouse.sql import quote_ident as _quote
from warehouse.target import Target

__all__ = [
    "MODEL_SCHEMAS",
    "SQL_TYPES",
    "STANDIN_SCHEMA",
    "DependencyCycleError",
    "Model",
    "ModelDefinitionError",
    "ModelResult",
    "TransformError",
    "UnknownModelError",
    "build",
    "default_models",
    "load_models",
    "raw_table_columns",
    "render",
    "summary",
]

log = logging.getLogger("supportlake.transforms")

STANDIN_SCHEMA = "supportlake_standins"
"""Where empty stand-ins of absent raw tables live during a build."""

LOADER_COLUMNS: Mapping[str, str] = {"_sl_seq": "bigint", "_sl_deleted": "bool", "_sl_deleted_at": "timestamp"}
"""Columns the loader adds to every raw table besides the payload's: the extraction order, and the
deletion flag and time (:mod:`connectors.deletions`). (Pages go to dlt as Arrow tables, so dlt adds
no ``_dlt_load_id``/``_dlt_id``; a stand-in must not offer columns the real table lacks, or a model
would pass on the stand-in and fail on real data.)"""

PUBLISH_LOCK_TIMEOUT = "60s"
"""PostgreSQL: how long publishing a build waits for a table a reader is using."""

SQL_TYPES: Mapping[str, Mapping[str, str]] = {engine: sql_types(engine) for engine in (*ENGINES, *TRANSPILING_ENGINES)}
"""Kind → DDL per engine (stand-ins and input tables), from :data:`common.coltypes.COLUMN_TYPES`."""


@dataclass(frozen=True)
class ModelResult:
    """One built model."""

    model: str
    """``schema.name``."""
    path: Path
    rows: int
    seconds: float
    standins: tuple[str, ...] = ()
    """Raw tables that were absent and read as empty stand-ins."""


def _input_tables() -> dict[str, dict[str, str]]:
    """The tables ``supportlake load-input`` writes (schema ``inputs``): a model reading one that was
    never loaded reads an empty stand-in of the same columns."""
    from schemas.inputs import KINDS, column_kinds

    return {k.qualified_table: column_kinds(k) for k in KINDS.values()}


def raw_table_columns() -> Mapping[str, Mapping[str, str]]:
    """Every raw table the sources declare (:attr:`connectors.registry.SourceSpec.columns`, from
    the payload models in ``schemas/``) plus the loader's columns, and the input tables:
    ``"zendesk.tickets"`` → ``{"id": "bigint", ...}``."""
    out: dict[str, Mapping[str, str]] = {}
    for spec in registry.specs():
        out.update(_source_tables(spec))
    out.update(_input_tables())
    return out


@cache
def _source_tables(spec: SourceSpec) -> Mapping[str, Mapping[str, str]]:
    return {f"{spec.name}.{table}": {**cols, **LOADER_COLUMNS} for table, cols in spec.columns().items()}


def default_models() -> list[Model]:
    """The shipped models (:data:`MODELS_DIR`) and those of every source that brings its own
    (:attr:`connectors.registry.SourceSpec.models`), checked, in dependency order."""
    models = discover(MODELS_DIR)
    seen = {m.key: m for m in models}
    for spec in registry.specs():
        if spec.models is None:
            continue
        for m in discover(spec.models):
            if m.key in seen:
                raise ModelDefinitionError(
                    f"model {m.key} is defined twice: {seen[m.key].path} and {m.path}", model=m.key, path=m.path
                )
            seen[m.key] = m
            models.append(m)
    return sort_models(models)


def _table(schema: str, name: str) -> str:
    return f"{_quote(schema)}.{_quote(name)}"


def _standin_name(raw: str) -> str:
    schema, table = raw.split(".", 1)
    return f"{schema}__{table}"


def render(model: Model, kind: str, standins: Iterable[str] = (), staged: Iterable[str] = ()) -> str:
    """The model's SQL for warehouse ``kind``, reading the stand-ins of the raw tables named in
    ``standins`` and the new tables (``<name>__sl_new``) of the models named in ``staged``."""
    swaps = {raw: (STANDIN_SCHEMA, _standin_name(raw)) for raw in standins}
    swaps.update({key: (key.split(".", 1)[0], key.split(".", 1)[1] + RESERVED_SUFFIX) for key in staged})
    replace = set(swaps)
    query = model.query.copy()
    if replace:
        for table in tables_read(query):
            raw = qualified_name(table)
            if raw not in replace:
                continue
            name = raw.split(".", 1)[1]
            if not table.alias:
                # quoted: raw names may be SQL keywords (Salesforce's case, user, group)
                table.set("alias", exp.TableAlias(this=exp.to_identifier(name, quoted=True)))
            table.set("db", exp.to_identifier(swaps[raw][0]))
            table.set("this", exp.to_identifier(swaps[raw][1]))
        # ``zendesk.tickets.id`` written out in full: keep ``tickets.id`` (the alias set above).
        for column in query.find_all(exp.Column):
            db = column.args.get("db")
            if db is not None and f"{identifier(db)}.{identifier(column.args.get('table'))}" in replace:
                column.set("db", None)
    return dialect.generate(query, kind)


def _existing_tables(con: Connection, names: Iterable[str]) -> set[str]:
    wanted = sorted(set(names))
    if not wanted:
        return set()
    schemas = sorted({n.split(".", 1)[0] for n in wanted})
    placeholders = ", ".join(["%s"] * len(schemas))
    rows = con.query(
        f"select table_schema, table_name from information_schema.tables where table_schema in ({placeholders})",
        schemas,
    )
    present = {f"{s}.{t}" for s, t in rows}
    return {n for n in wanted if n in present}


def _missing_columns(
    con: Connection, tables: Iterable[str], declared: Mapping[str, Mapping[str, str]]
) -> dict[str, list[str]]:
    """Declared columns absent from raw tables that exist. dlt adds a column with its first
    non-null value, so a field an org never fills (Salesforce's MasterRecordId, say) is missing
    from a real table that a model reads."""
    wanted = sorted(t for t in tables if t in declared)
    if not wanted:
        return {}
    schemas = sorted({t.split(".", 1)[0] for t in wanted})
    placeholders = ", ".join(["%s"] * len(schemas))
    rows = con.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        f"where table_schema in ({placeholders})",
        schemas,
    )
    present: dict[str, set[str]] = {}
    for schema, table, column in rows:
        present.setdefault(f"{schema}.{table}", set()).add(column)
    out: dict[str, list[str]] = {}
    for table in wanted:
        absent = [c for c in declared[table] if c not in present.get(table, set())]
        if absent:
            out[table] = absent
    return out


def _prepare_standins(
    con: Connection, models: Sequence[Model], declared: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """Stand-ins for the raw tables the models read: an empty typed table for an absent one, a
    view adding typed NULL columns for one that lacks declared columns; {raw table: stand-in}."""
    con.execute(f"drop schema if exists {_quote(STANDIN_SCHEMA)} cascade")
    raw = {s for m in models for s in m.sources}
    existing = _existing_tables(con, raw)
    missing = sorted(raw - existing)
    patched = _missing_columns(con, existing, declared)
    if not missing and not patched:
        return {}
    undeclared = [t for t in missing if t not in declared]
    if undeclared:
        readers = sorted({m.key for m in models for t in m.sources if t in undeclared})
        raise TransformError(
            f"model {readers[0]} reads {', '.join(undeclared)}: not in the warehouse and not a table any "
            "connector declares (schemas/), so there is no way to stand in for it "
            f"(read by: {', '.join(readers)})",
            model=readers[0],
        )
    types = SQL_TYPES[con.kind]
    con.execute(f"create schema {_quote(STANDIN_SCHEMA)}")
    out: dict[str, str] = {}
    for table in missing:
        columns = ", ".join(f"{_quote(col)} {types[kind]}" for col, kind in declared[table].items())
        name = _standin_name(table)
        con.execute(f"create table {_table(STANDIN_SCHEMA, name)} ({columns})")
        out[table] = f"{STANDIN_SCHEMA}.{name}"
        log.info("%s is not in the warehouse: models read an empty stand-in (%s)", table, out[table])
    for table, absent in sorted(patched.items()):
        schema, raw_name = table.split(".", 1)
        nulls = ", ".join(f"cast(null as {types[declared[table][c]]}) as {_quote(c)}" for c in absent)
        name = _standin_name(table)
        con.execute(f"create view {_table(STANDIN_SCHEMA, name)} as select *, {nulls} from {_table(schema, raw_name)}")
        out[table] = f"{STANDIN_SCHEMA}.{name}"
        log.info("%s has never held a value in %s: models read them as NULL", table, ", ".join(absent))
    return out


def _copy_grants(con: Connection, schema: str, old: str, new: str) -> None:
    """PostgreSQL: grant on the new table what was granted on the old one (e.g. Tableau's
    read-only role), since a dropped table takes its grants with it."""
    rows = con.query(
        """
        select case when a.grantee = 0 then 'PUBLIC' else quote_ident(pg_get_userbyid(a.grantee)) end,
               a.privilege_type, a.is_grantable
        from pg_class c, lateral aclexplode(c.relacl) a
        where c.oid = to_regclass(%s) and a.grantee <> c.relowner
        """,
        [_table(schema, old)],
    )
    for grantee, privilege, grantable in rows:
        option = " with grant option" if grantable else ""
        con.execute(f"grant {privilege} on {_table(schema, new)} to {grantee}{option}")


def _stage(con: Connection, model: Model, sql: str) -> int:
    """Build ``model`` under its new name (``<name>__sl_new``), not yet published; its row count."""
    schema, tmp = model.schema, model.name + RESERVED_SUFFIX
    with transaction(con):
        con.execute(f"drop table if exists {_table(schema, tmp)}")
        con.execute_verbatim(f"create table {_table(schema, tmp)} as\n{sql}")
        return int(con.query(f"select count(*) from {_table(schema, tmp)}")[0][0])


def _publish(con: Connection, target: Target, models: Sequence[Model]) -> None:
    """Swap every staged model in for its published table, in one transaction, once the run lock
    is verified: readers see the previous build or this one, never a mix. Spark has no
    transactions: the lock is verified before the swap, and each drop and rename runs alone. A dlt
    destination's connection says how its engine replaces a table (:data:`warehouse.engines.PUBLISH`)."""
    transactional = getattr(con, "transactional", True)
    statements = getattr(con, "publish_statements", None)
    existing = _existing_tables(con, [m.key for m in models]) if statements is not None else set()
    try:
        if not transactional:  # Spark: nothing can be rolled back, so the lock is checked before the first drop
            verify_held(target)
        with transaction(con):
            if con.kind == "postgres":
                con.execute(f"set local lock_timeout = '{PUBLISH_LOCK_TIMEOUT}'")
            for model in models:
                schema, name, tmp = model.schema, model.name, model.name + RESERVED_SUFFIX
                if statements is not None:
                    for sql in statements(schema, name, tmp, exists=model.key in existing):
                        con.execute_verbatim(sql)
                    continue
                if con.kind == "postgres":
                    _copy_grants(con, schema, name, tmp)
                con.execute(f"drop table if exists {_table(schema, name)}")
                con.execute(f"alter table {_table(schema, tmp)} rename to {_quote(name)}")
            if transactional:
                verify_held(target)
    except WarehouseBusy:
        raise
    except Exception as exc:
        busy = busy_error(exc, target)
        if busy is not None:
            raise WarehouseBusy(f"the build was not published (the previous one stays): {busy}") from exc
        raise TransformError(f"the build was not published (the previous one stays): {_engine_message(exc)}") from exc


def _staged_leftovers(con: Connection) -> list[tuple[str, str]]:
    """``(schema, table)`` of every ``<name>__sl_new`` in the model schemas."""
    placeholders = ", ".join(["%s"] * len(MODEL_SCHEMAS))
    rows = con.query(
        f"select table_schema, table_name from information_schema.tables where table_schema in ({placeholders})",
        list(MODEL_SCHEMAS),
    )
    return sorted((str(s), str(t)) for s, t in rows if str(t).endswith(RESERVED_SUFFIX))


def _drop_staged(con: Connection, tables: Iterable[tuple[str, str]]) -> None:
    for schema, table in tables:
        try:
            con.execute(f"drop table if exists {_table(schema, table)}")
        except Exception:  # never hide the error that ended the build; the next build drops them
            log.warning("could not drop %s.%s", schema, table, exc_info=True)


def _engine_message(exc: BaseException) -> str:
    return one_line(exc)


def build(
    target: Target,
    models_dir: Path | None = None,
    select: Sequence[str] | None = None,
    *,
    raw_tables: Mapping[str, Mapping[str, str]] | None = None,
    on_result: Callable[[ModelResult], None] | None = None,
    lock: bool = True,
    settings: Settings | None = None,
) -> list[ModelResult]:
    """Build the models (all, or those ``select`` names) in ``target``, in dependency order.

    ``select`` items: a model name, ``schema.name``, a layer (``core``), ``name+`` for a model and
    everything downstream. ``raw_tables`` overrides :func:`raw_table_columns` (the declared raw
    tables that may stand in when absent). ``on_result`` is called after each model (a progress
    line). ``lock`` takes the warehouse's run lock, so a build never overlaps a sync. ``settings``
    (default: :func:`transforms.settings.load_settings`) are written to the warehouse first.

    ``models_dir`` replaces the default models (:func:`default_models`).

    The build is published as a whole (the module's docstring): a ``select`` publishes the
    selected models together. Stops at the first failing model with a :class:`TransformError`
    naming it, its file and the engine's message; nothing is published then, every table stays
    the previous build's. Raises :class:`warehouse.lock.WarehouseBusy` when the lock was lost or
    (PostgreSQL) a reader kept a table past :data:`PUBLISH_LOCK_TIMEOUT`.
    """
    models = select_models(load_models(models_dir) if models_dir else default_models(), select)
    settings = load_settings() if settings is None else settings
    if not models:
        log.info("no models to build")
        return []
    if lock:
        from warehouse.lock import RunLock

        with RunLock(target):
            return _build(target, models, raw_tables, on_result, settings)
    return _build(target, models, raw_tables, on_result, settings)


def _build(
    target: Target,
    models: Sequence[Model],
    raw_tables: Mapping[str, Mapping[str, str]] | None,
    on_result: Callable[[ModelResult], None] | None,
    settings: Settings,
) -> list[ModelResult]:
    declared = raw_table_columns() if raw_tables is None else raw_tables
    results: list[ModelResult] = []
    with connection(target) as con:
        _check_catalog_name(con, models)
        _set_utc(con)
        write_settings(con, settings)
        standins = _prepare_standins(con, models, declared)
        staged: list[Model] = []
        published = False
        try:
            for schema in sorted({m.schema for m in models}, key=MODEL_SCHEMAS.index):
                con.execute(f"create schema if not exists {_quote(schema)}")
            _drop_staged(con, _staged_leftovers(con))  # a killed build's; we hold the lock
            selected = {m.key for m in models}
            for model in models:
                results.append(_build_one(con, model, standins, selected))
                staged.append(model)
                if on_result is not None:
                    on_result(results[-1])
            _publish(con, target, staged)
            published = True
        finally:
            if not published:
                _drop_staged(con, [(m.schema, m.name + RESERVED_SUFFIX) for m in staged])
            if standins:
                _drop_standins(con)
    return results


def _drop_standins(con: Connection) -> None:
    try:
        con.execute(f"drop schema if exists {_quote(STANDIN_SCHEMA)} cascade")
    except Exception:  # never hide the error that ended the build; the next build drops them
        log.warning("could not drop the stand-in schema %s", STANDIN_SCHEMA, exc_info=True)


def _check_catalog_name(con: Connection, models: Sequence[Model]) -> None:
    """DuckDB names its catalog after the file: in ``core.duckdb``, ``core.tickets`` is ambiguous."""
    if con.kind != "duckdb":
        return
    catalog = str(con.query("select current_database()")[0][0])
    schemas = {m.schema for m in models} | {s.split(".", 1)[0] for m in models for s in m.sources}
    if catalog in schemas | {STANDIN_SCHEMA}:
        raise ConfigError(
            f"the DuckDB file is named {catalog!r}, like a schema the models use, so DuckDB cannot tell "
            f"{catalog}.<table> apart: rename the file (e.g. supportlake_warehouse.duckdb)"
        )


def _set_utc(con: Connection) -> None:
    """Session time zone UTC, so ``ts::DATE``, ``date_trunc`` and ``strftime`` on timestamps with
    time zone mean the same on every engine and every machine."""
    if con.kind in ("spark", "dlt"):
        return  # the connection sets its session's zone (warehouse/spark.py, warehouse/engines.py)
    con.execute("set time zone 'UTC'" if con.kind == "postgres" else "set TimeZone = 'UTC'")


def _build_one(con: Connection, model: Model, standins: Mapping[str, str], selected: set[str]) -> ModelResult:
    used = tuple(t for t in model.sources if t in standins)
    engine = getattr(con, "dialect", con.kind)  # a dlt destination's connection names its dialect
    started = time.perf_counter()
    try:
        sql = render(model, engine, used, [d for d in model.depends_on if d in selected])
    except Exception as exc:
        raise TransformError(
            f"model {model.key} ({model.path}) cannot be written for {engine}: {_engine_message(exc)}",
            model=model.key,
            path=model.path,
        ) from exc
    try:
        rows = _stage(con, model, sql)
    except Exception as exc:
        hint = f" (absent sources read as empty stand-ins: {', '.join(used)})" if used else ""
        raise TransformError(
            f"model {model.key} ({model.path}) failed on {engine}: {_engine_message(exc)}{hint}",
            model=model.key,
            path=model.path,
        ) from exc
    seconds = time.perf_counter() - started
    log.info("built %s: %d rows in %.2fs", model.key, rows, seconds)
    return ModelResult(model=model.key, path=model.path, rows=rows, seconds=seconds, standins=used)


def summary(results: Sequence[ModelResult]) -> list[str]:
    """One line per model, for the CLI: name, rows, seconds, stand-ins."""
    width = max((len(r.model) for r in results), default=0)
    lines = []
    for r in results:
        note = f"  (stand-in for {', '.join(r.standins)})" if r.standins else ""
        lines.append(f"{r.model:<{width}}  {r.rows:>10,} rows  {r.seconds:7.2f}s{note}")
    return lines
