-- Business intervals of each active Salesforce BusinessHours, one row per business hours × local day
-- that has hours, as UTC wall-clock [start_at, end_at): the day's local start and end times
-- (MondayStartTime...; 00:00 as an end is midnight at the end of the day) read in the business hours'
-- time zone (TimeZoneSidKey), so daylight-saving changes move the UTC times. Days span the cases'
-- lifetime (two days of margin on each side for time-zone offsets). Holidays are not synced, so they
-- count as business days.
with business_hours as (
    select * from staging.stg_salesforce__business_hours
    where is_active
),

cases as (
    select * from staging.stg_salesforce__cases
),

bounds as (
    select
        (min(created_at)::DATE - INTERVAL 2 DAY)::DATE as first_day,
        (max(greatest(created_at, closed_at, last_modified_at, system_modstamp))::DATE + INTERVAL 2 DAY)::DATE
            as last_day
    from cases
),

days as (
    select g.d::DATE as day
    from bounds, generate_series(bounds.first_day, bounds.last_day, INTERVAL 1 DAY) as g(d)
    where bounds.first_day is not null
),

day_hours as (
    select
        b.business_hours_id,
        coalesce(b.time_zone, 'UTC') as time_zone,
        d.day,
        case extract(dow from d.day)
            when 0 then b.sunday_start_time
            when 1 then b.monday_start_time
            when 2 then b.tuesday_start_time
            when 3 then b.wednesday_start_time
            when 4 then b.thursday_start_time
            when 5 then b.friday_start_time
            when 6 then b.saturday_start_time
        end as start_time,
        case extract(dow from d.day)
            when 0 then b.sunday_end_time
            when 1 then b.monday_end_time
            when 2 then b.tuesday_end_time
            when 3 then b.wednesday_end_time
            when 4 then b.thursday_end_time
            when 5 then b.friday_end_time
            when 6 then b.saturday_end_time
        end as end_time
    from business_hours as b
    cross join days as d
),

day_minutes as (
    select
        business_hours_id,
        time_zone,
        day,
        substring(start_time, 1, 2)::BIGINT * 60 + substring(start_time, 4, 2)::BIGINT as start_minute,
        substring(end_time, 1, 2)::BIGINT * 60 + substring(end_time, 4, 2)::BIGINT as end_minute
    from day_hours
    where regexp_matches(start_time, '^[0-9][0-9]:[0-9][0-9]') and regexp_matches(end_time, '^[0-9][0-9]:[0-9][0-9]')
),

local_intervals as (
    select
        business_hours_id,
        time_zone,
        day,
        day::TIMESTAMP + start_minute * INTERVAL '1 minute' as local_start,
        day::TIMESTAMP + (case when end_minute = 0 then 1440 else end_minute end) * INTERVAL '1 minute' as local_end
    from day_minutes
    where end_minute = 0 or end_minute > start_minute
),

final as (
    select
        business_hours_id::VARCHAR as business_hours_id,
        day::DATE as local_day,
        ((local_start at time zone time_zone) at time zone 'UTC')::TIMESTAMP as start_at,
        ((local_end at time zone time_zone) at time zone 'UTC')::TIMESTAMP as end_at
    from local_intervals
)

select * from final
