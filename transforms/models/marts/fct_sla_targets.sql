-- One row per SLA target instance (grain: sla_target_key): a Zendesk metric instance with an SLA
-- applied or a Salesforce case milestone, with its ticket's slices. A target counts toward the month
-- it completed in (fulfilled, or breached); running targets have no completion and count nowhere.
with targets as (
    select * from core.sla_targets
),

tickets as (
    select * from marts.fct_tickets
),

final as (
    select
        s.sla_target_key::VARCHAR as sla_target_key,
        s.ticket_key::VARCHAR as ticket_key,
        s.source_system::VARCHAR as source_system,
        s.metric::VARCHAR as metric,
        s.policy_id::VARCHAR as policy_id,
        s.target_minutes::BIGINT as target_minutes,
        s.is_business_hours::BOOLEAN as is_business_hours,
        s.applied_at::TIMESTAMP as applied_at,
        s.fulfilled_at::TIMESTAMP as fulfilled_at,
        s.breached_at::TIMESTAMP as breached_at,
        case s.status
            when 'breached' then s.breached_at
            when 'achieved' then s.fulfilled_at
        end::TIMESTAMP as completed_at,
        case s.status
            when 'breached' then s.breached_at
            when 'achieved' then s.fulfilled_at
        end::DATE as completed_date,
        s.status::VARCHAR as status,
        (s.status = 'achieved')::BOOLEAN as is_achieved,
        (s.status = 'breached')::BOOLEAN as is_breached,
        coalesce(t.segment, 'Unassigned')::VARCHAR as segment,
        coalesce(t.channel_group, 'other')::VARCHAR as channel_group,
        coalesce(t.support_tier, 'Unassigned')::VARCHAR as support_tier,
        coalesce(t.is_excluded, true)::BOOLEAN as is_excluded
    from targets as s
    left join tickets as t on t.ticket_key = s.ticket_key
)

select * from final
