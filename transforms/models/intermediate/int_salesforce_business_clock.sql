-- A running business clock per Salesforce BusinessHours, so that business minutes between two times
-- are a difference of two lookups joined on (business hours, UTC day): cheap at a million cases,
-- with no range join of cases against the calendar. One row per business hours × UTC day × piece of
-- a business interval within that day (a day without business time has one row with NULL piece):
-- seconds_before_day = business seconds from the calendar's first day to the day's start; the
-- business seconds up to a time t on that day = seconds_before_day + the pieces' overlap with
-- [piece_start, t]. Intervals come from intermediate.int_salesforce_business_intervals (cut at UTC
-- midnights here).
with intervals as (
    select * from intermediate.int_salesforce_business_intervals
),

business_hours as (
    select * from staging.stg_salesforce__business_hours
    where is_active
),

bounds as (
    select
        (min(start_at)::DATE - INTERVAL 1 DAY)::DATE as first_day,
        (max(end_at)::DATE + INTERVAL 1 DAY)::DATE as last_day
    from intervals
),

days as (
    select g.d::DATE as utc_day
    from bounds, generate_series(bounds.first_day, bounds.last_day, INTERVAL 1 DAY) as g(d)
    where bounds.first_day is not null
),

pieces as (
    select
        i.business_hours_id,
        d.utc_day,
        greatest(i.start_at, d.utc_day::TIMESTAMP) as piece_start,
        least(i.end_at, (d.utc_day + INTERVAL 1 DAY)::TIMESTAMP) as piece_end
    from intervals as i
    inner join days as d
        on d.utc_day >= i.start_at::DATE
        and d.utc_day <= i.end_at::DATE
),

nonempty_pieces as (
    select * from pieces
    where piece_end > piece_start
),

daily as (
    select
        business_hours_id,
        utc_day,
        sum(epoch(piece_end) - epoch(piece_start)) as day_seconds
    from nonempty_pieces
    group by business_hours_id, utc_day
),

grid as (
    select
        b.business_hours_id,
        d.utc_day,
        coalesce(dl.day_seconds, 0) as day_seconds
    from business_hours as b
    cross join days as d
    left join daily as dl on dl.business_hours_id = b.business_hours_id and dl.utc_day = d.utc_day
),

cumulative as (
    select
        business_hours_id,
        utc_day,
        coalesce(
            -- utc_day is never NULL; 'nulls first' only spares BigQuery a NULLS LAST it cannot take
            sum(day_seconds) over (
                partition by business_hours_id order by utc_day nulls first
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as seconds_before_day
    from grid
),

final as (
    select
        c.business_hours_id::VARCHAR as business_hours_id,
        c.utc_day::DATE as utc_day,
        c.seconds_before_day::DOUBLE as seconds_before_day,
        p.piece_start::TIMESTAMP as piece_start,
        p.piece_end::TIMESTAMP as piece_end
    from cumulative as c
    left join nonempty_pieces as p on p.business_hours_id = c.business_hours_id and p.utc_day = c.utc_day
)

select * from final
