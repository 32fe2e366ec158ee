-- Salesforce CaseArticle: links between cases and knowledge articles, times in UTC;
-- deleted ones flagged (_sl_deleted: soft-deleted, purged, or their case deleted).
with source as (
    select * from salesforce.case_article
),

final as (
    select
        id as case_article_id,
        case_id,
        knowledge_article_id,
        knowledge_article_version_id,
        article_language,
        article_version_number,
        coalesce(is_shared_by_email, false) as is_shared_by_email,
        created_by_id,
        created_date at time zone 'UTC' as created_at,
        system_modstamp at time zone 'UTC' as system_modstamp,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
