-- Salesforce Omni-Channel AgentWork, times in UTC; durations in seconds; deleted ones flagged (_sl_deleted).
with source as (
    select * from salesforce.agent_work
),

final as (
    select
        id as agent_work_id,
        user_id,
        work_item_id,
        service_channel_id,
        original_queue_id,
        status,
        request_date_time at time zone 'UTC' as requested_at,
        assigned_date_time at time zone 'UTC' as assigned_at,
        accept_date_time at time zone 'UTC' as accepted_at,
        close_date_time at time zone 'UTC' as closed_at,
        handle_time as handle_seconds,
        active_time as active_seconds,
        speed_to_answer as speed_to_answer_seconds,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
