-- Expansion revenue (ARR delta): ARR increases of accounts active in the month and the month before,
-- per segment (cube: the total too).
with account_months as (
    select * from marts.fct_account_monthly
),

final as (
    select
        month_start,
        'expansion_arr_delta' as kpi_name,
        segment, 'all' as channel_group, 'all' as support_tier,
        sum(expansion_arr) as numerator,
        1 as denominator
    from account_months
    where expansion_arr > 0
    group by 1, cube (segment)
)

select * from final
