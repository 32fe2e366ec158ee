-- Zendesk tickets: one row per ticket, times in UTC; deleted tickets flagged (_sl_deleted: status 'deleted').
with source as (
    select * from zendesk.tickets
),

final as (
    select
        id as ticket_id,
        created_at at time zone 'UTC' as created_at,
        updated_at at time zone 'UTC' as updated_at,
        lower(status) as status,
        coalesce(_sl_deleted, false) as is_deleted,
        priority,
        type as ticket_type,
        subject,
        requester_id,
        submitter_id,
        assignee_id,
        organization_id,
        group_id,
        brand_id,
        ticket_form_id,
        problem_id,
        external_id,
        via__channel as via_channel,
        tags as tags_json,
        custom_fields as custom_fields_json,
        satisfaction_rating__score as satisfaction_score
    from source
)

select * from final
