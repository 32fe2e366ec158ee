-- Zendesk ticket metric sets: one row per ticket, times in UTC, minutes as Zendesk computed them.
with source as (
    select * from zendesk.ticket_metrics
),

final as (
    select
        id as ticket_metric_id,
        ticket_id,
        created_at at time zone 'UTC' as created_at,
        updated_at at time zone 'UTC' as updated_at,
        reopens,
        replies,
        group_stations,
        assignee_stations,
        solved_at at time zone 'UTC' as solved_at,
        assigned_at at time zone 'UTC' as assigned_at,
        initially_assigned_at at time zone 'UTC' as initially_assigned_at,
        latest_comment_added_at at time zone 'UTC' as latest_comment_added_at,
        status_updated_at at time zone 'UTC' as status_updated_at,
        reply_time_in_minutes__calendar as reply_minutes_calendar,
        reply_time_in_minutes__business as reply_minutes_business,
        first_resolution_time_in_minutes__calendar as first_resolution_minutes_calendar,
        first_resolution_time_in_minutes__business as first_resolution_minutes_business,
        full_resolution_time_in_minutes__calendar as full_resolution_minutes_calendar,
        full_resolution_time_in_minutes__business as full_resolution_minutes_business,
        agent_wait_time_in_minutes__calendar as agent_wait_minutes_calendar,
        agent_wait_time_in_minutes__business as agent_wait_minutes_business,
        requester_wait_time_in_minutes__calendar as requester_wait_minutes_calendar,
        requester_wait_time_in_minutes__business as requester_wait_minutes_business,
        on_hold_time_in_minutes__calendar as on_hold_minutes_calendar,
        on_hold_time_in_minutes__business as on_hold_minutes_business
    from source
)

select * from final
