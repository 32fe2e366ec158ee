-- One row per Zendesk ticket, enriched, in core.tickets' columns (before their final types).
-- Account: a ticket whose configured ticket field names a live Salesforce Account belongs to it, else
-- to its organization's account (intermediate.int_zendesk_organization_matches).
-- Support tier: from the group's name (intermediate.int_support_tiers).
-- Escalations: Zendesk has no group history, only ticket_metrics.group_stations (groups the ticket
-- passed through): every move counts, as before the first solve, and the highest tier is the current
-- group's.
-- has_agent_activity: a public agent reply.
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

final as (
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
)

select * from final
