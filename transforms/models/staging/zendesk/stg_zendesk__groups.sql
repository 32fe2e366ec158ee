-- Zendesk groups; deleted ones flagged (_sl_deleted: deleted = true).
with source as (
    select * from zendesk.groups
),

final as (
    select
        id as group_id,
        name,
        coalesce(_sl_deleted, false) as is_deleted,
        "default" as is_default,
        created_at at time zone 'UTC' as created_at,
        updated_at at time zone 'UTC' as updated_at
    from source
)

select * from final
