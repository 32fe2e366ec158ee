"""The probes of ``supportlake check`` for Salesforce, through the connector's own login and client.

In the order a sync needs them: the OAuth login (the token and its ``instance_url``); ``/limits``
(the org's daily API allocation); describe global (which objects the integration user can see);
for each configured object (:mod:`connectors.salesforce.objects`, ``OBJECTS`` / ``EXTRA_OBJECTS``
applied) its ``describe`` and ``SELECT Id FROM <object> LIMIT 1`` through ``queryAll``; Case's
deleted-records log (``/sobjects/Case/deleted`` over the last day); and the Bulk API 2.0 job list
(``GET /jobs/query``: no job is created).

An object the integration user may not read is absent from describe global, or answered with
``INVALID_TYPE`` ("sObject type 'X' is not supported", simple-salesforce/simple-salesforce#287) /
``NOT_FOUND`` / ``INSUFFICIENT_ACCESS``; the API does not tell a missing permission from a feature
the org lacks, so each object's remedy names both. ``/limits`` is "available for API users with the
View Setup and Configuration permission" (REST API Developer Guide, Limits resource).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from connectors.check import (
    CHECK_POLICY,
    CHECK_TIMEOUT,
    MISSING_SCOPE,
    NOT_FOUND,
    Plan,
    Probe,
    Remedy,
    Unavailable,
    is_primary,
    primary_first,
)
from connectors.salesforce.context import SalesforceContext, make_context
from connectors.salesforce.describe import describe_global, describe_object
from connectors.salesforce.objects import SObject
from connectors.salesforce.query import Api, get_deleted

SOURCE = "salesforce"
ADDRESS = "SOURCES__SALESFORCE__BASE_URL (the login host: production, sandbox or My Domain)"
ENTITLEMENTS = "Entitlement Management enabled (Setup → Entitlement Settings)"
KNOWLEDGE = "Lightning Knowledge enabled and a Knowledge User license"
ACCESS: Mapping[str, str] = {
    "Case": "the integration user needs Read on Cases (profile or permission set) and 'API Enabled'",
    "CaseComment": "the integration user needs Read on Cases",
    "CaseHistory": "the integration user needs Read on Cases (and field history tracking on Case)",
    "CaseMilestone": f"the integration user needs Read on Cases, with {ENTITLEMENTS}",
    "MilestoneType": f"the integration user needs read access to MilestoneType, with {ENTITLEMENTS}",
    "CaseArticle": f"the integration user needs Read on Knowledge, with {KNOWLEDGE}",
    "Knowledge__kav": f"the integration user needs Read on Knowledge, with {KNOWLEDGE}",
    "AgentWork": "the integration user needs read access to AgentWork (Omni-Channel)",
}
"""What gives the integration user each object; others: read access to the object."""
LOGIN = Remedy(MISSING_SCOPE, "the connected app or the user may not log in through the API")
API = "the connected app's OAuth scopes must include 'api' and the integration user needs 'API Enabled'"
LIMITS = Remedy(MISSING_SCOPE, f"{API} (and 'View Setup and Configuration' for /limits)")
DESCRIBE = Remedy(MISSING_SCOPE, API)
BULK = Remedy(
    MISSING_SCOPE,
    "the integration user needs 'API Enabled' for Bulk API 2.0 (without it large backfills read through REST)",
)


def access(obj: SObject) -> str:
    return ACCESS.get(obj.name, f"the integration user needs read access to {obj.name} (profile or permission set)")


def plan(settings: Mapping[str, Any]) -> Plan:
    """The probes, from the source's resolved settings (the parameters of ``salesforce_source``)."""
    credentials = settings["credentials"]
    ctx = make_context(
        credentials,
        settings.get("base_url"),
        api_version=str(settings.get("api_version") or "v62.0"),
        objects=settings.get("objects"),
        extra_objects=settings.get("extra_objects"),
        policy=CHECK_POLICY,
    )
    ctx.auth.login.timeout = CHECK_TIMEOUT
    probes = Probes(ctx)
    objects = primary_first(SOURCE, ctx.objects)
    listed: list[Probe] = [
        probes.make("login", probes.login, LOGIN),
        probes.make("limits", probes.limits, LIMITS),
        probes.make("describe", probes.describe, DESCRIBE),
        *(probes.object(o) for o in objects),
    ]
    case = next((o for o in objects if o.name == "Case" and o.deleted), None)
    if case is not None:
        remedy = Remedy(MISSING_SCOPE, access(case))
        listed.append(probes.make("Case deleted", probes.deleted(case), remedy))
    listed.append(probes.make("Bulk API 2.0", probes.bulk, BULK))
    return Plan(
        source=SOURCE,
        credentials=f"{credentials.settings()} (and {ADDRESS})",
        address=ADDRESS,
        probes=tuple(listed),
    )


