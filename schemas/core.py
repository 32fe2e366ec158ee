"""The core tables (schema ``core``): one SQLModel class per table, every column typed and described.

The classes are the contract of the SQL models in ``transforms/models/core/``: a contract test
builds the models and checks each table's columns and types against its class. ``__grain__``
names the column(s) that identify a row (unique, never NULL). Python types map to warehouse types
as in :data:`SQL_TYPE_NAMES`. Keys carry their origin (``zendesk:123``, ``salesforce:500…``).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlmodel import Field, SQLModel

from common.coltypes import ENGINES, TABLE_KINDS, info_names

SQL_TYPE_NAMES: dict[type, dict[str, str]] = {
    py: {engine: info_names(engine)[kind] for engine in ENGINES} for py, kind in TABLE_KINDS.items()
}
"""Python annotation → ``information_schema.columns.data_type`` on each engine (lower case)."""

_MINUTES = "NULL when it did not happen (never 0 for 'did not happen')."


class Ticket(SQLModel, table=True):
    """A Zendesk ticket or a Salesforce case: one row per ticket, deleted and merged ones flagged."""

    __tablename__ = "tickets"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("ticket_key",)

    ticket_key: str = Field(primary_key=True, description="'zendesk:<ticket id>' or 'salesforce:<Case Id>'.")
    source_system: str = Field(description="Where the ticket lives: 'zendesk' or 'salesforce'.")
    source_ticket_id: str = Field(description="The ticket's id in its own system (Zendesk id, Salesforce Case Id).")
    account_key: str | None = Field(
        default=None,
        description="The account (core.accounts): Salesforce the case's Account; Zendesk the Account the "
        "configured ticket field names (when it is a live Account), else the account of the ticket's "
        "organization (core.account_identity). NULL when the ticket has none.",
    )
    requester_key: str | None = Field(
        default=None, description="'zendesk:<requester user id>' or 'salesforce:<Contact Id>'."
    )
    assignee_agent_key: str | None = Field(
        default=None,
        description="'zendesk:<assignee id>' or 'salesforce:<owner User Id>' (NULL when a queue owns the case).",
    )
    group_key: str | None = Field(
        default=None, description="'zendesk:<group id>' or 'salesforce:<queue Id>' when a queue owns the case."
    )
    group_name: str | None = Field(default=None, description="Name of the Zendesk group or Salesforce queue.")
    support_tier: str | None = Field(
        default=None,
        description="'Tier 1', 'Tier 2' or 'Tier 3'. Zendesk: from the group's name ('Tier 2', 'Tier2', 'T2', "
        "'L2', 'Level 2'). Salesforce: the configured Case field ([tiers] salesforce_case_field: 'Tier 2', '2', "
        "'T2', 'L2' become 'Tier 2'), else the owning queue's name. NULL when neither names a tier.",
    )
    escalation_count: int | None = Field(
        default=None,
        description="Moves up between support tiers (0 when none). Salesforce: CaseHistory owner changes into a "
        "queue whose tier is above that of the queue owning the case before; NULL when the case has no history "
        "at all (unknowable). Zendesk (no group history): every group move, group_stations - 1 (a move to a group "
        "of the same or a lower tier counts too); NULL without a metric set.",
    )
    highest_tier: str | None = Field(
        default=None,
        description="Highest support tier the ticket reached ('Tier 1'..'Tier 3'). Salesforce: the highest of the "
        "queues in its owner history, its owning queue and support_tier. Zendesk: the current group's tier, an "
        "approximation (Zendesk keeps no group history: a ticket escalated and sent back down shows its current "
        "tier). NULL when no tier is known.",
    )
    is_escalated_before_first_solve: bool | None = Field(
        default=None,
        description="Escalated at least once before first_solved_at (or at all, while never solved). Zendesk: "
        "escalation_count > 0, every move taken as before the first solve. NULL when escalation_count is NULL.",
    )
    channel_raw: str | None = Field(
        default=None, description="Zendesk via.channel or Salesforce Origin, as the source wrote it."
    )
    channel_group: str = Field(description="phone, email_chat, social, portal or other (KPIS.md channel groups).")
    priority: str | None = Field(default=None, description="Priority, lower-cased (low, normal, high, urgent, ...).")
    status: str = Field(description="Normalised status: new, open, pending, hold, solved, closed or deleted.")
    status_raw: str | None = Field(default=None, description="The status as the source wrote it.")
    created_at: dt.datetime = Field(description="When the ticket was created (UTC).")
    updated_at: dt.datetime | None = Field(default=None, description="Last change of the ticket (UTC).")
    first_solved_at: dt.datetime | None = Field(
        default=None,
        description="First time the ticket was solved (UTC): Zendesk created_at + first resolution minutes; "
        "Salesforce the first CaseHistory Status change into a closed status, else ClosedDate (a reopened case "
        "keeps it). NULL if never solved.",
    )
    solved_at: dt.datetime | None = Field(
        default=None, description="Latest solve (UTC), while the ticket is solved or closed; NULL otherwise."
    )
    closed_at: dt.datetime | None = Field(
        default=None, description="When the ticket was closed (UTC); NULL if not closed."
    )
    resolved_at: dt.datetime | None = Field(
        default=None,
        description="When the ticket first counted as resolved: first_solved_at, or closed_at for a ticket "
        "closed without ever being solved. NULL if never resolved.",
    )
    reply_count: int | None = Field(
        default=None,
        description="Public agent replies, 0 when none. Zendesk: its own count (ticket_metrics.replies). "
        "Salesforce: published CaseComments (not deleted) by internal users (a User Id '005...', not the case's "
        "contact, not a portal user).",
    )
    has_agent_activity: bool | None = Field(
        default=None,
        description="Any sign an agent worked the ticket. Zendesk: a public agent reply. Salesforce: a published "
        "agent comment, a completed 'First Response' milestone, accepted Omni-Channel AgentWork, or a phone case "
        "(Origin Phone) owned by a user rather than a queue. False: self-service if resolved.",
    )
    reopen_count: int | None = Field(
        default=None,
        description="Times reopened (0 when never). Zendesk: its own count. Salesforce: CaseHistory Status changes "
        "from a closed status (Closed, Solved, Resolved, Closed..., or any status closed cases have) to an open "
        "one; NULL when the case has no history at all (unknowable, not 0).",
    )
    first_reply_minutes_calendar: float | None = Field(
        default=None,
        description="Minutes to the first public agent reply, calendar (Salesforce: to the CompletionDate of the "
        "case's completed, non-deleted 'First Response' milestone (name matched case-insensitively) when it has "
        f"one, else to the first reply counted in reply_count). {_MINUTES}",
    )
    first_reply_minutes_business: float | None = Field(
        default=None,
        description=f"Minutes to the first public agent reply, business hours. {_MINUTES} Salesforce: the "
        "calendar span's overlap with the case's BusinessHours (else the default), weekly hours in its time "
        "zone; holidays are not synced.",
    )
    first_resolution_minutes_calendar: float | None = Field(
        default=None, description=f"Minutes from creation to the first solve, calendar. {_MINUTES}"
    )
    first_resolution_minutes_business: float | None = Field(
        default=None,
        description=f"Minutes from creation to the first solve, business hours. {_MINUTES} Salesforce: from "
        "the case's BusinessHours, as first_reply_minutes_business.",
    )
    full_resolution_minutes_calendar: float | None = Field(
        default=None, description=f"Minutes from creation to the latest solve, calendar. {_MINUTES}"
    )
    full_resolution_minutes_business: float | None = Field(
        default=None,
        description=f"Minutes from creation to the latest solve, business hours. {_MINUTES} Salesforce: to "
        "ClosedDate, from the case's BusinessHours, as first_reply_minutes_business.",
    )
    agent_wait_minutes_calendar: float | None = Field(
        default=None, description="Minutes the ticket waited on the agent (new/open), calendar (Zendesk)."
    )
    agent_wait_minutes_business: float | None = Field(
        default=None, description="Minutes the ticket waited on the agent (new/open), business hours (Zendesk)."
    )
    requester_wait_minutes_calendar: float | None = Field(
        default=None, description="Minutes the requester waited (new/open/on-hold), calendar (Zendesk)."
    )
    requester_wait_minutes_business: float | None = Field(
        default=None, description="Minutes the requester waited (new/open/on-hold), business hours (Zendesk)."
    )
    on_hold_minutes_calendar: float | None = Field(default=None, description="Minutes on hold, calendar (Zendesk).")
    on_hold_minutes_business: float | None = Field(
        default=None, description="Minutes on hold, business hours (Zendesk)."
    )
    is_merged: bool = Field(
        description="Merged away into another ticket (Zendesk tag closed_by_merge; Salesforce MasterRecordId set)."
    )
    is_deleted: bool = Field(
        description="Deleted in the source: Zendesk status deleted; Salesforce IsDeleted, or purged (the Case Id "
        "is in salesforce.deleted_records while its row still shows IsDeleted = false)."
    )
    is_resolved: bool = Field(
        description="Reached solved or closed at least once (a ticket closed without a solve counts, at its close)."
    )


class Agent(SQLModel, table=True):
    """A support agent: a Zendesk agent or admin and/or a Salesforce user, matched by lower-cased email."""

    __tablename__ = "agents"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("agent_key",)

    agent_key: str = Field(
        primary_key=True,
        description="'zendesk:<user id>' when the agent is in Zendesk, else 'salesforce:<User Id>'.",
    )
    zendesk_user_id: int | None = Field(default=None, description="The Zendesk user id (role agent or admin).")
    salesforce_user_id: str | None = Field(
        default=None, description="The Salesforce User Id with the same lower-cased email (Standard users only)."
    )
    name: str | None = Field(default=None, description="Display name (Zendesk's, else Salesforce's).")
    email: str | None = Field(default=None, description="Lower-cased, trimmed email: the matching key.")
    is_active: bool = Field(description="Active in at least one of the systems.")
    group_name: str | None = Field(default=None, description="The agent's default Zendesk group.")
    support_tier: str | None = Field(
        default=None,
        description="'Tier 1', 'Tier 2' or 'Tier 3' from the default group's name ('Tier 2', 'Tier2', 'T2', 'L2', "
        "'Level 2'); NULL otherwise.",
    )
    is_matched: bool = Field(description="Found in both Zendesk and Salesforce.")


class AccountIdentity(SQLModel, table=True):
    """How each Salesforce Account and Zendesk organization became an account (one row per source record)."""

    __tablename__ = "account_identity"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("identity_key",)

    identity_key: str = Field(
        primary_key=True, description="The source record: 'salesforce:<Account Id>' or 'zendesk:<organization id>'."
    )
    source_system: str = Field(description="'salesforce' or 'zendesk'.")
    source_id: str = Field(description="The record's id in its system (Account Id, organization id as text).")
    source_name: str | None = Field(default=None, description="The record's name in its system.")
    account_key: str = Field(
        description="The account it belongs to (core.accounts): 'salesforce:<Account Id>' when a Zendesk "
        "organization matched an Account, else 'zendesk:<organization id>'."
    )
    match_method: str = Field(
        description="In order of precedence: salesforce_account (the Account itself); override (a row of "
        "inputs.input_account_overrides names the Account) or override_unmatched (the override's Account Id is "
        "empty: never match; or names no Account Salesforce has); external_id (organization.external_id holds the "
        "Account Id) or organization_field (the configured organization field holds it), 15-character ids "
        "normalised to 18; conflicting_ids (those two name different Accounts: left unmatched); email_domain (a "
        "domain of exactly one Account and one organization); normalized_name; or unmatched. Deleted and "
        "merged Accounts are matched only by an override."
    )
    match_value: str | None = Field(
        default=None,
        description="What matched: the 18-character Account Id, the domain or the normalised name; for "
        "conflicting_ids both ids ('external_id=…; organization_field=…'); for override_unmatched the override's "
        "Account Id, if it gave one.",
    )


class Account(SQLModel, table=True):
    """A customer account: a Salesforce Account with its matched Zendesk organizations, or a Zendesk
    organization that matched no Account."""

    __tablename__ = "accounts"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("account_key",)

    account_key: str = Field(
        primary_key=True, description="'salesforce:<Account Id>', or 'zendesk:<organization id>' when unmatched."
    )
    source_system: str = Field(description="Where the account's record lives: 'salesforce' or 'zendesk'.")
    salesforce_account_id: str | None = Field(default=None, description="The 18-character Salesforce Account Id.")
    zendesk_organization_id: int | None = Field(
        default=None, description="The Zendesk organization, for an account only Zendesk knows (see account_identity)."
    )
    name: str | None = Field(default=None, description="Account name (Salesforce's, else the organization's).")
    account_type: str | None = Field(default=None, description="Salesforce Account Type (Customer, Partner, ...).")
    industry: str | None = Field(default=None, description="Salesforce Account Industry.")
    website: str | None = Field(default=None, description="Salesforce Account Website.")
    zendesk_organization_count: int = Field(description="Zendesk organizations belonging to this account (0 if none).")
    created_at: dt.datetime | None = Field(default=None, description="When the record was created (UTC).")
    is_deleted: bool = Field(
        description="Deleted in its source system: a Salesforce Account soft-deleted (IsDeleted) or purged (its Id "
        "in salesforce.deleted_records); a Zendesk organization with deleted_at."
    )
    is_merged: bool = Field(description="A Salesforce Account merged into another (MasterRecordId set).")


class TicketComment(SQLModel, table=True):
    """A comment on a Zendesk ticket or a Salesforce case, without its body."""

    __tablename__ = "ticket_comments"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("comment_key",)

    comment_key: str = Field(primary_key=True, description="'zendesk:<comment id>' or 'salesforce:<CaseComment Id>'.")
    ticket_key: str = Field(description="The ticket (core.tickets) the comment is on.")
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    author_key: str | None = Field(
        default=None, description="'zendesk:<author user id>' or 'salesforce:<CreatedById>'; NULL when unknown."
    )
    author_agent_key: str | None = Field(
        default=None, description="The author as an agent (core.agents); NULL when the author is no agent."
    )
    author_role: str = Field(
        description="agent, requester (the ticket's requester), end_user (another known user) or unknown."
    )
    is_public: bool | None = Field(
        default=None, description="Visible to the requester (Zendesk public; Salesforce IsPublished)."
    )
    created_at: dt.datetime = Field(description="When the comment was written (UTC).")


class Article(SQLModel, table=True):
    """A knowledge article: a Confluence page or blog post, a Salesforce knowledge article, or a Zendesk
    Guide article known from URLs in comments."""

    __tablename__ = "articles"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("article_key",)

    article_key: str = Field(
        primary_key=True,
        description="'confluence:<content id>', 'salesforce:<KnowledgeArticleId>' or 'zendesk:<Guide article id>'.",
    )
    source_system: str = Field(description="'confluence', 'salesforce' or 'zendesk' (Guide).")
    article_type: str = Field(description="page, blogpost, knowledge or guide.")
    source_article_id: str = Field(description="The article's id in its system.")
    title: str | None = Field(default=None, description="Title (NULL for Guide articles known only by URL).")
    url: str | None = Field(default=None, description="Web link (Confluence web_url; the Guide URL as linked).")
    space_or_section: str | None = Field(default=None, description="Confluence space key.")
    status: str | None = Field(
        default=None, description="Confluence status (current, archived, trashed, ...) or Salesforce PublishStatus."
    )
    version_number: int | None = Field(default=None, description="Latest version number.")
    created_at: dt.datetime | None = Field(default=None, description="When the article was created (UTC).")
    updated_at: dt.datetime | None = Field(
        default=None, description="Latest version (Confluence) or last publication (Salesforce), UTC."
    )
    is_deleted: bool = Field(
        description="Gone from its source: a Confluence page or blog post trashed, deleted or purged (listed in "
        "confluence.deleted_content); a Salesforce knowledge article soft-deleted or purged (its version's or "
        "article's Id in salesforce.deleted_records)."
    )


class TicketArticleLink(SQLModel, table=True):
    """A knowledge article linked from a ticket: a URL in a comment or a Salesforce CaseArticle."""

    __tablename__ = "ticket_article_links"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("link_key",)

    link_key: str = Field(
        primary_key=True,
        description="'<comment_key>|<article_key>' for a URL in a comment; 'salesforce:<CaseArticle Id>'.",
    )
    ticket_key: str = Field(description="The ticket (core.tickets).")
    article_key: str = Field(description="The article (core.articles).")
    link_source: str = Field(description="confluence_url, guide_url (in a comment) or salesforce_case_article.")
    comment_key: str | None = Field(default=None, description="The comment holding the URL; NULL for CaseArticle.")
    is_public: bool | None = Field(
        default=None, description="The comment was public; for a CaseArticle, it was shared by email."
    )
    linked_at: dt.datetime = Field(description="When the link was made: the comment's or the CaseArticle's time (UTC).")


class SurveyResponse(SQLModel, table=True):
    """A satisfaction survey on a ticket: Zendesk satisfaction ratings (answered or not) and the Salesforce
    Case field of [salesforce] csat_field (answers only)."""

    __tablename__ = "survey_responses"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("survey_key",)

    survey_key: str = Field(
        primary_key=True, description="'zendesk:<satisfaction rating id>' or 'salesforce:<Case Id>:csat'."
    )
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    ticket_key: str | None = Field(default=None, description="The rated ticket (core.tickets).")
    requester_key: str | None = Field(
        default=None, description="'zendesk:<requester user id>' or 'salesforce:<Contact Id>'."
    )
    assignee_agent_key: str | None = Field(
        default=None,
        description="The assignee the rating names: the agent when the customer rated (Salesforce: the case's "
        "owner when a user owns it).",
    )
    group_key: str | None = Field(default=None, description="The group the rating names, when the customer rated.")
    score_raw: str | None = Field(
        default=None, description="Zendesk's score, lower-cased (offered, good, bad, ...), or the Case field's value."
    )
    score: float | None = Field(
        default=None,
        description="Score on 1-5 (legacy good = 5, bad = 1; a Case field's number rescaled linearly from "
        "csat_scale_min..csat_scale_max); NULL when not answered or out of scale.",
    )
    is_response: bool = Field(description="The customer answered (the score is not offered/unoffered).")
    is_positive: bool | None = Field(default=None, description="Score 4 or 5; NULL when not answered.")
    is_offered: bool | None = Field(
        default=None,
        description="A survey went out (Zendesk: every rating but 'unoffered'); NULL when unknown (a Salesforce "
        "Case field records answers only).",
    )
    offered_at: dt.datetime | None = Field(default=None, description="When the survey was created/offered (UTC).")
    responded_at: dt.datetime | None = Field(
        default=None,
        description="When the customer answered (UTC; Zendesk: the rating's update time; Salesforce: the latest "
        "CaseHistory change of the field if tracked, else ClosedDate); NULL if not answered.",
    )


class Opportunity(SQLModel, table=True):
    """A Salesforce opportunity (new business, renewal, expansion)."""

    __tablename__ = "opportunities"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("opportunity_key",)

    opportunity_key: str = Field(primary_key=True, description="'salesforce:<Opportunity Id>'.")
    salesforce_opportunity_id: str = Field(description="The Opportunity Id.")
    account_key: str | None = Field(default=None, description="'salesforce:<Account Id>' (core.accounts).")
    name: str | None = Field(default=None, description="Opportunity name.")
    opportunity_type: str | None = Field(default=None, description="Type: New Business, Renewal, Expansion, ...")
    stage_name: str | None = Field(default=None, description="Sales stage (Closed Won, Closed Lost, ...).")
    amount: float | None = Field(default=None, description="Amount (ARR for subscriptions), in the org currency.")
    probability: float | None = Field(default=None, description="Win probability in percent.")
    close_date: dt.date | None = Field(default=None, description="Expected or actual close date.")
    is_closed: bool = Field(description="Closed (won or lost).")
    is_won: bool = Field(description="Closed won.")
    owner_key: str | None = Field(default=None, description="'salesforce:<owner User Id>'.")
    created_at: dt.datetime | None = Field(default=None, description="When the opportunity was created (UTC).")
    is_deleted: bool = Field(description="Soft-deleted in Salesforce.")


class SlaTarget(SQLModel, table=True):
    """One SLA target instance: a Zendesk ticket metric instance with an SLA applied, or a Salesforce
    case milestone."""

    __tablename__ = "sla_targets"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("sla_target_key",)

    sla_target_key: str = Field(
        primary_key=True,
        description="'zendesk:<ticket id>:<metric>:<instance id>' or 'salesforce:<CaseMilestone Id>'.",
    )
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    ticket_key: str = Field(description="The ticket (core.tickets).")
    metric: str | None = Field(
        default=None,
        description="Zendesk metric (reply_time, requester_wait_time, ...) or the Salesforce milestone's name "
        "(MilestoneType.Name: 'First Response', ...); its MilestoneTypeId when the type is unknown.",
    )
    instance_id: int | None = Field(
        default=None, description="Zendesk metric instance (1st, 2nd reply...); NULL for Salesforce."
    )
    policy_id: str | None = Field(default=None, description="Zendesk SLA policy id or Salesforce MilestoneTypeId.")
    target_minutes: int | None = Field(default=None, description="The target, in minutes.")
    is_business_hours: bool | None = Field(default=None, description="The target counts business hours.")
    applied_at: dt.datetime | None = Field(
        default=None, description="When the SLA was applied / the milestone started (UTC)."
    )
    fulfilled_at: dt.datetime | None = Field(
        default=None, description="When the target was last fulfilled (UTC); NULL if not (yet)."
    )
    breached_at: dt.datetime | None = Field(
        default=None, description="When the target was breached (UTC); NULL if it was not."
    )
    status: str = Field(description="achieved (fulfilled, not breached), breached, or running (neither yet).")


class ContactHandled(SQLModel, table=True):
    """A contact an agent could handle: a Zendesk Talk call or a Salesforce Omni-Channel work item."""

    __tablename__ = "contacts_handled"
    __table_args__ = {"schema": "core"}
    __grain__: ClassVar[tuple[str, ...]] = ("contact_key",)

    contact_key: str = Field(primary_key=True, description="'zendesk:<call id>' or 'salesforce:<AgentWork Id>'.")
    source_system: str = Field(description="'zendesk' or 'salesforce'.")
    contact_type: str = Field(description="call (Zendesk Talk) or work_item (Omni-Channel).")
    channel_group: str = Field(description="phone for calls; the case's channel group for work items.")
    ticket_key: str | None = Field(default=None, description="The ticket the contact belongs to, when known.")
    agent_key: str | None = Field(default=None, description="The agent (core.agents); NULL when nobody answered.")
    direction: str | None = Field(default=None, description="inbound or outbound (calls).")
    status: str | None = Field(default=None, description="Call completion status or AgentWork Status, as given.")
    started_at: dt.datetime | None = Field(
        default=None, description="Call start, or the work item's accept (else assign, request) time (UTC)."
    )
    talk_seconds: int | None = Field(default=None, description="Talk time in seconds (calls).")
    hold_seconds: int | None = Field(default=None, description="Hold time in seconds (calls).")
    wrap_up_seconds: int | None = Field(default=None, description="Wrap-up time in seconds (calls).")
    handle_seconds: int | None = Field(
        default=None,
        description="Talk + hold + wrap-up (calls) or HandleTime (work items), seconds; NULL when not handled.",
    )
    is_handled: bool = Field(
        description="Answered by an agent (a call with an agent and talk time; work accepted); abandoned and "
        "unanswered contacts are false and excluded from handle time."
    )


CORE_TABLES: tuple[type[SQLModel], ...] = (
    Ticket,
    Agent,
    AccountIdentity,
    Account,
    TicketComment,
    Article,
    TicketArticleLink,
    SurveyResponse,
    Opportunity,
    SlaTarget,
    ContactHandled,
)
"""Every core table's class, in the order of the data dictionary."""
