"""Where the data goes: ``--warehouse URL`` (or ``SUPPORTLAKE_WAREHOUSE``) → a dlt destination.

- ``duckdb:///supportlake_warehouse.duckdb`` — relative path (SQLAlchemy's convention: three slashes);
  ``duckdb:////var/lib/supportlake/warehouse.duckdb`` — absolute path; a bare ``*.duckdb`` path works too.
  Default: ``./supportlake_warehouse.duckdb``. Query parameters are DuckDB settings for loads, e.g.
  ``?memory_limit=2GB&threads=2``; by default DuckDB gets ``memory_limit=128MB`` and spills to
  disk beyond it, so a load's memory does not grow with the size of the sync.
- ``postgresql://user:password@host:5432/db`` (``postgres://`` too). Without a password (trust or
  peer authentication) it works as well.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from common.errors import ConfigError, one_line
from common.secrets import redact, redact_url, register_secret

DEFAULT_WAREHOUSE = "duckdb:///supportlake_warehouse.duckdb"

RESERVED_SCHEMAS = frozenset(
    {
        "supportlake",
        "supportlake_config",
        "supportlake_standins",
        "inputs",
        "staging",
        "intermediate",
        "core",
        "marts",
        "main",
    }
)
"""Schemas supportlake writes besides the sources' raw schemas (:func:`reserved_schemas`)."""


def reserved_schemas() -> frozenset[str]:
    """Schemas supportlake writes: :data:`RESERVED_SCHEMAS` and one per source (its name). DuckDB
    names its catalog after the file, so in ``core.duckdb`` the name ``core.tickets`` is ambiguous
    (a Binder Error on every query): such file names are refused."""
    from connectors import registry

    return RESERVED_SCHEMAS | frozenset(registry.names())


DUCKDB_DEFAULTS = {"memory_limit": "128MB", "preserve_insertion_order": False}
ENV_WAREHOUSE = "SUPPORTLAKE_WAREHOUSE"
ENV_HOME = "SUPPORTLAKE_HOME"
ENV_PG_LOCK_TIMEOUT = "SUPPORTLAKE_PG_LOCK_TIMEOUT"
DEFAULT_PG_LOCK_TIMEOUT = 600
"""Seconds a PostgreSQL statement of ours or of dlt's waits for a table lock before it gives up.
Without one, a session left idle in a transaction on a raw table (a BI tool, a forgotten psql)
blocks a load's ``ALTER TABLE`` — and with it the run and every run after it — for ever; with it the
run ends as busy (exit 75, the reason in the run log) and the next run tries again."""

POSTGRES_DRIVER_HINT = "pip install 'supportlake[postgres]'"
"""What to run when the PostgreSQL driver (psycopg2) is not installed."""


class WarehouseError(ConfigError):
    """The warehouse cannot be used as configured (no such database or role, nothing listening,
    the driver not installed, a bad DuckDB setting): something the user fixes, so exit code 2."""


def import_psycopg2() -> Any:
    """psycopg2, or a :class:`WarehouseError` that says how to install it."""
    try:
        import psycopg2
    except ImportError:
        raise WarehouseError(
            "a PostgreSQL warehouse needs the PostgreSQL driver (psycopg2), which is not installed: "
            + POSTGRES_DRIVER_HINT
        ) from None
    return psycopg2


def connect_postgres(target: Target, **options: Any) -> Any:
    """A psycopg2 connection to ``target``; a refused connection (no such database or role, wrong
    password, nothing listening on the port, unknown host) is a :class:`WarehouseError` naming the
    warehouse (without its password) and the server's reason. ``options``: more libpq
    connection parameters (``application_name``, keepalives)."""
    psycopg2 = import_psycopg2()
    try:
        return psycopg2.connect(target.dsn, connect_timeout=15, **options)
    except psycopg2.OperationalError as exc:
        reason = one_line(exc)
        raise WarehouseError(f"cannot connect to the warehouse {target.display}: {redact(reason)}") from None


