-- CSAT % positive: good responses over good plus bad ones, by month of response.
select
    month_start, 'csat_pct_positive' as kpi_name, segment, channel_group, support_tier,
    positive_responses as numerator, rated_responses as denominator
from intermediate.int_kpi_slices__survey_responses
