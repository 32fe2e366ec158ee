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

Passwords and tokens in the URL are registered as secrets (masked in every message) and never
shown: :attr:`warehouse.target.Target.display` drops the user-info and masks secret query values.
Only the mapping is done here: sync and build on these destinations are not supported yet
(:func:`not_supported`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

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


def parse_dlt_target(raw: str) -> tuple[str, str | None] | None:
    """``(destination, credentials URL or None)`` for a dlt destination, else None."""
    if raw.lower() in NAMES:
        return raw.lower(), None
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme not in SCHEMES:
        return None
    parts = urlsplit(raw)
    for secret in (parts.password, *(v for k, v in parse_qsl(parts.query) if "token" in k.lower())):
        if secret:
            register_secret(secret)
            register_secret(unquote(secret))
    return SCHEMES[scheme], raw


def credentials(destination: str, url: str | None) -> Any:
    """What dlt's destination factory takes as ``credentials``: the URL itself, Databricks' fields
    from the URL, or None (dlt resolves them from its configuration)."""
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


def not_supported(display: str, name: str, what: str) -> ConfigError:
    return ConfigError(
        f"--warehouse {display}: {what} on {name} is not supported yet (dlt destination {name!r} is configured, "
        "but supportlake's run log, lock and models run on DuckDB and PostgreSQL, and models also on Spark); "
        "see README, Scaling out"
    )
