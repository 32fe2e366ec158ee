"""Warehouses beyond DuckDB and PostgreSQL: ``--warehouse`` → one of dlt's SQL destinations.

Two forms (:func:`parse_dlt_target`):

- a connection URL, where dlt takes one as its credentials:
  ``snowflake://user:password@account/database?warehouse=WH&role=ROLE``,
  ``redshift://user:password@host:5439/database``, ``mssql://user:password@host:1433/database?driver=…``,
  ``md:///database?motherduck_token=…`` (``motherduck://`` too); and ``databricks://token:<access
  token>@<server hostname>/<catalog>?http_path=/sql/1.0/warehouses/…``, which supportlake splits into
  dlt's Databricks credential fields (dlt takes no URL for it);
- a bare destination name (``bigquery``, ``snowflake``, ``databricks``, …): the credentials come
  from dlt's configuration, ``DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID`` and the like or
  ``[destination.bigquery.credentials]`` in ``.dlt/secrets.toml``.

A third form runs DuckDB or PostgreSQL through this same generic path instead of supportlake's
own: ``dlt+postgresql://user@host/db``, ``dlt+duckdb:///file.duckdb`` (``dlt+`` and the URL dlt
takes as credentials). It exists to check the generic path on an engine at hand — the tests run
every command through it — and is not needed otherwise.

Passwords and tokens in the URL are registered as secrets (masked in every message) and never
shown: :attr:`warehouse.target.Target.display` drops the user-info and masks secret query values.
What runs on these destinations, and how, is :mod:`warehouse.dlt_sql` and :mod:`warehouse.engines`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from common.errors import ConfigError
from common.secrets import redact_url, register_secret

SCHEMES = {
    "snowflake": "snowflake",
    "redshift": "redshift",
    "mssql": "mssql",
    "md": "motherduck",
    "motherduck": "motherduck",
    "databricks": "databricks",
}
"""URL scheme → dlt destination."""

NAMES = ("bigquery", "snowflake", "databricks", "redshift", "mssql", "motherduck", "synapse", "clickhouse", "athena")
"""dlt destinations a bare ``--warehouse NAME`` selects, with credentials from dlt's configuration."""

GENERIC = "dlt+"
GENERIC_SCHEMES = {"postgresql": "postgres", "postgres": "postgres", "duckdb": "duckdb"}
"""``dlt+<scheme>://…``: DuckDB and PostgreSQL through the generic path (the module docstring)."""


def parse_dlt_target(raw: str) -> tuple[str, str | None] | None:
    """``(destination, credentials URL or None)`` for a dlt destination, else None."""
    if raw.lower() in NAMES:
        return raw.lower(), None
    if raw.lower().startswith(GENERIC):
        raw = raw[len(GENERIC) :]
        scheme = raw.split(":", 1)[0].lower()
        if scheme not in GENERIC_SCHEMES or "://" not in raw:
            raise ConfigError(
                f"--warehouse {GENERIC}{redact_url(raw)}: the generic path takes dlt+postgresql://user@host/db "
                "or dlt+duckdb:///file.duckdb"
            )
        _register_secrets(raw)
        return GENERIC_SCHEMES[scheme], GENERIC + raw
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme not in SCHEMES:
        return None
    _register_secrets(raw)
    return SCHEMES[scheme], raw


def _register_secrets(raw: str) -> None:
    parts = urlsplit(raw)
    for secret in (parts.password, *(v for k, v in parse_qsl(parts.query) if "token" in k.lower())):
        if secret:
            register_secret(secret)
            register_secret(unquote(secret))


def credentials(destination: str, url: str | None) -> Any:
    """What dlt's destination factory takes as ``credentials``: the URL itself, Databricks' fields
    from the URL, or None (dlt resolves them from its configuration)."""
    if url is not None and url.lower().startswith(GENERIC):
        url = url[len(GENERIC) :]
        if destination == "postgres":  # without a password (trust, peer), dlt wants it said: empty
            parts = urlsplit(url)
            if parts.password is None and parts.hostname:
                netloc = f"{parts.username or 'postgres'}:@{parts.netloc.rpartition('@')[2]}"
                url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    if url is None or destination != "databricks":
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if not parts.hostname or not query.get("http_path"):
        raise ConfigError(
            f"--warehouse {redact_url(url)}: expected databricks://token:<access token>@<server hostname>/<catalog>"
            "?http_path=/sql/1.0/warehouses/<id>"
        )
    fields = {
        "server_hostname": parts.hostname,
        "http_path": query["http_path"],
        "catalog": parts.path.strip("/") or None,
        "access_token": unquote(parts.password) if parts.password else None,
    }
    return {k: v for k, v in fields.items() if v is not None}


def destination(name: str, url: str | None) -> Any:
    """dlt's destination ``name`` with the credentials of ``url`` (or of dlt's configuration)."""
    import dlt

    factory = getattr(dlt.destinations, name)
    creds = credentials(name, url)
    return factory(credentials=creds) if creds is not None else factory()
