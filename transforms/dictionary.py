"""The data dictionary of the core and mart tables, generated from their SQLModel classes and the
KPI catalogue (:mod:`transforms.kpis`); here, not in ``schemas/``, because it reads both.

``python -m transforms.dictionary`` rewrites ``docs/data-dictionary.md``; a test fails when the file
and the classes disagree, so the dictionary Tableau users read is the contract the tests check.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from sqlmodel import SQLModel

from common.coltypes import TABLE_KINDS, sql_types
from schemas.core import CORE_TABLES
from schemas.marts import MART_TABLES
from transforms.kpis import DEFINITIONS_VERSION, KPIS

DICTIONARY = Path(__file__).resolve().parent.parent / "docs" / "data-dictionary.md"

_TYPES = {py: sql_types("duckdb")[kind] for py, kind in TABLE_KINDS.items()}

_ACRONYMS = {
    "arr": "ARR", "csat": "CSAT", "fcr": "FCR", "kb": "KB", "sla": "SLA", "id": "Id", "url": "URL", "kpi": "KPI",
    "iso": "ISO", "nps": "NPS", "aht": "AHT",
}


def caption(name: str) -> str:
    """A human caption for a snake_case column: ``first_reply_minutes`` → ``First reply minutes``."""
    words = [_ACRONYMS.get(w, w) for w in name.split("_")]
    first = words[0] if words[0] in _ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def _type(hint: Any) -> tuple[str, bool]:
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        return _TYPES[args[0]], True
    return _TYPES[hint], False


def _table(cls: type[SQLModel]) -> list[str]:
    schema = cls.__table_args__["schema"]  # type: ignore[attr-defined]
    grain = ", ".join(cls.__grain__)  # type: ignore[attr-defined]
    doc = " ".join((cls.__doc__ or "").split())
    lines = [
        f"### `{schema}.{cls.__tablename__}`",
        "",
        doc,
        "",
        f"Grain: one row per `{grain}`.",
        "",
        "| column | caption | type | nullable | description |",
        "|---|---|---|---|---|",
    ]
    hints = get_type_hints(cls)
    for name, field in cls.model_fields.items():
        kind, nullable = _type(hints[name])
        text = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {caption(name)} | {kind} | {'yes' if nullable else 'no'} | {text} |")
    return [*lines, ""]


def _kpis() -> list[str]:
    lines = [
        "## KPIs",
        "",
        f"Rows of `marts.agg_kpi_monthly` (`kpi_name`) and `marts.kpi_definitions`; definitions version "
        f"{DEFINITIONS_VERSION}. Targets are the defaults; `supportlake.toml` overrides them.",
        "",
        "| kpi_name | caption | numerator ÷ denominator | unit | default target | slices | aggregation |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in KPIS:
        sign = "≥" if k.direction == "higher_is_better" else "≤"
        target = "—" if k.target is None else f"{sign} {k.target:g}"
        ratio = f"{k.numerator} ÷ {k.denominator}".replace("|", "\\|")
        dims = ", ".join(k.dimensions) or "—"
        lines.append(f"| `{k.name}` | {k.caption} | {ratio} | {k.unit} | {target} | {dims} | {k.aggregation} |")
    lines.append("")
    for k in KPIS:
        lines += [f"- **`{k.name}`** — {k.definition} Counted by {k.date_counted}; one item is a {k.grain}."]
    return [*lines, ""]


def render() -> str:
    out = [
        "# Data dictionary",
        "",
        "Generated from `schemas/core.py` and `schemas/marts.py` by `python -m transforms.dictionary`; do not",
        "edit by hand. NULL means \"did not happen\"; 0 is a true zero. Keys carry their origin",
        "(`zendesk:123`, `salesforce:500…`, `confluence:98765`).",
        "",
        "## Marts (schema `marts`): what Tableau reads",
        "",
    ]
    for cls in MART_TABLES:
        out += _table(cls)
    out += _kpis()
    out += ["## Core (schema `core`): the unified model the marts are built on", ""]
    for cls in CORE_TABLES:
        out += _table(cls)
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    DICTIONARY.parent.mkdir(parents=True, exist_ok=True)
    DICTIONARY.write_text(render(), encoding="utf-8")
    print(f"wrote {DICTIONARY}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
