-- 90th percentile (continuous) of full resolution time (calendar hours), by month of final
-- resolution. Not additive: the percentile of each slice, denominator 1.
select
    month_start, 'p90_resolution_hours' as kpi_name, segment, channel_group, support_tier,
    p90_hours as numerator, 1 as denominator
from intermediate.int_kpi_slices__final_resolutions
where timed_tickets > 0
