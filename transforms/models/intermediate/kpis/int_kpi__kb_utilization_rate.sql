-- Knowledge-base utilisation: resolved tickets with an article linked on or before the first solve
-- over resolved tickets, by month of first resolution.
select
    month_start, 'kb_utilization_rate' as kpi_name, segment, channel_group, support_tier,
    kb_linked_tickets as numerator, resolved_tickets as denominator
from intermediate.int_kpi_slices__resolved_tickets
