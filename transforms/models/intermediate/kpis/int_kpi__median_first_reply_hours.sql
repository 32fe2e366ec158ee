-- Median first reply time (calendar hours) of the replied tickets, by month of creation. Not
-- additive: the median of each slice, denominator 1.
select
    month_start, 'median_first_reply_hours' as kpi_name, segment, channel_group, support_tier,
    median_first_reply_hours as numerator, 1 as denominator
from intermediate.int_kpi_slices__created_tickets
where replied_tickets > 0
