-- One row per Zendesk ticket and per Salesforce case (grain: ticket_key).
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

salesforce_cases as (
    select * from staging.stg_salesforce__cases
),

salesforce_groups as (
    select * from staging.stg_salesforce__groups
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
        g.name as group_name,
        o.salesforce_account_id as matched_account_id
    from zendesk_tickets as t
    left join zendesk_metrics as m on m.ticket_id = t.ticket_id
    left join zendesk_groups as g on g.group_id = t.group_id
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
            'salesforce:' || matched_account_id, 'zendesk:' || organization_id::VARCHAR
        ) as account_key,
        'zendesk:' || requester_id::VARCHAR as requester_key,
        'zendesk:' || assignee_id::VARCHAR as assignee_agent_key,
        'zendesk:' || group_id::VARCHAR as group_key,
        group_name,
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
        lower(c.status) as status_lower
    from salesforce_cases as c
    left join salesforce_groups as g on g.group_id = c.owner_id
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
        case when is_closed then closed_at end as first_solved_at,
        case when is_closed then closed_at end as solved_at,
        case when is_closed then closed_at end as closed_at,
        case when is_closed then closed_at end as resolved_at,
        null::BIGINT as reply_count,
        null::BIGINT as reopen_count,
        null::DOUBLE as first_reply_minutes_calendar,
        null::DOUBLE as first_reply_minutes_business,
        case when is_closed then (epoch(closed_at) - epoch(created_at)) / 60.0 end as first_resolution_minutes_calendar,
        null::DOUBLE as first_resolution_minutes_business,
        case when is_closed then (epoch(closed_at) - epoch(created_at)) / 60.0 end as full_resolution_minutes_calendar,
        null::DOUBLE as full_resolution_minutes_business,
        null::DOUBLE as agent_wait_minutes_calendar,
        null::DOUBLE as agent_wait_minutes_business,
        null::DOUBLE as requester_wait_minutes_calendar,
        null::DOUBLE as requester_wait_minutes_business,
        null::DOUBLE as on_hold_minutes_calendar,
        null::DOUBLE as on_hold_minutes_business,
        master_record_id is not null as is_merged,
        is_deleted
    from salesforce_joined
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
        case
            when regexp_matches(lower(coalesce(group_name, '')), 'tier ?[1-3]')
                then 'Tier ' || regexp_extract(lower(group_name), 'tier ?([1-3])', 1)
        end::VARCHAR as support_tier,
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