@dataclass(frozen=True)
class Target:
    """A parsed warehouse URL."""

    kind: str  # "duckdb" | "postgres" | "spark" | "dlt" (another dlt destination: warehouse/destinations.py)
    url: str  # as given (may hold a password: never print it, use ``display``)
    path: Path | None = None  # duckdb file
    dsn: str | None = None  # postgres connection string with an explicit (possibly empty) password
    settings: tuple[tuple[str, str], ...] = ()  # duckdb settings from the URL's query
    master: str | None = None  # spark: the master URL (None: the active session, else local[*])
    destination_name: str | None = None  # dlt: the destination (snowflake, bigquery, ...)

    @property
    def display(self) -> str:
        if self.kind == "spark":
            return f"spark:{self.master or 'active session'}"
        if self.kind == "dlt":
            if self.url == self.destination_name or self.url.lower().startswith("dlt+duckdb:"):
                return self.url  # a bare name: the credentials are dlt's configuration; a file path
            shown = redact_url(self.url)  # md:///db comes back as md:/db
            return shown.replace(":/", ":///", 1) if "://" in self.url and "://" not in shown else shown
        return redact_url(self.url) if self.kind == "postgres" else f"duckdb:///{self.path}"

    @property
    def fingerprint(self) -> str:
        """Stable id of the warehouse without its secrets: names the local pipeline folder."""
        if self.kind == "duckdb":
            basis = f"duckdb:{self.path}"
        elif self.kind == "spark":
            basis = f"spark:{self.master}"
        elif self.kind == "dlt":
            p = urlsplit(self.url)
            basis = f"dlt:{self.destination_name}:{p.hostname}:{p.port}{p.path}:{p.username}"
        else:
            p = urlsplit(self.dsn or "")
            basis = f"postgres:{p.hostname}:{p.port or 5432}/{p.path.lstrip('/')}:{p.username}"
        return hashlib.sha256(basis.encode()).hexdigest()[:16]

    def check_loadable(self) -> None:
        """Raise :class:`ConfigError` when dlt cannot load into this warehouse itself (Spark: a
        sync loads its landing DuckDB file instead, :mod:`warehouse.spark_landing`)."""
        if self.kind == "spark":
            raise ConfigError(
                f"--warehouse {self.display}: dlt has no Spark destination; a sync loads the Spark warehouse's "
                "landing DuckDB file and publishes from it (warehouse/spark_landing.py)"
            )

    def destination(self) -> Any:
        import dlt

        self.check_loadable()
        if self.kind == "dlt":
            from warehouse.destinations import destination

            assert self.destination_name is not None
            return destination(self.destination_name, None if self.url == self.destination_name else self.url)
        if self.kind == "duckdb":
            from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            config = {**DUCKDB_DEFAULTS, **dict(self.settings)}
            return dlt.destinations.duckdb(DuckDbCredentials(str(self.path), global_config=config))
        assert self.dsn is not None
        import_psycopg2()
        return dlt.destinations.postgres(self.dsn)


