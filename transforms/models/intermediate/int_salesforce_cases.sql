-- One row per Salesforce case, enriched, in core.tickets' columns (before their final types).
-- Support tier: the configured Case field, else the owning queue's name (intermediate.int_support_tiers).
-- Escalations, reopens: CaseHistory (intermediate.int_salesforce_case_history).
-- Replies: published comments of internal users (intermediate.int_salesforce_case_replies).
-- First reply (the completed 'First Response' milestone, else the first of those comments), first
-- solve (the first Status change into a closed status, else ClosedDate) and their business minutes:
-- intermediate.int_salesforce_case_times.
-- has_agent_activity: intermediate.int_salesforce_agent_activity.
with tiers as (
    select * from intermediate.int_support_tiers
),

salesforce_cases as (
    select * from staging.stg_salesforce__cases
),

salesforce_groups as (
    select * from staging.stg_salesforce__groups
),

case_history as (
    select * from intermediate.int_salesforce_case_history
),

case_replies as (
    select * from intermediate.int_salesforce_case_replies
),

case_times as (
    select * from intermediate.int_salesforce_case_times
),

agent_activity as (
    select * from intermediate.int_salesforce_agent_activity
),

salesforce_joined as (
    select
        c.*,
        g.name as group_name,
        lower(c.status) as status_lower,
        coalesce(ft.tier_number, gt.tier_number) as tier_number,
        greatest(h.highest_tier_number, ft.tier_number, gt.tier_number) as highest_tier_number,
        h.case_id is not null as has_history,
        h.escalation_count,
        h.first_escalated_at,
        h.reopen_count,
        coalesce(r.reply_count, 0) as replies,
        ct.first_reply_at,
        ct.first_solved_at,
        ct.first_reply_minutes_business,
        ct.first_resolution_minutes_business,
        ct.full_resolution_minutes_business,
        aa.case_id is not null as has_agent_activity
    from salesforce_cases as c
    left join salesforce_groups as g on g.group_id = c.owner_id
    left join tiers as gt on gt.tier_source = 'salesforce_group' and gt.source_id = c.owner_id
    left join tiers as ft on ft.tier_source = 'salesforce_case_field' and ft.source_id = c.case_id
    left join case_history as h on h.case_id = c.case_id
    left join case_replies as r on r.case_id = c.case_id
    left join case_times as ct on ct.case_id = c.case_id
    left join agent_activity as aa on aa.case_id = c.case_id
),

final as (
    select
        'salesforce:' || case_id as ticket_key,
        'salesforce' as source_system,
        case_id as source_ticket_id,
        'salesforce:' || account_id as account_key,
        'salesforce:' || contact_id as requester_key,
        case when starts_with(owner_id, '005') then 'salesforce:' || owner_id end as assignee_agent_key,
        case when group_name is not null then 'salesforce:' || owner_id end as group_key,
        group_name,
        case when tier_number is not null then 'Tier ' || tier_number::VARCHAR end as support_tier,
        escalation_count,
        case when highest_tier_number is not null then 'Tier ' || highest_tier_number::VARCHAR end as highest_tier,
        case
            when has_history then first_escalated_at is not null
                and (first_solved_at is null or first_escalated_at < first_solved_at)
        end as is_escalated_before_first_solve,
        origin as channel_raw,
        case
            when lower(origin) = 'phone' then 'phone'
            when lower(origin) in ('email', 'chat') then 'email_chat'
            when lower(origin) = 'social' then 'social'
            when lower(origin) in ('web', 'community', 'portal') then 'portal'
            else 'other'
        end as channel_group,
        lower(priority) as priority,
        case
            when is_deleted then 'deleted'
            when is_closed or status_lower = 'closed' then 'closed'
            when status_lower = 'new' then 'new'
            when status_lower in ('solved', 'resolved') then 'solved'
            when status_lower in ('on hold', 'hold') then 'hold'
            when status_lower in ('pending', 'waiting on customer', 'waiting on customer response') then 'pending'
            else 'open'
        end as status,
        status as status_raw,
        created_at,
        coalesce(last_modified_at, system_modstamp) as updated_at,
        first_solved_at,
        case when is_closed then closed_at end as solved_at,
        case when is_closed then closed_at end as closed_at,
        first_solved_at as resolved_at,
        replies as reply_count,
        has_agent_activity,
        reopen_count,
        (epoch(first_reply_at) - epoch(created_at)) / 60.0 as first_reply_minutes_calendar,
        first_reply_minutes_business,
        (epoch(first_solved_at) - epoch(created_at)) / 60.0 as first_resolution_minutes_calendar,
        first_resolution_minutes_business,
        case when is_closed then (epoch(closed_at) - epoch(created_at)) / 60.0 end as full_resolution_minutes_calendar,
        full_resolution_minutes_business,
        null::DOUBLE as agent_wait_minutes_calendar,
        null::DOUBLE as agent_wait_minutes_business,
        null::DOUBLE as requester_wait_minutes_calendar,
        null::DOUBLE as requester_wait_minutes_business,
        null::DOUBLE as on_hold_minutes_calendar,
        null::DOUBLE as on_hold_minutes_business,
        master_record_id is not null as is_merged,
        is_deleted
    from salesforce_joined
)

select * from final
