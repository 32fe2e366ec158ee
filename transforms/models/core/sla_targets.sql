-- One row per SLA target instance (grain: sla_target_key): Zendesk ticket metric events folded per
-- ticket × metric × instance (an instance counts once an SLA was applied to it), and Salesforce case
-- milestones (metric: the MilestoneType's name, else its Id when the type is unknown). fulfilled_at is the last fulfilment (a reopened ticket fulfils again); a breach after it
-- never happened. status: achieved (fulfilled, no breach), breached, or running (neither yet).
-- Zendesk breach events marked deleted (the breach no longer applies, e.g. the policy or target
-- changed) are ignored, as Zendesk's reference says: "In general, you can ignore any breach event when
-- deleted is true" (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metric_events/,
-- the `deleted` property; event types in
-- https://developer.zendesk.com/documentation/ticketing/reference-guides/ticket-metric-event-types-reference/).
-- The API has no 'delete' event type: only activate, pause, fulfill, apply_sla, apply_group_sla,
-- breach, update_status and measure.
with events as (
    select * from staging.stg_zendesk__ticket_metric_events
),

milestones as (
    select * from staging.stg_salesforce__case_milestones
    where not is_deleted
),

milestone_types as (
    select * from staging.stg_salesforce__milestone_types
),

applied as (
    select
        ticket_id,
        metric,
        instance_id,
        sla_policy_id,
        sla_target_minutes,
        sla_business_hours,
        event_at,
        row_number() over (partition by ticket_id, metric, instance_id order by event_at desc, event_id desc) as rn
    from events
    where event_type = 'apply_sla'
),

folded as (
    select
        ticket_id,
        metric,
        instance_id,
        min(event_at) filter (where event_type = 'apply_sla') as applied_at,
        max(event_at) filter (where event_type = 'fulfill') as fulfilled_at,
        min(event_at) filter (where event_type = 'breach' and not is_event_deleted) as breached_at
    from events
    group by ticket_id, metric, instance_id
),

zendesk_targets as (
    select
        'zendesk:' || f.ticket_id::VARCHAR || ':' || f.metric || ':' || coalesce(f.instance_id::VARCHAR, '') as sla_target_key,
        'zendesk' as source_system,
        'zendesk:' || f.ticket_id::VARCHAR as ticket_key,
        f.metric,
        f.instance_id,
        a.sla_policy_id::VARCHAR as policy_id,
        a.sla_target_minutes as target_minutes,
        a.sla_business_hours as is_business_hours,
        f.applied_at,
        f.fulfilled_at,
        case when f.breached_at is not null and (f.fulfilled_at is null or f.breached_at < f.fulfilled_at)
            then f.breached_at
        end as breached_at
    from folded as f
    inner join applied as a
        on a.ticket_id = f.ticket_id and a.metric = f.metric
        and a.instance_id is not distinct from f.instance_id and a.rn = 1
),

salesforce_targets as (
    select
        'salesforce:' || m.case_milestone_id as sla_target_key,
        'salesforce' as source_system,
        'salesforce:' || m.case_id as ticket_key,
        coalesce(t.name, m.milestone_type_id) as metric,
        null::BIGINT as instance_id,
        m.milestone_type_id as policy_id,
        m.target_response_in_mins as target_minutes,
        m.business_hours_id is not null as is_business_hours,
        m.started_at as applied_at,
        case when m.is_completed then m.completed_at end as fulfilled_at,
        case when m.is_violated then coalesce(m.target_at, m.completed_at) end as breached_at
    from milestones as m
    left join milestone_types as t on t.milestone_type_id = m.milestone_type_id
),

unioned as (
    select * from zendesk_targets
    union all
    select * from salesforce_targets
),

final as (
    select
        sla_target_key::VARCHAR as sla_target_key,
        source_system::VARCHAR as source_system,
        ticket_key::VARCHAR as ticket_key,
        metric::VARCHAR as metric,
        instance_id::BIGINT as instance_id,
        policy_id::VARCHAR as policy_id,
        target_minutes::BIGINT as target_minutes,
        is_business_hours::BOOLEAN as is_business_hours,
        applied_at::TIMESTAMP as applied_at,
        fulfilled_at::TIMESTAMP as fulfilled_at,
        breached_at::TIMESTAMP as breached_at,
        case
            when breached_at is not null then 'breached'
            when fulfilled_at is not null then 'achieved'
            else 'running'
        end::VARCHAR as status
    from unioned
)

select * from final
