"""Settings that change what the models compute, on DuckDB and PostgreSQL."""

from __future__ import annotations

from transforms.runner import build
from transforms.settings import parse_settings
from warehouse.target import parse_target

from .conftest import query
from .test_core_models import ZENDESK, seed_raw


def test_configured_group_tiers_win_over_the_name(warehouse_url: str) -> None:
    # group 11 'Tier 2 Support' says its tier; group 12 'Billing' does not, unless configured
    seed_raw(warehouse_url, ZENDESK)
    target = parse_target(warehouse_url)
    sql = "select ticket_key, support_tier from core.tickets where ticket_key in ('zendesk:1', 'zendesk:2')"

    build(target, settings=parse_settings({}))
    assert sorted(query(warehouse_url, sql)) == [("zendesk:1", "Tier 2"), ("zendesk:2", None)]

    build(target, settings=parse_settings({"tiers": {"groups": {"billing ": 3, "Tier 2 Support": 1}}}))
    assert sorted(query(warehouse_url, sql)) == [("zendesk:1", "Tier 1"), ("zendesk:2", "Tier 3")]
