-- Every KPI of the catalogue (transforms/kpis.py) per month and slice (grain: month_start, kpi_name,
-- segment, channel_group, support_tier), long format: value = numerator / denominator on every row, so
-- Tableau re-aggregates additive KPIs as SUM(numerator) / SUM(denominator)
-- (marts.kpi_definitions.aggregation says how). Each KPI is one model,
-- intermediate.int_kpi__<kpi_name> (transforms/models/intermediate/kpis/), giving month_start,
-- kpi_name, the slice columns, numerator and denominator; this is their union with the catalogue's
-- target. 'all' in a slice column marks the total over it; a KPI not broken down by a column has
-- 'all' there. A month or slice with nothing to count has no row (never a silent 0); a KPI whose
-- inputs are missing has no rows at all, and kpi_definitions says why.
with kpi_rows as (
    select * from intermediate.int_kpi__fcr_rate
    union all
    select * from intermediate.int_kpi__csat_avg_5pt
    union all
    select * from intermediate.int_kpi__csat_pct_positive
    union all
    select * from intermediate.int_kpi__nps
    union all
    select * from intermediate.int_kpi__aht_minutes
    union all
    select * from intermediate.int_kpi__sla_compliance
    union all
    select * from intermediate.int_kpi__resolution_within_24h_rate
    union all
    select * from intermediate.int_kpi__median_resolution_hours
    union all
    select * from intermediate.int_kpi__first_reply_within_4h_rate
    union all
    select * from intermediate.int_kpi__self_service_rate
    union all
    select * from intermediate.int_kpi__kb_utilization_rate
    union all
    select * from intermediate.int_kpi__retention_rate
    union all
    select * from intermediate.int_kpi__net_revenue_retention
    union all
    select * from intermediate.int_kpi__expansion_revenue
    union all
    select * from intermediate.int_kpi__support_cost_pct_revenue
    union all
    select * from intermediate.int_kpi__customer_lifetime_value
    union all
    select * from intermediate.int_kpi__time_to_value_days
    union all
    select * from intermediate.int_kpi__csat_response_rate
    union all
    select * from intermediate.int_kpi__sla_ticket_rate
    union all
    select * from intermediate.int_kpi__p90_resolution_hours
    union all
    select * from intermediate.int_kpi__median_resolution_business_hours
    union all
    select * from intermediate.int_kpi__median_first_reply_hours
    union all
    select * from intermediate.int_kpi__expansion_arr_delta
),

catalog as (
    select * from supportlake_config.kpi_catalog
),

valued as (
    select
        r.month_start,
        r.kpi_name,
        coalesce(r.segment, 'all') as segment,
        coalesce(r.channel_group, 'all') as channel_group,
        coalesce(r.support_tier, 'all') as support_tier,
        r.numerator::DOUBLE as numerator,
        r.denominator::DOUBLE as denominator,
        r.numerator::DOUBLE / r.denominator::DOUBLE as value,
        c.target,
        c.direction
    from kpi_rows as r
    inner join catalog as c on c.kpi_name = r.kpi_name
    where r.month_start is not null and r.denominator is not null and r.denominator <> 0
),

final as (
    select
        month_start::DATE as month_start,
        kpi_name::VARCHAR as kpi_name,
        segment::VARCHAR as segment,
        channel_group::VARCHAR as channel_group,
        support_tier::VARCHAR as support_tier,
        numerator::DOUBLE as numerator,
        denominator::DOUBLE as denominator,
        value::DOUBLE as value,
        target::DOUBLE as target,
        case
            when target is null or value is null then null
            when direction = 'lower_is_better' then value <= target
            else value >= target
        end::BOOLEAN as is_target_met
    from valued
)

select * from final
