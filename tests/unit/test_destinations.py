"""``--warehouse`` beyond DuckDB and PostgreSQL: the URL or name → dlt destination mapping."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from common.errors import ConfigError
from common.secrets import redact
from warehouse.destinations import credentials
from warehouse.lock import RunLock
from warehouse.sql import connect
from warehouse.target import WarehouseError, parse_target


def _credentials(dest: Any, native: Any) -> dict[str, Any]:
    """The destination's credential fields, as dlt parses what it was given."""
    hint = dest.spec.get_resolvable_fields()["credentials"]
    cls = next(a for a in (typing.get_args(hint) or (hint,)) if isinstance(a, type))
    creds = cls()
    if isinstance(native, str):
        creds.parse_native_representation(native)
    else:
        creds.update(native)
    return {k: v for k, v in dict(creds).items() if v is not None}


@pytest.mark.parametrize(
    ("url", "name", "fields", "display"),
    [
        (
            "snowflake://loader:s3cr3t-pw@acme-xy123/analytics?warehouse=LOADING&role=LOADER",
            "snowflake",
            {
                "host": "acme-xy123",
                "database": "analytics",
                "username": "loader",
                "password": "s3cr3t-pw",
                "warehouse": "LOADING",
                "role": "LOADER",
            },
            "snowflake://acme-xy123/analytics?warehouse=LOADING&role=LOADER",
        ),
        (
            "redshift://loader:s3cr3t-pw@acme.abc.eu-west-1.redshift.amazonaws.com:5439/analytics",
            "redshift",
            {
                "host": "acme.abc.eu-west-1.redshift.amazonaws.com",
                "port": 5439,
                "database": "analytics",
                "username": "loader",
                "password": "s3cr3t-pw",
            },
            "redshift://acme.abc.eu-west-1.redshift.amazonaws.com:5439/analytics",
        ),
        (
            "mssql://loader:s3cr3t-pw@sql.acme.local:1433/analytics?driver=ODBC+Driver+18+for+SQL+Server",
            "mssql",
            {
                "host": "sql.acme.local",
                "port": 1433,
                "database": "analytics",
                "username": "loader",
                "password": "s3cr3t-pw",
                "driver": "ODBC Driver 18 for SQL Server",
            },
            "mssql://sql.acme.local:1433/analytics?driver=ODBC+Driver+18+for+SQL+Server",
        ),
        (
            "md:///analytics?motherduck_token=s3cr3t-tok",
            "motherduck",
            {"database": "analytics", "password": "s3cr3t-tok"},
            "md:///analytics?motherduck_token=***",
        ),
        (
            "databricks://token:dapis3cr3t@adb-123.4.azuredatabricks.net/main?http_path=/sql/1.0/warehouses/abc",
            "databricks",
            {
                "server_hostname": "adb-123.4.azuredatabricks.net",
                "http_path": "/sql/1.0/warehouses/abc",
                "catalog": "main",
                "access_token": "dapis3cr3t",
            },
            "databricks://adb-123.4.azuredatabricks.net/main?http_path=%2Fsql%2F1.0%2Fwarehouses%2Fabc",
        ),
    ],
    ids=["snowflake", "redshift", "mssql", "motherduck", "databricks"],
)
def test_a_connection_url_becomes_that_dlt_destination(
    url: str, name: str, fields: dict[str, Any], display: str
) -> None:
    target = parse_target(url)
    assert (target.kind, target.destination_name) == ("dlt", name)
    dest = target.destination()
    assert dest.destination_name == name
    got = _credentials(dest, dest.config_params["credentials"])
    assert {k: got.get(k) for k in fields} == fields
    assert target.display == display
    for secret in ("s3cr3t", "dapis3cr3t"):
        assert secret not in target.display
        assert secret not in redact(f"connecting with {url}")


def test_a_bare_name_takes_its_credentials_from_dlts_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID", "acme-analytics")
    monkeypatch.setenv("DESTINATION__BIGQUERY__CREDENTIALS__CLIENT_EMAIL", "loader@acme-analytics.iam")
    monkeypatch.setenv("DESTINATION__BIGQUERY__CREDENTIALS__PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nx")
    target = parse_target("bigquery")
    assert (target.kind, target.destination_name, target.display) == ("dlt", "bigquery", "bigquery")
    dest = target.destination()
    assert dest.destination_name == "bigquery"
    assert "credentials" not in dest.config_params  # left to dlt's configuration
    import dlt
    from dlt.common.configuration import resolve_configuration

    hint = dest.spec.get_resolvable_fields()["credentials"]
    cls = next(a for a in (typing.get_args(hint) or (hint,)) if isinstance(a, type))
    creds = resolve_configuration(cls(), sections=("destination", "bigquery"))
    assert (creds.project_id, creds.client_email) == ("acme-analytics", "loader@acme-analytics.iam")
    assert dlt is not None


