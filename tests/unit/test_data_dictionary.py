"""docs/data-dictionary.md is generated from the SQLModel classes and must match them."""

from __future__ import annotations

from transforms.dictionary import DICTIONARY, caption, render


def test_dictionary_is_up_to_date() -> None:
    assert DICTIONARY.read_text(encoding="utf-8") == render(), (
        "docs/data-dictionary.md is stale: run `python -m transforms.dictionary`"
    )


def test_every_table_is_in_it() -> None:
    text = render()
    for table in ("marts.agg_kpi_monthly", "marts.fct_tickets", "marts.dim_date", "core.tickets"):
        assert f"### `{table}`" in text


def test_captions() -> None:
    assert caption("first_reply_minutes") == "First reply minutes"
    assert caption("csat_score") == "CSAT score"
    assert caption("is_fcr") == "Is FCR"
    assert caption("salesforce_account_id") == "Salesforce account Id"
