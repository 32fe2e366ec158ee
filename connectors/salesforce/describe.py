"""``describe``: which objects the org has, and each object's fields with their warehouse types.

``GET /services/data/vXX.X/sobjects`` (describe global) lists the objects the integration user can
see; ``GET /sobjects/{object}/describe`` lists the fields that user may read, custom ``__c`` fields
included. Every field becomes a column, typed from its Salesforce type:

============================================================  ===========================
Salesforce field ``type``                                      warehouse (Arrow / dlt)
============================================================  ===========================
``boolean``                                                    BOOLEAN
``int``, ``long``                                              BIGINT
``double``, ``currency``, ``percent``                          DOUBLE
``datetime``                                                   TIMESTAMP WITH TIME ZONE (UTC)
``date``                                                       DATE
``id``, ``reference``, ``string``, ``picklist``, ``textarea``,
``time``, ``anyType`` and every other type                     TEXT
============================================================  ===========================

Two kinds of field are left out of the SELECT list: compound fields (``address``, ``location``),
whose components (``BillingStreet``, ``BillingCity``, ...; ``Location__Latitude__s``, ...) are
fields of their own, and which Bulk API 2.0 cannot query at all; and ``base64`` fields (file
bodies), which REST returns as a link to the blob and Bulk does not serve.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from common.coltypes import arrow_type, dlt_type
from common.errors import FatalAPIError
from connectors.salesforce.objects import SObject, column_name
from connectors.salesforce.query import Api

log = logging.getLogger("supportlake.salesforce.describe")

KINDS: dict[str, str] = {
    "boolean": "bool",
    "int": "bigint",
    "long": "bigint",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "datetime": "timestamp",
    "date": "date",
}
"""Salesforce field type → warehouse kind; anything else is ``text``."""

EXCLUDED_TYPES: dict[str, str] = {
    "address": "compound field: its components are columns of their own",
    "location": "compound field: its latitude and longitude are columns of their own",
    "base64": "binary content (file body), not loaded",
}


@dataclass(frozen=True)
class Field:
    """One queried field: its API name, Salesforce type, warehouse kind and column name."""

    name: str
    type: str
    kind: str
    column: str


@dataclass(frozen=True)
class ObjectSchema:
    """What ``describe`` says about one object, reduced to what the sync needs."""

    name: str
    fields: tuple[Field, ...]
    cursor_field: str | None
    replicateable: bool = True
    excluded: Mapping[str, str] = field(default_factory=dict)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def kinds(self) -> dict[str, str]:
        """Field name → kind (``text``, ``bigint``, ``double``, ``bool``, ``timestamp``, ``date``)."""
        return {f.name: f.kind for f in self.fields}

    def arrow_types(self) -> dict[str, pa.DataType]:
        return {f.name: arrow_type(f.kind) for f in self.fields}

    def columns(self) -> dict[str, str]:
        """Field name → column name (dlt's snake_case)."""
        return {f.name: f.column for f in self.fields}

    def dlt_columns(self) -> dict[str, dict[str, Any]]:
        """Column hints, so every column exists with its type even while all its values are null."""
        return {f.column: {"data_type": dlt_type(f.kind), "nullable": f.name != "Id"} for f in self.fields}


def describe_global(api: Api) -> dict[str, Mapping[str, Any]]:
    """Lower-cased object name → its describe-global summary (``name``, ``queryable``, ...)."""
    result = api.client.get_json(api.path("sobjects"), endpoint="describe")
    sobjects = result.data.get("sobjects") if isinstance(result.data, Mapping) else None
    if not isinstance(sobjects, list):
        raise FatalAPIError("describe global has no 'sobjects' list", endpoint=f"{api.client.name}.describe")
    return {str(s["name"]).lower(): s for s in sobjects if isinstance(s, Mapping) and s.get("name")}


def describe_object(api: Api, obj: SObject, name: str, endpoint: str) -> ObjectSchema:
    """``GET /sobjects/{name}/describe`` → the fields to query and the cursor to use.

    Raises :class:`~common.errors.NotAvailableError` (403/404, ``INVALID_TYPE``) when the
    object is missing or not readable.
    """
    result = api.client.get_json(api.path("sobjects", name, "describe"), endpoint=endpoint)
    return schema_from_describe(obj, result.data)


def schema_from_describe(obj: SObject, data: Any) -> ObjectSchema:
    if not isinstance(data, Mapping) or not isinstance(data.get("fields"), list):
        raise FatalAPIError(f"describe of {obj.name} has no 'fields' list", endpoint=f"salesforce.{obj.table}")
    name = str(data.get("name") or obj.name)
    fields: list[Field] = []
    excluded: dict[str, str] = {}
    taken: dict[str, str] = {}
    for raw in data["fields"]:
        if not isinstance(raw, Mapping) or not raw.get("name"):
            continue
        fname, ftype = str(raw["name"]), str(raw.get("type") or "string")
        if ftype in EXCLUDED_TYPES:
            excluded[fname] = EXCLUDED_TYPES[ftype]
            continue
        column = column_name(fname)
        if column in taken:
            # Two API names that dlt's naming folds into one column (e.g. ``A__c`` and ``A_c``).
            n = 2
            while f"{column}_{n}" in taken:
                n += 1
            alternative = f"{column}_{n}"
            log.warning(
                "%s.%s: column %r is taken by %s; loading it as %r", name, fname, column, taken[column], alternative
            )
            column = alternative
        taken[column] = fname
        fields.append(Field(fname, ftype, KINDS.get(ftype, "text"), column))
    names = {f.name for f in fields}
    if "Id" not in names:
        raise FatalAPIError(f"describe of {name} has no Id field", endpoint=f"salesforce.{obj.table}")
    cursor = next((c for c in obj.cursor_fields if c in names), None)
    # Id first and the cursor second: the order the SELECT list, the CSV and the tables follow.
    first = [f for f in fields if f.name == "Id"] + [f for f in fields if f.name == cursor and cursor != "Id"]
    rest = [f for f in fields if f.name not in ("Id", cursor)]
    if excluded:
        log.info("%s: not selected: %s", name, ", ".join(f"{k} ({v})" for k, v in sorted(excluded.items())))
    return ObjectSchema(
        name=name,
        fields=tuple(first + rest),
        cursor_field=cursor,
        replicateable=bool(data.get("replicateable", True)),
        excluded=excluded,
    )
