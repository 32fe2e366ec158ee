"""The systems supportlake syncs, by name: how to build each one's dlt source and which tables
each of its resources fills. The Salesforce and Confluence issues add their entries here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConfigError


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


REGISTRY: dict[str, Callable[[], SourceSpec]] = {"zendesk": _zendesk}


def get(name: str) -> SourceSpec:
    try:
        return REGISTRY[name]()
    except KeyError:
        raise ConfigError(f"--source {name!r} is not known; choose from: {', '.join(REGISTRY)}") from None
