-- Customer lifetime value: average ARR per active account × gross margin ÷ the trailing-12-month logo
-- churn rate of intermediate.int_kpi_slices__account_cohorts, by month and segment (and their total).
-- Not additive; no row where nothing churned.
with account_months as (
    select * from marts.fct_account_monthly
),

cohorts as (
    select * from intermediate.int_kpi_slices__account_cohorts
),

settings as (
    select * from supportlake_config.settings
),

active_arr as (
    select
        month_start,
        coalesce(segment, 'all') as segment,
        sum(arr) / count(*) as average_arr
    from account_months
    where is_active
    group by 1, cube (segment)
),

final as (
    select
        a.month_start,
        'customer_lifetime_value' as kpi_name,
        a.segment, 'all' as channel_group, 'all' as support_tier,
        a.average_arr * (select max(number) from settings where name = 'revenue.gross_margin') as numerator,
        c.churn_rate as denominator
    from active_arr as a
    inner join cohorts as c on c.month_start = a.month_start and coalesce(c.segment, 'all') = a.segment
    where c.churn_rate > 0
)

select * from final
