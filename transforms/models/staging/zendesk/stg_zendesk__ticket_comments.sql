-- Zendesk ticket comments (from the ticket events export), times in UTC.
with source as (
    select * from zendesk.ticket_comments
),

final as (
    select
        id as comment_id,
        ticket_id,
        audit_id,
        author_id,
        public as is_public,
        body,
        via_channel,
        created_at at time zone 'UTC' as created_at
    from source
)

select * from final
