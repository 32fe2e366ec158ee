-- One row per survey response or offer (grain: survey_key): Zendesk satisfaction ratings and the
-- Salesforce Case CSAT field (core.survey_responses), scores normalised to 1–5, with the agent and group as they were
-- when the customer rated. is_latest_for_ticket marks the response the CSAT KPIs count (a ticket
-- rated twice counts once, with its latest score).
with surveys as (
    select * from core.survey_responses
),

tickets as (
    select * from marts.fct_tickets
),

group_tiers as (
    select
        t.group_key,
        min(t.support_tier) as support_tier
    from core.tickets as t
    where t.group_key is not null and t.support_tier is not null
    group by t.group_key
),

ranked as (
    select
        s.*,
        row_number() over (
            partition by s.ticket_key, s.is_response order by s.responded_at desc, s.survey_key desc
        ) as response_rank
    from surveys as s
),

final as (
    select
        r.survey_key::VARCHAR as survey_key,
        r.source_system::VARCHAR as source_system,
        r.ticket_key::VARCHAR as ticket_key,
        r.requester_key::VARCHAR as requester_key,
        r.assignee_agent_key::VARCHAR as assignee_agent_key,
        r.group_key::VARCHAR as group_key,
        coalesce(g.support_tier, t.support_tier, 'Unassigned')::VARCHAR as support_tier,
        coalesce(t.segment, 'Unassigned')::VARCHAR as segment,
        coalesce(t.channel_group, 'other')::VARCHAR as channel_group,
        r.score_raw::VARCHAR as score_raw,
        r.score::DOUBLE as score,
        r.is_response::BOOLEAN as is_response,
        case when r.score >= 4 then true when r.score <= 2 then false end::BOOLEAN as is_positive,
        (r.score is not null and r.score > 2 and r.score < 4)::BOOLEAN as is_neutral,
        r.is_offered::BOOLEAN as is_offered,
        r.offered_at::TIMESTAMP as offered_at,
        r.responded_at::TIMESTAMP as responded_at,
        r.responded_at::DATE as responded_date,
        (r.is_response and r.ticket_key is not null and r.response_rank = 1)::BOOLEAN as is_latest_for_ticket,
        coalesce(t.is_excluded, false)::BOOLEAN as is_excluded
    from ranked as r
    left join tickets as t on t.ticket_key = r.ticket_key
    left join group_tiers as g on g.group_key = r.group_key
)

select * from final
