"""A fourth source, added without editing any other module: the README's "Adding a source"
walkthrough, run by ``tests/unit/test_toy_source.py``.

"Widgets" is a made-up API (``GET /api/widgets`` paged by a ``next_page`` URL, ``GET /api/owners``
that this token may not read); the test serves it with ``responses``. Everything supportlake needs
to know about it is the one :data:`SOURCE` record below: the registry finds it once registered
(:func:`connectors.registry.register`, or an entry point in the ``supportlake.sources`` group).
"""

from __future__ import annotations

from pathlib import Path

from connectors.registry import Columns, SourceSpec
from schemas.payload import column_types
from tests.toy_source.source import DELETIONS, ENDPOINTS, toy_source


def _tables() -> dict[str, tuple[str, ...]]:
    return {e.name: tuple(t.name for t in e.tables) for e in ENDPOINTS}


def _columns() -> Columns:
    return {t.name: column_types(t.model) for e in ENDPOINTS for t in e.tables}


SOURCE = SourceSpec(
    name="toy",
    title="Widgets",
    source=toy_source,
    tables=_tables,
    columns=_columns,
    primary="widgets",
    config_keys=("sources.toy.base_url",),
    credential_sets=("API_TOKEN",),
    check="tests.toy_source.check:plan",
    deletions=DELETIONS,
    models=Path(__file__).parent / "models",
)
