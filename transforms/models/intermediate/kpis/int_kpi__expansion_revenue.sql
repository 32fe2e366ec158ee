-- Expansion revenue: won Opportunity amounts of the configured expansion types, by month of close,
-- per segment of the account that month (cube: the total too).
with opportunities as (
    select * from core.opportunities
    where is_won and not is_deleted and amount is not null
),

account_months as (
    select * from marts.fct_account_monthly
),

settings as (
    select * from supportlake_config.settings
),

final as (
    select
        date_trunc('month', o.close_date)::DATE as month_start,
        'expansion_revenue' as kpi_name,
        coalesce(m.segment, 'Unassigned') as segment, 'all' as channel_group, 'all' as support_tier,
        sum(o.amount) as numerator,
        1 as denominator
    from opportunities as o
    left join account_months as m
        on m.account_key = o.account_key and m.month_start = date_trunc('month', o.close_date)::DATE
    where o.opportunity_type in (select value from settings where name = 'revenue.expansion_types')
    group by 1, cube (coalesce(m.segment, 'Unassigned'))
)

select * from final
