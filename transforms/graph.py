"""Models and their dependencies, found from the SQL itself.

A model is one file ``transforms/models/<layer>/**/<name>.sql`` holding one DuckDB ``SELECT``.
The layer folder is the schema it is built into (:data:`MODEL_SCHEMAS`); the file name is the
table name. A model reads other models and raw tables by schema-qualified names
(``staging.stg_zendesk__tickets``, ``zendesk.tickets``). sqlglot lists the tables each query
reads, scope by scope, so a CTE that shadows a table name is not mistaken for the table; those
in a model schema are dependencies, the others are raw sources. There is no hand-kept order.
"""

from __future__ import annotations

import graphlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from common.errors import ConfigError, SupportlakeError
from transforms import dialect

MODEL_SCHEMAS = ("staging", "intermediate", "core", "marts")
"""Layer folders, in build order of preference; each is the schema its models are built into."""

MODELS_DIR = Path(__file__).parent / "models"
"""The models that ship with supportlake."""

RESERVED_SUFFIX = "__sl_new"
_NAME = re.compile(rf"^[a-z_][a-z0-9_]{{0,{62 - len(RESERVED_SUFFIX)}}}$")
"""PostgreSQL truncates names past 63 bytes: ``<name>__sl_new`` must fit."""


class TransformError(SupportlakeError):
    """A model cannot be loaded, ordered or built; ``model`` and ``path`` say which."""

    def __init__(self, message: str, *, model: str = "", path: Path | None = None) -> None:
        self.model = model
        self.path = path
        super().__init__(message)


class ModelDefinitionError(TransformError):
    """A model file is not one valid SELECT, is in the wrong place, or reads unqualified tables."""


class UnknownModelError(TransformError):
    """A model reads a table in a model schema that no model defines."""


