"""The probes of ``supportlake check`` for Zendesk Support: one request per declared endpoint
(:data:`connectors.zendesk.endpoints.ENDPOINTS`), through the connector's own client.

Each asks for one record: ``per_page=1`` on the incremental exports (cursor and time-based; the
exports are limited to 10 requests a minute, so each is probed once and never paged),
``page[size]=1`` on cursor-paginated lists; SLA policies are one small unpaginated list. What a
refusal means differs by endpoint (Zendesk's documentation, "Allowed for"): the incremental
exports are allowed for admins (a non-admin gets 403 there: dust-tt/dust#8860); SLA policies for
admins, on plans that have SLAs; satisfaction ratings need customer satisfaction (CSAT) turned on;
Talk's calls export answers 404 on an account without Talk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.dates import epoch, parse_start_date
from connectors.check import (
    CHECK_POLICY,
    CHECK_TIMEOUT,
    FEATURE_OFF,
    MISSING_SCOPE,
    NOT_FOUND,
    Plan,
    Probe,
    Remedy,
    first_page,
    is_primary,
    primary_first,
    results_of,
)
from connectors.endpoints import Endpoint
from connectors.http import HttpClient
from connectors.zendesk.endpoints import ENDPOINTS, EXPORT
from connectors.zendesk.source import START_DATE, make_client, resolve_base_url

SOURCE = "zendesk"
ADDRESS = "SOURCES__ZENDESK__BASE_URL / SOURCES__ZENDESK__SUBDOMAIN"
ADMIN = (
    "the API user must be a Zendesk admin (the incremental exports are allowed for admins); "
    "an OAuth token also needs the 'read' scope"
)
REFUSALS: Mapping[str, Remedy] = {
    "tickets": Remedy(MISSING_SCOPE, ADMIN),
    "users": Remedy(MISSING_SCOPE, ADMIN),
    "organizations": Remedy(MISSING_SCOPE, ADMIN),
    "ticket_metric_events": Remedy(MISSING_SCOPE, ADMIN),
    "ticket_comments": Remedy(MISSING_SCOPE, ADMIN),
    "sla_policies": Remedy(
        MISSING_SCOPE, "SLA policies need an admin role (and a plan with SLAs: Professional or above)"
    ),
    "satisfaction_ratings": Remedy(
        FEATURE_OFF,
        "satisfaction ratings need customer satisfaction (CSAT) enabled in Admin Center; listing them "
        "is allowed for admins",
    ),
    "calls": Remedy(FEATURE_OFF, "Talk is not enabled on this account (calls and handle time need Zendesk Talk)"),
}
"""What a 403 on each endpoint means; by default an agent role that may not read it."""
MISSING: Mapping[str, Remedy] = {"calls": REFUSALS["calls"]}
"""What a 404 means where it is not a wrong address (Talk's export is absent without Talk)."""
_NOT_FOUND = Remedy(NOT_FOUND, f"the endpoint does not exist at this address: check {ADDRESS}")
_FORBIDDEN = Remedy(MISSING_SCOPE, "the API user's role may not read this: use an admin")


def plan(settings: Mapping[str, Any]) -> Plan:
    """The probes, from the source's resolved settings (the parameters of ``zendesk_source``)."""
    credentials = settings["credentials"]
    client = make_client(
        credentials,
        resolve_base_url(settings.get("base_url"), settings.get("subdomain")),
        export_rate_limit=int(settings.get("export_rate_limit") or 10),
        rate_window_seconds=float(settings.get("rate_window_seconds") or 60.0),
        policy=CHECK_POLICY,
    )
    client.timeout = CHECK_TIMEOUT
    start = epoch(parse_start_date(settings.get("start_date"), START_DATE))
    probes = tuple(_probe(client, endpoint, start) for endpoint in primary_first(SOURCE, ENDPOINTS))
    # The settings a refused credential names are the ones the sync's own 401 message names.
    return Plan(source=SOURCE, credentials=client.auth_hint, address=ADDRESS, probes=probes)


def _probe(client: HttpClient, endpoint: Endpoint, start: int) -> Probe:
    extra: dict[str, Any] = {}
    if endpoint.rate_group == EXPORT:
        extra["per_page"] = 1
    if endpoint.mode.start_param:
        extra[endpoint.mode.start_param] = start
    params = first_page(endpoint, **extra)

    def request() -> str | None:
        result = client.get_json(endpoint.path, endpoint=endpoint.name, params=params, rate_group=endpoint.rate_group)
        n = len(results_of(result.data, endpoint.data_selector))
        return None if n else "readable; no records yet"

    return Probe(
        source=SOURCE,
        name=endpoint.name,
        request=request,
        refused=REFUSALS.get(endpoint.name, _FORBIDDEN),
        missing=MISSING.get(endpoint.name, _NOT_FOUND),
        primary=is_primary(SOURCE, endpoint.name),
    )
