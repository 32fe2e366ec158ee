"""``supportlake sync --warehouse spark:…``: dlt loads a local DuckDB *landing* file, and the tables
that changed are then published into the Spark session's catalog.

dlt has no Spark destination, and Spark's tables (Parquet in a Hive metastore, say) have no
``MERGE``, ``UPDATE`` or transactions for dlt's merge and deduplication, the deletion flags
(:mod:`warehouse.deletions`), the quarantine or the run log. So a sync into Spark runs exactly as
a sync into DuckDB, with every one of those semantics, into the landing file — then copies
tables whole into Spark:

- **Where the landing lives.** ``$SUPPORTLAKE_HOME/pipelines/<fingerprint of the Spark
  target>/landing.duckdb``, in the same folder as the dlt pipelines' state, or in the folder
  ``$SUPPORTLAKE_SPARK_LANDING`` names (both go there). They must stay together: the pipelines'
  cursors say what the landing already holds, and the landing holds dlt's state too, so a lost
  pipelines folder is restored from it (and a lost landing folder means a full sync again, never
  a partial table published over a complete one).
- **What is published.** At the end of each source's run (after its chunks and its deletion
  flags; also when it failed part-way: what its chunks committed is published, as it would be
  visible in a DuckDB warehouse), every raw table of the source's schema (not dlt's ``_dlt_*``
  tables); at the start and the end of the sync, ``supportlake.supportlake_runs``,
  ``supportlake.rejected_records`` and the input tables (``inputs``, which ``load-input`` writes
  into the landing and publishes at once). A table is copied only when it changed: its *signature*
  (columns, row count and a sum of row hashes, computed by DuckDB) differs from the one recorded
  at its last publish (in the landing's :data:`PUBLISHED` table), or it is missing from the Spark
  catalog. A table the landing no longer has (a ``--full-refresh`` that dropped it) is dropped
  from Spark too.
- **How.** DuckDB streams the table as Arrow record batches; each group of up to
  :data:`BATCH_ROWS` rows becomes a Spark DataFrame (``createDataFrame`` with the Spark schema
  derived from the Arrow schema: instants stay ``TIMESTAMP`` in UTC, wall-clock times
  ``TIMESTAMP_NTZ``, decimals keep precision and scale, booleans, JSON text as ``STRING``) and is
  written to ``<schema>.<table>__sl_new`` (``saveAsTable``, Parquet, overwrite then append). The
  data goes through the driver, so it works against any cluster without storage shared with
  this machine. Then, after checking the run lock (the lease), the old table is dropped and the
  new one renamed — the swap a build does (:mod:`transforms.runner`): a reader may for a moment
  find no table, never half of one. The landing's signature is recorded after the swap, so a
  run killed in between publishes the table again next time.

Everything runs under the Spark target's run lock (the ``flock`` on this machine and the lease
row in the catalog, :mod:`warehouse.lock`). A catalog that lives only in the process
(``spark.sql.catalogImplementation=in-memory``, pyspark's default) forgets the tables when the
process ends: :func:`publish` logs a warning, since ``supportlake build`` in another process
would not find them (configure a metastore in ``spark-defaults.conf``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from schemas.inputs import INPUT_SCHEMA
from warehouse.lock import verify_held
from warehouse.sql import DuckDBConnection, quote_ident
from warehouse.target import Target, parse_target, pipelines_dir

log = logging.getLogger("supportlake.spark")

ENV_LANDING = "SUPPORTLAKE_SPARK_LANDING"
"""A folder for the landing file and the dlt pipelines of a Spark warehouse (default: the target's
pipelines folder under ``$SUPPORTLAKE_HOME``)."""

LANDING_FILE = "landing.duckdb"
PUBLISHED = "supportlake.spark_published"
"""In the landing file only: the signature of each table as last published to Spark."""
OWN_TABLES = (("supportlake", "supportlake_runs"), ("supportlake", "rejected_records"))
"""supportlake's own tables a Spark warehouse gets from the landing (the run log, the quarantine)."""
NEW_SUFFIX = "__sl_new"  # transforms.graph.RESERVED_SUFFIX: what a reader (export-hyper) skips

BATCH_ROWS = 200_000
"""Rows per DataFrame written to Spark: bounds the driver's memory whatever the table's size."""

_PUBLISHING: dict[str, threading.Lock] = {}
_PUBLISHING_GUARD = threading.Lock()


