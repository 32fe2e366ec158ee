-- Every KPI of KPIS.md per month and slice (grain: month_start, kpi_name, segment, channel_group,
-- support_tier), long format: value = numerator / denominator on every row, so Tableau re-aggregates
-- additive KPIs as SUM(numerator) / SUM(denominator) (marts.kpi_definitions.aggregation says how).
-- 'all' in a slice column marks the total over it; a KPI not broken down by a column has 'all'
-- there. A month or slice with nothing to count has no row (never a silent 0); a KPI whose inputs
-- are missing has no rows at all, and kpi_definitions says why.
with tickets as (
    select * from marts.fct_tickets where not is_excluded
),

surveys as (
    select * from marts.fct_survey_responses
    where is_latest_for_ticket and not is_excluded and score is not null
),

contacts as (
    select * from marts.fct_contacts where is_handled and handle_minutes is not null and not is_ticket_excluded
),

sla as (
    select * from marts.fct_sla_targets where status in ('achieved', 'breached') and not is_excluded
),

offers as (
    select * from marts.fct_survey_responses where is_offered and not is_excluded and ticket_key is not null
),

account_months as (
    select * from marts.fct_account_monthly
),

accounts as (
    select * from marts.dim_account
),

opportunities as (
    select * from core.opportunities where is_won and not is_deleted and amount is not null
),

nps_input as (
    select * from inputs.input_nps_responses
),

cost_input as (
    select * from inputs.input_support_cost_monthly
),

settings as (
    select * from supportlake_config.settings
),

catalog as (
    select * from supportlake_config.kpi_catalog
),

-- ticket KPIs: broken down by segment × channel group × support tier (cube: every total too)
fcr as (
    select
        'fcr_rate' as kpi_name,
        date_trunc('month', resolved_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where is_fcr) as numerator,
        count(*) as denominator
    from tickets
    where is_resolved and is_fcr is not null
    group by 2, cube (segment, channel_group, support_tier)
),

csat_avg as (
    select
        'csat_avg_5pt' as kpi_name,
        date_trunc('month', responded_at)::DATE as month_start,
        segment, channel_group, support_tier,
        sum(score) as numerator,
        count(*) as denominator
    from surveys
    group by 2, cube (segment, channel_group, support_tier)
),

csat_positive as (
    select
        'csat_pct_positive' as kpi_name,
        date_trunc('month', responded_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where is_positive) as numerator,
        count(*) as denominator
    from surveys
    where is_positive is not null
    group by 2, cube (segment, channel_group, support_tier)
),

sla_compliance as (
    select
        'sla_compliance' as kpi_name,
        date_trunc('month', completed_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where is_achieved) as numerator,
        count(*) as denominator
    from sla
    group by 2, cube (segment, channel_group, support_tier)
),

resolution_within as (
    select
        'resolution_within_24h_rate' as kpi_name,
        date_trunc('month', final_resolved_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where is_resolved_within_target) as numerator,
        count(*) as denominator
    from tickets
    where is_resolved and full_resolution_minutes is not null
    group by 2, cube (segment, channel_group, support_tier)
),

median_resolution as (
    select
        'median_resolution_hours' as kpi_name,
        date_trunc('month', final_resolved_at)::DATE as month_start,
        segment, channel_group, support_tier,
        median(full_resolution_minutes / 60.0) as numerator,
        1 as denominator
    from tickets
    where is_resolved and full_resolution_minutes is not null
    group by 2, cube (segment, channel_group, support_tier)
),

first_reply as (
    select
        'first_reply_within_4h_rate' as kpi_name,
        date_trunc('month', created_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where is_first_reply_within_target) as numerator,
        count(*) as denominator
    from tickets
    where is_first_reply_within_target is not null
    group by 2, cube (segment, channel_group, support_tier)
),

self_service as (
    select
        'self_service_rate' as kpi_name,
        date_trunc('month', resolved_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where is_self_service) as numerator,
        count(*) as denominator
    from tickets
    where is_resolved and is_self_service is not null
    group by 2, cube (segment, channel_group, support_tier)
),

kb_utilization as (
    select
        'kb_utilization_rate' as kpi_name,
        date_trunc('month', resolved_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where has_kb_link_before_resolution) as numerator,
        count(*) as denominator
    from tickets
    where is_resolved
    group by 2, cube (segment, channel_group, support_tier)
),

