-- One row per knowledge article (grain: article_key): Confluence pages and blog posts, Salesforce
-- knowledge articles and Zendesk Guide articles referenced from tickets, with how often tickets
-- link them.
with articles as (
    select * from core.articles
),

links as (
    select * from core.ticket_article_links
),

usage as (
    select
        article_key,
        count(distinct ticket_key) as linked_ticket_count,
        min(linked_at) as first_linked_at,
        max(linked_at) as last_linked_at
    from links
    group by article_key
),

final as (
    select
        a.article_key::VARCHAR as article_key,
        a.source_system::VARCHAR as source_system,
        a.article_type::VARCHAR as article_type,
        a.title::VARCHAR as title,
        a.url::VARCHAR as url,
        a.space_or_section::VARCHAR as space_or_section,
        a.status::VARCHAR as status,
        a.version_number::BIGINT as version_number,
        a.created_at::TIMESTAMP as created_at,
        a.updated_at::TIMESTAMP as updated_at,
        coalesce(u.linked_ticket_count, 0)::BIGINT as linked_ticket_count,
        u.first_linked_at::TIMESTAMP as first_linked_at,
        u.last_linked_at::TIMESTAMP as last_linked_at,
        a.is_deleted::BOOLEAN as is_deleted
    from articles as a
    left join usage as u on u.article_key = a.article_key
)

select * from final
