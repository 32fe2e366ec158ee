-- Scored survey responses (the latest per ticket) per month of response and slice (cube: every
-- total too): one pass over marts.fct_survey_responses for csat_avg_5pt and csat_pct_positive.
-- Responses of deleted, merged and spam tickets are left out.
-- A NULL slice column is the total over it (marts.agg_kpi_monthly writes 'all').
with surveys as (
    select * from marts.fct_survey_responses
    where is_latest_for_ticket and not is_excluded and score is not null
),

final as (
    select
        date_trunc('month', responded_at)::DATE as month_start,
        segment,
        channel_group,
        support_tier,
        count(*) as responses,
        sum(score) as score_sum,
        count(is_positive) as rated_responses,
        count(*) filter (where is_positive) as positive_responses
    from surveys
    group by 1, cube (segment, channel_group, support_tier)
)

select * from final
