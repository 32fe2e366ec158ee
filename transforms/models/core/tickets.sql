-- One row per Zendesk ticket and per Salesforce case (grain: ticket_key).
-- Account: a Zendesk ticket whose configured ticket field names a live Salesforce Account belongs to
-- it, else to its organization's account (intermediate.int_zendesk_organization_matches).
-- Support tier: Zendesk from the group's name; Salesforce from the configured Case field, else the
-- owning queue's name (intermediate.int_support_tiers).
-- Escalations: Zendesk has no group history, only ticket_metrics.group_stations (groups the ticket
-- passed through): every move counts, as before the first solve, and the highest tier is the current
-- group's. Salesforce from CaseHistory (intermediate.int_salesforce_case_history).
-- Salesforce replies: published comments of internal users (intermediate.int_salesforce_case_replies).
-- Salesforce first reply (the completed 'First Response' milestone, else the first of those comments),
-- first solve (the first Status change into a closed status, else ClosedDate) and their business
-- minutes: intermediate.int_salesforce_case_times.
-- has_agent_activity: any sign an agent worked the ticket (self-service is resolved without one):
-- Zendesk a public agent reply; Salesforce intermediate.int_salesforce_agent_activity.
with zendesk_tickets as (
    select * from staging.stg_zendesk__tickets
),

zendesk_metrics as (
    select * from staging.stg_zendesk__ticket_metrics
),

zendesk_groups as (
    select * from staging.stg_zendesk__groups
),

org_matches as (
    select * from intermediate.int_zendesk_organization_matches
),

account_candidates as (
    select * from intermediate.int_account_id_candidates
    where record_type = 'zendesk_ticket'
),

live_accounts as (
    select * from staging.stg_salesforce__accounts
    where not is_deleted and master_record_id is null
),

