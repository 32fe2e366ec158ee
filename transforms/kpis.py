"""The KPI catalogue: every KPI of ``KPIS.md``, written once, with its default target.

``marts.kpi_definitions`` carries this text (through the ``supportlake_config.kpi_catalog`` table the
runner writes before each build), so Tableau shows the same definition the SQL implements.
``marts.agg_kpi_monthly`` holds one row per KPI × month × slice with ``value = numerator /
denominator`` on every row. ``aggregation`` says how Tableau may combine rows: ``ratio_of_sums``
(SUM(numerator) / SUM(denominator)), ``sum_of_numerator`` (a total: SUM(numerator)) or
``not_additive`` (a median, a lifetime value: read the row of the slice wanted; its ``all`` rows
are computed over the whole slice, never summed).

Each KPI is one model, ``intermediate.int_kpi__<name>`` (``transforms/models/intermediate/kpis/``),
and ``marts.agg_kpi_monthly`` their union; a test holds the catalogue and the models to each other.
The order of :data:`KPIS` is the order of the KPI report (``supportlake kpis``, the demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFINITIONS_VERSION = "2026-12-05.1"
"""Bumped whenever a definition's meaning changes, so a dashboard can say which one it shows."""

Direction = Literal["higher_is_better", "lower_is_better"]


@dataclass(frozen=True)
class Kpi:
    name: str
    caption: str
    definition: str
    numerator: str
    denominator: str
    unit: str
    """``ratio`` (0–1, show as %), ``score_5pt``, ``nps_points``, ``minutes``, ``hours``, ``days``,
    ``usd``."""
    direction: Direction
    target: float | None
    """Default target (from seeds/support-operations-org.md, else the CS org doc); None: no target."""
    target_source: str
    grain: str
    date_counted: str
    dimensions: tuple[str, ...]
    """The slice columns this KPI is broken down by (the others are always ``all``)."""
    aggregation: str = "ratio_of_sums"
    requires: str = ""
    """Inputs without which the KPI has no rows (said in ``kpi_definitions.availability``)."""


_TICKET_DIMS = ("segment", "channel_group", "support_tier")

