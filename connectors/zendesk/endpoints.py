"""The Zendesk Support streams, declared as data.

Each stream uses the cheapest correct incremental strategy Zendesk documents:

- tickets and users: the cursor-based incremental exports (no duplicates at page boundaries,
  1,000 per page); tickets side-load their metric sets (zero extra requests), read whether
  embedded in each ticket (``metric_set``) or in a top-level ``metric_sets`` array;
- ticket metric events: the time-based export (1,000 a page); a second holding a full page,
  which the time form cannot split, is read whole by cursor pagination (100 a page), then the
  time form goes on (:class:`connectors.paginators.ZendeskCrowdedSecondPaginator`);
- organizations and ticket events (comments): the time-based exports, started one second
  before the stored position and de-duplicated by key on merge;
- Talk calls: the Talk incremental export, ended on ``count`` as its docs say;
- satisfaction ratings: ``start_time`` with cursor pagination;
- groups, ticket fields, SLA policies: small lists, read whole each run.

Incremental exports are limited to 10 requests a minute (30 with the High Volume add-on): they
share the ``incremental_export`` rate group, which the client paces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.endpoints import Endpoint, ShowMany, Table
from connectors.paginators import (
    NextPageUrlPaginator,
    ZendeskCrowdedSecondPaginator,
    ZendeskCursorExportPaginator,
    ZendeskLinksPaginator,
    ZendeskTimeExportPaginator,
)
from schemas import zendesk as m

EXPORT = "incremental_export"
EXPORT_PAGE = 1000
# Talk's calls export pages hold 1,000 calls (airbytehq/airbyte#6599 synced only the first
# 1,000); its next_page never goes null, so a page with fewer than 1,000 is the last (zenpy#489).
TALK_PAGE = 1000
# Cursor pagination pages hold at most 100 records.
LINKS_PAGE = 100


def _tickets_and_metrics(data: Any) -> dict[str, list[Any]]:
    """Tickets and their metric sets, from either shape ``include=metric_sets`` is answered in.

    The incremental ticket export embeds each ticket's metric set *in the ticket*, as
    ``metric_set`` (how singer-io/tap-zendesk reads it, ``ticket["metric_set"]``); the side-loading
    convention of list endpoints puts them in a top-level ``metric_sets`` array. Both are read,
    one metric set per ticket (the embedded one wins when a ticket has both). The embedded object
    is taken *out* of the ticket, so it never becomes ``metric_set__…`` ticket columns.
    """
    tickets = list(data.get("tickets") or [])
    metrics: list[Any] = []
    seen: set[Any] = set()
    for t in tickets:
        if not isinstance(t, dict):
            continue
        embedded = t.pop("metric_set", None)
        if isinstance(embedded, dict):
            if embedded.get("ticket_id") is None:
                embedded = {**embedded, "ticket_id": t.get("id")}
            seen.add(embedded["ticket_id"])
            metrics.append(embedded)
    for side_loaded in data.get("metric_sets") or []:
        if isinstance(side_loaded, dict) and side_loaded.get("ticket_id") in seen:
            continue  # already read embedded in its ticket
        metrics.append(side_loaded)
    return {"tickets": tickets, "ticket_metrics": metrics}


def _metric_sets_missing(data: Any, split: Mapping[str, list[Any]]) -> str | None:
    """A page of live tickets without a single metric set in either shape: say so, never silently
    (``zendesk.ticket_metrics`` and every KPI built on it would lose these tickets). Deleted
    tickets are not counted: a page of deleted tickets alone may carry none (tap-zendesk does not
    read metric sets of deleted tickets either)."""
    if split.get("ticket_metrics"):
        return None  # the usual page: nothing to look through
    live = [t for t in split.get("tickets") or [] if isinstance(t, dict) and t.get("status") != "deleted"]
    if live:
        return (
            "include=metric_sets was asked for but a page of tickets carried no metric set (neither "
            "tickets[].metric_set nor a top-level metric_sets array): zendesk.ticket_metrics misses those tickets"
        )
    return None


def _comments(data: Any) -> dict[str, list[Any]]:
    """Comment child events of the ticket events export, each with its audit's context."""
    out: list[dict[str, Any]] = []
    for event in data.get("ticket_events") or []:
        if not isinstance(event, dict):
            continue
        via = event.get("via") or {}
        for child in event.get("child_events") or []:
            if not isinstance(child, dict) or child.get("event_type") != "Comment":
                continue
            out.append(
                {
                    "id": child.get("id"),
                    "ticket_id": event.get("ticket_id"),
                    "audit_id": event.get("id"),
                    "created_at": event.get("created_at"),
                    "author_id": child.get("author_id"),
                    "public": child.get("public"),
                    "body": child.get("body"),
                    "html_body": child.get("html_body"),
                    "type": child.get("type", "Comment"),
                    "via_channel": (child.get("via") or via).get("channel")
                    if isinstance(child.get("via") or via, dict)
                    else None,
                }
            )
    return {"ticket_comments": out}


