-- One row per knowledge article (grain: article_key): Confluence pages and blog posts, Salesforce
-- knowledge articles (latest version), and Zendesk Guide articles known only from URLs in comments.
with pages as (
    select * from staging.stg_confluence__pages
),

blogposts as (
    select * from staging.stg_confluence__blogposts
),

knowledge as (
    select * from staging.stg_salesforce__knowledge_articles
),

comment_urls as (
    select * from intermediate.int_comment_article_urls
),

knowledge_ranked as (
    select
        *,
        row_number() over (
            partition by knowledge_article_id
            order by is_latest_version desc, version_number desc, system_modstamp desc
        ) as version_rank
    from knowledge
),

confluence_articles as (
    select
        'confluence:' || page_id as article_key,
        'confluence' as source_system,
        'page' as article_type,
        page_id as source_article_id,
        title,
        web_url as url,
        space_key as space_or_section,
        status,
        version_number,
        created_at,
        version_created_at as updated_at,
        is_deleted
    from pages
    union all
    select
        'confluence:' || blogpost_id as article_key,
        'confluence' as source_system,
        'blogpost' as article_type,
        blogpost_id as source_article_id,
        title,
        web_url as url,
        space_key as space_or_section,
        status,
        version_number,
        created_at,
        version_created_at as updated_at,
        is_deleted
    from blogposts
),

salesforce_articles as (
    select
        'salesforce:' || knowledge_article_id as article_key,
        'salesforce' as source_system,
        'knowledge' as article_type,
        knowledge_article_id as source_article_id,
        title,
        null as url,
        null as space_or_section,
        publish_status as status,
        version_number,
        created_at,
        coalesce(last_published_at, system_modstamp) as updated_at,
        is_deleted
    from knowledge_ranked
    where version_rank = 1
),

guide_articles as (
    select
        article_key,
        'zendesk' as source_system,
        'guide' as article_type,
        article_id as source_article_id,
        null as title,
        min(url) as url,
        null as space_or_section,
        null as status,
        null::BIGINT as version_number,
        null::TIMESTAMP as created_at,
        null::TIMESTAMP as updated_at,
        false as is_deleted
    from comment_urls
    where article_source = 'zendesk'
    group by article_key, article_id
),

unioned as (
    select * from confluence_articles
    union all
    select * from salesforce_articles
    union all
    select * from guide_articles
),

final as (
    select
        article_key::VARCHAR as article_key,
        source_system::VARCHAR as source_system,
        article_type::VARCHAR as article_type,
        source_article_id::VARCHAR as source_article_id,
        title::VARCHAR as title,
        url::VARCHAR as url,
        space_or_section::VARCHAR as space_or_section,
        status::VARCHAR as status,
        version_number::BIGINT as version_number,
        created_at::TIMESTAMP as created_at,
        updated_at::TIMESTAMP as updated_at,
        is_deleted::BOOLEAN as is_deleted
    from unioned
)

select * from final
