-- Salesforce case comments, times in UTC; deleted ones flagged (_sl_deleted: soft-deleted,
-- purged, or their case deleted).
with source as (
    select * from salesforce.case_comment
),

final as (
    select
        id as case_comment_id,
        parent_id as case_id,
        coalesce(is_published, false) as is_published,
        comment_body,
        created_by_id,
        created_date at time zone 'UTC' as created_at,
        system_modstamp at time zone 'UTC' as system_modstamp,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
