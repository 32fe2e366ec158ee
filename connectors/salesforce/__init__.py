"""Salesforce Service Cloud: a dlt source (:func:`salesforce_source`) and its objects (:mod:`.objects`);
:data:`SOURCE` is its registry record (:mod:`connectors.registry`)."""

from collections.abc import Mapping
from typing import Any

from connectors.registry import Columns, DemoSimulator, SourceSpec
from connectors.salesforce.objects import OBJECTS, TABLES
from connectors.salesforce.source import configured_tables, salesforce_source

EXTRA_COLUMNS: Mapping[str, Mapping[str, str]] = {
    # Standard fields the core models read that the payload models do not validate: Case and
    # Account carry ``MasterRecordId`` (set on the record merged away) in every org with merge.
    "case": {"master_record_id": "text"},
    "account": {"master_record_id": "text"},
    # CaseHistory's OldValue/NewValue are ``anyType`` (loaded as text): the owner and status changes
    # that core.tickets reads for escalations and reopens.
    "case_history": {"old_value": "text", "new_value": "text"},
    # A ``date`` field: schemas.payload.column_types maps datetimes only, so the stand-in declares it
    # as a timestamp; models read it as ``close_date::DATE``, right for both.
    "opportunity": {"close_date": "timestamp"},
}
"""Columns declared for the transforms' stand-ins besides those of ``schemas/salesforce.py``."""


def _columns() -> Columns:
    from connectors.salesforce.objects import DELETED_RECORDS, column_name
    from schemas.payload import column_types
    from schemas.salesforce import DeletedRecord

    out: dict[str, dict[str, str]] = {}
    for obj in OBJECTS:
        cols = {column_name(c): k for c, k in column_types(obj.model).items()}
        cols.update(EXTRA_COLUMNS.get(obj.table, {}))
        out[obj.table] = cols
    out[DELETED_RECORDS] = {column_name(c): k for c, k in column_types(DeletedRecord).items()}
    return out


def _demo_settings(sim: Any, url: str) -> dict[str, str]:
    return {
        "SOURCES__SALESFORCE__BASE_URL": url,
        "SOURCES__SALESFORCE__CREDENTIALS__CLIENT_ID": sim.client_id,
        "SOURCES__SALESFORCE__CREDENTIALS__CLIENT_SECRET": sim.client_secret,
        "SOURCES__SALESFORCE__CREDENTIALS__USERNAME": sim.username,
        "SOURCES__SALESFORCE__CREDENTIALS__PASSWORD": sim.password,
        "SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN": sim.security_token,
        "SOURCES__SALESFORCE__BULK_POLL_SECONDS": "0.2",
    }


SOURCE = SourceSpec(
    name="salesforce",
    title="Salesforce",
    ticket_noun="cases",
    source=salesforce_source,
    tables=configured_tables,
    columns=_columns,
    primary="Case",
    config_keys=("sources.salesforce.credentials.client_id",),
    credential_sets=(
        "CLIENT_ID + CLIENT_SECRET + USERNAME + PASSWORD (+ SECURITY_TOKEN)",
        "CLIENT_ID + USERNAME + PRIVATE_KEY (JWT bearer)",
        "CLIENT_ID + CLIENT_SECRET + REFRESH_TOKEN",
        "CLIENT_ID + CLIENT_SECRET (client credentials)",
    ),
    check="connectors.salesforce.check:plan",
    deletions="connectors.salesforce.deletions:DELETIONS",
    simulator=DemoSimulator(
        factory="simulators.salesforce:SalesforceSimulator",
        options=lambda seed, tickets: {"seed": seed, "n_cases": max(100, tickets // 2)},
        settings=_demo_settings,
    ),
    order=20,
)

__all__ = ["OBJECTS", "SOURCE", "TABLES", "configured_tables", "salesforce_source"]
