"""The systems supportlake syncs, by name: how to build each one's dlt source and which tables
each of its resources fills. The Salesforce and Confluence issues add their entries here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConfigError

# A source counts as configured when dlt finds one of these settings (env or .dlt/ files).
MARKERS: dict[str, tuple[str, ...]] = {
    "zendesk": ("sources.zendesk.base_url", "sources.zendesk.subdomain"),
    "salesforce": ("sources.salesforce.credentials.client_id",),
    "confluence": ("sources.confluence.base_url",),
}


def configured() -> list[str]:
    """The sources with settings present: what ``supportlake sync`` without ``--source`` syncs."""
    import dlt

    found: list[str] = []
    value: Any
    for name, keys in MARKERS.items():
        for key in keys:
            try:
                value = dlt.config.get(key) if "credentials" not in key else dlt.secrets.get(key)
            except Exception:  # an unreadable provider is the same as no setting here
                value = None
            if value:
                found.append(name)
                break
    return found


@dataclass(frozen=True)
class SourceSpec:
    name: str
    factory: Callable[..., Any]  # resources=[...] → a dlt source
    tables: dict[str, tuple[str, ...]]  # resource → the tables it fills

    def resolve(self, names: Sequence[str] | None) -> list[str]:
        """Resource names from ``--resource`` values, which may also name a table."""
        if not names:
            return list(self.tables)
        table_to_resource = {t: r for r, ts in self.tables.items() for t in ts}
        out: list[str] = []
        for n in names:
            r = n if n in self.tables else table_to_resource.get(n)
            if r is None:
                raise ConfigError(
                    f"--resource {n!r} is not a {self.name} resource; choose from: {', '.join(self.tables)}"
                )
            if r not in out:
                out.append(r)
        return out


def _zendesk() -> SourceSpec:
    from connectors.zendesk import zendesk_source
    from connectors.zendesk.endpoints import ENDPOINTS

    return SourceSpec(
        name="zendesk",
        factory=lambda resources: zendesk_source(resources=resources),
        tables={e.name: tuple(t.name for t in e.tables) for e in ENDPOINTS},
    )


def _salesforce() -> SourceSpec:
    from connectors.salesforce import configured_tables, salesforce_source

    return SourceSpec(
        name="salesforce",
        factory=lambda resources: salesforce_source(resources=resources),
        tables=configured_tables(),
    )


def _confluence() -> SourceSpec:
    from connectors.confluence import confluence_source
    from connectors.confluence.endpoints import TABLES

    return SourceSpec(
        name="confluence",
        factory=lambda resources: confluence_source(resources=resources),
        tables=dict(TABLES),
    )


REGISTRY: dict[str, Callable[[], SourceSpec]] = {
    "zendesk": _zendesk,
    "salesforce": _salesforce,
    "confluence": _confluence,
}


def get(name: str) -> SourceSpec:
    try:
        return REGISTRY[name]()
    except KeyError:
        raise ConfigError(f"--source {name!r} is not known; choose from: {', '.join(REGISTRY)}") from None
