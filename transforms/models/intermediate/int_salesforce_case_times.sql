-- When each Salesforce case was first replied to, first solved and finally closed, in calendar time
-- and in business minutes (one row per case):
-- - first reply: the completed 'First Response' milestone (intermediate.int_salesforce_first_responses),
--   else the first agent comment (intermediate.int_salesforce_case_replies).
-- - first solve: the first Status change into a closed status (intermediate.int_salesforce_case_history),
--   else ClosedDate; a reopened case that is open again keeps its first solve (KPIS.md: the first time).
-- - final close: ClosedDate of a case closed now.
-- Business minutes: the overlap of created → event with the intervals of the case's BusinessHours
-- (Case.BusinessHoursId, else the active default) from intermediate.int_salesforce_business_intervals;
-- 0 when the span lies outside business hours, NULL when no business hours are synced.
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

intervals as (
    select * from intermediate.int_salesforce_business_intervals
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

spans as (
    select case_id, business_hours_id, 'first_reply' as span, created_at as span_start, first_reply_at as span_end
    from times
    where first_reply_at is not null and business_hours_id is not null
    union all
    select case_id, business_hours_id, 'first_solve' as span, created_at as span_start, first_solved_at as span_end
    from times
    where first_solved_at is not null and business_hours_id is not null
    union all
    select case_id, business_hours_id, 'close' as span, created_at as span_start, closed_at as span_end
    from times
    where closed_at is not null and business_hours_id is not null
),

span_overlaps as (
    select
        s.case_id,
        s.span,
        -- least/greatest skip NULLs: a span without any interval must not fall back to itself
        coalesce(
            sum(
                case
                    when i.start_at is not null
                        then epoch(least(s.span_end, i.end_at)) - epoch(greatest(s.span_start, i.start_at))
                end
            ),
            0
        ) / 60.0 as business_minutes
    from spans as s
    left join intervals as i
        on i.business_hours_id = s.business_hours_id
        and i.start_at < s.span_end
        and i.end_at > s.span_start
    group by s.case_id, s.span
),

final as (
    select
        t.case_id::VARCHAR as case_id,
        t.business_hours_id::VARCHAR as business_hours_id,
        t.first_reply_at::TIMESTAMP as first_reply_at,
        t.first_solved_at::TIMESTAMP as first_solved_at,
        t.closed_at::TIMESTAMP as closed_at,
        max(case when o.span = 'first_reply' then o.business_minutes end)::DOUBLE as first_reply_minutes_business,
        max(case when o.span = 'first_solve' then o.business_minutes end)::DOUBLE as first_resolution_minutes_business,
        max(case when o.span = 'close' then o.business_minutes end)::DOUBLE as full_resolution_minutes_business
    from times as t
    left join span_overlaps as o on o.case_id = t.case_id
    group by t.case_id, t.business_hours_id, t.first_reply_at, t.first_solved_at, t.closed_at
)

select * from final
