-- One row per ticket comment (grain: comment_key), without its body: who wrote it (an agent, the
-- ticket's requester, another end user), whether it was public, and when.
with comments as (
    select * from intermediate.int_ticket_comment_bodies
),

tickets as (
    select * from core.tickets
),

agents as (
    select * from core.agents
),

zendesk_users as (
    select * from staging.stg_zendesk__users
),

salesforce_users as (
    select * from staging.stg_salesforce__users
),

zendesk_authors as (
    select
        c.comment_key,
        za.agent_key as author_agent_key,
        zu.user_id is not null as author_known
    from comments as c
    left join zendesk_users as zu on zu.user_id::VARCHAR = c.author_id
    left join agents as za on za.zendesk_user_id::VARCHAR = c.author_id
    where c.source_system = 'zendesk'
),

salesforce_authors as (
    select
        c.comment_key,
        sa.agent_key as author_agent_key,
        su.user_id is not null as author_known
    from comments as c
    left join salesforce_users as su on su.user_id = c.author_id
    left join agents as sa on sa.salesforce_user_id = c.author_id
    where c.source_system = 'salesforce'
),

authors as (
    select * from zendesk_authors
    union all
    select * from salesforce_authors
),

final as (
    select
        c.comment_key::VARCHAR as comment_key,
        c.ticket_key::VARCHAR as ticket_key,
        c.source_system::VARCHAR as source_system,
        (c.source_system || ':' || c.author_id)::VARCHAR as author_key,
        a.author_agent_key::VARCHAR as author_agent_key,
        case
            when a.author_agent_key is not null then 'agent'
            when c.source_system || ':' || c.author_id = t.requester_key then 'requester'
            when a.author_known then 'end_user'
            else 'unknown'
        end::VARCHAR as author_role,
        c.is_public::BOOLEAN as is_public,
        c.created_at::TIMESTAMP as created_at
    from comments as c
    left join authors as a on a.comment_key = c.comment_key
    left join tickets as t on t.ticket_key = c.ticket_key
)

select * from final
