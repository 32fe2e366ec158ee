-- Net Promoter Score: 100 × (promoters − detractors) over responses, the latest response per
-- respondent per month, per segment of the respondent's account (cube: the total too).
with nps_input as (
    select * from inputs.input_nps_responses
),

accounts as (
    select * from marts.dim_account
),

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

final as (
    select
        month_start,
        'nps' as kpi_name,
        segment, 'all' as channel_group, 'all' as support_tier,
        100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) as numerator,
        count(*) as denominator
    from nps_latest
    where rn = 1
    group by 1, cube (segment)
)

select * from final