@dataclass(frozen=True)
class Published:
    """One table as :func:`publish` left it in Spark."""

    table: str  # schema.table
    rows: int
    copied: bool  # False: unchanged since the last publish, not copied
    dropped: bool = False  # gone from the landing, so dropped from Spark


def landing_folder(target: Target) -> Path:
    """The folder of ``target``'s landing file and dlt pipelines."""
    if target.kind != "spark":
        raise ValueError(f"{target.display} is not a Spark warehouse: it has no landing file")
    configured = os.environ.get(ENV_LANDING, "").strip()
    folder = Path(configured).expanduser().resolve() if configured else pipelines_dir(target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"the Spark landing folder {folder} ({ENV_LANDING}) cannot be created: {exc}") from None
    return folder


def landing_target(target: Target) -> Target:
    """The DuckDB warehouse dlt loads for the Spark warehouse ``target``."""
    return parse_target(f"duckdb:///{landing_folder(target) / LANDING_FILE}")


def store_for(target: Target) -> Target:
    """Where a sync into ``target`` loads and keeps its run log: the landing file for Spark,
    ``target`` itself otherwise."""
    return landing_target(target) if target.kind == "spark" else target


def pipelines_folder(target: Target) -> Path:
    """The dlt pipelines' folder of a sync into ``target`` (Spark: beside the landing file)."""
    return landing_folder(target) if target.kind == "spark" else pipelines_dir(target)


# --------------------------------------------------------------------------- publishing


def publish(target: Target, schemas: Sequence[str] = (), *, own: bool = False) -> list[Published]:
    """Copy the landing's tables of ``schemas`` (raw schemas: every base table but dlt's) and,
    with ``own``, :data:`OWN_TABLES` and the input tables, into the Spark catalog of ``target``
    where they changed.

    Checks the run lock before each swap (:func:`warehouse.lock.verify_held`: a run that lost
    it raises :class:`warehouse.lock.LockLost` and writes nothing more). One publish at a time
    per target in this process (the sources' threads take turns)."""
    from warehouse.spark import SparkConnection

    if own:
        schemas = [*schemas, INPUT_SCHEMA]
    with _publishing(target):
        verify_held(target)
        spark = SparkConnection(target)
        _warn_if_forgetful(spark.spark)
        with _landing(target) as duck:
            _ensure_published_table(duck)
            wanted = _tables(duck, schemas, own)
            recorded = _recorded(duck, schemas, own)
            out: list[Published] = []
            for schema, table in wanted:
                out.append(_publish_table(target, duck, spark.spark, schema, table, recorded.get((schema, table))))
            for schema, table in sorted(set(recorded) - set(wanted)):
                verify_held(target)
                spark.spark.sql(f"drop table if exists {_spark_name(schema, table)}")
                duck.execute(f"delete from {PUBLISHED} where schema_name = %s and table_name = %s", [schema, table])
                log.info("%s.%s is no longer in the landing: dropped from Spark", schema, table)
                out.append(Published(f"{schema}.{table}", 0, copied=False, dropped=True))
        return out


@dataclass(frozen=True)
class _Signature:
    text: str
    rows: int


def _publish_table(
    target: Target, duck: DuckDBConnection, spark: Any, schema: str, table: str, last: str | None
) -> Published:
    name = f"{schema}.{table}"
    signature = _signature(duck, schema, table)
    if last == signature.text and spark.catalog.tableExists(f"`{schema}`.`{table}`"):
        return Published(name, signature.rows, copied=False)
    new = _spark_name(schema, table + NEW_SUFFIX)
    spark.sql(f"create schema if not exists `{schema}`")
    spark.sql(f"drop table if exists {new}")
    try:
        for i, frame in enumerate(_frames(spark, duck, schema, table)):
            frame.write.saveAsTable(new, format="parquet", mode="append" if i else "overwrite")
        verify_held(target)  # nothing is replaced by a run that lost its lock
    except BaseException:
        _drop_quietly(spark, new)
        raise
    spark.sql(f"drop table if exists {_spark_name(schema, table)}")
    spark.sql(f"alter table {new} rename to {_spark_name(schema, table)}")
    duck.execute(f"delete from {PUBLISHED} where schema_name = %s and table_name = %s", [schema, table])
    duck.execute(
        f"insert into {PUBLISHED} values (%s, %s, %s, %s, %s)",
        [schema, table, signature.text, signature.rows, dt.datetime.now(dt.UTC)],
    )
    log.info("published %s to Spark (%d rows)", name, signature.rows)
    return Published(name, signature.rows, copied=True)


