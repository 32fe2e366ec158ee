-- One row per Zendesk satisfaction rating (grain: survey_key), offered-but-unanswered ones included
-- (is_response false). Legacy good/bad scores are normalised to 5/1. The agent and group are the
-- ones the rating names: as they were when the customer rated.
with ratings as (
    select * from staging.stg_zendesk__satisfaction_ratings
),

scored as (
    select
        *,
        case
            when starts_with(score, 'good') then 5.0
            when starts_with(score, 'bad') then 1.0
        end as score_1_to_5
    from ratings
),

final as (
    select
        ('zendesk:' || rating_id::VARCHAR)::VARCHAR as survey_key,
        'zendesk'::VARCHAR as source_system,
        ('zendesk:' || ticket_id::VARCHAR)::VARCHAR as ticket_key,
        ('zendesk:' || requester_id::VARCHAR)::VARCHAR as requester_key,
        ('zendesk:' || assignee_id::VARCHAR)::VARCHAR as assignee_agent_key,
        ('zendesk:' || group_id::VARCHAR)::VARCHAR as group_key,
        score::VARCHAR as score_raw,
        score_1_to_5::DOUBLE as score,
        (score_1_to_5 is not null)::BOOLEAN as is_response,
        case when score_1_to_5 is not null then score_1_to_5 >= 4 end::BOOLEAN as is_positive,
        created_at::TIMESTAMP as offered_at,
        case when score_1_to_5 is not null then coalesce(updated_at, created_at) end::TIMESTAMP as responded_at
    from scored
)

select * from final
