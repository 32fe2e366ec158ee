"""The KPI report lists the KPIs in the catalogue's order (transforms/kpis.py: KPIS.md's, then the
secondary measures), not in an order kept by hand beside it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from transforms import kpis
from warehouse.report import kpi_lines
from warehouse.sql import connection
from warehouse.target import parse_target

MONTH = dt.date(2025, 4, 1)


def _catalogue_tables(url: str) -> None:
    with connection(parse_target(url)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_definitions (kpi_name varchar, caption varchar, unit varchar, direction varchar, "
            "target double, availability varchar, aggregation varchar)"
        )
        con.execute(
            "create table marts.agg_kpi_monthly (kpi_name varchar, month_start date, segment varchar, "
            "channel_group varchar, support_tier varchar, value double, numerator double, denominator double, "
            "is_target_met boolean)"
        )
        for k in kpis.KPIS:
            con.execute(
                "insert into marts.kpi_definitions values (%s, %s, %s, %s, %s, 'available', %s)",
                [k.name, k.caption, k.unit, k.direction, k.target, k.aggregation],
            )
        con.execute(
            "insert into marts.agg_kpi_monthly values ('fcr_rate', %s, 'all', 'all', 'all', 0.5, 1, 2, null)", [MONTH]
        )


def test_kpi_lines_follow_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path}/report.duckdb"
    _catalogue_tables(url)
    with connection(parse_target(url)) as con:
        assert [line.name for line in kpi_lines(con, MONTH)] == [k.name for k in kpis.KPIS]
        # a catalogue in another order (a KPI moved, one added at its place) is reported in that order
        shuffled = (*kpis.KPIS[5:], dataclasses.replace(kpis.KPIS[0], name="new_kpi"), *kpis.KPIS[:5])
        con.execute(
            "insert into marts.kpi_definitions values ('new_kpi', 'New', 'ratio', 'higher_is_better', null, "
            "'available', 'ratio_of_sums')"
        )
        monkeypatch.setattr(kpis, "KPIS", shuffled)
        lines = kpi_lines(con, MONTH)
    assert [line.name for line in lines] == [k.name for k in shuffled]
    assert lines[-5].caption == "First contact resolution"
    assert lines[-5].note == "1 / 2"
