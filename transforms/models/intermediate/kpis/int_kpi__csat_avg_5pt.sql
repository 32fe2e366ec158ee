-- CSAT average: the sum of the scores (1-5) over the responses, by month of response.
select
    month_start, 'csat_avg_5pt' as kpi_name, segment, channel_group, support_tier,
    score_sum as numerator, responses as denominator
from intermediate.int_kpi_slices__survey_responses