def test_the_environment_variable_selects_a_destination_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTLAKE_WAREHOUSE", "snowflake://loader@acme-xy123/analytics")
    assert parse_target().destination_name == "snowflake"


@pytest.mark.parametrize("url", ["snowflake://loader:pw@acme-xy123/analytics", "bigquery"])
def test_a_warehouse_that_cannot_be_reached_is_a_configuration_error_without_its_secrets(url: str) -> None:
    """No Snowflake driver here, no BigQuery credentials: the connection says so, naming the warehouse."""
    target = parse_target(url)
    with pytest.raises(
        WarehouseError, match=r"cannot connect to the warehouse (snowflake://acme-xy123|bigquery)"
    ) as raised:
        connect(target)
    assert "pw" not in str(raised.value).replace("password", "")
    with pytest.raises(WarehouseError), RunLock(target):  # the lock is a lease in the warehouse itself
        pass


@pytest.mark.parametrize(
    ("url", "name", "shown"),
    [
        (
            "dlt+postgresql://loader:s3cret@db.example.com:5432/analytics",
            "postgres",
            "dlt+postgresql://db.example.com:5432/analytics",
        ),
        ("dlt+duckdb:////var/lib/wh.duckdb", "duckdb", "dlt+duckdb:////var/lib/wh.duckdb"),
    ],
)
def test_dlt_plus_runs_duckdb_and_postgres_through_the_generic_path(url: str, name: str, shown: str) -> None:
    target = parse_target(url)
    assert (target.kind, target.destination_name, target.display) == ("dlt", name, shown)
    assert "s3cret" not in redact(url)
    creds = credentials(name, url)
    assert isinstance(creds, str)
    assert not creds.startswith("dlt+")


def test_dlt_plus_without_a_password_says_it_is_empty() -> None:
    assert credentials("postgres", "dlt+postgresql://postgres@127.0.0.1:5432/test") == (
        "postgresql://postgres:@127.0.0.1:5432/test"
    )


def test_dlt_plus_another_scheme_names_the_forms() -> None:
    with pytest.raises(ConfigError, match=r"dlt\+postgresql://user@host/db or dlt\+duckdb:///file.duckdb"):
        parse_target("dlt+snowflake://acct/db")


def test_databricks_without_http_path_names_the_form() -> None:
    target = parse_target("databricks://token:dapisecret@adb-1.azuredatabricks.net/main")
    with pytest.raises(ConfigError, match=r"http_path=") as raised:
        target.destination()
    assert "dapisecret" not in str(raised.value)


def test_duckdb_postgres_and_unknown_urls_are_as_before() -> None:
    assert parse_target("duckdb:///w.duckdb").kind == "duckdb"
    assert parse_target("postgresql://u@h:5432/d").kind == "postgres"
    assert parse_target("spark:local[2]").master == "local[2]"
    assert parse_target("spark://host:7077").master == "spark://host:7077"
    with pytest.raises(ConfigError, match=r"use duckdb:///file\.duckdb"):
        parse_target("oracle://u:p@h/db")


def test_dlt_loads_a_spark_warehouse_through_its_landing_file() -> None:
    from warehouse.spark_landing import LANDING_FILE, store_for
    from warehouse.sync import pipeline_for
    from warehouse.target import pipelines_dir

    target = parse_target("spark:local[1]")
    with pytest.raises(ConfigError, match="dlt has no Spark destination; a sync loads the Spark warehouse's landing"):
        target.destination()
    landing = store_for(target)
    assert landing.kind == "duckdb"
    assert landing.path == pipelines_dir(target) / LANDING_FILE
    pipeline = pipeline_for(target, "zendesk")
    assert pipeline.destination.destination_name == "duckdb"
    assert pipeline.pipelines_dir == str(pipelines_dir(target))


def test_a_missing_engine_driver_says_what_to_install() -> None:
    """dlt's drivers are extras (``dlt[snowflake]``): the error names the one to install, not only
    the module that failed to import (no Snowflake driver is installed here)."""
    with pytest.raises(WarehouseError, match=r'driver is not installed .*pip install "dlt\[snowflake\]"'):
        connect(parse_target("snowflake://loader:pw@acme-xy123/analytics"))