def _frames(spark: Any, duck: DuckDBConnection, schema: str, table: str) -> Iterator[Any]:
    """The table as Spark DataFrames of up to :data:`BATCH_ROWS` rows each (one, empty, for an
    empty table), typed from DuckDB's Arrow schema."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    reader = duck.arrow_reader(f"select * from {_duck_name(schema, table)}", BATCH_ROWS)
    arrow_schema = reader.schema
    spark_schema = from_arrow_schema(arrow_schema, prefer_timestamp_ntz=True)
    pending: list[Any] = []
    size = 0
    sent = False
    for batch in reader:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        size += batch.num_rows
        if size >= BATCH_ROWS:
            yield spark.createDataFrame(pa.Table.from_batches(pending, arrow_schema), schema=spark_schema)
            pending, size, sent = [], 0, True
    if pending or not sent:
        yield spark.createDataFrame(pa.Table.from_batches(pending, arrow_schema), schema=spark_schema)


def _signature(duck: DuckDBConnection, schema: str, table: str) -> _Signature:
    """Columns, row count and the sum of the rows' hashes: equal signatures, equal tables (but
    for a hash collision across the whole sum)."""
    columns = duck.query(
        "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s "
        "order by ordinal_position",
        [schema, table],
    )
    count, total = duck.query(
        f"select count(*), coalesce(sum(hash(r)::hugeint), 0) from {_duck_name(schema, table)} as r"
    )[0]
    text = hashlib.sha256(repr((columns, int(count), int(total))).encode()).hexdigest()
    return _Signature(text, int(count))


def _tables(duck: DuckDBConnection, schemas: Sequence[str], own: bool) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if schemas:
        marks = ", ".join(["%s"] * len(schemas))
        rows = duck.query(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
            f"and table_schema in ({marks}) order by 1, 2",
            list(schemas),
        )
        found += [(str(s), str(t)) for s, t in rows if not str(t).startswith("_dlt")]
    if own:
        existing = {
            (str(s), str(t))
            for s, t in duck.query(
                "select table_schema, table_name from information_schema.tables where table_schema = 'supportlake'"
            )
        }
        found += [t for t in OWN_TABLES if t in existing]
    return found


def _recorded(duck: DuckDBConnection, schemas: Sequence[str], own: bool) -> dict[tuple[str, str], str]:
    """The signatures last published of the tables this publish covers."""
    rows = duck.query(f"select schema_name, table_name, signature from {PUBLISHED}")
    covered = set(schemas)
    return {
        (str(s), str(t)): str(sig)
        for s, t, sig in rows
        if str(s) in covered or (own and (str(s), str(t)) in OWN_TABLES)
    }


def _ensure_published_table(duck: DuckDBConnection) -> None:
    duck.execute("create schema if not exists supportlake")
    duck.execute(
        f"create table if not exists {PUBLISHED} (schema_name varchar not null, table_name varchar not null, "
        "signature varchar not null, rows bigint not null, published_at timestamp with time zone not null)"
    )


_WARNED: set[int] = set()


def _warn_if_forgetful(spark: Any) -> None:
    if id(spark) in _WARNED:
        return
    _WARNED.add(id(spark))
    try:
        catalog = str(spark.conf.get("spark.sql.catalogImplementation", "in-memory"))
    except Exception:  # a Spark Connect session may not expose static settings
        return
    if catalog == "in-memory":
        log.warning(
            "the Spark session's catalog is in memory (spark.sql.catalogImplementation=in-memory): the tables "
            "published now are gone when this process ends; configure a metastore (spark-defaults.conf) so that "
            "`supportlake build` in another process finds them"
        )


def _drop_quietly(spark: Any, name: str) -> None:
    try:
        spark.sql(f"drop table if exists {name}")
    except Exception:  # never hide the error that stopped the publish; the next publish drops it first
        log.debug("could not drop %s", name, exc_info=True)


def _spark_name(schema: str, table: str) -> str:
    return f"`{schema.replace('`', '``')}`.`{table.replace('`', '``')}`"


def _duck_name(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


@contextmanager
def _landing(target: Target) -> Iterator[DuckDBConnection]:
    """A read-write connection to the landing file of ``target``."""
    con = DuckDBConnection(landing_target(target))
    try:
        yield con
    finally:
        con.close()


def _publishing(target: Target) -> threading.Lock:
    with _PUBLISHING_GUARD:
        return _PUBLISHING.setdefault(target.fingerprint, threading.Lock())
