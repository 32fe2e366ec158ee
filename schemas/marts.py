"""The mart tables (schema ``marts``) Tableau reads: one SQLModel class per table, every column typed
and described (DESIGN 8). Only Tableau-ready types: DATE, TIMESTAMP, DOUBLE, BIGINT, BOOLEAN,
VARCHAR. A contract test builds the models in ``transforms/models/marts/`` and checks each table
against its class; ``docs/data-dictionary.md`` is generated from these descriptions
(``python -m transforms.dictionary``). NULL means "did not happen"; 0 is a true zero.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlmodel import Field, SQLModel

_SLICE = "Slices of the KPIs: "
_SEGMENT = (
    "Account segment (Enterprise, Mid-Market, Commercial by ARR, or by the Account field segments.account_field "
    "when configured; Unassigned without either)."
)
_CHANNEL = "Channel group: phone, email_chat, social, portal, other."
_TIER = "Support tier: Tier 1, Tier 2, Tier 3, or Unassigned."


class DimDate(SQLModel, table=True):
    """One row per day from the first month of any ticket or won opportunity to the end of the latest."""

    __tablename__ = "dim_date"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("date_day",)

    date_day: dt.date = Field(primary_key=True, description="The day.")
    week_start: dt.date = Field(description="Monday of the ISO week.")
    month_start: dt.date = Field(description="First day of the month (joins agg_kpi_monthly.month_start).")
    quarter_start: dt.date = Field(description="First day of the quarter.")
    year_start: dt.date = Field(description="First day of the year.")
    year_number: int = Field(description="Calendar year.")
    quarter_number: int = Field(description="Quarter, 1–4.")
    month_number: int = Field(description="Month, 1–12.")
    day_of_month: int = Field(description="Day of the month, 1–31.")
    iso_day_of_week: int = Field(description="ISO day of week: 1 Monday … 7 Sunday.")
    day_name: str = Field(description="Monday … Sunday.")
    month_name: str = Field(description="January … December.")
    year_month: str = Field(description="'YYYY-MM'.")
    is_weekend: bool = Field(description="Saturday or Sunday.")


class DimAccount(SQLModel, table=True):
    """One row per account (Salesforce Account, or a Zendesk organization matched to none)."""

    __tablename__ = "dim_account"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("account_key",)

    account_key: str = Field(primary_key=True, description="'salesforce:<Account Id>' or 'zendesk:<organization id>'.")
    account_name: str | None = Field(default=None, description="Account (or organization) name.")
    source_system: str = Field(description="'salesforce' or 'zendesk' (an organization matched to no Account).")
    salesforce_account_id: str | None = Field(default=None, description="18-character Salesforce Account Id.")
    zendesk_organization_id: int | None = Field(default=None, description="Zendesk organization id (unmatched ones).")
    account_type: str | None = Field(default=None, description="Salesforce Account Type.")
    industry: str | None = Field(default=None, description="Salesforce Account Industry.")
    zendesk_organization_count: int = Field(description="Zendesk organizations matched to this account.")
    current_arr: float = Field(description="ARR in the latest month (won opportunities of the last 12 months), USD.")
    segment: str = Field(
        description="Enterprise (ARR ≥ segments.enterprise_min_arr, default $5M), Mid-Market (≥ mid_market_min_arr, "
        "default $500K), Commercial (below), Unassigned (never had ARR); a churned account keeps its last segment. "
        "A recognised value of the Account field segments.account_field (e.g. Segment__c) wins over ARR."
    )
    is_active_customer: bool = Field(description="ARR above 0 in the latest month.")
    first_active_month: dt.date | None = Field(default=None, description="First month with ARR; NULL if never.")
    last_churned_month: dt.date | None = Field(default=None, description="Latest month ARR fell to 0; NULL if never.")
    created_at: dt.datetime | None = Field(default=None, description="Record creation time (UTC).")
    is_deleted: bool = Field(description="Deleted in its source system.")
    is_merged: bool = Field(description="Merged away into another Salesforce Account.")


class DimAgent(SQLModel, table=True):
    """One row per agent: Zendesk agents and Salesforce users, matched by lower-cased email."""

    __tablename__ = "dim_agent"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("agent_key",)

    agent_key: str = Field(primary_key=True, description="'zendesk:<user id>' or 'salesforce:<User Id>'.")
    agent_name: str | None = Field(default=None, description="Agent name.")
    email: str | None = Field(default=None, description="Lower-cased email.")
    team: str | None = Field(default=None, description="The agent's default group (Zendesk).")
    support_tier: str = Field(description=_TIER)
    is_zendesk_agent: bool = Field(description="Has a Zendesk agent user.")
    is_salesforce_user: bool = Field(description="Has a Salesforce user.")
    is_matched: bool = Field(description="Found in both systems by email.")
    is_active: bool = Field(description="Active in at least one system.")


class DimArticle(SQLModel, table=True):
    """One row per knowledge article: Confluence pages and blog posts, Salesforce Knowledge, Guide."""

    __tablename__ = "dim_article"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("article_key",)

    article_key: str = Field(
        primary_key=True, description="'confluence:<id>', 'salesforce:<id>' or 'zendesk:<Guide article id>'.",
    )
    source_system: str = Field(description="confluence, salesforce or zendesk (Guide).")
    article_type: str = Field(description="page, blogpost, knowledge or guide.")
    title: str | None = Field(default=None, description="Title.")
    url: str | None = Field(default=None, description="Link to the article.")
    space_or_section: str | None = Field(default=None, description="Confluence space or Guide section.")
    status: str | None = Field(default=None, description="current, draft, archived, trashed... as the source says.")
    version_number: int | None = Field(default=None, description="Version number.")
    created_at: dt.datetime | None = Field(default=None, description="Created (UTC).")
    updated_at: dt.datetime | None = Field(default=None, description="Last modified (UTC).")
    linked_ticket_count: int = Field(description="Tickets that link to it.")
    first_linked_at: dt.datetime | None = Field(default=None, description="First link from a ticket (UTC).")
    last_linked_at: dt.datetime | None = Field(default=None, description="Latest link from a ticket (UTC).")
    is_deleted: bool = Field(description="Deleted or purged in its source.")


class FctTickets(SQLModel, table=True):
    """One row per ticket (Zendesk ticket or Salesforce case), excluded ones flagged with the reason."""

    __tablename__ = "fct_tickets"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("ticket_key",)

    ticket_key: str = Field(primary_key=True, description="'zendesk:<ticket id>' or 'salesforce:<Case Id>'.")
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    source_ticket_id: str = Field(description="The id in its source system.")
    account_key: str | None = Field(default=None, description="The account (dim_account).")
    segment: str = Field(description=_SEGMENT)
    requester_key: str | None = Field(default=None, description="The requester (end user or contact).")
    assignee_agent_key: str | None = Field(default=None, description="The assignee (dim_agent).")
    group_name: str | None = Field(default=None, description="Current group or queue.")
    support_tier: str = Field(description=_TIER)
    highest_tier: str | None = Field(default=None, description="Highest tier the ticket reached.")
    channel_raw: str | None = Field(default=None, description="Zendesk via.channel or Salesforce Origin, as given.")
    channel_group: str = Field(description=_CHANNEL)
    priority: str | None = Field(default=None, description="Priority, lower case.")
    status: str = Field(description="new, open, pending, hold, solved, closed or deleted.")
    created_at: dt.datetime = Field(description="Created (UTC).")
    created_date: dt.date = Field(description="Created date (joins dim_date); first_reply_within_4h_rate counts here.")
    first_solved_at: dt.datetime | None = Field(default=None, description="First time solved (UTC).")
    resolved_at: dt.datetime | None = Field(
        default=None, description="First solve, or the close time of a ticket closed without a solve (UTC)."
    )
    resolved_date: dt.date | None = Field(
        default=None, description="Date of resolved_at: FCR, self-service and KB utilisation count here."
    )
    final_resolved_at: dt.datetime | None = Field(default=None, description="Latest solve, else close (UTC).")
    final_resolved_date: dt.date | None = Field(
        default=None, description="Date of final_resolved_at: resolution-time KPIs count here."
    )
    is_resolved: bool = Field(description="Reached solved or closed.")
    reply_count: int | None = Field(default=None, description="Public agent replies; NULL when unknown.")
    has_agent_activity: bool | None = Field(
        default=None,
        description="Any sign an agent worked the ticket (a reply; Salesforce also the First Response milestone, "
        "accepted AgentWork, an agent-owned phone case).",
    )
    reopen_count: int | None = Field(default=None, description="Times reopened (Zendesk's count); NULL when unknown.")
    escalation_count: int | None = Field(default=None, description="Moves up between support tiers.")
    first_reply_minutes: float | None = Field(
        default=None, description="Minutes to the first public agent reply; NULL if none.",
    )
    first_reply_minutes_business: float | None = Field(default=None, description="The same in business minutes.")
    first_resolution_minutes: float | None = Field(default=None, description="Minutes to the first solve.")
    full_resolution_minutes: float | None = Field(
        default=None, description="Minutes to the final solve (or close without a solve); NULL while unresolved."
    )
    full_resolution_minutes_business: float | None = Field(default=None, description="The same in business minutes.")
    agent_wait_minutes: float | None = Field(default=None, description="Minutes waiting on the agent (new/open).")
    requester_wait_minutes: float | None = Field(
        default=None, description="Minutes waiting on the requester (pending).",
    )
    on_hold_minutes: float | None = Field(default=None, description="Minutes on hold.")
    is_fcr: bool | None = Field(
        default=None,
        description="Resolved at first contact: a Salesforce case closed on creation (IsClosedOnCreate, e.g. a "
        "phone call), else ≤ 1 public reply, never reopened, never escalated between tiers before the first solve. "
        "NULL when unresolved or the replies are unknown.",
    )
    is_one_touch: bool | None = Field(default=None, description="Resolved with exactly one public reply.")
    is_self_service: bool | None = Field(
        default=None, description="Resolved with no sign of agent work (has_agent_activity false)."
    )
    is_resolved_within_target: bool | None = Field(
        default=None, description="full_resolution_minutes within kpis.resolution_within_hours (default 24 h)."
    )
    is_first_reply_within_target: bool | None = Field(
        default=None,
        description="First reply within kpis.first_reply_within_hours (default 4 h); false for an unreplied ticket "
        "older than that; NULL for a younger unreplied one.",
    )
    kb_article_count: int = Field(description="Distinct knowledge articles linked.")
    has_kb_link_before_resolution: bool | None = Field(
        default=None, description="A knowledge article linked on or before resolved_at; NULL while unresolved."
    )
    csat_score: float | None = Field(default=None, description="Latest CSAT score, 1–5; NULL if not rated.")
    is_csat_positive: bool | None = Field(default=None, description="Latest score 4–5 (true) or 1–2 (false).")
    sla_achieved_count: int = Field(description="SLA targets achieved.")
    sla_breached_count: int = Field(description="SLA targets breached.")
    sla_running_count: int = Field(description="SLA targets still running.")
    is_onboarding: bool = Field(description="An onboarding ticket (configured Zendesk tags or Salesforce case types).")
    is_merged: bool = Field(description="Merged away into another ticket.")
    is_deleted: bool = Field(description="Deleted in its source.")
    is_spam: bool = Field(description="Tagged spam.")
    is_excluded: bool = Field(description="Excluded from every KPI: deleted, merged away or spam.")
    exclusion_reason: str | None = Field(default=None, description="deleted, merged or spam; NULL when counted.")


class FctSlaTargets(SQLModel, table=True):
    """One row per SLA target instance (Zendesk metric instance with an SLA, Salesforce milestone)."""

    __tablename__ = "fct_sla_targets"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("sla_target_key",)

    sla_target_key: str = Field(primary_key=True, description="As core.sla_targets.")
    ticket_key: str = Field(description="The ticket (fct_tickets).")
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    metric: str | None = Field(default=None, description="The measured metric or milestone type.")
    policy_id: str | None = Field(default=None, description="SLA policy or milestone type id.")
    target_minutes: int | None = Field(default=None, description="The target, in minutes.")
    is_business_hours: bool | None = Field(default=None, description="Counts business hours.")
    applied_at: dt.datetime | None = Field(default=None, description="Applied / started (UTC).")
    fulfilled_at: dt.datetime | None = Field(default=None, description="Fulfilled (UTC).")
    breached_at: dt.datetime | None = Field(default=None, description="Breached (UTC).")
    completed_at: dt.datetime | None = Field(
        default=None, description="Breach time if breached, else fulfilment time; NULL while running."
    )
    completed_date: dt.date | None = Field(
        default=None, description="Date of completed_at: SLA compliance counts here.",
    )
    status: str = Field(description="achieved, breached or running.")
    is_achieved: bool = Field(description="status = achieved.")
    is_breached: bool = Field(description="status = breached.")
    segment: str = Field(description=_SEGMENT)
    channel_group: str = Field(description=_CHANNEL)
    support_tier: str = Field(description=_TIER)
    is_excluded: bool = Field(description="Its ticket is excluded (deleted, merged, spam) or unknown.")


class FctSurveyResponses(SQLModel, table=True):
    """One row per survey offer or response; slices as they were when the customer rated."""

    __tablename__ = "fct_survey_responses"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("survey_key",)

    survey_key: str = Field(primary_key=True, description="'zendesk:<rating id>' or 'salesforce:<Case Id>:csat'.")
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    ticket_key: str | None = Field(default=None, description="The rated ticket.")
    requester_key: str | None = Field(default=None, description="Who rated.")
    assignee_agent_key: str | None = Field(default=None, description="The agent when rated.")
    group_key: str | None = Field(default=None, description="The group when rated.")
    support_tier: str = Field(description="Tier of the group when rated, else the ticket's; " + _TIER)
    segment: str = Field(description=_SEGMENT)
    channel_group: str = Field(description=_CHANNEL)
    score_raw: str | None = Field(default=None, description="Score as given (good, bad, offered, 1–5...).")
    score: float | None = Field(
        default=None, description="Score normalised to 1–5 (good 5, bad 1); NULL if unanswered.",
    )
    is_response: bool = Field(description="The customer answered.")
    is_positive: bool | None = Field(default=None, description="Score 4–5 (true) or 1–2 (false); NULL for 3 or none.")
    is_neutral: bool = Field(description="Score 3.")
    is_offered: bool | None = Field(
        default=None, description="A survey went out (Zendesk); NULL when unknown (Salesforce Case field)."
    )
    offered_at: dt.datetime | None = Field(default=None, description="Survey sent (UTC).")
    responded_at: dt.datetime | None = Field(default=None, description="Answered (UTC).")
    responded_date: dt.date | None = Field(default=None, description="Date answered: CSAT counts here.")
    is_latest_for_ticket: bool = Field(description="The ticket's latest response: the one CSAT counts.")
    is_excluded: bool = Field(description="Its ticket is excluded (deleted, merged, spam).")


class FctContacts(SQLModel, table=True):
    """One row per contact: Zendesk Talk call or Salesforce Omni-Channel work item."""

    __tablename__ = "fct_contacts"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("contact_key",)

    contact_key: str = Field(primary_key=True, description="'zendesk:<call id>' or 'salesforce:<AgentWork Id>'.")
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    contact_type: str = Field(description="call or work_item.")
    channel_group: str = Field(description=_CHANNEL)
    ticket_key: str | None = Field(default=None, description="The ticket, when known.")
    agent_key: str | None = Field(default=None, description="The agent; NULL when nobody answered.")
    segment: str = Field(description=_SEGMENT)
    direction: str | None = Field(default=None, description="inbound or outbound.")
    status: str | None = Field(default=None, description="Completion status, as given.")
    started_at: dt.datetime | None = Field(default=None, description="Start (UTC).")
    ended_at: dt.datetime | None = Field(default=None, description="Start + handle time (UTC).")
    ended_date: dt.date | None = Field(default=None, description="Date of ended_at: handle time counts here.")
    talk_seconds: int | None = Field(default=None, description="Talk seconds.")
    hold_seconds: int | None = Field(default=None, description="Hold seconds.")
    wrap_up_seconds: int | None = Field(default=None, description="Wrap-up seconds.")
    handle_seconds: int | None = Field(default=None, description="Talk + hold + wrap-up, or HandleTime.")
    handle_minutes: float | None = Field(default=None, description="Handle minutes of a handled contact; else NULL.")
    is_handled: bool = Field(description="Answered by an agent; abandoned/unanswered ones are false.")
    is_ticket_excluded: bool = Field(
        description="Its ticket is deleted, merged away or spam: excluded from handle time (false without a ticket)."
    )
    ticket_exclusion_reason: str | None = Field(
        default=None, description="deleted, merged or spam when is_ticket_excluded; else NULL."
    )


class FctArticleUsage(SQLModel, table=True):
    """One row per link between a ticket and a knowledge article."""

    __tablename__ = "fct_article_usage"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("link_key",)

    link_key: str = Field(primary_key=True, description="As core.ticket_article_links.")
    ticket_key: str = Field(description="The ticket.")
    article_key: str = Field(description="The article (dim_article).")
    article_source_system: str | None = Field(default=None, description="The article's system.")
    article_title: str | None = Field(default=None, description="The article's title.")
    link_source: str = Field(description="confluence_url, guide_url or salesforce_case_article.")
    is_public: bool | None = Field(default=None, description="Linked in a public comment.")
    linked_at: dt.datetime = Field(description="Linked (UTC).")
    linked_date: dt.date = Field(description="Date linked.")
    segment: str = Field(description=_SEGMENT)
    channel_group: str = Field(description=_CHANNEL)
    support_tier: str = Field(description=_TIER)
    is_before_resolution: bool = Field(description="Linked on or before the ticket's resolution.")
    is_article_deleted: bool = Field(description="The article is deleted.")
    is_ticket_excluded: bool = Field(description="The ticket is excluded (deleted, merged, spam).")


class FctAccountMonthly(SQLModel, table=True):
    """One row per account × month from its first won opportunity: ARR and its movements."""

    __tablename__ = "fct_account_monthly"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("account_key", "month_start")

    account_key: str = Field(primary_key=True, description="The account (dim_account).")
    month_start: dt.date = Field(primary_key=True, description="The month.")
    arr: float = Field(description="ARR at the month's end: won opportunity amounts closed in the last 12 months, USD.")
    arr_previous: float = Field(description="ARR at the previous month's end.")
    revenue_recognized: float = Field(description="Revenue recognised in the month: arr / 12.")
    new_arr: float = Field(description="ARR of an account that had none the month before.")
    expansion_arr: float = Field(description="ARR increase of an account active in both months.")
    contraction_arr: float = Field(description="ARR decrease of an account still active.")
    churned_arr: float = Field(description="ARR lost by an account that became inactive.")
    is_active: bool = Field(description="ARR above 0.")
    is_new: bool = Field(description="Active for the first time.")
    is_reactivated: bool = Field(description="Active again after a churn.")
    is_churned: bool = Field(description="Became inactive this month.")
    segment: str = Field(
        description="Segment by this month's ARR (the previous month's for a churned account), or by the Account "
        "field segments.account_field when configured and recognised."
    )


class AggKpiMonthly(SQLModel, table=True):
    """Every KPI per month and slice, long format; value = numerator / denominator."""

    __tablename__ = "agg_kpi_monthly"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("month_start", "kpi_name", "segment", "channel_group", "support_tier")

    month_start: dt.date = Field(
        primary_key=True, description="The month the rows count toward (kpi_definitions.date_counted).",
    )
    kpi_name: str = Field(primary_key=True, description="The KPI (kpi_definitions).")
    segment: str = Field(primary_key=True, description=_SLICE + _SEGMENT + " 'all': every segment.")
    channel_group: str = Field(primary_key=True, description=_SLICE + _CHANNEL + " 'all': every channel.")
    support_tier: str = Field(primary_key=True, description=_SLICE + _TIER + " 'all': every tier.")
    numerator: float = Field(description="The KPI's numerator (kpi_definitions.numerator_description).")
    denominator: float = Field(description="The KPI's denominator; never 0 (no row instead).")
    value: float = Field(
        description="numerator / denominator. Re-aggregate as kpi_definitions.aggregation says: "
        "SUM(numerator) / SUM(denominator) for ratio_of_sums."
    )
    target: float | None = Field(default=None, description="The configured target; NULL when none.")
    is_target_met: bool | None = Field(
        default=None, description="value meets the target (≥ for higher_is_better, ≤ for lower_is_better)."
    )


class KpiDefinitions(SQLModel, table=True):
    """One row per KPI: its definition, target and data availability."""

    __tablename__ = "kpi_definitions"
    __table_args__ = {"schema": "marts"}
    __grain__: ClassVar[tuple[str, ...]] = ("kpi_name",)

    kpi_name: str = Field(primary_key=True, description="The KPI's name in agg_kpi_monthly.")
    caption: str = Field(description="Human caption.")
    definition: str = Field(description="The definition, as in KPIS.md.")
    numerator_description: str = Field(description="What the numerator counts.")
    denominator_description: str = Field(description="What the denominator counts.")
    unit: str = Field(description="ratio (show as %), score_5pt, nps_points, minutes, hours, days or usd.")
    direction: str = Field(description="higher_is_better or lower_is_better.")
    target: float | None = Field(default=None, description="The configured target (kpis.targets); NULL when none.")
    target_source: str = Field(description="Where the default target comes from.")
    grain: str = Field(description="What one counted item is.")
    date_counted: str = Field(description="The date that places an item in a month.")
    dimensions: str = Field(description="The slice columns the KPI is broken down by.")
    aggregation: str = Field(description="ratio_of_sums, sum_of_numerator or not_additive: how to combine rows.")
    row_count: int = Field(description="Rows in agg_kpi_monthly.")
    first_month: dt.date | None = Field(default=None, description="First month with a row.")
    last_month: dt.date | None = Field(default=None, description="Latest month with a row.")
    availability: str = Field(description="'available', or 'no data: needs …' saying which input is missing.")
    definition_version: str = Field(description="Version of the definitions.")


MART_TABLES: tuple[type[SQLModel], ...] = (
    DimDate,
    DimAccount,
    DimAgent,
    DimArticle,
    FctTickets,
    FctSlaTargets,
    FctSurveyResponses,
    FctContacts,
    FctArticleUsage,
    FctAccountMonthly,
    AggKpiMonthly,
    KpiDefinitions,
)
"""Every mart table's class, in the order of the data dictionary."""