class DependencyCycleError(TransformError):
    """Models read each other in a cycle; ``cycle`` lists them, the first repeated at the end."""

    def __init__(self, message: str, *, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(message, model=self.cycle[0] if self.cycle else "")


@dataclass(frozen=True)
class Model:
    """One model file, parsed."""

    schema: str
    name: str
    path: Path
    sql: str
    query: exp.Query = field(repr=False, compare=False)
    reads: tuple[str, ...] = ()
    """Every table the query reads, as ``schema.table``, sorted."""

    @property
    def key(self) -> str:
        """``schema.name``: how other models refer to this one."""
        return f"{self.schema}.{self.name}"

    @property
    def depends_on(self) -> tuple[str, ...]:
        """The models this one reads (tables in a model schema)."""
        return tuple(r for r in self.reads if r.split(".", 1)[0] in MODEL_SCHEMAS)

    @property
    def sources(self) -> tuple[str, ...]:
        """The raw tables this one reads (tables outside the model schemas)."""
        return tuple(r for r in self.reads if r.split(".", 1)[0] not in MODEL_SCHEMAS)


def identifier(node: exp.Expr | str | None) -> str:
    """An identifier as the warehouse resolves it: unquoted names fold to lower case."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.lower()
    if isinstance(node, exp.Identifier):
        return node.name if node.quoted else node.name.lower()
    return node.name.lower()


def _is_cte_reference(table: exp.Table, scope: Scope) -> bool:
    return not table.args.get("db") and isinstance(scope.sources.get(table.name), Scope)


def tables_read(query: exp.Query) -> list[exp.Table]:
    """The table nodes of ``query`` that name stored tables: CTE references and table functions
    (``generate_series``, ``unnest``) excluded, scope by scope."""
    out: list[exp.Table] = []
    seen: set[int] = set()
    for scope in traverse_scope(query):
        for table in scope.tables:
            if id(table) in seen or not isinstance(table.this, exp.Identifier):
                continue
            seen.add(id(table))
            if not _is_cte_reference(table, scope):
                out.append(table)
    return out


def qualified_name(table: exp.Table) -> str:
    return f"{identifier(table.args.get('db'))}.{identifier(table.this)}"


def parse_model(path: Path, models_dir: Path) -> Model:
    """Parse one model file; its folder gives the schema, its file name the table name."""
    rel = path.relative_to(models_dir)
    where = str(path)
    schema = rel.parts[0] if len(rel.parts) > 1 else ""
    name = path.stem
    if schema not in MODEL_SCHEMAS:
        raise ModelDefinitionError(
            f"{where}: a model lives under one of {', '.join(f'{s}/' for s in MODEL_SCHEMAS)} "
            "(the folder is the schema it is built into)",
            path=path,
        )
    key = f"{schema}.{name}"
    if not _NAME.match(name) or name.endswith(RESERVED_SUFFIX):
        raise ModelDefinitionError(
            f"{where}: model name {name!r} must be lower-case letters, digits and underscores, "
            f"starting with a letter or underscore, at most {63 - len(RESERVED_SUFFIX)} characters, "
            f"and not end with {RESERVED_SUFFIX!r}",
            model=key,
            path=path,
        )
    sql = path.read_text(encoding="utf-8")
    try:
        query = dialect.parse(sql)
        tables = tables_read(query)
    except SqlglotError as exc:
        raise ModelDefinitionError(f"model {key} ({where}): {exc}", model=key, path=path) from None
    reads: set[str] = set()
    for table in tables:
        if table.args.get("catalog"):
            raise ModelDefinitionError(
                f"model {key} ({where}): {table.sql(dialect='duckdb')} names a catalog; "
                "refer to tables as schema.table",
                model=key,
                path=path,
            )
        if not table.args.get("db"):
            raise ModelDefinitionError(
                f"model {key} ({where}): table {table.name!r} has no schema; "
                f"write it schema-qualified (e.g. staging.{table.name} or zendesk.{table.name})",
                model=key,
                path=path,
            )
        reads.add(qualified_name(table))
    _check_output_names(query, key, path)
    _check_no_lambdas(query, key, path)
    return Model(schema=schema, name=name, path=path, sql=sql, query=query, reads=tuple(sorted(reads)))


def _check_output_names(query: exp.Query, key: str, path: Path) -> None:
    """Every output column needs a name the engines agree on: a column, ``*`` or an alias.
    (DuckDB would call ``count(*)`` ``count_star()``, PostgreSQL ``count``.)"""
    for i, projection in enumerate(query.selects, start=1):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star):
            continue
        raise ModelDefinitionError(
            f"model {key} ({path}): output column {i} ({projection.sql(dialect='duckdb')}) has no name; "
            "add `as <name>`",
            model=key,
            path=path,
        )


def _check_no_lambdas(query: exp.Query, key: str, path: Path) -> None:
    """``f(x -> 'a')`` parses as a lambda, not as JSON extraction; lambdas (``list_transform``)
    do not exist in PostgreSQL anyway."""
    for node in query.find_all(exp.Lambda):
        raise ModelDefinitionError(
            f"model {key} ({path}): {node.sql(dialect='duckdb')!r} is read as a lambda; for JSON inside a "
            "function's arguments write (col -> 'key') in parentheses, or json_extract(col, '$.key')",
            model=key,
            path=path,
        )


def discover(models_dir: Path) -> list[Model]:
    """Every ``*.sql`` file under ``models_dir``, parsed (not yet checked or ordered)."""
    if not models_dir.is_dir():
        raise ConfigError(f"models folder {models_dir} does not exist")
    models = [parse_model(p, models_dir) for p in sorted(models_dir.rglob("*.sql"))]
    by_key: dict[str, Model] = {}
    for m in models:
        if m.key in by_key:
            raise ModelDefinitionError(
                f"model {m.key} is defined twice: {by_key[m.key].path} and {m.path}", model=m.key, path=m.path
            )
        by_key[m.key] = m
    return models


def sort_models(models: Iterable[Model]) -> list[Model]:
    """``models`` in dependency order (ties: layer order, then name).

    Raises :class:`UnknownModelError` for a reference to a model schema table no model defines,
    and :class:`DependencyCycleError` naming the models of a cycle.
    """
    by_key = {m.key: m for m in models}
    for m in by_key.values():
        missing = [d for d in m.depends_on if d not in by_key]
        if missing:
            raise UnknownModelError(
                f"model {m.key} ({m.path}) reads {', '.join(missing)}, which no model defines "
                f"(tables in the schemas {', '.join(MODEL_SCHEMAS)} are built from transforms/models/)",
                model=m.key,
                path=m.path,
            )
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter({k: m.depends_on for k, m in by_key.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))  # graphlib lists it against the arrows; we follow reads
        raise DependencyCycleError(
            f"models read each other in a cycle: {' → '.join(cycle)} (each reads the next)",
            cycle=cycle,
        ) from None

    def rank(key: str) -> tuple[int, str]:
        return MODEL_SCHEMAS.index(by_key[key].schema), key

    ordered: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=rank)
        ordered.extend(by_key[k] for k in ready)
        sorter.done(*ready)
    return ordered


def load_models(models_dir: Path | None = None) -> list[Model]:
    """Every model under ``models_dir`` (default: the shipped ones), checked, in dependency order."""
    return sort_models(discover(models_dir or MODELS_DIR))


def select_models(models: Sequence[Model], select: Sequence[str] | None) -> list[Model]:
    """The models named by ``select``, kept in the order of ``models``.

    Each item is a model name (``tickets``), a qualified name (``core.tickets``) or a layer
    (``core``); a trailing ``+`` adds everything downstream of it (``stg_zendesk__tickets+``).
    Models not selected are read from the warehouse as they are.
    """
    if not select:
        return list(models)
    chosen: set[str] = set()
    for item in select:
        raw = item.strip()
        downstream = raw.endswith("+")
        term = identifier(raw.rstrip("+"))
        if term in MODEL_SCHEMAS:
            hits = {m.key for m in models if m.schema == term}
        else:
            hits = {m.key for m in models if term in (m.key, m.name)}
        if not hits:
            raise ConfigError(f"--select {item!r}: no model, qualified model name or layer is called that")
        if downstream:
            hits |= _downstream(models, hits)
        chosen |= hits
    return [m for m in models if m.key in chosen]


def _downstream(models: Sequence[Model], roots: set[str]) -> set[str]:
    out = set(roots)
    for m in models:  # dependency order: a model comes after everything it reads
        if any(d in out for d in m.depends_on):
            out.add(m.key)
    return out - roots
