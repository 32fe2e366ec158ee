-- Resolved tickets per month of final resolution (final_resolved_at) and slice (cube: every total
-- too): one pass over marts.fct_tickets for the resolution-time KPIs (resolution_within_24h_rate,
-- median_resolution_hours, p90_resolution_hours, median_resolution_business_hours). A percentile
-- is NULL where its count is 0. Deleted, merged and spam tickets are left out.
-- A NULL slice column is the total over it (marts.agg_kpi_monthly writes 'all').
with tickets as (
    select * from marts.fct_tickets
    where not is_excluded and is_resolved
),

final as (
    select
        date_trunc('month', final_resolved_at)::DATE as month_start,
        segment,
        channel_group,
        support_tier,
        count(full_resolution_minutes) as timed_tickets,
        count(*) filter (
            where is_resolved_within_target and full_resolution_minutes is not null
        ) as within_target_tickets,
        median(full_resolution_minutes / 60.0) as median_hours,
        quantile_cont(full_resolution_minutes / 60.0, 0.9) as p90_hours,
        count(full_resolution_minutes_business) as business_timed_tickets,
        median(full_resolution_minutes_business / 60.0) as median_business_hours
    from tickets
    group by 1, cube (segment, channel_group, support_tier)
)

select * from final