KPIS: tuple[Kpi, ...] = (
    Kpi(
        "fcr_rate", "First contact resolution",
        "Resolved tickets resolved with at most one public agent reply before the first solve, never "
        "reopened and never escalated between tiers (phone: Salesforce IsClosedOnCreate or a Zendesk "
        "voice ticket solved with at most one reply), over resolved tickets. Deleted, merged-away and "
        "spam tickets are excluded.",
        "resolved tickets resolved at first contact", "resolved tickets",
        "ratio", "higher_is_better", 0.75, "support-operations-org.md (CS org doc: 0.95)",
        "ticket", "first_solved_at", _TICKET_DIMS,
    ),
    Kpi(
        "csat_avg_5pt", "CSAT (average, 1–5)",
        "Average survey score normalised to 1–5 (legacy Zendesk good/bad as 5/1; the Salesforce Case "
        "field of [salesforce] csat_field rescaled from its configured scale), latest response per ticket.",
        "sum of scores (1–5)", "survey responses",
        "score_5pt", "higher_is_better", 4.5, "support-operations-org.md",
        "survey response", "responded_at", _TICKET_DIMS,
    ),
    Kpi(
        "csat_pct_positive", "CSAT % positive",
        "Good ratings over good plus bad ratings (numeric surveys: 4–5 good, 1–2 bad), latest response "
        "per ticket.",
        "good responses", "good + bad responses",
        "ratio", "higher_is_better", None, "no target in the seeds",
        "survey response", "responded_at", _TICKET_DIMS,
    ),
    Kpi(
        "nps", "Net Promoter Score",
        "Percent promoters (9–10) minus percent detractors (0–6) over responses, latest response per "
        "respondent per month, from the input table inputs.input_nps_responses.",
        "100 × (promoters − detractors)", "responses",
        "nps_points", "higher_is_better", 50.0, "support-operations-org.md",
        "NPS response", "responded_at", ("segment",),
        requires="NPS responses: supportlake load-input nps FILE.csv",
    ),
    Kpi(
        "aht_minutes", "Average handle time",
        "Talk + hold + wrap-up time over handled contacts (Zendesk Talk calls, Salesforce AgentWork); "
        "unanswered and abandoned contacts are excluded.",
        "handle minutes", "handled contacts",
        "minutes", "lower_is_better", 8.0, "support-operations-org.md",
        "contact", "contact end", ("segment", "channel_group"),
        requires="Zendesk Talk calls or Salesforce Omni-Channel AgentWork",
    ),
    Kpi(
        "sla_compliance", "SLA compliance",
        "Achieved SLA targets over achieved plus breached targets; targets still running are excluded.",
        "achieved SLA targets", "achieved + breached SLA targets",
        "ratio", "higher_is_better", 0.95, "support-operations-org.md",
        "SLA target instance", "completion or breach time", _TICKET_DIMS,
        requires="Zendesk SLA policies (ticket_metric_events) or Salesforce entitlements (CaseMilestone)",
    ),
    Kpi(
        "resolution_within_24h_rate", "Resolved within 24 h",
        "Resolved tickets whose full resolution took at most the configured hours (default 24, "
        "calendar), over resolved tickets, by final solve date.",
        "tickets resolved within the target hours", "resolved tickets",
        "ratio", "higher_is_better", None, "no target in the seeds",
        "ticket", "final solve date", _TICKET_DIMS,
    ),
    Kpi(
        "median_resolution_hours", "Median resolution time (hours)",
        "Median full resolution time in hours (calendar) of the tickets resolved in the month. Not "
        "additive: each row is the median of its own slice (numerator = the median, denominator = 1).",
        "median full resolution hours", "1",
        "hours", "lower_is_better", 24.0, "support-operations-org.md",
        "ticket", "final solve date", _TICKET_DIMS, aggregation="not_additive",
    ),
    Kpi(
        "first_reply_within_4h_rate", "First reply within 4 h",
        "Tickets whose first public agent reply came within the configured hours (default 4, "
        "calendar), over tickets created, counting unreplied tickets older than that as misses.",
        "tickets first replied within the target hours", "tickets created (replied, or unreplied and older)",
        "ratio", "higher_is_better", None, "customer-success-org.md gives the 4-hour threshold, no rate",
        "ticket", "created_at", _TICKET_DIMS,
    ),
    Kpi(
        "self_service_rate", "Self-service adoption",
        "Self-service resolutions (resolved with no sign of agent work: no public agent reply; on "
        "Salesforce also no completed First Response milestone, no accepted AgentWork, not a phone case "
        "owned by an agent) over all resolutions, by first solve date.",
        "self-service resolutions", "self-service + assisted resolutions",
        "ratio", "higher_is_better", 0.40, "support-operations-org.md",
        "request", "resolution date", _TICKET_DIMS,
    ),
    Kpi(
        "kb_utilization_rate", "Knowledge-base utilisation",
        "Resolved tickets with at least one knowledge article linked on or before the first solve, "
        "over resolved tickets.",
        "resolved tickets with a KB link", "resolved tickets",
        "ratio", "higher_is_better", 0.60, "support-operations-org.md",
        "ticket", "first_solved_at", _TICKET_DIMS,
    ),
    Kpi(
        "retention_rate", "Customer retention (trailing 12 months)",
        "Accounts active 12 months before the month's end and still active at its end, over accounts "
        "active 12 months before; new accounts excluded. Active: won ARR > 0.",
        "accounts retained", "accounts active 12 months earlier",
        "ratio", "higher_is_better", 0.95, "support-operations-org.md",
        "account × month", "month end", ("segment",),
        requires="Salesforce won Opportunities",
    ),
    Kpi(
        "net_revenue_retention", "Net revenue retention (trailing 12 months)",
        "ARR now of the accounts active 12 months earlier (their starting ARR + expansion − contraction "
        "− churn) over their ARR 12 months earlier.",
        "current ARR of the starting cohort", "ARR of the cohort 12 months earlier",
        "ratio", "higher_is_better", 1.10, "customer-success-org.md",
        "account × month", "month end", ("segment",),
        requires="Salesforce won Opportunities",
    ),
    Kpi(
        "expansion_revenue", "Expansion revenue",
        "Sum of won Opportunity amounts of the configured expansion types (default Expansion, Upsell) "
        "by close date. The target is the annual $5M spread evenly over months.",
        "expansion amount (USD)", "1",
        "usd", "higher_is_better", 5_000_000 / 12, "support-operations-org.md ($5M a year)",
        "opportunity", "close date", ("segment",), aggregation="sum_of_numerator",
        requires="Salesforce won Opportunities",
    ),
    Kpi(
        "support_cost_pct_revenue", "Support cost as % of revenue",
        "Support cost of the month (input table inputs.input_support_cost_monthly) over revenue "
        "recognised in the month (won ARR / 12).",
        "support cost (USD)", "revenue recognised in the month (USD)",
        "ratio", "lower_is_better", 0.08, "support-operations-org.md",
        "month", "month", (),
        requires="support cost: supportlake load-input support_cost FILE.csv, and won Opportunities",
    ),
    Kpi(
        "customer_lifetime_value", "Customer lifetime value",
        "Average ARR per active account × gross margin (default 0.8) ÷ annual logo churn rate (accounts "
        "churned in the trailing 12 months over accounts active 12 months earlier). Not additive. No "
        "row where nothing churned (the value is unbounded).",
        "average ARR per active account × gross margin", "annual logo churn rate",
        "usd", "higher_is_better", 50_000.0, "support-operations-org.md",
        "account / as-of month", "month end", ("segment",), aggregation="not_additive",
        requires="Salesforce won Opportunities and at least one churned account",
    ),
    Kpi(
        "time_to_value_days", "Time to value",
        "Days from the first won New Business opportunity's close date to the account's first resolved "
        "onboarding ticket (configured tags / case types), averaged over the accounts whose contract "
        "started in the month and have reached it.",
        "days to value (sum)", "accounts that reached value",
        "days", "lower_is_better", 30.0, "customer-success-org.md",
        "account", "contract start month", ("segment",),
        requires="won New Business Opportunities and resolved onboarding tickets",
    ),
)

