-- Trailing-12-month account cohorts per month and segment (cube: the total too): the accounts
-- active 12 months before the month, with the segment they had then, and what became of them. One
-- pass over marts.fct_account_monthly for retention_rate, net_revenue_retention and the churn rate
-- of customer_lifetime_value.
-- A NULL slice column is the total over it (marts.agg_kpi_monthly writes 'all').
with account_months as (
    select * from marts.fct_account_monthly
),

cohorts as (
    select
        now_row.month_start,
        start_row.segment,
        start_row.arr as start_arr,
        coalesce(now_row.arr, 0) as now_arr,
        coalesce(now_row.is_active, false) as is_retained
    from account_months as start_row
    inner join account_months as now_row
        on now_row.account_key = start_row.account_key
        and now_row.month_start = (start_row.month_start + INTERVAL 12 MONTH)::DATE
    where start_row.is_active
),

final as (
    select
        month_start,
        segment,
        count(*) as cohort_accounts,
        count(*) filter (where is_retained) as retained_accounts,
        count(*) filter (where not is_retained) * 1.0 / count(*) as churn_rate,
        sum(start_arr) as start_arr,
        sum(now_arr) as now_arr
    from cohorts
    group by 1, cube (segment)
)

select * from final
