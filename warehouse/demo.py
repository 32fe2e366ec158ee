"""``supportlake demo``: the built-in simulators, a full sync into a local DuckDB, the summary.

Offline and self-contained: the simulator serves on a free loopback port; credentials are the
simulator's own. Later issues add Salesforce, Confluence, the marts and the KPI table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from warehouse.progress import Progress, summary_table
from warehouse.target import parse_target

DEMO_WAREHOUSE = "duckdb:///supportlake_demo.duckdb"


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_demo(warehouse: str | None, *, tickets: int = 5000, seed: int = 7) -> int:
    from connectors.simulators.zendesk import ZendeskSimulator
    from warehouse.sync import sync

    target = parse_target(warehouse or DEMO_WAREHOUSE)
    # The demo's simulator does not enforce Zendesk's 10 export requests a minute (a real run
    # paces to it; the tests show that), so the demo finishes in seconds.
    sim = ZendeskSimulator(seed=seed, n_tickets=tickets, export_rpm=1_000_000)
    with sim.serve() as base_url:
        print(
            f"supportlake demo: Zendesk simulator at {base_url} ({tickets:,} tickets) → {target.display}",
            file=sys.stderr,
        )
        env = {
            "SOURCES__ZENDESK__BASE_URL": base_url,
            "SOURCES__ZENDESK__CREDENTIALS__EMAIL": sim.email,
            "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN": sim.api_token,
            "SOURCES__ZENDESK__EXPORT_RATE_LIMIT": "1000000",
        }
        with _env(env), Progress():
            result = sync(target, ["zendesk"])
    print(summary_table(result.tables))
    print(f"\ndemo run {result.run_id}: {'ok' if result.ok else 'FAILED'} in {result.seconds:.1f}s → {target.display}")
    return 0 if result.ok else 1
