"""Confluence Cloud: a dlt source (:func:`confluence_source`) and its streams (:mod:`.endpoints`);
:data:`SOURCE` is its registry record (:mod:`connectors.registry`)."""

from typing import Any

from connectors.confluence.source import confluence_source
from connectors.registry import Columns, DemoSimulator, SourceSpec


def _tables() -> dict[str, tuple[str, ...]]:
    from connectors.confluence.endpoints import TABLES

    return dict(TABLES)


def _columns() -> Columns:
    from connectors.confluence.endpoints import ENDPOINTS
    from schemas.payload import column_types

    return {t.name: column_types(t.model) for e in ENDPOINTS for t in e.tables}


def _demo_settings(sim: Any, url: str) -> dict[str, str]:
    return {
        "SOURCES__CONFLUENCE__BASE_URL": url,
        "SOURCES__CONFLUENCE__CREDENTIALS__EMAIL": sim.email,
        "SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN": sim.api_token,
    }


SOURCE = SourceSpec(
    name="confluence",
    title="Confluence",
    source=confluence_source,
    tables=_tables,
    columns=_columns,
    primary="pages",
    config_keys=("sources.confluence.base_url",),
    credential_sets=("EMAIL + API_TOKEN", "OAUTH_TOKEN"),
    check="connectors.confluence.check:plan",
    deletions="connectors.confluence.deletions:DELETIONS",
    simulator=DemoSimulator(
        factory="simulators.confluence:ConfluenceSimulator",
        options=lambda seed, tickets: {"seed": seed},
        settings=_demo_settings,
    ),
    order=30,
)

__all__ = ["SOURCE", "confluence_source"]
