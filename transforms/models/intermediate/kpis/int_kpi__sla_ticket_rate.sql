-- SLA compliance (tickets): tickets with a completed SLA target and no breached one over tickets with
-- a completed target, by month of the ticket's latest completion, per slice (cube: every total too).
with sla as (
    select * from marts.fct_sla_targets
    where status in ('achieved', 'breached') and not is_excluded
),

sla_tickets as (
    select
        ticket_key,
        min(segment) as segment,
        min(channel_group) as channel_group,
        min(support_tier) as support_tier,
        max(completed_at) as last_completed_at,
        bool_or(is_breached) as has_breach
    from sla
    group by ticket_key
),

final as (
    select
        date_trunc('month', last_completed_at)::DATE as month_start,
        'sla_ticket_rate' as kpi_name,
        segment, channel_group, support_tier,
        count(*) filter (where not has_breach) as numerator,
        count(*) as denominator
    from sla_tickets
    group by 1, cube (segment, channel_group, support_tier)
)

select * from final
