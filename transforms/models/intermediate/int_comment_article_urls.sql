-- Article links found in comment bodies: one row per comment and linked article. Confluence page
-- URLs (/wiki/spaces/<KEY>/pages/<id>) and Zendesk Guide article URLs (/hc/<locale>/articles/<id>).
with comments as (
    select * from intermediate.int_ticket_comment_bodies
    where body is not null
),

confluence_ids as (
    select
        comment_key,
        unnest(regexp_extract_all(body, '/wiki/spaces/[A-Za-z0-9_~-]+/pages/([0-9]+)', 1)) as article_id
    from comments
    where strpos(body, '/wiki/spaces/') > 0
),

guide_urls as (
    select
        comment_key,
        unnest(regexp_extract_all(body, 'https?://[A-Za-z0-9.-]+/hc/[A-Za-z-]+/articles/[0-9]+')) as url
    from comments
    where strpos(body, '/hc/') > 0
),

guide_ids as (
    select
        comment_key,
        regexp_extract(url, '/articles/([0-9]+)', 1) as article_id,
        url
    from guide_urls
),

links as (
    select distinct
        comment_key,
        'confluence:' || article_id as article_key,
        'confluence' as article_source,
        article_id,
        'confluence_url' as link_source,
        null as url
    from confluence_ids
    union all
    select
        comment_key,
        'zendesk:' || article_id as article_key,
        'zendesk' as article_source,
        article_id,
        'guide_url' as link_source,
        min(url) as url
    from guide_ids
    group by 1, 2, 3, 4, 5
),

final as (
    select
        c.comment_key::VARCHAR as comment_key,
        c.ticket_key::VARCHAR as ticket_key,
        l.article_key::VARCHAR as article_key,
        l.article_source::VARCHAR as article_source,
        l.article_id::VARCHAR as article_id,
        l.link_source::VARCHAR as link_source,
        l.url::VARCHAR as url,
        c.is_public::BOOLEAN as is_public,
        c.created_at::TIMESTAMP as linked_at
    from links as l
    inner join comments as c on c.comment_key = l.comment_key
)

select * from final
