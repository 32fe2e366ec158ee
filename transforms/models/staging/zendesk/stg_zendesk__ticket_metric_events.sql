-- Zendesk ticket metric events (apply_sla, activate, pause, fulfill, breach, ...), times in UTC.
with source as (
    select * from zendesk.ticket_metric_events
),

final as (
    select
        id as event_id,
        ticket_id,
        metric,
        instance_id,
        type as event_type,
        time at time zone 'UTC' as event_at,
        sla__target as sla_target_minutes,
        sla__business_hours as sla_business_hours,
        sla__policy__id as sla_policy_id,
        coalesce(deleted, false) as is_event_deleted
    from source
)

select * from final
