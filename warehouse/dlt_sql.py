"""The runner's connection over dlt's own connection to a dlt SQL destination (``Target.kind == "dlt"``).

``--warehouse snowflake://…`` (or ``bigquery``, ``databricks://…``, ``redshift://…``, ``mssql://…``,
``md:…``; see :mod:`warehouse.destinations`) loads with dlt as DuckDB and PostgreSQL do; the run
log, quarantine, lock (a lease), inputs, models, KPIs and Hyper export then run their SQL through
:class:`DltConnection`, which speaks the runner's :class:`warehouse.sql.Connection` protocol over
the destination's ``sql_client`` — the very connection, credentials and driver dlt loads with:

- ``execute`` and ``query`` take supportlake's own statements, written in DuckDB's SQL with ``%s``
  parameters: sqlglot transpiles them to the engine's dialect (:mod:`warehouse.engines`) and
  writes the parameters in as SQL literals (each driver has its own parameter style; a literal is
  the same everywhere), then dlt's ``execute_sql`` runs them without parameters, so a ``%`` in the
  text stays a ``%``;
- ``execute_verbatim`` runs SQL already written for the engine (a model rendered for
  :attr:`DltConnection.dialect` by :mod:`transforms.dialect`);
- ``begin`` / ``commit`` / ``rollback`` become the engine's own statements; an engine whose DDL
  commits by itself has :attr:`DltConnection.transactional` False, and
  :func:`warehouse.sql.transaction` runs its blocks statement by statement;
- names: dlt loads source ``zendesk`` into the dataset ``zendesk`` (``dataset_name`` of
  :func:`warehouse.sync.pipeline_for`), which is the schema the models read as ``zendesk.tickets``
  on every engine. Where dlt folds identifiers to upper case (Snowflake), every identifier of a
  statement is folded the same way, string literals compared with ``information_schema`` names
  too, and the names ``information_schema`` returns come back lower case;
- ``arrow`` returns a query's rows as an Arrow table (dlt's cursor ``.arrow()``), for the Hyper
  export (:mod:`warehouse.dlt_hyper`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from common.errors import one_line
from common.secrets import redact
from warehouse.engines import PUBLISH, Engine, Publish, Step, engine
from warehouse.sql import insert_values
from warehouse.sqltext import bind
from warehouse.target import POSTGRES_DRIVER_HINT, Target, WarehouseError

CLIENT_SCHEMA = "supportlake"
"""The dataset dlt's client is opened on: only its default; every statement names its schema."""

_TRANSACTION = ("begin", "commit", "rollback")
_INFO_NAMES = ("table_schema", "table_name", "column_name", "schema_name")


def open_sql_client(target: Target) -> Any:
    """dlt's ``sql_client`` of ``target``'s destination, connected. A refused connection is a
    :class:`WarehouseError` naming the warehouse (without its secrets) and the reason."""
    from dlt.common.schema import Schema

    dest = target.destination()
    try:
        config = dest.spec()._bind_dataset_name(dataset_name=CLIENT_SCHEMA)
        client = dest.client(Schema(CLIENT_SCHEMA), config).sql_client
        client.open_connection()
    except ImportError as exc:  # the engine's driver is a dlt extra the user has not installed
        name = str(target.destination_name)
        hint = POSTGRES_DRIVER_HINT if name == "postgres" else f'pip install "dlt[{name}]"'
        raise WarehouseError(
            f"cannot connect to the warehouse {target.display}: its driver is not installed "
            f"({redact(str(exc))}): {hint}"
        ) from None
    except Exception as exc:
        reason = one_line(exc)
        raise WarehouseError(f"cannot connect to the warehouse {target.display}: {redact(reason)}") from None
    return client


