-- Confluence pages at their latest version, times in UTC; trashed, deleted and purged
-- ones flagged (_sl_deleted; a purged row stays as last seen).
with source as (
    select * from confluence.pages
),

final as (
    select
        id as page_id,
        title,
        status,
        space_id,
        space_key,
        parent_id,
        author_id,
        web_url,
        version__number as version_number,
        created_at at time zone 'UTC' as created_at,
        version__created_at at time zone 'UTC' as version_created_at,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
