-- Resolved within the target hours: over resolved tickets with a full resolution time, by month of
-- final resolution.
select
    month_start, 'resolution_within_24h_rate' as kpi_name, segment, channel_group, support_tier,
    within_target_tickets as numerator, timed_tickets as denominator
from intermediate.int_kpi_slices__final_resolutions
