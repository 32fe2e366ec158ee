"""``supportlake demo``: the built-in simulators of all three systems, ``supportlake check`` against
them (its table printed), a full sync into a local DuckDB, the core and mart models built, Tableau
extracts written (when the ``tableau`` extra is installed) and the KPI table of the month with the
most tickets from both ticketing systems printed against the targets, with each system's share of
that month's tickets (:mod:`warehouse.report`).
Offline and self-contained: each simulator serves on a free loopback port with its own
credentials.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from warehouse.progress import Progress, failure_causes, summary_table
from warehouse.target import Target, parse_target

DEMO_WAREHOUSE = "duckdb:///supportlake_demo.duckdb"
DEMO_EXTRACTS = "supportlake_demo_extracts"


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


def run_demo(warehouse: str | None, *, tickets: int = 5000, seed: int = 7, extracts: str | None = None) -> int:
    """Sync the simulators into ``warehouse``, build, write extracts to ``extracts`` (the CLI's
    default: :data:`DEMO_EXTRACTS`; None: none) and print the KPI table; the exit code."""
    from connectors import registry
    from warehouse.sync import sync

    target = parse_target(warehouse or DEMO_WAREHOUSE)
    specs = [s for s in registry.specs() if s.simulator is not None]
    with ExitStack() as stack:
        env: dict[str, str] = {}
        served: list[str] = []
        for spec in specs:
            assert spec.simulator is not None
            simulator = spec.simulator.create(seed, tickets)
            url = stack.enter_context(simulator.serve())
            env.update(spec.simulator.settings(simulator, url))
            label = spec.simulator.label(tickets)
            served.append(f"{spec.title}{f' ({label})' if label else ''} at {url}")
        print(f"supportlake demo: simulators of {', '.join(served)} → {target.display}", file=sys.stderr)
        sources = [s.name for s in specs]
        with _env(env):
            code = _check(sources)
            if code:
                return code
            with Progress():
                result = sync(target, sources)
    print(summary_table(result.tables))
    print(f"\ndemo run {result.run_id}: {'ok' if result.ok else 'FAILED'} in {result.seconds:.1f}s → {target.display}")
    if not result.ok:
        for source, cause in failure_causes(result.tables):
            print(f"supportlake demo: {source} failed: {cause}", file=sys.stderr)
        return 1
    _load_sample_inputs(target, seed)
    return _build_and_report(target, extracts)


def _check(sources: list[str]) -> int:
    """``supportlake check`` against the simulators, as a first sync would start: the table, and
    the exit code (non-zero stops the demo before it syncs)."""
    from connectors.check import render
    from warehouse.check import check, exit_code

    results = check(sources)
    print("supportlake check:")
    print(render(results))
    print()
    return exit_code(results)


DEMO_INPUTS = "supportlake_demo_inputs"
"""Folder beside the demo's DuckDB file for the CSV files it loads with ``load-input`` (examples of
the format)."""


def _load_sample_inputs(target: Target, seed: int) -> None:
    """NPS answers and monthly support cost, which no API carries: made up from the synced data
    (respondents are Salesforce contacts; cost is 6.5–9.5% of the month's revenue), written as the
    CSV files ``supportlake load-input`` takes, and loaded with it."""
    import csv
    import datetime as dt
    import random

    from warehouse.inputs import load_input
    from warehouse.sql import connection

    rng = random.Random(seed)
    with connection(target) as con:
        contacts = con.query(
            "select email, account_id from salesforce.contact where email is not null and account_id is not null "
            "order by id"
        )
        bounds = con.query(
            "select min(d), max(d) from (select created_at::DATE as d from zendesk.tickets "
            'union all select created_date::DATE as d from salesforce."case") as t'
        )[0]
        won = con.query(
            "select close_date::DATE, amount from salesforce.opportunity where is_won and amount is not null"
        )
    if not contacts or bounds[0] is None:
        return
    months: list[dt.date] = []
    month = dt.date(bounds[0].year, bounds[0].month, 1)
    while month <= bounds[1]:
        months.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    folder = (target.path.parent if target.path else Path.cwd()) / DEMO_INPUTS  # beside the DuckDB file
    folder.mkdir(exist_ok=True)
    nps, cost = folder / "nps.csv", folder / "support_cost.csv"
    with nps.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["respondent_email", "account_id", "score", "responded_at"])
        for month in months:
            for email, account in rng.sample(contacts, min(40, len(contacts))):
                score = rng.choices(range(11), weights=(1, 1, 1, 2, 2, 3, 4, 8, 14, 30, 34))[0]
                start = dt.datetime(month.year, month.month, 1)
                day = start + dt.timedelta(days=rng.randrange(28), seconds=rng.randrange(86_400))
                w.writerow([email, account, score, f"{day:%Y-%m-%dT%H:%M:%S}"])
    with cost.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["month", "cost", "currency"])
        for month in months:
            year_ago = dt.date(month.year - 1, month.month, 1)
            end = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
            revenue = sum(a for d, a in won if year_ago < d < end) / 12
            if revenue > 0:
                w.writerow([f"{month:%Y-%m}", round(revenue * rng.uniform(0.065, 0.095), 2), "USD"])
    for kind, path in (("nps", nps), ("support_cost", cost)):
        print(load_input(target, kind, path, replace=True).summary() + f" (from {path})")


def _build_and_report(target: Target, extracts: str | None) -> int:
    from transforms.graph import TransformError
    from transforms.runner import build
    from warehouse.report import kpi_report

    started = time.monotonic()
    try:
        results = build(target)
    except TransformError as exc:
        print(f"supportlake demo: build failed: {exc}", file=sys.stderr)
        return 1
    rows = sum(r.rows for r in results if r.model.startswith("marts."))
    print(f"\nbuilt {len(results)} models in {time.monotonic() - started:.1f}s ({rows:,} rows in the marts)")
    if extracts:
        _write_extracts(target, Path(extracts))
    print()
    print(kpi_report(target))
    return 0


def _write_extracts(target: Target, out: Path) -> None:
    from warehouse.hyper import HyperApiMissing, export_hyper

    try:
        written = export_hyper(target, out)
    except HyperApiMissing:
        print("(Tableau extracts skipped: pip install 'supportlake[tableau]' to write them)")
        return
    print(f"wrote {len(written)} Tableau extracts to {out.resolve()}/")
