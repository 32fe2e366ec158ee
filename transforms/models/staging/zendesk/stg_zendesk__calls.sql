-- Zendesk Talk calls (incremental calls export), times in UTC; durations in seconds.
with source as (
    select * from zendesk.calls
),

final as (
    select
        id as call_id,
        ticket_id,
        agent_id,
        direction,
        completion_status,
        duration as duration_seconds,
        talk_time as talk_seconds,
        hold_time as hold_seconds,
        wrap_up_time as wrap_up_seconds,
        wait_time as wait_seconds,
        time_to_answer as time_to_answer_seconds,
        created_at at time zone 'UTC' as created_at,
        updated_at at time zone 'UTC' as updated_at
    from source
)

select * from final
