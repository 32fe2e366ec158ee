"""The shapes of the org's schema: :class:`FieldSpec` and :class:`ObjectSpec` (with their
``describe`` and describeGlobal entries) and :func:`F`, the short way to declare a field.

Field types are the REST API's describe types (``id``, ``string``, ``boolean``, ``int``,
``double``, ``currency``, ``percent``, ``date``, ``datetime``, ``time``, ``picklist``,
``reference``, ``textarea``, ``email``, ``phone``, ``url``, ``address``, ``location``,
``anyType``). Compound fields (``BillingAddress``, ``HQ_Location__c``) are listed with their
components, each component naming its parent in ``compoundFieldName``, as describe does.
The objects themselves are declared in :mod:`simulators.salesforce.schema`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DATETIME_TYPES = frozenset({"datetime"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
STRING_TYPES = frozenset({"string", "textarea", "picklist", "email", "phone", "url", "combobox", "multipicklist"})
ID_TYPES = frozenset({"id", "reference"})
COMPOUND_TYPES = frozenset({"address", "location"})

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "address": "urn:address",
    "location": "urn:location",
    "anyType": "xsd:anyType",
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    label: str
    custom: bool
    nillable: bool
    length: int
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    compound: str | None = None
    """``compoundFieldName``: the compound field this field is a component of."""
    name_field: bool = False
    auto_number: bool = False
    unique: bool = False
    external_id: bool = False
    updateable: bool = True

    @property
    def filterable(self) -> bool:
        if self.type in COMPOUND_TYPES or self.type == "anyType":
            return False
        return not (self.type == "textarea" and self.length > 255)

    @property
    def sortable(self) -> bool:
        return self.filterable

    def describe(self) -> dict[str, Any]:
        precision, scale, digits = 0, 0, 0
        if self.type in ("double", "currency", "percent"):
            precision, scale = 18, 2
        if self.type == "int":
            digits = 9
        system = self.name in (
            "Id",
            "IsDeleted",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
        )
        return {
            "aggregatable": self.filterable and self.type not in ("boolean",),
            "autoNumber": self.auto_number,
            "byteLength": self.length * 3 if self.type in STRING_TYPES or self.type in ID_TYPES else 0,
            "calculated": False,
            "caseSensitive": False,
            "compoundFieldName": self.compound,
            "createable": not system and not self.auto_number and self.type not in COMPOUND_TYPES,
            "custom": self.custom,
            "defaultValue": False if self.type == "boolean" else None,
            "defaultedOnCreate": self.type == "boolean" or system or self.auto_number,
            "digits": digits,
            "externalId": self.external_id,
            "extraTypeInfo": _extra_type_info(self),
            "filterable": self.filterable,
            "groupable": self.filterable and self.type not in ("double", "currency", "percent", "datetime"),
            "idLookup": self.type == "id" or self.unique or self.external_id,
            "label": self.label,
            "length": self.length,
            "name": self.name,
            "nameField": self.name_field,
            "nillable": self.nillable,
            "permissionable": self.nillable and not system,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v} for v in self.picklist
            ],
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "precision": precision,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": False,
            "scale": scale,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.sortable,
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable and not system and not self.auto_number and self.type not in COMPOUND_TYPES,
        }


def _extra_type_info(f: FieldSpec) -> str | None:
    if f.type == "textarea":
        return "richtextarea" if f.name.startswith("Body") else "plaintextarea"
    if f.type == "reference" and f.name in ("OwnerId", "CreatedById", "LastModifiedById"):
        return "personname" if f.reference_to == ("User",) else None
    return None


_DEFAULT_LENGTH = {
    "id": 18,
    "reference": 18,
    "string": 255,
    "textarea": 255,
    "picklist": 255,
    "email": 80,
    "phone": 40,
    "url": 255,
    "anyType": 255,
}


def _label(name: str) -> str:
    base = re.sub(r"__[csr]$", "", name)
    base = base.replace("__Latitude__s", " (Latitude)").replace("__Longitude__s", " (Longitude)")
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", base.replace("_", " "))
    return " ".join(words.split())


def F(
    name: str,
    type_: str,
    label: str | None = None,
    *,
    nillable: bool = True,
    length: int | None = None,
    ref: tuple[str, ...] = (),
    rel: str | None = None,
    picklist: tuple[str, ...] = (),
    compound: str | None = None,
    name_field: bool = False,
    auto_number: bool = False,
    unique: bool = False,
    external_id: bool = False,
    updateable: bool = True,
) -> FieldSpec:
    custom = name.endswith(("__c", "__s"))
    if type_ == "reference" and rel is None:
        rel = name[:-3] + "__r" if name.endswith("__c") else (name[:-2] if name.endswith("Id") else None)
    return FieldSpec(
        name=name,
        type=type_,
        label=label or _label(name),
        custom=custom,
        nillable=nillable,
        length=length if length is not None else _DEFAULT_LENGTH.get(type_, 0),
        reference_to=ref,
        relationship_name=rel,
        picklist=picklist,
        compound=compound,
        name_field=name_field,
        auto_number=auto_number,
        unique=unique,
        external_id=external_id,
        updateable=updateable,
    )


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[FieldSpec, ...]
    custom: bool = False
    deletable: bool = True
    replicateable: bool = True
    """describe's ``replicateable``: the object supports getUpdated()/getDeleted() (``/deleted``)."""
    by_name: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)
    by_lower: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "by_lower", {f.name.lower(): f for f in self.fields})

    def has(self, field_name: str) -> bool:
        return field_name in self.by_name

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def components(self, compound: str) -> list[FieldSpec]:
        return [f for f in self.fields if f.compound == compound]

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/{version}/sobjects/{self.name}"
        return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}

    def global_entry(self, version: str) -> dict[str, Any]:
        """The object's entry in describeGlobal's ``sobjects`` list."""
        return {
            "activateable": False,
            "createable": True,
            "custom": self.custom,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": self.deletable,
            "deprecatedAndHidden": False,
            "feedEnabled": self.name in ("Account", "Case", "Contact", "Opportunity"),
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": True,
            "mergeable": self.name in ("Account", "Contact", "Case"),
            "mruEnabled": True,
            "name": self.name,
            "queryable": True,
            "replicateable": self.replicateable,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": self.deletable,
            "updateable": True,
            "urls": self.urls(version),
        }

    def describe(self, version: str, children: list[dict[str, Any]]) -> dict[str, Any]:
        out = self.global_entry(version)
        out.update(
            {
                "actionOverrides": [],
                "childRelationships": children,
                "compactLayoutable": True,
                "fields": [f.describe() for f in self.fields],
                "listviewable": None,
                "lookupLayoutable": None,
                "namedLayoutInfos": [],
                "networkScopeFieldName": None,
                "recordTypeInfos": [],
                "searchLayoutable": True,
                "supportedScopes": [{"label": "All " + self.label_plural.lower(), "name": "everything"}],
                "urls": {
                    **self.urls(version),
                    "compactLayouts": f"/services/data/{version}/sobjects/{self.name}/describe/compactLayouts",
                },
            }
        )
        return out
