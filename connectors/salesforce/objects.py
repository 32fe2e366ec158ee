"""The Salesforce objects supportlake syncs, declared as data: one frozen record per object.

Each object becomes one dlt resource and one raw table in the ``salesforce`` dataset, named by
dlt's snake_case naming convention (``CaseComment`` → ``case_comment``, ``Knowledge__kav`` →
``knowledge_kav``: dlt folds the double underscore of custom suffixes into one). Columns are every
field ``describe`` returns (custom ``__c`` fields included), the primary key is ``Id`` (column
``id``), and rows are merged on it.

The cursor is the first field of ``cursor_fields`` that the object's ``describe`` has:
``SystemModstamp`` (changes on every write, automation included; ``LastModifiedDate`` misses
system updates), then ``LastModifiedDate``, then ``CreatedDate`` for insert-only objects such as
``CaseHistory``. An object with none of them is read whole on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from schemas import salesforce as m
from schemas.payload import Payload

DEFAULT_CURSOR_FIELDS = ("SystemModstamp", "LastModifiedDate", "CreatedDate")
HISTORY_CURSOR_FIELDS = ("CreatedDate",)

DELETED_RECORDS = "deleted_records"
"""The resource and table of records purged from Salesforce (``/sobjects/{object}/deleted``)."""


@dataclass(frozen=True, kw_only=True)
class SObject:
    """One Salesforce object to sync."""

    name: str
    """API name, exactly as Salesforce spells it (``Case``, ``Knowledge__kav``, ``Tier__c``)."""
    table: str
    """The raw table (and the dlt resource) name."""
    model: type[Payload] = m.SObjectRecord
    """The payload model that validates each record (fields the transforms depend on)."""
    cursor_fields: tuple[str, ...] = DEFAULT_CURSOR_FIELDS
    """Change-tracking fields in order of preference; the first one ``describe`` has is used."""
    bulk: bool = True
    """Whether Bulk API 2.0 may serve large deltas; if not, REST reads everything."""
    deleted: bool = True
    """Whether to ask ``/sobjects/{name}/deleted`` for purged records (needs ``replicateable``)."""
    primary: bool = False
    """A primary object must be readable: when the org or the integration user refuses it
    (missing, not queryable, 401/403/404, ``INSUFFICIENT_ACCESS``, ``INVALID_TYPE``,
    ``NOT_FOUND``) the run fails. Every other object is an optional enrichment: refused, its table
    is marked ``skipped`` with the reason and the run goes on. Only ``Case`` is primary."""
    notes: str = ""


def table_name(object_name: str) -> str:
    """The table dlt's default (snake_case) naming convention gives an object name."""
    return str(_naming().normalize_table_identifier(object_name))


def column_name(field_name: str) -> str:
    """The column dlt's snake_case naming convention gives a field (``SystemModstamp`` →
    ``system_modstamp``, ``Tier__c`` → ``tier_c``)."""
    return str(_naming().normalize_identifier(field_name))


@cache
def _naming():  # type: ignore[no-untyped-def]
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    return NamingConvention()


def _obj(name: str, model: type[Payload], **kw: object) -> SObject:
    return SObject(name=name, table=table_name(name), model=model, **kw)  # type: ignore[arg-type]


OBJECTS: tuple[SObject, ...] = (
    _obj("Case", m.Case, primary=True, notes="Support cases; soft-deleted ones arrive with IsDeleted = true."),
    _obj("CaseComment", m.CaseComment, notes="Public and internal comments on cases."),
    _obj(
        "CaseHistory",
        m.CaseHistory,
        cursor_fields=HISTORY_CURSOR_FIELDS,
        notes="Field history of cases: insert-only, no SystemModstamp, so CreatedDate is the cursor.",
    ),
    _obj("CaseMilestone", m.CaseMilestone, notes="Entitlement milestones (SLA targets, completion, violation)."),
    _obj("CaseArticle", m.CaseArticle, notes="Links between cases and knowledge articles."),
    _obj("Account", m.Account),
    _obj("Contact", m.Contact),
    _obj("User", m.User, deleted=False, notes="Users are deactivated, never deleted."),
    _obj("Group", m.Group, notes="Queues and public groups; case owners may be queues."),
    _obj("Opportunity", m.Opportunity, notes="New Business, Renewal and Expansion opportunities."),
    _obj(
        "Knowledge__kav",
        m.KnowledgeArticleVersion,
        bulk=False,
        notes="Lightning Knowledge article versions. Bulk query support for knowledge objects varies "
        "by org, and knowledge bases are small: read through REST.",
    ),
    _obj("AgentWork", m.AgentWork, notes="Omni-Channel work items: handle and active time."),
    _obj("BusinessHours", m.BusinessHours, deleted=False, notes="Never deleted, only deactivated."),
    _obj(
        "MilestoneType",
        m.MilestoneType,
        bulk=False,
        deleted=False,
        notes="Entitlement milestone names ('First Response', ...) that CaseMilestone.MilestoneTypeId "
        "points at. A setup object: a handful of rows, no IsDeleted, and the Object Reference lists "
        "no getDeleted()/getUpdated() for it (not replicateable), so no deleted-records log; read "
        "through REST.",
    ),
)

BY_NAME: dict[str, SObject] = {o.name: o for o in OBJECTS}

PRIMARY: tuple[str, ...] = tuple(o.name for o in OBJECTS if o.primary)
"""The objects whose refusal fails a run (``("Case",)``); every other object is optional."""


def parse_names(value: str | Iterable[str] | None) -> list[str]:
    """Object names from configuration: a list, a JSON list (``["Tier__c"]``) or ``A,B``."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if isinstance(loaded, list):
                return [str(v).strip() for v in loaded if str(v).strip()]
        return [part.strip() for part in text.split(",") if part.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def resolve(
    objects: str | Sequence[str] | None = None, extra_objects: str | Sequence[str] | None = None
) -> tuple[SObject, ...]:
    """The objects to sync: ``objects`` (default: :data:`OBJECTS`) plus ``extra_objects``.

    Names are matched case-insensitively against the declared objects; any other name (a custom
    ``__c`` object, another standard object) gets the generic declaration: ``Id`` required, the
    default cursor order, Bulk allowed.
    """
    names = parse_names(objects) or [o.name for o in OBJECTS]
    names += parse_names(extra_objects)
    known = {o.name.lower(): o for o in OBJECTS}
    out: dict[str, SObject] = {}
    for name in names:
        obj = known.get(name.lower()) or SObject(name=name, table=table_name(name))
        if obj.table == DELETED_RECORDS:
            raise ValueError(f"object {name!r} would collide with the {DELETED_RECORDS} table")
        previous = out.get(obj.table)
        if previous is not None and previous.name != obj.name:
            raise ValueError(f"objects {previous.name!r} and {obj.name!r} would both load table {obj.table!r}")
        out[obj.table] = obj
    return tuple(out.values())


def table_map(objects: Sequence[SObject]) -> dict[str, tuple[str, ...]]:
    """Resource name → the tables it fills (one per object, plus ``deleted_records``)."""
    tables: dict[str, tuple[str, ...]] = {o.table: (o.table,) for o in objects}
    tables[DELETED_RECORDS] = (DELETED_RECORDS,)
    return tables


TABLES: dict[str, tuple[str, ...]] = table_map(OBJECTS)
"""Resource → tables for the default objects; :func:`connectors.salesforce.source.configured_tables`
adds ``SOURCES__SALESFORCE__OBJECTS`` / ``EXTRA_OBJECTS``."""