-- secondary measures (KPIS.md), ticket slices
offered_tickets as (
    select
        ticket_key,
        min(segment) as segment,
        min(channel_group) as channel_group,
        min(support_tier) as support_tier,
        min(offered_at) as first_offered_at,
        bool_or(is_response) as is_answered
    from offers
    group by ticket_key
),

csat_response as (
    select
        'csat_response_rate' as kpi_name,
        date_trunc('month', first_offered_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where is_answered) as numerator,
        count(*) as denominator
    from offered_tickets
    group by 2, cube (segment, channel_group, support_tier)
),

sla_tickets as (
    select
        ticket_key,
        min(segment) as segment,
        min(channel_group) as channel_group,
        min(support_tier) as support_tier,
        max(completed_at) as last_completed_at,
        bool_or(is_breached) as has_breach
    from sla
    group by ticket_key
),

sla_ticket_rate as (
    select
        'sla_ticket_rate' as kpi_name,
        date_trunc('month', last_completed_at)::DATE as month_start,
        segment, channel_group, support_tier,
        count(*) filter (where not has_breach) as numerator,
        count(*) as denominator
    from sla_tickets
    group by 2, cube (segment, channel_group, support_tier)
),

p90_resolution as (
    select
        'p90_resolution_hours' as kpi_name,
        date_trunc('month', final_resolved_at)::DATE as month_start,
        segment, channel_group, support_tier,
        quantile_cont(full_resolution_minutes / 60.0, 0.9) as numerator,
        1 as denominator
    from tickets
    where is_resolved and full_resolution_minutes is not null
    group by 2, cube (segment, channel_group, support_tier)
),

median_resolution_business as (
    select
        'median_resolution_business_hours' as kpi_name,
        date_trunc('month', final_resolved_at)::DATE as month_start,
        segment, channel_group, support_tier,
        median(full_resolution_minutes_business / 60.0) as numerator,
        1 as denominator
    from tickets
    where is_resolved and full_resolution_minutes_business is not null
    group by 2, cube (segment, channel_group, support_tier)
),

median_first_reply as (
    select
        'median_first_reply_hours' as kpi_name,
        date_trunc('month', created_at)::DATE as month_start,
        segment, channel_group, support_tier,
        median(first_reply_minutes / 60.0) as numerator,
        1 as denominator
    from tickets
    where first_reply_minutes is not null
    group by 2, cube (segment, channel_group, support_tier)
),

-- contacts: segment × channel group
aht as (
    select
        'aht_minutes' as kpi_name,
        date_trunc('month', ended_at)::DATE as month_start,
        segment, channel_group, 'all' as support_tier,
        sum(handle_minutes) as numerator,
        count(*) as denominator
    from contacts
    group by 2, cube (segment, channel_group)
),

-- NPS: latest response per respondent per month, segment from the account
nps_latest as (
    select
        n.score,
        date_trunc('month', n.responded_at)::DATE as month_start,
        coalesce(a.segment, 'Unassigned') as segment,
        row_number() over (
            partition by n.respondent_email, date_trunc('month', n.responded_at)
            order by n.responded_at desc
        ) as rn
    from nps_input as n
    left join accounts as a on a.account_key = 'salesforce:' || n.account_id
),

nps as (
    select
        'nps' as kpi_name,
        month_start,
        segment, 'all' as channel_group, 'all' as support_tier,
        100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) as numerator,
        count(*) as denominator
    from nps_latest
    where rn = 1
    group by 2, cube (segment)
),

