-- Resolved tickets per month of first resolution (resolved_at) and slice (cube: every total too):
-- one pass over marts.fct_tickets for the KPIs counted on it (fcr_rate, self_service_rate,
-- kb_utilization_rate). Deleted, merged and spam tickets are left out.
-- A NULL slice column is the total over it (marts.agg_kpi_monthly writes 'all').
with tickets as (
    select * from marts.fct_tickets
    where not is_excluded and is_resolved
),

final as (
    select
        date_trunc('month', resolved_at)::DATE as month_start,
        segment,
        channel_group,
        support_tier,
        count(*) as resolved_tickets,
        count(is_fcr) as fcr_known_tickets,
        count(*) filter (where is_fcr) as fcr_tickets,
        count(is_self_service) as self_service_known_tickets,
        count(*) filter (where is_self_service) as self_service_tickets,
        count(*) filter (where has_kb_link_before_resolution) as kb_linked_tickets
    from tickets
    group by 1, cube (segment, channel_group, support_tier)
)

select * from final
