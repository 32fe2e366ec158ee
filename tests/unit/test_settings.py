"""Build settings: defaults from the seeds, TOML overrides, errors that name the setting, and the
tables the models read."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from transforms.kpis import KPIS
from transforms.settings import ENV_CONFIG, load_settings, parse_settings, write_settings
from warehouse.sql import connection
from warehouse.target import parse_target


def test_defaults_are_the_seed_organisation_targets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_CONFIG, raising=False)
    monkeypatch.chdir(tmp_path)  # no supportlake.toml here
    s = load_settings()
    assert s.target("fcr_rate") == 0.75
    assert s.target("aht_minutes") == 8.0
    assert s.target("csat_pct_positive") is None
    assert s.segments.enterprise_min_arr == 5_000_000
    assert s.segments.mid_market_min_arr == 500_000
    assert s.tiers.salesforce_case_field == "Tier__c"
    assert (s.salesforce.csat_field, s.salesforce.csat_scale_min, s.salesforce.csat_scale_max) == (
        "CSAT_Score__c",
        1,
        5,
    )
    assert s.segments.account_field is None  # ARR bands


def test_a_blank_csat_field_means_none() -> None:
    assert parse_settings({"salesforce": {"csat_field": " "}}).salesforce.csat_field is None


def test_salesforce_csat_and_segment_fields_reach_the_models(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'w.duckdb'}")
    s = parse_settings(
        {
            "salesforce": {"csat_field": "Survey_Score__c", "csat_scale_max": 10},
            "segments": {"account_field": "Tier_Segment__c"},
        }
    )
    with connection(target) as con:
        con.execute("create schema salesforce")
        con.execute('create table salesforce."case" (id VARCHAR, survey_score_c DOUBLE)')
        con.execute("""insert into salesforce."case" values ('500A', 9), ('500B', null)""")
        con.execute("create table salesforce.account (id VARCHAR, tier_segment_c VARCHAR)")
        con.execute("insert into salesforce.account values ('001A', 'Enterprise')")
        write_settings(con, s)
        fields = con.query("select source_table, source_id, field from supportlake_config.configured_fields order by 1")
        assert fields == [("salesforce.account", "001A", "segment"), ("salesforce.case", "500A", "csat_score")]
        rows = dict(con.query("select name, number from supportlake_config.settings where name like 'salesforce.%'"))
        assert rows == {
            "salesforce.csat_field": None,
            "salesforce.csat_scale_min": 1.0,
            "salesforce.csat_scale_max": 10.0,
        }


def test_file_from_the_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    f = tmp_path / "conf.toml"
    f.write_text(
        "[kpis.targets]\nfcr_rate = 0.9\n[segments]\nenterprise_min_arr = 1e6\n[accounts]\n"
        'zendesk_organization_field = "sf_account"\n'
    )
    monkeypatch.setenv(ENV_CONFIG, str(f))
    s = load_settings()
    assert s.target("fcr_rate") == 0.9
    assert s.target("nps") == 50.0
    assert s.segments.enterprise_min_arr == 1e6
    assert s.accounts.zendesk_organization_field == "sf_account"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kpis": {"targets": {"fcr": 0.7}}}, r"kpis\.targets: .*unknown KPI fcr"),
        ({"segments": {"enterprise_min_arr": "lots"}}, r"segments\.enterprise_min_arr"),
        ({"revenue": {"gross_margin": 1.5}}, r"revenue\.gross_margin"),
        ({"tiers": {"salesforce_field": "X"}}, r"tiers\.salesforce_field: Extra inputs"),
        ({"tiers": {"groups": {"Billing": 4}}}, r"tiers\.groups\.Billing"),
        ({"salesforce": {"csat_scale_min": 5, "csat_scale_max": 5}}, r"salesforce: .*csat_scale_max must be greater"),
        ({"segments": {"account_fields": "Segment__c"}}, r"segments\.account_fields: Extra inputs"),
    ],
)
def test_a_wrong_setting_is_named(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings(data, source="x.toml")


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[kpis\n")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_settings(f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")


def test_written_tables(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'w.duckdb'}")
    s = parse_settings(
        {"accounts": {"zendesk_organization_field": "SF_Account", "zendesk_ticket_field": "custom_acct"}}
    )
    with connection(target) as con:
        con.execute("create schema zendesk")
        con.execute("create table zendesk.organizations (id BIGINT, organization_fields__sf_account VARCHAR)")
        con.execute("insert into zendesk.organizations values (1, ' 001A '), (2, null), (3, '')")
        write_settings(con, s)
        assert con.query("select source_table, source_id, field, value from supportlake_config.configured_fields") == [
            ("zendesk.organizations", "1", "account_id", "001A")
        ]
        catalog = con.query("select kpi_name, target from supportlake_config.kpi_catalog order by kpi_name")
        assert [r[0] for r in catalog] == sorted(k.name for k in KPIS)
        assert dict(catalog)["fcr_rate"] == 0.75
        rows = con.query("select value from supportlake_config.settings where name = 'revenue.expansion_types'")
        assert sorted(r[0] for r in rows) == ["Expansion", "Upsell"]
        # rewriting replaces, never appends
        write_settings(con, s)
        assert con.query("select count(*) from supportlake_config.kpi_catalog") == [(len(KPIS),)]


def test_the_warehouse_urls_duckdb_settings_hold_for_builds(tmp_path: Path) -> None:
    with connection(parse_target(f"duckdb:///{tmp_path / 'a.duckdb'}?memory_limit=300MB&threads=1")) as con:
        assert con.query("select current_setting('threads')") == [(1,)]
        limit = str(con.query("select current_setting('memory_limit')")[0][0])
    with connection(parse_target(f"duckdb:///{tmp_path / 'b.duckdb'}")) as con:
        default = str(con.query("select current_setting('memory_limit')")[0][0])
    assert (limit, default) == ("286.1 MiB", "953.6 MiB")  # 300 MB and 1 GB, as DuckDB shows them


def test_postgres_sessions_get_a_lock_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from urllib.parse import parse_qs, urlsplit

    def options(url: str) -> list[str]:
        return parse_qs(urlsplit(parse_target(url).dsn or "").query).get("options", [])

    base = "postgresql://loader@db.example.com/analytics"
    monkeypatch.delenv("SUPPORTLAKE_PG_LOCK_TIMEOUT", raising=False)
    assert options(base) == ["-c lock_timeout=600000"]  # ten minutes by default
    assert options(f"{base}?sslmode=require&options=-c%20statement_timeout%3D5000") == [
        "-c statement_timeout=5000 -c lock_timeout=600000"
    ]
    assert options(f"{base}?options=-c%20lock_timeout%3D3000") == ["-c lock_timeout=3000"]  # the URL's own wins
    monkeypatch.setenv("SUPPORTLAKE_PG_LOCK_TIMEOUT", "2.5")
    assert options(base) == ["-c lock_timeout=2500"]
    monkeypatch.setenv("SUPPORTLAKE_PG_LOCK_TIMEOUT", "0")
    assert options(base) == []
    for bad in ("soon", "-1"):
        monkeypatch.setenv("SUPPORTLAKE_PG_LOCK_TIMEOUT", bad)
        with pytest.raises(ConfigError, match="SUPPORTLAKE_PG_LOCK_TIMEOUT"):
            parse_target(base)
    monkeypatch.delenv("SUPPORTLAKE_PG_LOCK_TIMEOUT")
    assert parse_target(base).fingerprint == parse_target(f"{base}?options=-c%20lock_timeout%3D1").fingerprint
