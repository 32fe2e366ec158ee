-- Support cost as % of revenue: the month's support cost (inputs.input_support_cost_monthly) over the
-- revenue recognised in the month; no slices.
with cost_input as (
    select * from inputs.input_support_cost_monthly
),

account_months as (
    select * from marts.fct_account_monthly
),

revenue as (
    select month_start, sum(revenue_recognized) as revenue
    from account_months
    group by month_start
),

final as (
    select
        c.month as month_start,
        'support_cost_pct_revenue' as kpi_name,
        'all' as segment, 'all' as channel_group, 'all' as support_tier,
        c.cost as numerator,
        r.revenue as denominator
    from cost_input as c
    inner join revenue as r on r.month_start = c.month
    where r.revenue > 0
)

select * from final
