-- CSAT response rate: tickets whose survey was answered over tickets offered one, by month of the
-- first offer, per slice (cube: every total too).
with offers as (
    select * from marts.fct_survey_responses
    where is_offered and not is_excluded and ticket_key is not null
),

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

final as (
    select
        date_trunc('month', first_offered_at)::DATE as month_start,
        'csat_response_rate' as kpi_name,
        segment, channel_group, support_tier,
        count(*) filter (where is_answered) as numerator,
        count(*) as denominator
    from offered_tickets
    group by 1, cube (segment, channel_group, support_tier)
)

select * from final