tiers as (
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

zendesk_group_tiers as (
    select
        g.group_id,
        g.name,
        t.tier_number,
        t.support_tier
    from zendesk_groups as g
    left join tiers as t on t.tier_source = 'zendesk_group' and t.source_id = g.group_id::VARCHAR
),

ticket_accounts as (
    select
        c.record_id as ticket_id,
        min(a.account_id) as account_id
    from account_candidates as c
    inner join live_accounts as a on a.account_id = c.account_id
    group by c.record_id
),

zendesk_joined as (
    select
        t.*,
        m.reopens,
        m.replies,
        m.solved_at as metric_solved_at,
        m.status_updated_at,
        m.reply_minutes_calendar,
        m.reply_minutes_business,
        m.first_resolution_minutes_calendar,
        m.first_resolution_minutes_business,
        m.full_resolution_minutes_calendar,
        m.full_resolution_minutes_business,
        m.agent_wait_minutes_calendar,
        m.agent_wait_minutes_business,
        m.requester_wait_minutes_calendar,
        m.requester_wait_minutes_business,
        m.on_hold_minutes_calendar,
        m.on_hold_minutes_business,
        m.group_stations,
        g.name as group_name,
        g.tier_number,
        g.support_tier,
        ta.account_id as ticket_account_id,
        o.salesforce_account_id as matched_account_id
    from zendesk_tickets as t
    left join zendesk_metrics as m on m.ticket_id = t.ticket_id
    left join zendesk_group_tiers as g on g.group_id = t.group_id
    left join ticket_accounts as ta on ta.ticket_id = t.ticket_id
    left join org_matches as o on o.organization_id = t.organization_id
),

zendesk_times as (
    select
        *,
        case
            when first_resolution_minutes_calendar is not null
                then created_at + first_resolution_minutes_calendar * INTERVAL '1 minute'
        end as first_solved_at,
        case when status = 'closed' then coalesce(status_updated_at, updated_at) end as closed_at
    from zendesk_joined
),

zendesk_final as (
    select
        'zendesk:' || ticket_id::VARCHAR as ticket_key,
        'zendesk' as source_system,
        ticket_id::VARCHAR as source_ticket_id,
        coalesce(
            'salesforce:' || ticket_account_id,
            'salesforce:' || matched_account_id,
            'zendesk:' || organization_id::VARCHAR
        ) as account_key,
        'zendesk:' || requester_id::VARCHAR as requester_key,
        'zendesk:' || assignee_id::VARCHAR as assignee_agent_key,
        'zendesk:' || group_id::VARCHAR as group_key,
        group_name,
        support_tier,
        case when group_stations is not null then greatest(group_stations - 1, 0) end as escalation_count,
        support_tier as highest_tier,
        group_stations > 1 as is_escalated_before_first_solve,
        via_channel as channel_raw,
        case
            when via_channel = 'voice' then 'phone'
            when via_channel in ('email', 'chat', 'messaging', 'native_messaging', 'api', 'mobile_sdk', 'sms')
                then 'email_chat'
            when via_channel in (
                'twitter', 'facebook', 'instagram', 'instagram_dm', 'whatsapp', 'line', 'wechat', 'facebook_messenger'
            ) then 'social'
            when via_channel in ('web', 'web_form', 'help_center', 'mobile') then 'portal'
            else 'other'
        end as channel_group,
        lower(priority) as priority,
        case
            when status in ('new', 'open', 'pending', 'hold', 'solved', 'closed', 'deleted') then status
            else 'open'
        end as status,
        status as status_raw,
        created_at,
        updated_at,
        first_solved_at,
        case when status in ('solved', 'closed') then metric_solved_at end as solved_at,
        closed_at,
        coalesce(first_solved_at, closed_at) as resolved_at,
        coalesce(replies, 0) as reply_count,
        coalesce(replies, 0) > 0 as has_agent_activity,
        coalesce(reopens, 0) as reopen_count,
        case when coalesce(replies, 0) > 0 then reply_minutes_calendar end as first_reply_minutes_calendar,
        case when coalesce(replies, 0) > 0 then reply_minutes_business end as first_reply_minutes_business,
        first_resolution_minutes_calendar,
        first_resolution_minutes_business,
        full_resolution_minutes_calendar,
        full_resolution_minutes_business,
        agent_wait_minutes_calendar,
        agent_wait_minutes_business,
        requester_wait_minutes_calendar,
        requester_wait_minutes_business,
        on_hold_minutes_calendar,
        on_hold_minutes_business,
        strpos(coalesce(tags_json, ''), '"closed_by_merge"') > 0 as is_merged,
        is_deleted
    from zendesk_times
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

salesforce_times as (
    select * from salesforce_joined
),

salesforce_final as (
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
    from salesforce_times
),

unioned as (
    select * from zendesk_final
    union all
    select * from salesforce_final
),

final as (
    select
        ticket_key::VARCHAR as ticket_key,
        source_system::VARCHAR as source_system,
        source_ticket_id::VARCHAR as source_ticket_id,
        account_key::VARCHAR as account_key,
        requester_key::VARCHAR as requester_key,
        assignee_agent_key::VARCHAR as assignee_agent_key,
        group_key::VARCHAR as group_key,
        group_name::VARCHAR as group_name,
        support_tier::VARCHAR as support_tier,
        escalation_count::BIGINT as escalation_count,
        highest_tier::VARCHAR as highest_tier,
        is_escalated_before_first_solve::BOOLEAN as is_escalated_before_first_solve,
        channel_raw::VARCHAR as channel_raw,
        channel_group::VARCHAR as channel_group,
        priority::VARCHAR as priority,
        status::VARCHAR as status,
        status_raw::VARCHAR as status_raw,
        created_at::TIMESTAMP as created_at,
        updated_at::TIMESTAMP as updated_at,
        first_solved_at::TIMESTAMP as first_solved_at,
        solved_at::TIMESTAMP as solved_at,
        closed_at::TIMESTAMP as closed_at,
        resolved_at::TIMESTAMP as resolved_at,
        reply_count::BIGINT as reply_count,
        has_agent_activity::BOOLEAN as has_agent_activity,
        reopen_count::BIGINT as reopen_count,
        first_reply_minutes_calendar::DOUBLE as first_reply_minutes_calendar,
        first_reply_minutes_business::DOUBLE as first_reply_minutes_business,
        first_resolution_minutes_calendar::DOUBLE as first_resolution_minutes_calendar,
        first_resolution_minutes_business::DOUBLE as first_resolution_minutes_business,
        full_resolution_minutes_calendar::DOUBLE as full_resolution_minutes_calendar,
        full_resolution_minutes_business::DOUBLE as full_resolution_minutes_business,
        agent_wait_minutes_calendar::DOUBLE as agent_wait_minutes_calendar,
        agent_wait_minutes_business::DOUBLE as agent_wait_minutes_business,
        requester_wait_minutes_calendar::DOUBLE as requester_wait_minutes_calendar,
        requester_wait_minutes_business::DOUBLE as requester_wait_minutes_business,
        on_hold_minutes_calendar::DOUBLE as on_hold_minutes_calendar,
        on_hold_minutes_business::DOUBLE as on_hold_minutes_business,
        is_merged::BOOLEAN as is_merged,
        is_deleted::BOOLEAN as is_deleted,
        (resolved_at is not null)::BOOLEAN as is_resolved
    from unioned
)

select * from final
