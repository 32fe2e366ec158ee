-- Confluence pages at their latest version, times in UTC; trashed, deleted and purged
-- (confluence.deleted_content: gone from the site, the row stays as last seen) ones flagged.
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
        coalesce(is_deleted, false) or coalesce(status in ('trashed', 'deleted'), false) or exists (
            select 1 from confluence.deleted_content as d where d.id = source.id and d.content_type = 'page'
        ) as is_deleted
    from source
)

select * from final
