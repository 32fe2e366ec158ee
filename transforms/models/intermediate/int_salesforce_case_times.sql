-- When each Salesforce case was first replied to, first solved and finally closed, in calendar time
-- and in business minutes (one row per case):
-- - first reply: the completed 'First Response' milestone (intermediate.int_salesforce_first_responses),
--   else the first agent comment (intermediate.int_salesforce_case_replies).
-- - first solve: the first Status change into a closed status (intermediate.int_salesforce_case_history),
--   else ClosedDate; a reopened case that is open again keeps its first solve (KPIS.md: the first time).
-- - final close: ClosedDate of a case closed now.
-- Business minutes: the business time between created and the event on the clock of the case's
-- BusinessHours (Case.BusinessHoursId, else the active default), intermediate.int_salesforce_business_clock:
-- the difference of the clock at both times. 0 when the span lies outside business hours, NULL when
-- no business hours are synced.
with cases as (
    select * from staging.stg_salesforce__cases
),

history as (
    select * from intermediate.int_salesforce_case_history
),

replies as (
    select * from intermediate.int_salesforce_case_replies
),

first_responses as (
    select * from intermediate.int_salesforce_first_responses
),

business_hours as (
    select * from staging.stg_salesforce__business_hours
    where is_active
),

clock as (
    select * from intermediate.int_salesforce_business_clock
),

default_hours as (
    select min(business_hours_id) as business_hours_id
    from business_hours
    where is_default
),

times as (
    select
        c.case_id,
        c.created_at,
        coalesce(fr.first_response_at, r.first_reply_at) as first_reply_at,
        least(h.first_closed_at, case when c.is_closed then c.closed_at end) as first_solved_at,
        case when c.is_closed then c.closed_at end as closed_at,
        coalesce(b.business_hours_id, d.business_hours_id) as business_hours_id
    from cases as c
    left join history as h on h.case_id = c.case_id
    left join replies as r on r.case_id = c.case_id
    left join first_responses as fr on fr.case_id = c.case_id
    left join business_hours as b on b.business_hours_id = c.business_hours_id
    cross join default_hours as d
),

points as (
    select case_id, business_hours_id, 'created' as point, created_at as point_at
    from times
    where business_hours_id is not null
    union all
    select case_id, business_hours_id, 'first_reply' as point, first_reply_at as point_at
    from times
    where business_hours_id is not null and first_reply_at is not null
    union all
    select case_id, business_hours_id, 'first_solve' as point, first_solved_at as point_at
    from times
    where business_hours_id is not null and first_solved_at is not null
    union all
    select case_id, business_hours_id, 'close' as point, closed_at as point_at
    from times
    where business_hours_id is not null and closed_at is not null
),

-- business seconds on the clock at each point (NULL pieces: a day without business time)
point_clock as (
    select
        p.case_id,
        p.point,
        min(k.seconds_before_day) + coalesce(
            sum(
                case
                    when k.piece_start is not null
                        then greatest(0, least(epoch(p.point_at), epoch(k.piece_end)) - epoch(k.piece_start))
                end
            ),
            0
        ) as clock_seconds
    from points as p
    inner join clock as k on k.business_hours_id = p.business_hours_id and k.utc_day = p.point_at::DATE
    group by p.case_id, p.point
),

clocks as (
    select
        case_id,
        max(case when point = 'created' then clock_seconds end) as created_clock,
        max(case when point = 'first_reply' then clock_seconds end) as first_reply_clock,
        max(case when point = 'first_solve' then clock_seconds end) as first_solve_clock,
        max(case when point = 'close' then clock_seconds end) as close_clock
    from point_clock
    group by case_id
),

final as (
    select
        t.case_id::VARCHAR as case_id,
        t.business_hours_id::VARCHAR as business_hours_id,
        t.first_reply_at::TIMESTAMP as first_reply_at,
        t.first_solved_at::TIMESTAMP as first_solved_at,
        t.closed_at::TIMESTAMP as closed_at,
        ((c.first_reply_clock - c.created_clock) / 60.0)::DOUBLE as first_reply_minutes_business,
        ((c.first_solve_clock - c.created_clock) / 60.0)::DOUBLE as first_resolution_minutes_business,
        ((c.close_clock - c.created_clock) / 60.0)::DOUBLE as full_resolution_minutes_business
    from times as t
    left join clocks as c on c.case_id = t.case_id
)

select * from final
