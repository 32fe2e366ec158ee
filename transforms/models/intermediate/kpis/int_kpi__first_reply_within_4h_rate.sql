-- First reply within the target hours: over tickets replied, or unreplied and older than the target,
-- by month of creation.
select
    month_start, 'first_reply_within_4h_rate' as kpi_name, segment, channel_group, support_tier,
    first_reply_within_target_tickets as numerator, first_reply_known_tickets as denominator
from intermediate.int_kpi_slices__created_tickets
