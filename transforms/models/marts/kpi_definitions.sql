-- One row per KPI (grain: kpi_name): the definition of KPIS.md, its configured target and whether it
-- has data. A KPI with no rows in agg_kpi_monthly says why in availability, never a silent 0.
with catalog as (
    select * from supportlake_config.kpi_catalog
),

kpis as (
    select * from marts.agg_kpi_monthly
),

coverage as (
    select
        kpi_name,
        count(*) as row_count,
        min(month_start) as first_month,
        max(month_start) as last_month
    from kpis
    group by kpi_name
),

final as (
    select
        c.kpi_name::VARCHAR as kpi_name,
        c.caption::VARCHAR as caption,
        c.definition::VARCHAR as definition,
        c.numerator_description::VARCHAR as numerator_description,
        c.denominator_description::VARCHAR as denominator_description,
        c.unit::VARCHAR as unit,
        c.direction::VARCHAR as direction,
        c.target::DOUBLE as target,
        c.target_source::VARCHAR as target_source,
        c.grain::VARCHAR as grain,
        c.date_counted::VARCHAR as date_counted,
        c.dimensions::VARCHAR as dimensions,
        c.aggregation::VARCHAR as aggregation,
        coalesce(v.row_count, 0)::BIGINT as row_count,
        v.first_month::DATE as first_month,
        v.last_month::DATE as last_month,
        case
            when v.row_count is not null then 'available'
            else 'no data: needs ' || coalesce(c.requires, 'tickets in the warehouse')
        end::VARCHAR as availability,
        c.definition_version::VARCHAR as definition_version
    from catalog as c
    left join coverage as v on v.kpi_name = c.kpi_name
)

select * from final
