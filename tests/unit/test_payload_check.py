"""A page is validated in one call against a ``TypedDict`` of its payload model's fields
(:func:`schemas.payload.checking_type`): it must accept exactly the records the model accepts,
for every payload model we ship, or a record that breaks its contract would load unnoticed (or a
good page would be gone through record by record)."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any, ClassVar

import pytest
from pydantic import Field, TypeAdapter, ValidationError, field_validator

from schemas.payload import Payload, Validator, checking_type

MODULES = ("schemas.zendesk", "schemas.salesforce", "schemas.confluence")

PROBES: list[Any] = [
    None,
    0,
    1,
    -1,
    2**70,
    1.5,
    2.0,
    float("nan"),
    True,
    False,
    "",
    "x",
    "1",
    "1.5",
    "true",
    "2024-03-01T10:00:00Z",
    "2024-03-01",
    "not a date",
    [],
    [1],
    {},
    {"a": 1},
]


def _models() -> list[type[Payload]]:
    found: dict[str, type[Payload]] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Payload) and value is not Payload:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[k] for k in sorted(found)]


def _accepts(check: TypeAdapter[Any] | type[Payload], record: Any) -> bool:
    """Whether ``check`` (an adapter, or a model itself) validates ``record``."""
    try:
        if isinstance(check, TypeAdapter):
            check.validate_python(record)
        else:
            check.model_validate(record)
    except ValidationError:
        return False
    return True


def _valid_record(model: type[Payload]) -> dict[str, Any]:
    """Every field of ``model`` (under its alias) with the first probe its type accepts."""
    record: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        hint = info.annotation
        if isinstance(hint, type) and issubclass(hint, Payload):  # a nested object (a page's version)
            record[info.alias or name] = _valid_record(hint)
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(hint)
        record[info.alias or name] = next(p for p in PROBES if p is not None and _accepts(adapter, p))
    return record


MODELS = _models()


def test_every_shipped_payload_model_is_found_and_gets_the_fast_check() -> None:
    assert len(MODELS) >= 15
    for model in MODELS:
        assert checking_type(model) is not model, model


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_page_check_accepts_exactly_what_the_model_accepts(model: type[Payload]) -> None:
    check: TypeAdapter[Any] = TypeAdapter(checking_type(model))
    base = _valid_record(model)
    assert _accepts(model, base)
    assert _accepts(check, base)
    cases: list[Any] = [base, {**base, "unknown_field": [1, 2]}, {}, [], "x", None]
    for name, info in model.model_fields.items():
        key = info.alias or name
        cases.append({k: v for k, v in base.items() if k != key})  # the field missing
        if info.alias and info.alias != name:
            cases.append({**{k: v for k, v in base.items() if k != key}, name: base[key]})  # by name, not alias
        cases += [{**base, key: probe} for probe in PROBES]
    differ = [c for c in cases if _accepts(model, c) != _accepts(check, c)]
    assert not differ, f"{model.__name__}: the page check and the model disagree on {differ[:3]}"


class _WithValidator(Payload):
    id: int

    @field_validator("id")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value


class _WithConstraintAndAlias(Payload):
    id: int = Field(ge=1)
    created: dt.datetime | None = Field(default=None, alias="createdAt")
    nested_columns: ClassVar[dict[str, str]] = {}


def test_a_model_with_validators_of_its_own_is_checked_by_the_model_itself() -> None:
    assert checking_type(_WithValidator) is _WithValidator
    good = Validator("t", _WithValidator).filter([{"id": 1}, {"id": 0}])
    assert good == [{"id": 1}]


def test_constraints_and_aliases_are_kept_by_the_page_check() -> None:
    validator = Validator("t", _WithConstraintAndAlias)
    records = [{"id": 1, "createdAt": "2024-01-01T00:00:00Z"}, {"id": 0}, {"id": 2, "createdAt": "soon"}]
    assert validator.filter(records) == [records[0]]
    assert [r.record_id for r in validator.rejections] == [0, 2]
    assert "createdAt" in validator.rejections[1].problems