def parse_target(url: str | None = None) -> Target:
    """Parse ``url`` (else ``$SUPPORTLAKE_WAREHOUSE``, else the default)."""
    raw = (url or os.environ.get(ENV_WAREHOUSE) or DEFAULT_WAREHOUSE).strip()
    if raw.startswith("duckdb://"):
        rest, _, query = raw[len("duckdb://") :].partition("?")
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(
                f"--warehouse {raw!r}: a DuckDB URL is duckdb:///relative.duckdb or duckdb:////abs.duckdb"
            )
        path = Path(unquote(rest[1:]))  # drop the slash that ends the empty host
        _check_file_name(raw, path)
        settings = tuple(parse_qsl(query, keep_blank_values=False))
        _check_duckdb_settings(raw, settings)
        return Target(kind="duckdb", url=raw, path=path.expanduser().resolve(), settings=settings)
    if raw.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
        parts = urlsplit(raw)
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(
                f"--warehouse {redact_url(raw)}: expected postgresql://user[:password]@host[:port]/database"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(
                f"--warehouse {redact_url(raw)}: the port must be a number from 1 to 65535 (PostgreSQL's is 5432)"
            ) from None
        if port == 0:
            raise ConfigError(f"--warehouse {redact_url(raw)}: the port must be a number from 1 to 65535")
        if parts.password:
            register_secret(parts.password)
            register_secret(unquote(parts.password))
        user = parts.username or "postgres"
        password = parts.password or ""
        host = parts.hostname + (f":{port}" if port else "")
        query = _with_lock_timeout(parts.query)
        dsn = urlunsplit(("postgresql", f"{user}:{password}@{host}", parts.path, query, ""))
        return Target(kind="postgres", url=raw, dsn=dsn)
    if raw == "spark" or raw.startswith("spark:"):
        # spark://host:7077 is a standalone master's URL as it is; spark:local[4], spark:yarn name one
        master = raw if raw.startswith("spark://") else raw[len("spark:") :] or None
        return Target(kind="spark", url=raw, master=master)
    if "://" not in raw and raw.endswith((".duckdb", ".db")):
        _check_file_name(raw, Path(raw))
        return Target(kind="duckdb", url=raw, path=Path(raw).expanduser().resolve())
    from warehouse.destinations import parse_dlt_target

    found = parse_dlt_target(raw)
    if found is not None:
        name, url = found
        return Target(kind="dlt", url=url or name, destination_name=name)
    raise ConfigError(
        f"--warehouse {redact_url(raw)}: use duckdb:///file.duckdb, postgresql://user@host:5432/db, spark:local[*], "
        "a dlt destination's URL (snowflake://, databricks://, redshift://, mssql://, md:) or name (bigquery)"
    )


def _check_file_name(raw: str, path: Path) -> None:
    catalog = path.name.split(".", 1)[0]
    if catalog.lower() in reserved_schemas():
        raise ConfigError(
            f"--warehouse {raw!r}: DuckDB names its catalog after the file ({catalog!r}), which is also a "
            f"schema supportlake writes, so {catalog}.<table> would be ambiguous: choose another file name "
            "(e.g. supportlake_warehouse.duckdb)"
        )


def _with_lock_timeout(query: str) -> str:
    """The URL's query with ``options=-c lock_timeout=…`` added (libpq's and dlt's connections both
    read it), unless the URL sets a lock timeout itself; ``SUPPORTLAKE_PG_LOCK_TIMEOUT`` seconds
    (0: none), else :data:`DEFAULT_PG_LOCK_TIMEOUT`."""
    raw = os.environ.get(ENV_PG_LOCK_TIMEOUT, "").strip()
    try:
        seconds = float(raw) if raw else float(DEFAULT_PG_LOCK_TIMEOUT)
    except ValueError:
        raise ConfigError(f"{ENV_PG_LOCK_TIMEOUT} must be a number of seconds (0 for none), got {raw!r}") from None
    if seconds < 0:
        raise ConfigError(f"{ENV_PG_LOCK_TIMEOUT} must be 0 or more seconds, got {raw!r}")
    pairs = parse_qsl(query, keep_blank_values=True)
    options = " ".join(v for k, v in pairs if k == "options")
    if not seconds or "lock_timeout" in options:
        return query
    options = f"{options} -c lock_timeout={round(seconds * 1000)}".strip()
    return urlencode([*((k, v) for k, v in pairs if k != "options"), ("options", options)], quote_via=quote)


def _check_duckdb_settings(raw: str, settings: tuple[tuple[str, str], ...]) -> None:
    """The URL's DuckDB settings, tried on an in-memory database: a wrong name or value is a
    configuration error naming it, before any run starts."""
    if not settings:
        return
    import duckdb

    for key, value in settings:
        try:
            duckdb.connect(":memory:", config={key: value}).close()
        except duckdb.Error as exc:
            reason = " ".join(str(exc).split())
            raise ConfigError(
                f"--warehouse {raw!r}: DuckDB setting {key}={value!r} is not accepted ({reason}); "
                "e.g. ?memory_limit=2GB&threads=2"
            ) from None


def home() -> Path:
    """Local working folder: dlt pipeline folders and lock files (``$SUPPORTLAKE_HOME``)."""
    root = os.environ.get(ENV_HOME)
    base = Path(root) if root else Path.home() / ".local" / "share" / "supportlake"
    base.mkdir(parents=True, exist_ok=True)
    return base


def pipelines_dir(target: Target) -> Path:
    return home() / "pipelines" / target.fingerprint
