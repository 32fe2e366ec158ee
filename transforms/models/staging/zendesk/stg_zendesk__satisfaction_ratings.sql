-- Zendesk satisfaction ratings (offered, good, bad, ...), times in UTC.
with source as (
    select * from zendesk.satisfaction_ratings
),

final as (
    select
        id as rating_id,
        ticket_id,
        lower(score) as score,
        assignee_id,
        group_id,
        requester_id,
        comment,
        created_at at time zone 'UTC' as created_at,
        updated_at at time zone 'UTC' as updated_at
    from source
)

select * from final