SECONDARY: tuple[Kpi, ...] = (
    Kpi(
        "csat_response_rate", "CSAT response rate",
        "Tickets whose satisfaction survey was answered over tickets offered one (Zendesk: a rating "
        "that is not 'unoffered', 'offered' ones included), by the month of the first offer. A "
        "Salesforce Case field records answers only, not invitations: Salesforce is not in this rate.",
        "offered tickets answered", "tickets offered a survey",
        "ratio", "higher_is_better", None, "no target in the seeds",
        "ticket offered a survey", "offered_at", _TICKET_DIMS,
        requires="Zendesk satisfaction ratings",
    ),
    Kpi(
        "sla_ticket_rate", "SLA compliance (tickets)",
        "Tickets with at least one completed SLA target and no breached one over tickets with at least "
        "one completed target (running targets ignored), by the month of the ticket's latest completion.",
        "tickets with no breached target", "tickets with a completed target",
        "ratio", "higher_is_better", None, "no target in the seeds",
        "ticket", "latest target completion", _TICKET_DIMS,
        requires="Zendesk SLA policies (ticket_metric_events) or Salesforce entitlements (CaseMilestone)",
    ),
    Kpi(
        "p90_resolution_hours", "90th percentile resolution time (hours)",
        "90th percentile (continuous) of full resolution time in hours (calendar) of the tickets resolved "
        "in the month. Not additive (numerator = the percentile, denominator = 1).",
        "p90 full resolution hours", "1",
        "hours", "lower_is_better", None, "no target in the seeds",
        "ticket", "final solve date", _TICKET_DIMS, aggregation="not_additive",
    ),
    Kpi(
        "median_resolution_business_hours", "Median resolution time (business hours)",
        "Median full resolution time in business hours (Zendesk's business minutes; Salesforce from the "
        "case's BusinessHours) of the tickets resolved in the month. Not additive.",
        "median full resolution business hours", "1",
        "hours", "lower_is_better", None, "no target in the seeds",
        "ticket", "final solve date", _TICKET_DIMS, aggregation="not_additive",
    ),
    Kpi(
        "median_first_reply_hours", "Median first reply time (hours)",
        "Median time to the first public agent reply in hours (calendar) over the replied tickets "
        "created in the month. Not additive.",
        "median first reply hours", "1",
        "hours", "lower_is_better", None, "no target in the seeds",
        "ticket", "created_at", _TICKET_DIMS, aggregation="not_additive",
    ),
    Kpi(
        "expansion_arr_delta", "Expansion revenue (ARR delta)",
        "Sum of ARR increases of accounts active in both the month and the month before (marts."
        "fct_account_monthly.expansion_arr), by month: the ARR-delta method of KPIS.md.",
        "ARR increase of existing accounts (USD)", "1",
        "usd", "higher_is_better", None, "the $5M target applies to expansion_revenue",
        "account × month", "month", ("segment",), aggregation="sum_of_numerator",
        requires="Salesforce won Opportunities",
    ),
)
"""Secondary measures of KPIS.md, after the 17 KPIs."""

KPIS = KPIS + SECONDARY

BY_NAME: dict[str, Kpi] = {k.name: k for k in KPIS}
