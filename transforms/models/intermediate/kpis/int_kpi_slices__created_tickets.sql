-- Tickets per month of creation and slice (cube: every total too): one pass over marts.fct_tickets
-- for the first-reply KPIs (first_reply_within_4h_rate, median_first_reply_hours). The median is
-- NULL where no ticket was replied. Deleted, merged and spam tickets are left out.
-- A NULL slice column is the total over it (marts.agg_kpi_monthly writes 'all').
with tickets as (
    select * from marts.fct_tickets
    where not is_excluded
),

final as (
    select
        date_trunc('month', created_at)::DATE as month_start,
        segment,
        channel_group,
        support_tier,
        count(is_first_reply_within_target) as first_reply_known_tickets,
        count(*) filter (where is_first_reply_within_target) as first_reply_within_target_tickets,
        count(first_reply_minutes) as replied_tickets,
        median(first_reply_minutes / 60.0) as median_first_reply_hours
    from tickets
    group by 1, cube (segment, channel_group, support_tier)
)

select * from final