TICKETS = Table(
    name="tickets", model=m.Ticket, description="Tickets at their latest version; deleted ones with status 'deleted'."
)
TICKET_METRICS = Table(
    name="ticket_metrics", model=m.TicketMetricSet, description="Each ticket's metric set (side-loaded)."
)

# The primary object is ``tickets``: only it fails a run. Every other endpoint is an enrichment
# (``optional=True``): a 401/403/404 there (a missing permission or plan feature) marks its table
# skipped with the reason, in the run log and the summary.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="tickets",
        path="/api/v2/incremental/tickets/cursor.json",
        data_selector="tickets",
        table=TICKETS,
        also=(TICKET_METRICS,),
        split=_tickets_and_metrics,
        page_check=_metric_sets_missing,
        params={"include": "metric_sets", "per_page": EXPORT_PAGE},
        paginator=ZendeskCursorExportPaginator,
        incremental="cursor_export",
        rate_group=EXPORT,
        # Show Multiple Tickets, metric sets side-loaded (tests/contracts/zendesk/README.md)
        show_many=ShowMany("/api/v2/tickets/show_many.json", {"include": "metric_sets"}),
    ),
    Endpoint(
        name="users",
        path="/api/v2/incremental/users/cursor.json",
        data_selector="users",
        table=Table(
            name="users",
            model=m.User,
            description="End users, agents and admins; deleted ones keep their row (active = false).",
        ),
        params={"per_page": EXPORT_PAGE},
        paginator=ZendeskCursorExportPaginator,
        incremental="cursor_export",
        rate_group=EXPORT,
        optional=True,
        # Show Many Users; the export keeps deleted users, and so does the re-read
        show_many=ShowMany("/api/v2/users/show_many.json", {"include_deleted": "true"}),
    ),
    Endpoint(
        name="organizations",
        path="/api/v2/incremental/organizations.json",
        data_selector="organizations",
        table=Table(name="organizations", model=m.Organization),
        paginator=lambda: ZendeskTimeExportPaginator(EXPORT_PAGE, end_of_stream=True),
        incremental="start_time",
        cursor_field="updated_at",
        rate_group=EXPORT,
        optional=True,
        show_many=ShowMany("/api/v2/organizations/show_many.json"),
    ),
    Endpoint(
        name="groups",
        path="/api/v2/groups.json",
        data_selector="groups",
        table=Table(name="groups", model=m.Group),
        paginator=ZendeskLinksPaginator,
        optional=True,
    ),
    Endpoint(
        name="ticket_fields",
        path="/api/v2/ticket_fields.json",
        data_selector="ticket_fields",
        table=Table(name="ticket_fields", model=m.TicketField),
        paginator=ZendeskLinksPaginator,
        optional=True,
    ),
    Endpoint(
        name="sla_policies",
        path="/api/v2/slas/policies.json",
        data_selector="sla_policies",
        table=Table(name="sla_policies", model=m.SlaPolicy),
        paginator=NextPageUrlPaginator,
        optional=True,
    ),
    Endpoint(
        name="satisfaction_ratings",
        path="/api/v2/satisfaction_ratings.json",
        data_selector="satisfaction_ratings",
        table=Table(name="satisfaction_ratings", model=m.SatisfactionRating),
        paginator=ZendeskLinksPaginator,
        incremental="start_time",
        # start_time filters on created_at, and a changed rating is a new record
        # (singer-io/tap-zendesk#37), so the cursor is created_at.
        cursor_field="created_at",
        optional=True,
    ),
    Endpoint(
        name="ticket_metric_events",
        path="/api/v2/incremental/ticket_metric_events.json",
        data_selector="ticket_metric_events",
        table=Table(name="ticket_metric_events", model=m.TicketMetricEvent),
        # The time-based form (1,000 a page) while it makes progress; a second holding a full
        # page is read by cursor pagination (page[size] ≤ 100), which the time form cannot split.
        paginator=lambda: ZendeskCrowdedSecondPaginator("ticket_metric_events", page_size=EXPORT_PAGE),
        incremental="start_time",
        cursor_field="time",
        rate_group=EXPORT,
        optional=True,
    ),
    Endpoint(
        name="ticket_comments",
        path="/api/v2/incremental/ticket_events.json",
        data_selector="ticket_events",
        table=Table(name="ticket_comments", model=m.TicketComment),
        split=_comments,
        params={"include": "comment_events"},
        paginator=lambda: ZendeskTimeExportPaginator(EXPORT_PAGE, end_of_stream=True),
        incremental="start_time",
        rate_group=EXPORT,
        optional=True,
    ),
    Endpoint(
        name="calls",
        path="/api/v2/channels/voice/stats/incremental/calls.json",
        data_selector="calls",
        table=Table(name="calls", model=m.Call),
        paginator=lambda: ZendeskTimeExportPaginator(TALK_PAGE),
        incremental="start_time",
        cursor_field="updated_at",
        rate_group=EXPORT,
        optional=True,
    ),
)

BY_NAME = {e.name: e for e in ENDPOINTS}
TABLE_TO_RESOURCE = {t.name: e.name for e in ENDPOINTS for t in e.tables}
