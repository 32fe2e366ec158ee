"""Zendesk Support payloads: the fields supportlake depends on, per raw table.

Field names and types follow Zendesk's API reference (developer.zendesk.com/api-reference):
Tickets, Ticket Metrics, Users, Organizations, Groups, Ticket Fields, SLA Policies, Satisfaction
Ratings, Ticket Metric Events, Ticket Audits/comment events and Talk's incremental calls export.
Required fields are the ones without which a row is useless (its key and its change time).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from schemas.payload import Payload

_MINUTES = ("calendar", "business")


def _minutes(*names: str) -> dict[str, str]:
    return {f"{n}__{k}": "bigint" for n in names for k in _MINUTES}


class Ticket(Payload):
    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
    status: str
    generated_timestamp: int | None = None
    subject: str | None = None
    priority: str | None = None
    type: str | None = None
    requester_id: int | None = None
    submitter_id: int | None = None
    assignee_id: int | None = None
    organization_id: int | None = None
    group_id: int | None = None
    brand_id: int | None = None
    ticket_form_id: int | None = None
    problem_id: int | None = None
    external_id: str | None = None
    due_at: dt.datetime | None = None
    is_public: bool | None = None

    nested_columns: ClassVar[dict[str, str]] = {
        "via__channel": "text",
        "tags": "json",
        "custom_fields": "json",
        "satisfaction_rating__score": "text",
    }


class TicketMetricSet(Payload):
    id: int
    ticket_id: int
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    reopens: int | None = None
    replies: int | None = None
    group_stations: int | None = None
    assignee_stations: int | None = None
    solved_at: dt.datetime | None = None
    assigned_at: dt.datetime | None = None
    initially_assigned_at: dt.datetime | None = None
    latest_comment_added_at: dt.datetime | None = None
    status_updated_at: dt.datetime | None = None
    requester_updated_at: dt.datetime | None = None
    assignee_updated_at: dt.datetime | None = None

    nested_columns: ClassVar[dict[str, str]] = _minutes(
        "reply_time_in_minutes",
        "first_resolution_time_in_minutes",
        "full_resolution_time_in_minutes",
        "agent_wait_time_in_minutes",
        "requester_wait_time_in_minutes",
        "on_hold_time_in_minutes",
    )


class User(Payload):
    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
    name: str | None = None
    email: str | None = None
    role: str | None = None
    active: bool | None = None
    suspended: bool | None = None
    organization_id: int | None = None
    default_group_id: int | None = None
    external_id: str | None = None
    time_zone: str | None = None


class Organization(Payload):
    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
    name: str | None = None
    external_id: str | None = None
    group_id: int | None = None
    deleted_at: dt.datetime | None = None

    nested_columns: ClassVar[dict[str, str]] = {"domain_names": "json", "tags": "json"}


class Group(Payload):
    id: int
    name: str | None = None
    deleted: bool | None = None
    default: bool | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class TicketField(Payload):
    id: int
    type: str
    title: str | None = None
    active: bool | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    nested_columns: ClassVar[dict[str, str]] = {"custom_field_options": "json"}


class SlaPolicy(Payload):
    id: int
    title: str | None = None
    position: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    nested_columns: ClassVar[dict[str, str]] = {"policy_metrics": "json"}


class SatisfactionRating(Payload):
    id: int
    score: str
    created_at: dt.datetime
    updated_at: dt.datetime | None = None
    ticket_id: int | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    requester_id: int | None = None
    comment: str | None = None


class TicketMetricEvent(Payload):
    id: int
    ticket_id: int
    metric: str
    type: str
    time: dt.datetime
    instance_id: int | None = None
    deleted: bool | None = None
    """Breach events only: true when the breach no longer applies (Zendesk's OpenAPI: "In general, you can
    ignore any breach event when deleted is true")."""

    nested_columns: ClassVar[dict[str, str]] = {
        "sla__target": "bigint",
        "sla__business_hours": "bool",
        "sla__policy__id": "bigint",
        "status__calendar": "bigint",
        "status__business": "bigint",
    }


class TicketComment(Payload):
    """A comment event of the ticket events export, flattened with its audit's context."""

    id: int
    ticket_id: int
    created_at: dt.datetime
    public: bool
    author_id: int | None = None
    body: str | None = None
    audit_id: int | None = None
    via_channel: str | None = None


class Call(Payload):
    id: int
    created_at: dt.datetime
    updated_at: dt.datetime | None = None
    agent_id: int | None = None
    ticket_id: int | None = None
    talk_time: int | None = None
    hold_time: int | None = None
    wrap_up_time: int | None = None
    duration: int | None = None
    wait_time: int | None = None
    time_to_answer: int | None = None
    completion_status: str | None = None
    direction: str | None = None
