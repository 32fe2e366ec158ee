-- Zendesk ticket comments and Salesforce case comments in one shape, with their bodies (for the
-- article links); one row per comment. Deleted Salesforce comments are left out.
with zendesk_comments as (
    select * from staging.stg_zendesk__ticket_comments
),

salesforce_comments as (
    select * from staging.stg_salesforce__case_comments
),

unioned as (
    select
        'zendesk:' || comment_id::VARCHAR as comment_key,
        'zendesk' as source_system,
        'zendesk:' || ticket_id::VARCHAR as ticket_key,
        ticket_id::VARCHAR as source_ticket_id,
        author_id::VARCHAR as author_id,
        is_public,
        body,
        created_at
    from zendesk_comments
    union all
    select
        'salesforce:' || case_comment_id as comment_key,
        'salesforce' as source_system,
        'salesforce:' || case_id as ticket_key,
        case_id as source_ticket_id,
        created_by_id as author_id,
        is_published as is_public,
        comment_body as body,
        created_at
    from salesforce_comments
    where not is_deleted
),

final as (
    select
        comment_key::VARCHAR as comment_key,
        source_system::VARCHAR as source_system,
        ticket_key::VARCHAR as ticket_key,
        source_ticket_id::VARCHAR as source_ticket_id,
        author_id::VARCHAR as author_id,
        is_public::BOOLEAN as is_public,
        body::VARCHAR as body,
        created_at::TIMESTAMP as created_at
    from unioned
)

select * from final
