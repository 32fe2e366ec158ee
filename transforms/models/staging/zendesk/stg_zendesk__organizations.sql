-- Zendesk organizations, times in UTC; deleted ones flagged (_sl_deleted: deleted_at set).
with source as (
    select * from zendesk.organizations
),

final as (
    select
        id as organization_id,
        name,
        external_id,
        group_id,
        domain_names as domain_names_json,
        tags as tags_json,
        created_at at time zone 'UTC' as created_at,
        updated_at at time zone 'UTC' as updated_at,
        deleted_at at time zone 'UTC' as deleted_at,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
