"""The account's configuration: id ranges, groups, ticket fields, SLA policies, brand and forms.

Shapes follow the Zendesk Support API reference: Groups
(https://developer.zendesk.com/api-reference/ticketing/groups/groups/), Ticket Fields
(.../tickets/ticket_fields/) and SLA Policies (.../business-rules/sla_policies/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulators.world import PRODUCT_AREAS

SUBDOMAIN_URL = "https://supportlake-demo.zendesk.com"
"""Where the records' own ``url`` fields point (pagination links point at the simulator)."""

# Id ranges. Zendesk ids are opaque integers; distinct ranges keep every kind unique.
USER_BASE = 360_000_000_000
ADMIN_OFFSET = 1
AGENT_OFFSET = 1_000
CUSTOMER_OFFSET = 100_000
NEW_USER_OFFSET = 500_000
ORG_BASE = 360_010_000_000
GROUP_BASE = 360_020_000_000
FIELD_BASE = 360_030_000_000
SLA_BASE = 360_040_000_000
BRAND_ID = 360_050_000_001
FORM_BASE = 360_060_000_000
METRIC_SET_BASE = 360_100_000_000
AUDIT_BASE = 1_000_000_000_000
COMMENT_BASE = 2_000_000_000_000
CHILD_BASE = 3_000_000_000_000
METRIC_EVENT_BASE = 4_000_000_000_000
RATING_BASE = 5_000_000_000_000
CALL_BASE = 6_000_000_000_000
SEQ_BITS = 10
"""Up to 1024 audits / metric events per ticket: ids are ``BASE + ticket_id << SEQ_BITS | seq``."""

SUPPORT_LINE = "+18005550100"
ACCOUNT_CREATED = 1_577_836_800  # 2020-01-01T00:00:00Z: when groups, fields and policies were set up

TIER_GROUP_IDS = {1: GROUP_BASE + 1, 2: GROUP_BASE + 2, 3: GROUP_BASE + 3}
DELETED_GROUP_ID = GROUP_BASE + 4
OPS_GROUP_ID = GROUP_BASE + 5

FIELD_PRODUCT_AREA = FIELD_BASE + 101
FIELD_SF_ACCOUNT = FIELD_BASE + 102
FIELD_ONBOARDING = FIELD_BASE + 103
FIELD_ESCALATION = FIELD_BASE + 104
ESCALATION_REASONS = ("bug", "complex_configuration", "data_issue", "outage")

FORM_DEFAULT = FORM_BASE + 1
FORM_TECHNICAL = FORM_BASE + 2


def _group(group_id: int, name: str, description: str, deleted: bool = False) -> dict[str, Any]:
    return {
        "url": f"{SUBDOMAIN_URL}/api/v2/groups/{group_id}.json",
        "id": group_id,
        "is_public": True,
        "name": name,
        "description": description,
        "default": group_id == TIER_GROUP_IDS[1],
        "deleted": deleted,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2023-03-01T09:00:00Z" if deleted else "2020-01-01T00:00:00Z",
    }


GROUPS: tuple[dict[str, Any], ...] = (
    _group(TIER_GROUP_IDS[1], "Tier 1 Support", "Frontline: troubleshooting, access, usage questions, triage"),
    _group(TIER_GROUP_IDS[2], "Tier 2 Support", "Technical: integrations, advanced features, escalations"),
    _group(TIER_GROUP_IDS[3], "Tier 3 Support", "Expert: critical issues, bugs, engineering collaboration"),
    _group(DELETED_GROUP_ID, "Legacy Escalations", "Replaced by Tier 3 Support", deleted=True),
    _group(OPS_GROUP_ID, "Support Operations", "Scheduling, tooling and analytics"),
)


def _field(field_id: int, field_type: str, title: str, **extra: Any) -> dict[str, Any]:
    system = field_id < FIELD_BASE + 100
    record: dict[str, Any] = {
        "url": f"{SUBDOMAIN_URL}/api/v2/ticket_fields/{field_id}.json",
        "id": field_id,
        "type": field_type,
        "title": title,
        "raw_title": title,
        "description": extra.pop("description", ""),
        "raw_description": "",
        "position": field_id - FIELD_BASE,
        "active": True,
        "required": False,
        "collapsed_for_agents": False,
        "regexp_for_validation": None,
        "title_in_portal": title,
        "raw_title_in_portal": title,
        "visible_in_portal": not system or field_type in ("subject", "description"),
        "editable_in_portal": field_type in ("subject", "description"),
        "required_in_portal": False,
        "tag": extra.pop("tag", None),
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "removable": not system,
        "key": None,
        "agent_description": None,
    }
    record.update(extra)
    return record