-- accounts: trailing 12 months cohorts (segment as of the cohort's start)
cohorts as (
    select
        now_row.month_start,
        start_row.segment,
        start_row.arr as start_arr,
        coalesce(now_row.arr, 0) as now_arr,
        coalesce(now_row.is_active, false) as is_retained
    from account_months as start_row
    inner join account_months as now_row
        on now_row.account_key = start_row.account_key
        and now_row.month_start = (start_row.month_start + INTERVAL 12 MONTH)::DATE
    where start_row.is_active
),

retention as (
    select
        'retention_rate' as kpi_name,
        month_start,
        segment, 'all' as channel_group, 'all' as support_tier,
        count(*) filter (where is_retained) as numerator,
        count(*) as denominator
    from cohorts
    group by 2, cube (segment)
),

nrr as (
    select
        'net_revenue_retention' as kpi_name,
        month_start,
        segment, 'all' as channel_group, 'all' as support_tier,
        sum(now_arr) as numerator,
        sum(start_arr) as denominator
    from cohorts
    group by 2, cube (segment)
),

expansion as (
    select
        'expansion_revenue' as kpi_name,
        date_trunc('month', o.close_date)::DATE as month_start,
        coalesce(m.segment, 'Unassigned') as segment, 'all' as channel_group, 'all' as support_tier,
        sum(o.amount) as numerator,
        1 as denominator
    from opportunities as o
    left join account_months as m
        on m.account_key = o.account_key and m.month_start = date_trunc('month', o.close_date)::DATE
    where o.opportunity_type in (select value from settings where name = 'revenue.expansion_types')
    group by 2, cube (coalesce(m.segment, 'Unassigned'))
),

expansion_delta as (
    select
        'expansion_arr_delta' as kpi_name,
        month_start,
        segment, 'all' as channel_group, 'all' as support_tier,
        sum(expansion_arr) as numerator,
        1 as denominator
    from account_months
    where expansion_arr > 0
    group by 2, cube (segment)
),

revenue as (
    select month_start, sum(revenue_recognized) as revenue
    from account_months
    group by month_start
),

support_cost as (
    select
        'support_cost_pct_revenue' as kpi_name,
        c.month as month_start,
        'all' as segment, 'all' as channel_group, 'all' as support_tier,
        c.cost as numerator,
        r.revenue as denominator
    from cost_input as c
    inner join revenue as r on r.month_start = c.month
    where r.revenue > 0
),

active_arr as (
    select
        month_start,
        coalesce(segment, 'all') as segment,
        sum(arr) / count(*) as average_arr
    from account_months
    where is_active
    group by 1, cube (segment)
),

churn as (
    select
        month_start,
        coalesce(segment, 'all') as segment,
        count(*) filter (where not is_retained) * 1.0 / count(*) as churn_rate
    from cohorts
    group by 1, cube (segment)
),

clv as (
    select
        'customer_lifetime_value' as kpi_name,
        a.month_start,
        a.segment, 'all' as channel_group, 'all' as support_tier,
        a.average_arr * (select max(number) from settings where name = 'revenue.gross_margin') as numerator,
        c.churn_rate as denominator
    from active_arr as a
    inner join churn as c on c.month_start = a.month_start and c.segment = a.segment
    where c.churn_rate > 0
),

contract_starts as (
    select
        account_key,
        min(close_date) as contract_start
    from opportunities
    where opportunity_type in (select value from settings where name = 'revenue.new_business_types')
    group by account_key
),

value_reached as (
    select
        s.account_key,
        s.contract_start,
        min(t.resolved_at) as reached_at
    from contract_starts as s
    inner join tickets as t
        on t.account_key = s.account_key and t.is_onboarding and t.is_resolved
        and t.resolved_at >= s.contract_start
    group by s.account_key, s.contract_start
),

time_to_value as (
    select
        'time_to_value_days' as kpi_name,
        date_trunc('month', v.contract_start)::DATE as month_start,
        coalesce(a.segment, 'Unassigned') as segment, 'all' as channel_group, 'all' as support_tier,
        sum(date_diff('day', v.contract_start, v.reached_at::DATE)) as numerator,
        count(*) as denominator
    from value_reached as v
    left join accounts as a on a.account_key = v.account_key
    group by 2, cube (coalesce(a.segment, 'Unassigned'))
),

unioned as (
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from fcr
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from csat_avg
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from csat_positive
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from sla_compliance
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from resolution_within
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from median_resolution
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from first_reply
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from self_service
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from kb_utilization
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from aht
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from nps
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from retention
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from nrr
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from expansion
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from support_cost
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from clv
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from time_to_value
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from csat_response
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from sla_ticket_rate
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from p90_resolution
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator
    from median_resolution_business
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from median_first_reply
    union all
    select kpi_name, month_start, segment, channel_group, support_tier, numerator, denominator from expansion_delta
),

valued as (
    select
        u.month_start,
        u.kpi_name,
        coalesce(u.segment, 'all') as segment,
        coalesce(u.channel_group, 'all') as channel_group,
        coalesce(u.support_tier, 'all') as support_tier,
        u.numerator::DOUBLE as numerator,
        u.denominator::DOUBLE as denominator,
        u.numerator::DOUBLE / u.denominator::DOUBLE as value,
        c.target,
        c.direction
    from unioned as u
    inner join catalog as c on c.kpi_name = u.kpi_name
    where u.month_start is not null and u.denominator is not null and u.denominator <> 0
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
