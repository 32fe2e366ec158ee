-- Self-service adoption: self-service resolutions over resolutions whose kind is known, by month of
-- first resolution.
select
    month_start, 'self_service_rate' as kpi_name, segment, channel_group, support_tier,
    self_service_tickets as numerator, self_service_known_tickets as denominator
from intermediate.int_kpi_slices__resolved_tickets
