-- One row per day (grain: date_day) from the first month of any ticket or won Opportunity to the end
-- of the latest month of either, so every fact date and month_start joins to it.
with tickets as (
    select * from core.tickets
),

opportunities as (
    select * from core.opportunities
),

dates as (
    select created_at::DATE as d from tickets
    union all
    select coalesce(solved_at, closed_at)::DATE as d from tickets
    union all
    select close_date as d from opportunities where is_won
),

bounds as (
    select
        date_trunc('month', min(d))::DATE as first_day,
        last_day(max(d))::DATE as last_day_of_data
    from dates
),

days as (
    select g.d::DATE as date_day
    from bounds as b,
        generate_series(b.first_day, b.last_day_of_data, INTERVAL 1 DAY) as g(d)
),

final as (
    select
        date_day::DATE as date_day,
        date_trunc('week', date_day)::DATE as week_start,
        date_trunc('month', date_day)::DATE as month_start,
        date_trunc('quarter', date_day)::DATE as quarter_start,
        date_trunc('year', date_day)::DATE as year_start,
        extract(year from date_day)::BIGINT as year_number,
        extract(quarter from date_day)::BIGINT as quarter_number,
        extract(month from date_day)::BIGINT as month_number,
        extract(day from date_day)::BIGINT as day_of_month,
        extract(isodow from date_day)::BIGINT as iso_day_of_week,
        case extract(isodow from date_day)::BIGINT
            when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday' when 4 then 'Thursday'
            when 5 then 'Friday' when 6 then 'Saturday' else 'Sunday'
        end::VARCHAR as day_name,
        case extract(month from date_day)::BIGINT
            when 1 then 'January' when 2 then 'February' when 3 then 'March' when 4 then 'April'
            when 5 then 'May' when 6 then 'June' when 7 then 'July' when 8 then 'August'
            when 9 then 'September' when 10 then 'October' when 11 then 'November' else 'December'
        end::VARCHAR as month_name,
        strftime(date_day, '%Y-%m')::VARCHAR as year_month,
        (extract(isodow from date_day) >= 6)::BOOLEAN as is_weekend
    from days
)

select * from final
