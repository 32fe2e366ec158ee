"""The quarantine: ``supportlake.rejected_records``, one row per rejected record.

A record a connector rejects (it breaks its table's payload contract, or holds a value its column
cannot take) is never skipped silently: the sync stores it here with the reason and the payload as
the API sent it (redacted: :func:`common.secrets.redact`), keyed by source, table and record key.
Each later run offers the held keys to the connectors (some fetch them again by id) and marks a row
``resolved_at`` once a load read that record valid; a record rejected again keeps its
``first_seen`` and moves ``last_seen``. While any row of a table is unresolved, the table's status
is ``partial`` and ``supportlake sync`` exits 3.

A held record that a read by id asked for and the API did not return (deleted for good, purged,
archived, or out of the account's reach: :meth:`connectors.rejects.Rejects.missing`) can never be
read valid. Once that run's load committed, its row is resolved too, its reason saying why
(:data:`GONE_NOTE`), and the table carries a warning naming how many: it stops holding the table
``partial`` while its reason and payload stay here.

Every value reaches the SQL as a parameter; the only identifiers are the constants below.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from common.secrets import redact
from connectors.rejects import REJECTS, key_text
from schemas.payload import Rejection
from warehouse.runlog import TableResult
from warehouse.sql import Connection, insert_values, transaction

T = TypeVar("T")

SCHEMA = "supportlake"
TABLE = f"{SCHEMA}.rejected_records"
MAX_PAYLOAD = 1_000_000
"""Characters of payload kept (a larger record is cut, and says so)."""

DDL = f"""
create table if not exists {TABLE} (
    source varchar not null,
    table_name varchar not null,
    record_key varchar not null,
    reason varchar not null,
    payload varchar,
    first_seen timestamp with time zone not null,
    last_seen timestamp with time zone not null,
    run_id varchar not null,
    resolved_at timestamp with time zone,
    primary key (source, table_name, record_key)
)
"""


def ensure(con: Connection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(DDL)


def payload_text(payload: Any) -> str:
    """The record as JSON text, secrets masked."""
    try:
        text = json.dumps(payload, default=str, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = json.dumps(repr(payload))
    text = redact(text)
    if len(text) > MAX_PAYLOAD:
        text = text[:MAX_PAYLOAD] + " … (cut: the record is longer)"
    return text


def held(con: Connection, source: str) -> dict[str, list[str]]:
    """The keys of ``source`` still held, by table."""
    rows = con.query(
        f"select table_name, record_key from {TABLE} where source = %s and resolved_at is null "
        "order by table_name, record_key",
        [source],
    )
    out: dict[str, list[str]] = {}
    for table, key in rows:
        out.setdefault(str(table), []).append(str(key))
    return out


def held_counts(con: Connection, source: str) -> dict[str, int]:
    rows = con.query(
        f"select table_name, count(*) from {TABLE} where source = %s and resolved_at is null group by table_name",
        [source],
    )
    return {str(t): int(n) for t, n in rows}


BATCH = 200
"""Keys per statement when rejections are stored or resolved: a run that rejects a whole table
(an API change) writes hundreds of statements, not two per record."""

_COLUMNS = (
    "source",
    "table_name",
    "record_key",
    "reason",
    "payload",
    "first_seen",
    "last_seen",
    "run_id",
    "resolved_at",
)


def store(con: Connection, source: str, run_id: str, now: dt.datetime, rejections: Iterable[Rejection]) -> int:
    """Keep each rejection (the latest reason and payload of a key win; a key held before keeps
    its ``first_seen``), in one transaction; returns how many rows."""
    latest: dict[tuple[str, str], Rejection] = {}
    for r in rejections:
        latest[(r.table, key_text(r.record_id))] = r
    if not latest:
        return 0
    first_seen = {
        (str(t), str(k)): f
        for t, k, f in con.query(f"select table_name, record_key, first_seen from {TABLE} where source = %s", [source])
    }
    rows = [
        [
            source,
            table,
            key,
            redact(r.problems),
            payload_text(r.payload),
            first_seen.get((table, key), now),
            now,
            run_id,
            None,
        ]
        for (table, key), r in latest.items()
    ]
    again: dict[str, list[str]] = {}
    for table, key in latest:
        if (table, key) in first_seen:
            again.setdefault(table, []).append(key)
    with transaction(con):
        for table, keys in again.items():  # replaced by their new row, first_seen kept
            for part in _batches(keys):
                con.execute(
                    f"delete from {TABLE} where source = %s and table_name = %s and record_key in ({_marks(part)})",
                    [source, table, *part],
                )
        insert_values(con, TABLE, _COLUMNS, rows, batch=BATCH)
    return len(latest)


def resolve(
    con: Connection,
    source: str,
    now: dt.datetime,
    accepted: Mapping[str, Iterable[str]],
    rejected: Iterable[Rejection] = (),
) -> int:
    """Mark held rows ``resolved_at`` whose record a committed load read valid (``accepted``, by
    table), except those rejected again in the same run. Returns how many were resolved."""
    again = {(r.table, key_text(r.record_id)) for r in rejected}
    return sum(_resolve(con, source, accepted, again, "resolved_at = %s", [now]).values())


GONE_NOTE = (
    " | resolved {day}: not returned when read again by id (deleted for good, archived, or out of this account's reach)"
)
"""Added to the reason of a held record resolved because the API no longer returns it."""


def resolve_gone(
    con: Connection,
    source: str,
    now: dt.datetime,
    gone: Mapping[str, Iterable[str]],
    kept: Iterable[tuple[str, str]] = (),
) -> dict[str, int]:
    """Resolve held rows whose record a read by id did not return (``gone``, by table), except
    the ``kept`` ``(table, key)`` pairs (read again this run after all); their reason says why.
    Returns how many were resolved, by table."""
    note = GONE_NOTE.format(day=now.date().isoformat())
    return _resolve(con, source, gone, set(kept), "resolved_at = %s, reason = concat(reason, %s)", [now, note])


def _resolve(
    con: Connection,
    source: str,
    keys: Mapping[str, Iterable[str]],
    skip: set[tuple[str, str]],
    assignments: str,
    values: list[Any],
) -> dict[str, int]:
    """``update … set <assignments>`` on the held rows of ``keys`` (by table) but the ``skip``
    pairs, :data:`BATCH` keys a statement; returns how many keys, by table."""
    out: dict[str, int] = {}
    for table, table_keys in keys.items():
        todo = [key for key in sorted(set(table_keys)) if (table, key) not in skip]
        for part in _batches(todo):
            con.execute(
                f"update {TABLE} set {assignments} "
                f"where source = %s and table_name = %s and record_key in ({_marks(part)}) and resolved_at is null",
                [*values, source, table, *part],
            )
        if todo:
            out[table] = len(todo)
    return out


def _batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _marks(part: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(part))


# -- a source's part in a sync run ---------------------------------------------------------------


def offer(con: Connection, source: str) -> None:
    """Before a source runs: tell its streams which keys are held (re-fetched by id where the
    connector can, and noted when read valid)."""
    REJECTS.hold(source, held(con, source))


def settle(con: Connection, source: str, run_id: str, *, loaded: bool) -> tuple[dict[str, int], dict[str, int]]:
    """After a source ran: store its rejections; when its load committed (``loaded``), resolve the
    held records it read valid, and those a read by id did not return. Returns the records still
    held, and those resolved as no longer returned, by table."""
    now = dt.datetime.now(dt.UTC)
    rejections = REJECTS.take(source)
    accepted = REJECTS.accepted(source)
    gone = REJECTS.gone(source)
    store(con, source, run_id, now, rejections)
    resolved_gone: dict[str, int] = {}
    if loaded:
        resolve(con, source, now, accepted, rejections)
        kept = {(r.table, key_text(r.record_id)) for r in rejections}
        kept |= {(table, key) for table, keys in accepted.items() for key in keys}
        resolved_gone = resolve_gone(con, source, now, gone, kept)
    return held_counts(con, source), resolved_gone


def mark(t: TableResult, still_held: int, incomplete: str = "", gone: int = 0) -> None:
    """A table that loaded but holds records in quarantine, or whose data is known to be incomplete
    (a one-second page the API could not page through), is ``partial``, with the reason. Held
    records resolved because the API no longer returns them (``gone``) are a warning."""
    t.quarantined = still_held
    if gone:
        said = (
            f"{gone} record(s) held in quarantine were not returned when read again by id (deleted for good, "
            f"archived, or out of this account's reach): resolved; their reason and payload stay in {TABLE}"
        )
        t.add_warnings(said)
    if t.status != "success":
        return
    reasons = [incomplete] if incomplete else []
    if still_held:
        reasons.append(f"{still_held} record(s) held in quarantine ({TABLE}); they are retried on every run")
    if reasons:
        t.status = "partial"
        t.add_warnings(*reasons)
