"""Each KPI of the catalogue (transforms/kpis.py) is one model, ``intermediate.int_kpi__<name>``, with
the long-format columns ``marts.agg_kpi_monthly`` unions; and each ticketing system's enrichment is its
own intermediate model with the columns ``core.tickets`` unions. Checked on the parsed SQL: a union
reads columns by position, so a model whose columns differ in order would mix them up silently."""

from __future__ import annotations

from sqlglot import exp

from transforms.graph import MODELS_DIR, Model, load_models
from transforms.kpis import KPIS

MODELS = {m.key: m for m in load_models(MODELS_DIR)}
KPI_COLUMNS = ["month_start", "kpi_name", "segment", "channel_group", "support_tier", "numerator", "denominator"]


def final_select(query: exp.Query) -> exp.Query:
    """The query whose projections are the model's columns: ``select * from <cte>`` followed into the CTE."""
    ctes = {cte.alias: cte.this for cte in query.ctes}
    while isinstance(query, exp.Select) and query.named_selects == ["*"]:
        source = query.args["from_"].this
        if not (isinstance(source, exp.Table) and source.name in ctes):
            break
        query = ctes[source.name]
    return query


def output_columns(query: exp.Query) -> list[str]:
    return final_select(query).named_selects


def _kpi_models() -> dict[str, Model]:
    return {m.name.removeprefix("int_kpi__"): m for m in MODELS.values() if m.name.startswith("int_kpi__")}


def test_every_catalogued_kpi_is_one_model_in_intermediate_kpis() -> None:
    models = _kpi_models()
    assert sorted(models) == sorted(k.name for k in KPIS)
    for m in models.values():
        assert m.schema == "intermediate"
        assert m.path.parent == MODELS_DIR / "intermediate" / "kpis", m.path


def test_each_kpi_model_gives_the_long_format_columns_and_its_own_name() -> None:
    for name, m in _kpi_models().items():
        assert output_columns(m.query) == KPI_COLUMNS, m.key
        (kpi_name,) = [p for p in final_select(m.query).selects if p.alias_or_name == "kpi_name"]
        assert isinstance(kpi_name, exp.Alias), m.key
        assert isinstance(kpi_name.this, exp.Literal), m.key
        assert kpi_name.this.name == name, m.key


def test_agg_kpi_monthly_is_the_union_of_the_kpi_models() -> None:
    reads = MODELS["marts.agg_kpi_monthly"].depends_on
    assert sorted(reads) == sorted(m.key for m in _kpi_models().values())


def test_core_tickets_unions_one_enriched_model_per_system_with_the_same_columns() -> None:
    zendesk = MODELS["intermediate.int_zendesk_tickets"]
    salesforce = MODELS["intermediate.int_salesforce_cases"]
    assert output_columns(zendesk.query) == output_columns(salesforce.query)
    core = MODELS["core.tickets"]
    assert core.depends_on == (salesforce.key, zendesk.key)
    assert output_columns(core.query) == [*output_columns(zendesk.query), "is_resolved"]