class DltConnection:
    """The runner's connection protocol over dlt's ``sql_client`` (see the module docstring).
    ``client``: an open ``sql_client`` to use instead of opening one (tests)."""

    kind = "dlt"

    def __init__(self, target: Target, *, read_only: bool = False, client: Any = None) -> None:
        assert target.destination_name is not None
        self.target = target
        self.engine: Engine = engine(target.destination_name)
        self.read_only = read_only
        self._client = client if client is not None else open_sql_client(target)
        fold = self._client.capabilities.casefold_identifier
        self._upper = fold("a") == "A"
        self._fold = fold
        if self.engine.utc:
            self._client.execute_sql(self.engine.utc)

    # ------------------------------------------------------------------ what the runner asks

    @property
    def dialect(self) -> str:
        """The dialect models are rendered for (:func:`transforms.dialect.dialect`)."""
        return self.engine.models

    @property
    def transactional(self) -> bool:
        return self.engine.transactional

    @property
    def upsert(self) -> bool:
        """Whether the lease may take its row with ``on conflict … returning`` (:mod:`warehouse.lease`)."""
        return self.engine.upsert

    @property
    def publish(self) -> Publish:
        return PUBLISH[self.engine.publish]

    def publish_statements(self, schema: str, name: str, staged: str, *, exists: bool) -> list[str]:
        """The statements that put ``schema.staged`` in place of ``schema.name`` (:data:`PUBLISH`)."""
        steps = self.publish.steps if exists else self.publish.first
        return [self.step_sql(s, schema, name, staged) for s in steps]

    def step_sql(self, step: Step, schema: str, name: str, staged: str) -> str:
        q = _quote_duckdb
        text = step.template.format(old=f"{q(schema)}.{q(name)}", new=f"{q(schema)}.{q(staged)}", name=q(name))
        return self.translate(text, read=step.written_in)

    # ------------------------------------------------------------------ the Connection protocol

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._client.execute_sql(self.translate(sql, params))

    def execute_verbatim(self, sql: str) -> None:
        """Run ``sql``, written in the engine's dialect (a rendered model), without parameters.
        Where dlt folds names to upper case, its identifiers are folded first."""
        self._client.execute_sql(self._fold_verbatim(sql))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        text = self.translate(sql, params)
        rows = [tuple(r) for r in self._client.execute_sql(text) or ()]
        if self._upper and "information_schema" in sql.lower():
            return [tuple(v.lower() if isinstance(v, str) else v for v in row) for row in rows]
        return rows

    def read_arrow(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The rows of ``sql`` (the runner's SQL) as a ``pyarrow.Table``, read by dlt's cursor."""
        text = self.translate(sql, params)
        native = getattr(self._client, "native_connection", None)
        if native is not None and self.engine.dialect == "duckdb" and hasattr(native, "sql"):
            # DuckDB (and MotherDuck): the query as a relation, straight to Arrow. dlt 1.31's
            # cursor calls fetch_arrow_table, which DuckDB 2 no longer has.
            return native.sql(text).to_arrow_table()
        with self._client.execute_query(text) as cursor:
            return cursor.arrow()

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], batch: int = 500) -> None:
        """``rows`` into ``table`` (qualified, DuckDB quoting), ``batch`` rows per ``insert … values``."""
        insert_values(self, table, columns, rows, batch)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read in one consistent snapshot where the engine has one (``Engine.snapshot``)."""
        if self.engine.snapshot is None:
            yield
            return
        self._client.execute_sql(self.engine.snapshot)
        try:
            yield
        finally:
            self._client.execute_sql(self.engine.rollback)

    def close(self) -> None:
        self._client.close_connection()

    # ------------------------------------------------------------------ DuckDB SQL → the engine's

    def translate(self, sql: str, params: Sequence[Any] = (), *, read: str = "duckdb") -> str:
        """The runner's statement for this engine: transpiled, parameters written in as literals."""
        word = sql.strip().rstrip(";").strip().lower()
        if word in _TRANSACTION and not params:
            return self._transaction(word)
        statement = bind(sql, params, read=read)
        self._information_schema(statement)
        if self._upper:
            self._fold_identifiers(statement)
        return statement.sql(dialect=self.engine.dialect, unsupported_level=ErrorLevel.RAISE)

    def _transaction(self, word: str) -> str:
        statement = {"begin": self.engine.begin, "commit": self.engine.commit, "rollback": self.engine.rollback}[word]
        if statement is None or not self.transactional:
            raise WarehouseError(
                f"{self.target.display}: {self.engine.destination} commits every statement by itself, so "
                f"{word!r} cannot run (see warehouse/engines.py)"
            )
        return statement

    def _information_schema(self, statement: exp.Expr) -> None:
        """Engine-specific ``information_schema``: its place (BigQuery's region) and, where names
        are folded, the names compared with its columns."""
        tables = [t for t in statement.find_all(exp.Table) if t.db.lower() == "information_schema"]
        if not tables:
            return
        if self.engine.info_schema == "region":
            location = str(getattr(self._client, "location", None) or "US").lower()
            for t in tables:
                t.set("catalog", exp.to_identifier(f"region-{location}", quoted=True))
                t.set("db", exp.to_identifier("INFORMATION_SCHEMA"))
                t.set("this", exp.to_identifier(t.name.upper()))
        if self._upper:
            for node in statement.find_all(exp.EQ, exp.In):
                column = node.this
                if not (isinstance(column, exp.Column) and column.name.lower() in _INFO_NAMES):
                    continue
                for value in node.expressions if isinstance(node, exp.In) else [node.expression]:
                    if isinstance(value, exp.Literal) and value.is_string:
                        value.replace(exp.Literal.string(self._fold(value.name)))

    def _fold_identifiers(self, statement: exp.Expr) -> None:
        for ident in statement.find_all(exp.Identifier):
            if ident.name.lower() == "information_schema" or ident.name.startswith("region-"):
                continue
            ident.set("this", self._fold(ident.name))

    def _fold_verbatim(self, sql: str) -> str:
        if not self._upper:
            return sql
        statement = sqlglot.parse_one(sql, read=self.engine.dialect)
        self._fold_identifiers(statement)
        return statement.sql(dialect=self.engine.dialect, unsupported_level=ErrorLevel.RAISE)


def _quote_duckdb(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
