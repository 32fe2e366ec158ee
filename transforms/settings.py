"""Build settings: KPI targets and thresholds, account matching and tier fields.

Read from a TOML file — ``--config FILE``, else ``$SUPPORTLAKE_CONFIG``, else ``supportlake.toml``
in the working directory if there is one — and validated with pydantic; every setting has the
default of ``seeds/support-operations-org.md`` (or ``KPIS.md``), so no file is needed::

    [kpis]
    resolution_within_hours = 24        # resolution_within_24h_rate's threshold
    first_reply_within_hours = 4

    [kpis.targets]                      # any KPI of transforms/kpis.py; a blank target: none
    fcr_rate = 0.75
    nps = 50

    [segments]                          # by the account's ARR
    enterprise_min_arr = 5000000
    mid_market_min_arr = 500000
    account_field = "Segment__c"        # or: an Account field naming the segment (wins over ARR)

    [accounts]
    zendesk_organization_field = "salesforce_account_id"  # an organization_fields key
    zendesk_ticket_field = "custom_salesforce_account"    # a ticket's custom_<title> column

    [tiers]
    salesforce_case_field = "Tier__c"   # a Case field holding "Tier 1".."Tier 3" (or 1..3)
    groups = { "Billing" = 2, "Escalations" = 3 }   # tiers of groups whose names do not say it

    [salesforce]
    csat_field = "CSAT_Score__c"        # a Case field holding the customer's score ("" = none)
    csat_scale_min = 1                  # its scale, normalised to 1–5
    csat_scale_max = 5

    [revenue]
    gross_margin = 0.8
    expansion_types = ["Expansion", "Upsell"]
    new_business_types = ["New Business"]

    [onboarding]
    zendesk_tags = ["onboarding"]
    salesforce_case_types = ["Onboarding"]

Before each build the runner writes them to the warehouse (:func:`write_settings`), where the
models read them: ``supportlake_config.settings`` (name, value, number; a list is one row per item),
``supportlake_config.kpi_catalog`` (the KPI catalogue with the configured targets) and
``supportlake_config.configured_fields`` (the values of the configured fields, one row per record).
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.errors import ConfigError
from transforms.kpis import BY_NAME, DEFINITIONS_VERSION, KPIS
from warehouse.sql import Connection, transaction
from warehouse.sql import quote_ident as _q

log = logging.getLogger(__name__)

ENV_CONFIG = "SUPPORTLAKE_CONFIG"
DEFAULT_FILE = "supportlake.toml"
SCHEMA = "supportlake_config"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kpis(_Section):
    targets: dict[str, float | None] = Field(
        default_factory=dict, description="KPI name → target, overriding the catalogue's default."
    )
    resolution_within_hours: float = Field(default=24.0, gt=0, description="Threshold of resolution_within_24h_rate.")
    first_reply_within_hours: float = Field(default=4.0, gt=0, description="Threshold of first_reply_within_4h_rate.")

    @field_validator("targets")
    @classmethod
    def _known(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        unknown = sorted(set(value) - set(BY_NAME))
        if unknown:
            raise ValueError(f"unknown KPI {', '.join(unknown)} (known: {', '.join(sorted(BY_NAME))})")
        return value


class Segments(_Section):
    enterprise_min_arr: float = Field(default=5_000_000, ge=0, description="ARR from which an account is Enterprise.")
    mid_market_min_arr: float = Field(default=500_000, ge=0, description="ARR from which an account is Mid-Market.")
    account_field: str | None = Field(
        default=None,
        description="Salesforce Account field naming the segment (values starting 'Ent' → Enterprise, 'Mid' or "
        "'MM' → Mid-Market, 'Comm', 'SMB' or 'Small' → Commercial); wins over the ARR bands where it has a "
        "recognised value.",
    )


class Accounts(_Section):
    zendesk_organization_field: str | None = Field(
        default=None, description="Key of a Zendesk organization field holding the Salesforce Account Id."
    )
    zendesk_ticket_field: str | None = Field(
        default=None, description="Column (custom_<title>) of a Zendesk ticket field holding the Salesforce Account Id."
    )


class Tiers(_Section):
    salesforce_case_field: str | None = Field(
        default="Tier__c", description="Case field holding the support tier ('Tier 2', '2', 'T2')."
    )
    groups: dict[str, Literal[1, 2, 3]] = Field(
        default_factory=dict,
        description="Group or queue name → tier, for names that do not say it ('Billing' = 2); wins over the name.",
    )


class Salesforce(_Section):
    csat_field: str | None = Field(
        default="CSAT_Score__c",
        description="Case field holding the CSAT score the customer gave (empty: Salesforce has no CSAT).",
    )
    csat_scale_min: float = Field(default=1, description="Lowest score of the Case field's scale (→ 1).")
    csat_scale_max: float = Field(default=5, description="Highest score of the Case field's scale (→ 5).")

    @field_validator("csat_field")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _scale(self) -> Salesforce:
        if self.csat_scale_max <= self.csat_scale_min:
            raise ValueError("csat_scale_max must be greater than csat_scale_min")
        return self


class Revenue(_Section):
    gross_margin: float = Field(default=0.8, gt=0, le=1, description="Gross margin for customer lifetime value.")
    expansion_types: list[str] = Field(
        default=["Expansion", "Upsell"], description="Opportunity types counted as expansion."
    )
    new_business_types: list[str] = Field(
        default=["New Business"], description="Opportunity types that start a contract."
    )


class Onboarding(_Section):
    zendesk_tags: list[str] = Field(default=["onboarding"], description="Zendesk tags marking an onboarding ticket.")
    salesforce_case_types: list[str] = Field(
        default=["Onboarding"], description="Case types marking an onboarding case."
    )


class Settings(_Section):
    kpis: Kpis = Kpis()
    segments: Segments = Segments()
    accounts: Accounts = Accounts()
    tiers: Tiers = Tiers()
    salesforce: Salesforce = Salesforce()
    revenue: Revenue = Revenue()
    onboarding: Onboarding = Onboarding()

    def target(self, kpi: str) -> float | None:
        if kpi in self.kpis.targets:
            return self.kpis.targets[kpi]
        return BY_NAME[kpi].target


def settings_file(path: str | Path | None = None) -> Path | None:
    """The file to read: ``path``, else ``$SUPPORTLAKE_CONFIG``, else ``./supportlake.toml`` if present."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    local = Path(DEFAULT_FILE)
    return local if local.is_file() else None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate the settings; a missing or wrong setting is a :class:`ConfigError` naming it."""
    file = settings_file(path)
    if file is None:
        return Settings()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"settings file {file} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"settings file {file}: {exc}") from None
    return parse_settings(data, source=str(file))


def parse_settings(data: dict[str, Any], source: str = "settings") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigError(f"{source}: {problems}") from None


def setting_rows(settings: Settings) -> list[tuple[str, str | None, float | None]]:
    """(name, value, number) rows of ``supportlake_config.settings``; lists give one row per item."""
    rows: list[tuple[str, str | None, float | None]] = []
    for section in ("kpis", "segments", "accounts", "tiers", "salesforce", "revenue", "onboarding"):
        for key, value in getattr(settings, section).model_dump().items():
            name = f"{section}.{key}"
            if key == "targets":
                continue
            if isinstance(value, list):
                rows.extend((name, str(v), None) for v in value)
            elif isinstance(value, dict):  # tiers.groups: one row per group, the tier as the number
                rows.extend((name, str(k), float(v)) for k, v in value.items())
            elif isinstance(value, bool) or value is None or isinstance(value, str):
                rows.append((name, None if value is None else str(value), None))
            else:
                rows.append((name, str(value), float(value)))
    return rows


def catalog_rows(settings: Settings) -> list[tuple[Any, ...]]:
    return [
        (
            k.name, k.caption, k.definition, k.numerator, k.denominator, k.unit, k.direction,
            settings.target(k.name), k.target_source, k.grain, k.date_counted,
            ", ".join(k.dimensions) or "none", k.aggregation, k.requires or None, DEFINITIONS_VERSION,
        )
        for k in KPIS
    ]


CATALOG_COLUMNS = (
    ("kpi_name", "VARCHAR"), ("caption", "VARCHAR"), ("definition", "VARCHAR"),
    ("numerator_description", "VARCHAR"), ("denominator_description", "VARCHAR"), ("unit", "VARCHAR"),
    ("direction", "VARCHAR"), ("target", "DOUBLE PRECISION"), ("target_source", "VARCHAR"),
    ("grain", "VARCHAR"), ("date_counted", "VARCHAR"), ("dimensions", "VARCHAR"),
    ("aggregation", "VARCHAR"), ("requires", "VARCHAR"), ("definition_version", "VARCHAR"),
)

CONFIGURED_FIELDS = "configured_fields"


def _columns(con: Connection, schema: str, table: str) -> set[str]:
    rows = con.query(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        [schema, table],
    )
    return {str(r[0]) for r in rows}


def _field_sources(settings: Settings) -> list[tuple[str, str, str, str, str]]:
    """(field, schema, table, id column, value column) of each configured field."""
    from connectors.salesforce.objects import column_name

    out = []
    if settings.accounts.zendesk_organization_field:
        out.append(
            ("account_id", "zendesk", "organizations", "id",
             f"organization_fields__{settings.accounts.zendesk_organization_field.lower()}")
        )
    if settings.accounts.zendesk_ticket_field:
        out.append(("account_id", "zendesk", "tickets", "id", settings.accounts.zendesk_ticket_field.lower()))
    if settings.tiers.salesforce_case_field:
        out.append(("support_tier", "salesforce", "case", "id", column_name(settings.tiers.salesforce_case_field)))
    if settings.salesforce.csat_field:
        out.append(("csat_score", "salesforce", "case", "id", column_name(settings.salesforce.csat_field)))
    if settings.segments.account_field:
        out.append(("segment", "salesforce", "account", "id", column_name(settings.segments.account_field)))
    return out


def _insert(con: Connection, table: str, width: int, rows: Sequence[Sequence[Any]]) -> None:
    """All ``rows`` in one ``insert``: an engine that runs a job per statement (Spark) writes once."""
    if rows:
        marks = "(" + ", ".join(["%s"] * width) + ")"
        con.execute(f"insert into {table} values {', '.join([marks] * len(rows))}", [v for r in rows for v in r])


def write_settings(con: Connection, settings: Settings) -> None:
    """(Re)write ``supportlake_config.settings``, ``supportlake_config.kpi_catalog`` and
    ``supportlake_config.configured_fields`` in one transaction. A configured field whose column the raw
    table does not have (yet: dlt adds a column with its first value) contributes no rows."""
    catalog_ddl = ", ".join(f"{n} {t}" for n, t in CATALOG_COLUMNS)
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        for table in ("settings", "kpi_catalog", CONFIGURED_FIELDS):
            con.execute(f"drop table if exists {SCHEMA}.{table}")
        con.execute(f"create table {SCHEMA}.settings (name VARCHAR, value VARCHAR, number DOUBLE PRECISION)")
        _insert(con, f"{SCHEMA}.settings", 3, setting_rows(settings))
        con.execute(f"create table {SCHEMA}.kpi_catalog ({catalog_ddl})")
        _insert(con, f"{SCHEMA}.kpi_catalog", len(CATALOG_COLUMNS), catalog_rows(settings))
        con.execute(
            f"create table {SCHEMA}.{CONFIGURED_FIELDS} "
            "(source_table VARCHAR, source_id VARCHAR, field VARCHAR, value VARCHAR)"
        )
        explicit = {
            "support_tier": "salesforce_case_field" in settings.tiers.model_fields_set,
            "csat_score": "csat_field" in settings.salesforce.model_fields_set,
        }
        for field, schema, table, id_col, col in _field_sources(settings):
            if col not in _columns(con, schema, table):
                # dlt adds a column with its first value; a default nobody configured is no news
                level = logging.WARNING if explicit.get(field, True) else logging.INFO
                log.log(level, "configured field %s: %s.%s has no column %s (yet)", field, schema, table, col)
                continue
            con.execute(
                f"insert into {SCHEMA}.{CONFIGURED_FIELDS} "
                f"select '{schema}.{table}', cast({_q(id_col)} as VARCHAR), '{field}', "
                f"trim(cast({_q(col)} as VARCHAR)) from {_q(schema)}.{_q(table)} "
                f"where {_q(col)} is not null and trim(cast({_q(col)} as VARCHAR)) <> ''"
            )

