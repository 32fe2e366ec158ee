-- Salesforce Lightning Knowledge article versions (Knowledge__kav), times in UTC; deleted ones flagged
-- (_sl_deleted: soft-deleted, or purged: the version's Id or its article's Id in deleted_records).
with source as (
    select * from salesforce.knowledge_kav
),

final as (
    select
        id as article_version_id,
        knowledge_article_id,
        article_number,
        title,
        url_name,
        publish_status,
        version_number,
        coalesce(is_latest_version, false) as is_latest_version,
        language,
        first_published_date at time zone 'UTC' as first_published_at,
        last_published_date at time zone 'UTC' as last_published_at,
        created_date at time zone 'UTC' as created_at,
        system_modstamp at time zone 'UTC' as system_modstamp,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
