-- One row per link between a ticket and a knowledge article (grain: link_key): a Confluence or
-- Zendesk Guide URL in a comment (one row per comment and article), or a Salesforce CaseArticle.
with comment_urls as (
    select * from intermediate.int_comment_article_urls
),

case_articles as (
    select * from staging.stg_salesforce__case_articles
    where not is_deleted
),

from_comments as (
    select
        comment_key || '|' || article_key as link_key,
        ticket_key,
        article_key,
        link_source,
        comment_key,
        is_public,
        linked_at
    from comment_urls
),

from_case_articles as (
    select
        'salesforce:' || case_article_id as link_key,
        'salesforce:' || case_id as ticket_key,
        'salesforce:' || knowledge_article_id as article_key,
        'salesforce_case_article' as link_source,
        null as comment_key,
        is_shared_by_email as is_public,
        created_at as linked_at
    from case_articles
),

unioned as (
    select * from from_comments
    union all
    select * from from_case_articles
),

final as (
    select
        link_key::VARCHAR as link_key,
        ticket_key::VARCHAR as ticket_key,
        article_key::VARCHAR as article_key,
        link_source::VARCHAR as link_source,
        comment_key::VARCHAR as comment_key,
        is_public::BOOLEAN as is_public,
        linked_at::TIMESTAMP as linked_at
    from unioned
)

select * from final
