-- One row per ticket (grain: ticket_key), every ticket including excluded ones (exclusion_reason
-- says why: deleted, merged, spam); every flag and duration a KPI needs. KPIs count only rows where
-- is_excluded is false. Durations are calendar minutes unless named business; NULL means "did not
-- happen" (an unreplied ticket has NULL first reply minutes, never 0).
with tickets as (
    select * from core.tickets
),

accounts as (
    select * from marts.dim_account
),

zendesk_tickets as (
    select * from staging.stg_zendesk__tickets
),

salesforce_cases as (
    select * from staging.stg_salesforce__cases
),

sla_targets as (
    select * from core.sla_targets
),

surveys as (
    select * from core.survey_responses
),

links as (
    select * from core.ticket_article_links
),

settings as (
    select * from supportlake_config.settings
),

thresholds as (
    select
        max(case when name = 'kpis.resolution_within_hours' then number end) * 60.0 as resolution_target_minutes,
        max(case when name = 'kpis.first_reply_within_hours' then number end) * 60.0 as first_reply_target_minutes
    from settings
),

as_of as (
    select max(greatest(created_at, coalesce(updated_at, created_at))) as as_of_at from tickets
),

zendesk_flags as (
    select
        'zendesk:' || z.ticket_id::VARCHAR as ticket_key,
        strpos(lower(coalesce(z.tags_json, '')), '"spam"') > 0 as is_spam,
        false as is_closed_on_create,
        exists (
            select 1 from settings as s
            where s.name = 'onboarding.zendesk_tags'
                and strpos(lower(coalesce(z.tags_json, '')), '"' || lower(s.value) || '"') > 0
        ) as is_onboarding
    from zendesk_tickets as z
),

salesforce_flags as (
    select
        'salesforce:' || c.case_id as ticket_key,
        false as is_spam,
        c.is_closed_on_create,
        exists (
            select 1 from settings as s
            where s.name = 'onboarding.salesforce_case_types' and lower(s.value) = lower(coalesce(c.case_type, ''))
        ) as is_onboarding
    from salesforce_cases as c
),

flags as (
    select * from zendesk_flags
    union all
    select * from salesforce_flags
),

sla as (
    select
        ticket_key,
        count(*) filter (where status = 'achieved') as achieved,
        count(*) filter (where status = 'breached') as breached,
        count(*) filter (where status = 'running') as running
    from sla_targets
    group by ticket_key
),

rated as (
    select
        ticket_key,
        score,
        responded_at,
        row_number() over (partition by ticket_key order by responded_at desc, survey_key desc) as rn
    from surveys
    where is_response and ticket_key is not null
),

kb as (
    select
        l.ticket_key,
        count(distinct l.article_key) as article_count,
        min(l.linked_at) as first_linked_at
    from links as l
    group by l.ticket_key
),

joined as (
    select
        t.*,
        coalesce(a.segment, 'Unassigned') as segment,
        coalesce(f.is_spam, false) as is_spam,
        coalesce(f.is_closed_on_create, false) as is_closed_on_create,
        coalesce(f.is_onboarding, false) as is_onboarding,
        coalesce(t.solved_at, t.closed_at) as final_resolved_at,
        coalesce(
            t.full_resolution_minutes_calendar,
            case
                when coalesce(t.solved_at, t.closed_at) is not null
                    then (epoch(coalesce(t.solved_at, t.closed_at)) - epoch(t.created_at)) / 60.0
            end
        ) as full_resolution_minutes,
        s.achieved as sla_achieved,
        s.breached as sla_breached,
        s.running as sla_running,
        r.score as csat_score,
        r.responded_at as csat_responded_at,
        k.article_count as kb_article_count,
        k.first_linked_at as kb_first_linked_at,
        th.resolution_target_minutes,
        th.first_reply_target_minutes,
        ao.as_of_at
    from tickets as t
    left join accounts as a on a.account_key = t.account_key
    left join flags as f on f.ticket_key = t.ticket_key
    left join sla as s on s.ticket_key = t.ticket_key
    left join rated as r on r.ticket_key = t.ticket_key and r.rn = 1
    left join kb as k on k.ticket_key = t.ticket_key
    cross join thresholds as th
    cross join as_of as ao
),

