-- One row per account × month (grain: account_key, month_start) from the account's first won
-- Opportunity's month to the latest month of any data. ARR model: each won Opportunity (any type)
-- counts its Amount as ARR for the 12 months from its close date; an account is active in a month
-- when its ARR at the month's end is above 0. The month's change in ARR is split into new,
-- expansion, contraction and churn (DESIGN 7; KPIS.md retention, NRR, expansion).
with opportunities as (
    select * from core.opportunities
    where is_won and not is_deleted and amount is not null and close_date is not null and account_key is not null
),

tickets as (
    select * from core.tickets
),

settings as (
    select * from supportlake_config.settings
),

bounds as (
    select
        min(date_trunc('month', o.close_date)::DATE) as first_month,
        greatest(
            max(date_trunc('month', o.close_date)::DATE),
            (select max(date_trunc('month', t.created_at)::DATE) from tickets as t)
        ) as last_month
    from opportunities as o
),

months as (
    select g.m::DATE as month_start
    from bounds as b,
        generate_series(b.first_month, b.last_month, INTERVAL 1 MONTH) as g(m)
),

account_starts as (
    select
        account_key,
        min(date_trunc('month', close_date)::DATE) as first_month
    from opportunities
    group by account_key
),

grid as (
    select
        a.account_key,
        m.month_start,
        (m.month_start + INTERVAL 1 MONTH)::DATE as next_month_start
    from account_starts as a
    inner join months as m on m.month_start >= a.first_month
),

arr as (
    select
        g.account_key,
        g.month_start,
        coalesce(sum(o.amount), 0) as arr
    from grid as g
    left join opportunities as o
        on o.account_key = g.account_key
        and o.close_date < g.next_month_start
        and o.close_date >= (g.next_month_start - INTERVAL 12 MONTH)::DATE
    group by g.account_key, g.month_start
),

with_previous as (
    select
        account_key,
        month_start,
        arr,
        coalesce(lag(arr) over (partition by account_key order by month_start), 0) as arr_previous,
        coalesce(
            max(case when arr > 0 then 1 else 0 end) over (
                partition by account_key order by month_start nulls first
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as was_ever_active_before
    from arr
),

field_segments as (
    select * from intermediate.int_account_field_segments
),

thresholds as (
    select
        max(case when name = 'segments.enterprise_min_arr' then number end) as enterprise_min_arr,
        max(case when name = 'segments.mid_market_min_arr' then number end) as mid_market_min_arr
    from settings
),

final as (
    select
        p.account_key::VARCHAR as account_key,
        p.month_start::DATE as month_start,
        p.arr::DOUBLE as arr,
        p.arr_previous::DOUBLE as arr_previous,
        (p.arr / 12.0)::DOUBLE as revenue_recognized,
        (case when p.arr_previous = 0 and p.arr > 0 then p.arr else 0 end)::DOUBLE as new_arr,
        (case when p.arr_previous > 0 and p.arr > p.arr_previous then p.arr - p.arr_previous else 0 end)::DOUBLE
            as expansion_arr,
        (case when p.arr_previous > 0 and p.arr > 0 and p.arr < p.arr_previous then p.arr_previous - p.arr else 0 end)
            ::DOUBLE as contraction_arr,
        (case when p.arr_previous > 0 and p.arr = 0 then p.arr_previous else 0 end)::DOUBLE as churned_arr,
        (p.arr > 0)::BOOLEAN as is_active,
        (p.arr > 0 and p.arr_previous = 0 and p.was_ever_active_before = 0)::BOOLEAN as is_new,
        (p.arr > 0 and p.arr_previous = 0 and p.was_ever_active_before = 1)::BOOLEAN as is_reactivated,
        (p.arr = 0 and p.arr_previous > 0)::BOOLEAN as is_churned,
        coalesce(
            fs.segment,
            case
                when greatest(p.arr, p.arr_previous) >= t.enterprise_min_arr then 'Enterprise'
                when greatest(p.arr, p.arr_previous) >= t.mid_market_min_arr then 'Mid-Market'
                when greatest(p.arr, p.arr_previous) > 0 then 'Commercial'
                else 'Unassigned'
            end
        )::VARCHAR as segment
    from with_previous as p
    cross join thresholds as t
    left join field_segments as fs on fs.account_key = p.account_key
)

select * from final
