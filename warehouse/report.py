"""The KPI table printed by ``supportlake demo`` and ``supportlake kpis``: one month's totals of
``marts.agg_kpi_monthly`` (every slice column 'all') against their targets, with the KPIs that have
no data that month and why (from ``marts.kpi_definitions``), and each ticketing system's share of
the month's tickets (``marts.fct_tickets``). Without a month asked for, the month with the most
tickets among those where every ticketing system has some."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.errors import ConfigError
from connectors import registry
from transforms import kpis
from warehouse.lock import RunLock
from warehouse.sql import Connection, connection
from warehouse.target import Target


@dataclass(frozen=True)
class KpiLine:
    name: str
    caption: str
    unit: str
    direction: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    is_target_met: bool | None
    note: str


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "usd":
        return f"${value:,.0f}"
    if unit == "nps_points":
        return f"{value:+.1f}"
    if unit in ("minutes", "hours", "days"):
        return f"{value:,.1f} {unit[0] if unit != 'days' else 'd'}"
    return f"{value:.2f}"


def _count(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class SystemShare:
    """One ticketing system's tickets created in a month (deleted, merged and spam left out)."""

    system: str
    count: int
    share: float


def pick_month(con: Connection) -> dt.date | None:
    """The month with the most tickets created among the months with tickets from the most
    ticketing systems (ties: the latest): the month that shows Zendesk and Salesforce side by side.
    Without any ticket, the month with the most KPIs that have data (ties: the latest)."""
    rows = con.query(
        "select date_trunc('month', created_at)::DATE as month_start, count(distinct source_system) as systems, "
        "count(*) as n from marts.fct_tickets where not is_excluded and created_at is not null "
        "group by date_trunc('month', created_at)::DATE order by systems desc, n desc, month_start desc limit 1"
    )
    if rows:
        return _as_date(rows[0][0])
    rows = con.query(
        "select month_start, count(distinct kpi_name) as n from marts.agg_kpi_monthly "
        "where segment = 'all' and channel_group = 'all' and support_tier = 'all' "
        "group by month_start order by n desc, month_start desc limit 1"
    )
    return _as_date(rows[0][0]) if rows else None


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def system_shares(con: Connection, month: dt.date) -> list[SystemShare]:
    """Each ticketing system's tickets created in ``month`` and its share of them, the largest first."""
    rows = con.query(
        "select source_system, count(*) from marts.fct_tickets "
        "where not is_excluded and date_trunc('month', created_at)::DATE = %s group by source_system",
        [month],
    )
    total = sum(int(n) for _, n in rows)
    shares = [SystemShare(str(system), int(n), int(n) / total) for system, n in rows if total]
    return sorted(shares, key=lambda s: (-s.count, s.system))


def render_shares(shares: list[SystemShare], month: dt.date) -> list[str]:
    """``Zendesk     62% (3,100 tickets)``: one line per system."""
    if not shares:
        return [f"No tickets created in {month:%B %Y}"]
    named = [(registry.label(s.system), s) for s in shares]
    width = max(len(label) for (label, _), _ in named)
    out = [f"Tickets created in {month:%B %Y} (without deleted, merged and spam), by system:"]
    for (label, noun), s in named:
        out.append(f"  {label.ljust(width)}  {s.share:4.0%} ({s.count:,} {noun})")
    return out


def kpi_lines(con: Connection, month: dt.date) -> list[KpiLine]:
    rows = con.query(
        "select d.kpi_name, d.caption, d.unit, d.direction, k.value, k.numerator, k.denominator, d.target, "
        "k.is_target_met, d.availability, d.aggregation "
        "from marts.kpi_definitions as d left join marts.agg_kpi_monthly as k "
        "on k.kpi_name = d.kpi_name and k.month_start = %s "
        "and k.segment = 'all' and k.channel_group = 'all' and k.support_tier = 'all' "
        "order by d.kpi_name",
        [month],
    )
    order = {k.name: i for i, k in enumerate(kpis.KPIS)}  # the catalogue's order: KPIS.md's, then the secondary
    lines = []
    for name, caption, unit, direction, value, num, den, target, met, availability, aggregation in rows:
        if value is None:
            note = availability if availability != "available" else "no data this month"
        elif aggregation == "ratio_of_sums":
            note = f"{_count(num)} / {_count(den)}"
        else:
            note = ""
        lines.append(KpiLine(name, caption, unit, direction, value, num, den, target, met, note))
    return sorted(lines, key=lambda line: order.get(line.name, len(order)))


def render(lines: list[KpiLine], month: dt.date, shares: list[SystemShare] | None = None) -> str:
    head = ("KPI", "value", "target", "met", "numerator / denominator, or why there is no value")
    body = []
    for line in lines:
        target = "—" if line.target is None else ("≥ " if line.direction == "higher_is_better" else "≤ ")
        if line.target is not None:
            target += _fmt(line.target, line.unit)
        met = {True: "yes", False: "NO", None: ""}[line.is_target_met]
        body.append((line.caption, _fmt(line.value, line.unit), target, met, line.note))
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    out = [f"KPIs for {month:%B %Y} (every segment, channel and tier; marts.agg_kpi_monthly)", ""]
    if shares is not None:
        out += [*render_shares(shares, month), ""]
    for i, row in enumerate([head, *body]):
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].rjust(widths[2]), row[3].ljust(widths[3])]
        out.append("  ".join([*cells, row[4]]).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths) + "  " + "-" * len(head[4]))
    verdicts = [line.is_target_met for line in lines if line.is_target_met is not None]
    out += ["", f"{verdicts.count(True)} of {len(verdicts)} KPIs with a target meet it"]
    return "\n".join(out)


def kpi_report(target: Target, month: dt.date | None = None) -> str:
    """The report of ``month`` (default :func:`pick_month`). A reader: on DuckDB it opens the file
    read-only under the shared run lock, so it stops at once (:class:`warehouse.lock.WarehouseBusy`)
    while a sync or build writes, and a writer that starts meanwhile waits for it. A warehouse
    without the KPI marts is a :class:`ConfigError` saying to build first."""
    with RunLock(target, shared=True), connection(target, read_only=True) as con:
        built = con.query(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name in ('agg_kpi_monthly', 'fct_tickets')"
        )
        if not built or int(built[0][0]) < 2:
            raise ConfigError(f"{target.display} has no KPI marts yet: run `supportlake build` (after a sync) first")
        chosen = month or pick_month(con)
        if chosen is None:
            return "no KPI rows yet: run `supportlake sync` and `supportlake build` first"
        return render(kpi_lines(con, chosen), chosen, system_shares(con, chosen))
