"""Zendesk Support: a dlt source (:func:`zendesk_source`) and its streams (:mod:`.endpoints`);
:data:`SOURCE` is its registry record (:mod:`connectors.registry`)."""

from typing import Any

from connectors.registry import Columns, DemoSimulator, SourceSpec
from connectors.zendesk.source import zendesk_source


def _tables() -> dict[str, tuple[str, ...]]:
    from connectors.zendesk.endpoints import ENDPOINTS

    return {e.name: tuple(t.name for t in e.tables) for e in ENDPOINTS}


def _columns() -> Columns:
    from connectors.zendesk.endpoints import ENDPOINTS
    from schemas.payload import column_types

    return {t.name: column_types(t.model) for e in ENDPOINTS for t in e.tables}


def _demo_settings(sim: Any, url: str) -> dict[str, str]:
    return {
        "SOURCES__ZENDESK__BASE_URL": url,
        "SOURCES__ZENDESK__CREDENTIALS__EMAIL": sim.email,
        "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN": sim.api_token,
        # The demo's Zendesk does not enforce the 10 export requests a minute (a real run paces to
        # it; the tests show that), so the demo finishes in seconds.
        "SOURCES__ZENDESK__EXPORT_RATE_LIMIT": "1000000",
    }


SOURCE = SourceSpec(
    name="zendesk",
    title="Zendesk",
    source=zendesk_source,
    tables=_tables,
    columns=_columns,
    primary="tickets",
    config_keys=("sources.zendesk.base_url", "sources.zendesk.subdomain"),
    credential_sets=("EMAIL + API_TOKEN", "OAUTH_TOKEN"),
    check="connectors.zendesk.check:plan",
    deletions="connectors.zendesk.deletions:DELETIONS",
    simulator=DemoSimulator(
        factory="simulators.zendesk:ZendeskSimulator",
        options=lambda seed, tickets: {"seed": seed, "n_tickets": tickets, "export_rpm": 1_000_000},
        settings=_demo_settings,
        label=lambda tickets: f"{tickets:,} tickets",
    ),
    order=10,
)

__all__ = ["SOURCE", "zendesk_source"]