final as (
    select
        ticket_key::VARCHAR as ticket_key,
        source_system::VARCHAR as source_system,
        source_ticket_id::VARCHAR as source_ticket_id,
        account_key::VARCHAR as account_key,
        segment::VARCHAR as segment,
        requester_key::VARCHAR as requester_key,
        assignee_agent_key::VARCHAR as assignee_agent_key,
        group_name::VARCHAR as group_name,
        coalesce(support_tier, 'Unassigned')::VARCHAR as support_tier,
        highest_tier::VARCHAR as highest_tier,
        channel_raw::VARCHAR as channel_raw,
        channel_group::VARCHAR as channel_group,
        priority::VARCHAR as priority,
        status::VARCHAR as status,
        created_at::TIMESTAMP as created_at,
        created_at::DATE as created_date,
        first_solved_at::TIMESTAMP as first_solved_at,
        resolved_at::TIMESTAMP as resolved_at,
        resolved_at::DATE as resolved_date,
        final_resolved_at::TIMESTAMP as final_resolved_at,
        final_resolved_at::DATE as final_resolved_date,
        is_resolved::BOOLEAN as is_resolved,
        reply_count::BIGINT as reply_count,
        has_agent_activity::BOOLEAN as has_agent_activity,
        reopen_count::BIGINT as reopen_count,
        escalation_count::BIGINT as escalation_count,
        first_reply_minutes_calendar::DOUBLE as first_reply_minutes,
        first_reply_minutes_business::DOUBLE as first_reply_minutes_business,
        first_resolution_minutes_calendar::DOUBLE as first_resolution_minutes,
        full_resolution_minutes::DOUBLE as full_resolution_minutes,
        full_resolution_minutes_business::DOUBLE as full_resolution_minutes_business,
        agent_wait_minutes_calendar::DOUBLE as agent_wait_minutes,
        requester_wait_minutes_calendar::DOUBLE as requester_wait_minutes,
        on_hold_minutes_calendar::DOUBLE as on_hold_minutes,
        case
            when is_resolved and is_closed_on_create then true
            when is_resolved and reply_count is not null
                then reply_count <= 1
                and coalesce(reopen_count, 0) = 0
                and not coalesce(is_escalated_before_first_solve, false)
        end::BOOLEAN as is_fcr,
        case when is_resolved then reply_count = 1 end::BOOLEAN as is_one_touch,
        -- self-service: resolved with no sign of agent work (core.tickets.has_agent_activity: Zendesk a
        -- public agent reply; Salesforce also the First Response milestone, accepted AgentWork, an
        -- agent-owned phone case)
        case when is_resolved and reply_count is not null then not has_agent_activity end::BOOLEAN as is_self_service,
        case
            when is_resolved then full_resolution_minutes <= resolution_target_minutes
        end::BOOLEAN as is_resolved_within_target,
        case
            when first_reply_minutes_calendar is not null
                then first_reply_minutes_calendar <= first_reply_target_minutes
            when reply_count = 0 and (epoch(as_of_at) - epoch(created_at)) / 60.0 > first_reply_target_minutes
                then false
        end::BOOLEAN as is_first_reply_within_target,
        coalesce(kb_article_count, 0)::BIGINT as kb_article_count,
        case
            when is_resolved then coalesce(kb_first_linked_at <= resolved_at, false)
        end::BOOLEAN as has_kb_link_before_resolution,
        csat_score::DOUBLE as csat_score,
        case when csat_score >= 4 then true when csat_score <= 2 then false end::BOOLEAN as is_csat_positive,
        coalesce(sla_achieved, 0)::BIGINT as sla_achieved_count,
        coalesce(sla_breached, 0)::BIGINT as sla_breached_count,
        coalesce(sla_running, 0)::BIGINT as sla_running_count,
        is_onboarding::BOOLEAN as is_onboarding,
        is_merged::BOOLEAN as is_merged,
        is_deleted::BOOLEAN as is_deleted,
        is_spam::BOOLEAN as is_spam,
        (is_deleted or status = 'deleted' or is_merged or is_spam)::BOOLEAN as is_excluded,
        case
            when is_deleted or status = 'deleted' then 'deleted'
            when is_merged then 'merged'
            when is_spam then 'spam'
        end::VARCHAR as exclusion_reason
    from joined
)

select * from final
