"""The load step of deletions: ``_sl_deleted`` / ``_sl_deleted_at`` made right for every row.

Run after each source's load, in the same sync (:func:`warehouse.sync.sync`), on DuckDB and
PostgreSQL. For every raw table of the source's dataset (dlt's own ``_dlt_*`` tables aside) it:

1. adds the two columns where they are missing (a table loaded before they existed, and not
   loaded since);
2. recomputes both from the table's :class:`connectors.deletions.Deletion` — the record's own
   say, a purge log, a deleted parent — with one ``UPDATE`` per table that writes only the rows
   whose flag or time changes. Parents are done before their children.

It is idempotent and re-applied every run, so a run killed between the load and this step is
made right by the next one, and a purged row that a later load replaces (with the API's
``_sl_deleted = false``) is flagged again before the run ends. Rules that name a table or a
column the warehouse does not have are passed over (a source not synced, a skipped object, a
field the org lacks).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from connectors import registry
from connectors.deletions import DELETED, DELETED_AT, Deletion, SourceDeletions, value_text
from warehouse.sql import Connection, quote_ident, transaction

log = logging.getLogger("supportlake.deletions")


_TIMESTAMPTZ = "timestamp with time zone"


def rules_of(source: str) -> SourceDeletions:
    """The declared deletion rules of a source (:attr:`connectors.registry.SourceSpec.deletions`;
    an unknown source or none declared: every table is never deleted)."""
    if source not in registry.names():
        return SourceDeletions()
    return registry.get(source).deletion_rules()


def apply(con: Connection, dataset: str, rules: SourceDeletions | None = None) -> list[str]:
    """Make the deletion columns of every raw table of ``dataset`` right; returns the tables
    handled, parents first."""
    rules = rules if rules is not None else rules_of(dataset)
    columns = _columns(con, dataset)
    if not columns:
        return []
    order = _parents_first(columns, rules)
    with transaction(con):
        for table in order:
            missing = [c for c in (DELETED, DELETED_AT) if c not in columns[table]]
            for name in missing:
                kind = "boolean" if name == DELETED else _TIMESTAMPTZ
                con.execute(f"alter table {_table(dataset, table)} add column {quote_ident(name)} {kind}")
                columns[table][name] = kind
        for table in order:
            con.execute(update_sql(dataset, table, rules.of(table), columns))
    return order


def update_sql(dataset: str, table: str, deletion: Deletion, columns: Mapping[str, Mapping[str, str]]) -> str:
    """The ``UPDATE`` that sets the two columns of ``table`` from ``deletion``, writing only the
    rows whose values change. ``columns``: table → {column: SQL data type} of the dataset.

    Purge logs and parents are read as derived tables grouped by key and left-joined on the row's
    key or reference (hash joins on both engines: dlt creates no indexes), never as a correlated
    subquery per row."""
    mine = columns[table]
    target = _table(dataset, table)
    reasons: list[tuple[str, str]] = []  # (condition, time when it holds), by preference
    rule = deletion.record
    if rule is not None and rule.column in mine:
        col = f"t.{quote_ident(rule.column)}"
        if rule.values:
            listed = ", ".join(_literal(value_text(v)) for v in rule.values)
            cond = f"coalesce(lower(cast({col} as varchar)) in ({listed}), false)"
        else:
            cond = f"{col} is not null"
        times = [f"t.{quote_ident(c)}" for c in rule.at if "timestamp" in mine.get(c, "")]
        reasons.append((cond, _coalesce(times)))
    joins: list[str] = []
    for p in deletion.purged:
        log_cols = columns.get(p.log)
        needed = (p.log_key, p.log_at, *p.log_match)
        if log_cols is None or p.key not in mine or any(c not in log_cols for c in needed):
            continue
        alias = f"d{len(joins)}"
        where = " and ".join(f"{quote_ident(c)} = {_literal(v)}" for c, v in p.log_match.items()) or "true"
        joins.append(
            f"left join (select {quote_ident(p.log_key)} as k, max({quote_ident(p.log_at)}) as at "
            f"from {_table(dataset, p.log)} where {where} group by {quote_ident(p.log_key)}) as {alias} "
            f"on {alias}.k = t.{quote_ident(p.key)}"
        )
        reasons.append((f"{alias}.k is not null", f"{alias}.at"))
    for parent in deletion.parents:
        parent_cols = columns.get(parent.parent)
        if parent_cols is None or parent.column not in mine or parent.parent_key not in parent_cols:
            continue
        if any(c not in mine for c in parent.match):
            continue
        alias = f"d{len(joins)}"
        match = "".join(f" and t.{quote_ident(c)} = {_literal(v)}" for c, v in parent.match.items())
        key = quote_ident(parent.parent_key)
        joins.append(
            f"left join (select {key} as k, max({quote_ident(DELETED_AT)}) as at from "
            f"{_table(dataset, parent.parent)} where {quote_ident(DELETED)} group by {key}) as {alias} "
            f"on {alias}.k = t.{quote_ident(parent.column)}{match}"
        )
        reasons.append((f"{alias}.k is not null", f"{alias}.at"))
    if not reasons:
        flag, at = "false", f"cast(null as {_TIMESTAMPTZ})"
    else:
        flag = "(" + " or ".join(c for c, _ in reasons) + ")"
        at = _coalesce([f"case when {c} then {a} end" for c, a in reasons])
    if not joins:
        return f"update {target} as t set {_sets(flag, at)} where {_changed('t', flag, at)}"
    keys = [quote_ident(k) for k in deletion.key]
    wanted = (
        f"select {', '.join(f't.{k}' for k in keys)}, {flag} as flag, {at} as at from {target} as t {' '.join(joins)}"
    )
    on = " and ".join(f"u.{k} = w.{k}" for k in keys)
    return (
        f"update {target} as u set {_sets('w.flag', 'w.at')} from ({wanted}) as w "
        f"where {on} and ({_changed('u', 'w.flag', 'w.at')})"
    )


def _sets(flag: str, at: str) -> str:
    return f"{quote_ident(DELETED)} = {flag}, {quote_ident(DELETED_AT)} = {at}"


def _changed(row: str, flag: str, at: str) -> str:
    """Only the rows whose values change are written."""
    return (
        f"{row}.{quote_ident(DELETED)} is distinct from {flag} or {row}.{quote_ident(DELETED_AT)} is distinct from {at}"
    )


def _coalesce(exprs: Sequence[str]) -> str:
    if not exprs:
        return f"cast(null as {_TIMESTAMPTZ})"
    if len(exprs) == 1:
        return f"cast({exprs[0]} as {_TIMESTAMPTZ})"
    return f"cast(coalesce({', '.join(exprs)}) as {_TIMESTAMPTZ})"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table(dataset: str, table: str) -> str:
    return f"{quote_ident(dataset)}.{quote_ident(table)}"


def _columns(con: Connection, dataset: str) -> dict[str, dict[str, str]]:
    """The dataset's raw tables (not dlt's ``_dlt_*``) → {column: data type, lower case}."""
    rows = con.query(
        "select c.table_name, c.column_name, c.data_type from information_schema.columns as c "
        "join information_schema.tables as t on t.table_schema = c.table_schema and t.table_name = c.table_name "
        "where c.table_schema = %s and t.table_type = 'BASE TABLE'",
        [dataset],
    )
    out: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        if str(table).startswith("_dlt_"):
            continue
        out.setdefault(str(table), {})[str(column)] = str(kind).lower()
    return out


def _parents_first(columns: Mapping[str, object], rules: SourceDeletions) -> list[str]:
    """The tables in an order where every parent comes before its children."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(table: str) -> None:
        if table in order or table in visiting:
            return
        visiting.add(table)
        for parent in rules.of(table).parents:
            if parent.parent in columns:
                visit(parent.parent)
        visiting.discard(table)
        order.append(table)

    for table in sorted(columns):
        visit(table)
    return order
