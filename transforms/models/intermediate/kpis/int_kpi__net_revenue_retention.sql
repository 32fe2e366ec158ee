-- Net revenue retention (trailing 12 months): the cohort's ARR now over its ARR 12 months earlier.
select
    month_start, 'net_revenue_retention' as kpi_name, segment, 'all' as channel_group, 'all' as support_tier,
    now_arr as numerator, start_arr as denominator
from intermediate.int_kpi_slices__account_cohorts
