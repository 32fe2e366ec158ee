-- One row per ticket × article link (grain: link_key): which knowledge articles tickets used, from
-- where (Confluence URL, Guide URL, Salesforce CaseArticle), and whether the link came on or before
-- the ticket's resolution (what kb_utilization_rate counts).
with links as (
    select * from core.ticket_article_links
),

tickets as (
    select * from marts.fct_tickets
),

articles as (
    select * from core.articles
),

final as (
    select
        l.link_key::VARCHAR as link_key,
        l.ticket_key::VARCHAR as ticket_key,
        l.article_key::VARCHAR as article_key,
        a.source_system::VARCHAR as article_source_system,
        a.title::VARCHAR as article_title,
        l.link_source::VARCHAR as link_source,
        l.is_public::BOOLEAN as is_public,
        l.linked_at::TIMESTAMP as linked_at,
        l.linked_at::DATE as linked_date,
        coalesce(t.segment, 'Unassigned')::VARCHAR as segment,
        coalesce(t.channel_group, 'other')::VARCHAR as channel_group,
        coalesce(t.support_tier, 'Unassigned')::VARCHAR as support_tier,
        (t.resolved_at is not null and l.linked_at <= t.resolved_at)::BOOLEAN as is_before_resolution,
        coalesce(a.is_deleted, false)::BOOLEAN as is_article_deleted,
        coalesce(t.is_excluded, false)::BOOLEAN as is_ticket_excluded
    from links as l
    left join tickets as t on t.ticket_key = l.ticket_key
    left join articles as a on a.article_key = l.article_key
)

select * from final
