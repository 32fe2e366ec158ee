-- Customer retention (trailing 12 months): accounts of the cohort still active over the cohort.
select
    month_start, 'retention_rate' as kpi_name, segment, 'all' as channel_group, 'all' as support_tier,
    retained_accounts as numerator, cohort_accounts as denominator
from intermediate.int_kpi_slices__account_cohorts
