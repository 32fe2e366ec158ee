"""The base of every payload model: validation of the fields we depend on, and column types.

A payload model lists only the fields supportlake relies on. Validation ignores the others (they
are still loaded as the API sent them), so a vendor adding a field never breaks a sync, and a
record that breaks the contract is rejected by name and field while the rest of its page loads.
The same annotations give the warehouse column types (:func:`column_types`).
"""

from __future__ import annotations

import logging
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, ClassVar, NotRequired, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from common.coltypes import PAYLOAD_KINDS

log = logging.getLogger("supportlake.schemas")


class Payload(BaseModel):
    """Base class: extra fields allowed and ignored by validation."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # Columns that flattening of nested objects produces (``via__channel``), with their types.
    nested_columns: ClassVar[dict[str, str]] = {}


def column_types(model: type[Payload]) -> dict[str, str]:
    """Warehouse column types of a payload model: scalars from annotations, plus nested ones."""
    out: dict[str, str] = {}
    for name, hint in get_type_hints(model).items():
        if name.startswith("_") or get_origin(hint) is ClassVar:
            continue
        base = hint
        if get_origin(hint) in (Union, types.UnionType):
            args = [a for a in get_args(hint) if a is not type(None)]
            base = args[0] if len(args) == 1 else None
        kind = PAYLOAD_KINDS.get(base)
        if kind is not None:
            out[name] = kind
    out.update(model.nested_columns)
    return out


@dataclass
class Rejection:
    table: str
    record_id: Any
    problems: str
    payload: Any = None
    """The record as the API sent it (kept for the quarantine table, redacted there)."""


@cache
def _list_adapter(model: type[Payload]) -> TypeAdapter[list[Any]]:
    """Validates a page of ``model``'s records in one call. Where the model is plain fields
    (no validators of its own: every payload model today), the check is a ``TypedDict`` of the
    same fields, types, aliases, constraints and required keys: it accepts exactly the records the
    model accepts (``tests/unit/test_payload_check.py`` holds them side by side) and builds dicts
    instead of model instances, which measured 1.7x faster on a page of 1,000 Zendesk tickets.
    The records are not taken from the result either way: validation only says yes or no."""
    return TypeAdapter(list[checking_type(model)])  # type: ignore[arg-type,misc]


def checking_type(model: type[Payload]) -> Any:
    """``model``, or a ``TypedDict`` that accepts exactly what it accepts (see :func:`_list_adapter`)."""
    decorators = model.__pydantic_decorators__
    own = (
        decorators.validators,
        decorators.field_validators,
        decorators.root_validators,
        decorators.model_validators,
        decorators.computed_fields,
    )
    if any(own) or set(model.model_config) - {"extra", "frozen"}:
        return model
    keys: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        hint: Any = info.annotation
        alias = info.alias if info.alias not in (None, name) else None
        if alias is not None or info.metadata:
            hint = Annotated[(hint, *info.metadata, *([Field(alias=alias)] if alias else []))]
        keys[name] = hint if info.is_required() else NotRequired[hint]
    checker = TypedDict(f"{model.__name__}Check", keys)  # type: ignore[misc]
    checker.__pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[attr-defined]
    return checker


@dataclass
class Validator:
    """Validates records against a payload model, collecting rejections instead of failing."""

    table: str
    model: type[Payload]
    key: str = "id"
    rejections: list[Rejection] = field(default_factory=list)

    def filter(self, records: Iterable[Any]) -> list[Mapping[str, Any]]:
        records = records if isinstance(records, list) else list(records)
        try:
            # The usual page, every record good: one call validates the list (the same schema
            # per item); only a page with a bad record is gone through record by record.
            _list_adapter(self.model).validate_python(records)
            return list(records)
        except ValidationError:
            pass
        good: list[Mapping[str, Any]] = []
        validate = self.model.model_validate
        for record in records:
            if not isinstance(record, Mapping):
                self._reject(None, f"not an object: {type(record).__name__}", record)
                continue
            try:
                validate(record)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
                self._reject(record.get(self.key), problems, record)
                continue
            good.append(record)
        return good

    def reject(self, record: Mapping[str, Any], problems: str) -> None:
        """Reject a record that validated but could not be loaded (a value its column cannot hold)."""
        self._reject(record.get(self.key), problems, record)

    def _reject(self, record_id: Any, problems: str, payload: Any = None) -> None:
        self.rejections.append(Rejection(self.table, record_id, problems, payload))
        log.warning("%s: record %s=%r rejected, not loaded: %s", self.table, self.key, record_id, problems)