def _options(values: tuple[str, ...], first_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": first_id + i,
            "name": value.replace("_", " ").title(),
            "raw_name": value.replace("_", " ").title(),
            "value": value,
            "default": False,
        }
        for i, value in enumerate(values)
    ]


TICKET_FIELDS: tuple[dict[str, Any], ...] = (
    _field(FIELD_BASE + 1, "subject", "Subject"),
    _field(FIELD_BASE + 2, "description", "Description"),
    _field(FIELD_BASE + 3, "status", "Status"),
    _field(FIELD_BASE + 4, "tickettype", "Type"),
    _field(FIELD_BASE + 5, "priority", "Priority"),
    _field(FIELD_BASE + 6, "group", "Group"),
    _field(FIELD_BASE + 7, "assignee", "Assignee"),
    _field(
        FIELD_PRODUCT_AREA,
        "tagger",
        "Product Area",
        description="Which part of the product the request is about",
        custom_field_options=_options(PRODUCT_AREAS, FIELD_BASE + 10_000),
    ),
    _field(FIELD_SF_ACCOUNT, "text", "Salesforce Account Id", description="Set by the Salesforce integration"),
    _field(FIELD_ONBOARDING, "checkbox", "Onboarding", description="Customer is still onboarding", tag="onboarding"),
    _field(
        FIELD_ESCALATION,
        "tagger",
        "Escalation Reason",
        custom_field_options=_options(ESCALATION_REASONS, FIELD_BASE + 20_000),
    ),
)

PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Minutes per priority (low, normal, high, urgent)."""

    first_reply: tuple[int, int, int, int]
    next_reply: tuple[int, int, int, int]
    requester_wait: tuple[int, int, int, int]


SEGMENT_TAGS = {
    "Enterprise": "segment_enterprise",
    "Mid-Market": "segment_mid_market",
    "Commercial": "segment_commercial",
}
SLA_TARGETS = {
    "Enterprise": SlaTargets((240, 120, 60, 15), (480, 240, 120, 30), (2880, 1440, 480, 240)),
    "Mid-Market": SlaTargets((480, 240, 120, 30), (960, 480, 240, 60), (4320, 2880, 960, 480)),
    "Commercial": SlaTargets((1440, 480, 240, 60), (1440, 960, 480, 120), (7200, 4320, 1440, 960)),
}
SLA_POLICY_IDS = {"Enterprise": SLA_BASE + 1, "Mid-Market": SLA_BASE + 2, "Commercial": SLA_BASE + 3}


def _policy(segment: str, position: int) -> dict[str, Any]:
    targets = SLA_TARGETS[segment]
    metrics: list[dict[str, Any]] = []
    for name, values in (
        ("first_reply_time", targets.first_reply),
        ("next_reply_time", targets.next_reply),
        ("requester_wait_time", targets.requester_wait),
    ):
        for priority, target in zip(PRIORITIES, values, strict=True):
            metrics.append(
                {
                    "priority": priority,
                    "metric": name,
                    "target": target,
                    "business_hours": False,
                    "target_in_seconds": target * 60,
                }
            )
    policy_id = SLA_POLICY_IDS[segment]
    return {
        "url": f"{SUBDOMAIN_URL}/api/v2/slas/policies/{policy_id}.json",
        "id": policy_id,
        "title": f"{segment} SLA",
        "description": f"Targets for {segment} customers",
        "position": position,
        "filter": {
            "all": [{"field": "current_tags", "operator": "includes", "value": SEGMENT_TAGS[segment]}],
            "any": [],
        },
        "policy_metrics": metrics,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2024-01-15T10:00:00Z",
    }


SLA_POLICIES: tuple[dict[str, Any], ...] = tuple(
    _policy(segment, i + 1) for i, segment in enumerate(("Enterprise", "Mid-Market", "Commercial"))
)