class Probes:
    """The requests, sharing the login and describe global of one check."""

    def __init__(self, ctx: SalesforceContext) -> None:
        self.ctx = ctx
        self.catalog: dict[str, Mapping[str, Any]] | None = None

    def api(self) -> Api:
        api = self.ctx.api()
        api.client.timeout = CHECK_TIMEOUT
        return api

    def make(self, name: str, request: Callable[[], str | None], remedy: Remedy) -> Probe:
        return Probe(source=SOURCE, name=name, request=request, refused=remedy, missing=remedy)

    def login(self) -> str | None:
        self.api()
        return f"{self.ctx.auth.credentials.flow()} login; token issued"

    def limits(self) -> str | None:
        api = self.api()
        data = api.client.get_json(api.path("limits"), endpoint="limits").data
        daily = data.get("DailyApiRequests") if isinstance(data, Mapping) else None
        if isinstance(daily, Mapping) and daily.get("Max") is not None:
            return f"{int(daily.get('Remaining') or 0):,} of {int(daily['Max']):,} daily API requests left"
        return None

    def describe(self) -> str | None:
        self.catalog = describe_global(self.api())
        return f"{len(self.catalog)} objects visible to the integration user"

    def object(self, obj: SObject) -> Probe:
        fix = access(obj)
        custom = obj.name.endswith("__c")
        missing = Remedy(NOT_FOUND, f"no such object: check SOURCES__SALESFORCE__OBJECTS / EXTRA_OBJECTS ({fix})")

        def request() -> str | None:
            api = self.api()
            name = obj.name
            if self.catalog is not None:
                summary = self.catalog.get(obj.name.lower())
                if summary is None:
                    raise Unavailable(f"{obj.name} is not in describe global", missing=True)
                if summary.get("queryable") is False:
                    raise Unavailable(f"{obj.name} is not queryable", missing=False)
                name = str(summary.get("name") or name)
            schema = describe_object(api, obj, name, obj.table)
            result = api.client.get_json(
                api.path("queryAll"),
                endpoint=obj.table,
                params={"q": f"SELECT Id FROM {schema.name} LIMIT 1"},  # noqa: S608 - SOQL; the name is describe's
            )
            total = result.data.get("totalSize") if isinstance(result.data, Mapping) else None
            note = f"{len(schema.fields)} fields"
            return note if total else f"{note}; no records yet"

        return Probe(
            source=SOURCE,
            name=obj.name,
            request=request,
            refused=Remedy(MISSING_SCOPE, fix),
            missing=missing if custom else Remedy(MISSING_SCOPE, fix),
            primary=is_primary(SOURCE, obj.name),
        )

    def deleted(self, obj: SObject) -> Callable[[], str | None]:
        def request() -> str | None:
            api = self.api()
            end = self.ctx.now().replace(second=0, microsecond=0)
            data = get_deleted(api, "deleted_records", obj.name, end - dt.timedelta(days=1), end)
            return f"{len(data.get('deletedRecords') or [])} purged in the last day"

        return request

    def bulk(self) -> str | None:
        api = self.api()
        api.client.get_json(api.path("jobs", "query"), endpoint="bulk")
        return "query jobs can be listed"
