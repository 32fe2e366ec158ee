-- SLA compliance: achieved SLA targets over achieved plus breached ones (running targets left out), by
-- month of completion or breach, per slice (cube: every total too).
with sla as (
    select * from marts.fct_sla_targets
    where status in ('achieved', 'breached') and not is_excluded
),

final as (
    select
        date_trunc('month', completed_at)::DATE as month_start,
        'sla_compliance' as kpi_name,
        segment, channel_group, support_tier,
        count(*) filter (where is_achieved) as numerator,
        count(*) as denominator
    from sla
    group by 1, cube (segment, channel_group, support_tier)
)

select * from final
