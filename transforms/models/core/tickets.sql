-- One row per Zendesk ticket and per Salesforce case (grain: ticket_key): each system's enrichment
-- (account, support tier, escalations, replies, first reply and solve, agent activity) is in its own
-- intermediate model, intermediate.int_zendesk_tickets and intermediate.int_salesforce_cases, which
-- give the same columns in the same order; here they are unioned and typed.
with zendesk_tickets as (
    select * from intermediate.int_zendesk_tickets
),

salesforce_cases as (
    select * from intermediate.int_salesforce_cases
),

unioned as (
    select * from zendesk_tickets
    union all
    select * from salesforce_cases
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
