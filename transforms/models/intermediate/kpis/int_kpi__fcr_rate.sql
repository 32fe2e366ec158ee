-- First contact resolution: resolved tickets resolved at first contact over resolved tickets whose
-- first contact resolution is known, by month of first resolution.
select
    month_start, 'fcr_rate' as kpi_name, segment, channel_group, support_tier,
    fcr_tickets as numerator, fcr_known_tickets as denominator
from intermediate.int_kpi_slices__resolved_tickets
