-- Time to value: days from an account's first won New Business close to its first resolved
-- onboarding ticket, over the accounts that reached it, by month of the contract start, per segment
-- (cube: the total too).
with tickets as (
    select * from marts.fct_tickets
    where not is_excluded
),

opportunities as (
    select * from core.opportunities
    where is_won and not is_deleted and amount is not null
),

accounts as (
    select * from marts.dim_account
),

settings as (
    select * from supportlake_config.settings
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

final as (
    select
        date_trunc('month', v.contract_start)::DATE as month_start,
        'time_to_value_days' as kpi_name,
        coalesce(a.segment, 'Unassigned') as segment, 'all' as channel_group, 'all' as support_tier,
        sum(date_diff('day', v.contract_start, v.reached_at::DATE)) as numerator,
        count(*) as denominator
    from value_reached as v
    left join accounts as a on a.account_key = v.account_key
    group by 1, cube (coalesce(a.segment, 'Unassigned'))
)

select * from final
