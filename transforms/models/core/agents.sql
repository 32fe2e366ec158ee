-- One row per agent: Zendesk agents/admins and Salesforce users, matched by lower-cased email.
-- agent_key is the Zendesk one ('zendesk:<user id>') when the agent is in Zendesk, else
-- 'salesforce:<User Id>'. A Salesforce user matches at most one Zendesk agent (the email is unique
-- among Zendesk users); when several Salesforce users share an email, the active, earliest one matches.
with zendesk_users as (
    select * from staging.stg_zendesk__users
),

zendesk_groups as (
    select * from staging.stg_zendesk__groups
),

tiers as (
    select * from intermediate.int_support_tiers
    where tier_source = 'zendesk_group'
),

salesforce_users as (
    select * from staging.stg_salesforce__users
),

zendesk_agents as (
    select
        u.user_id,
        u.name,
        u.email_normalized,
        u.is_active,
        g.name as group_name,
        t.support_tier
    from zendesk_users as u
    left join zendesk_groups as g on g.group_id = u.default_group_id
    left join tiers as t on t.source_id = g.group_id::VARCHAR
    where u.is_agent
),

salesforce_ranked as (
    select
        user_id,
        name,
        email_normalized,
        is_active,
        row_number() over (
            partition by email_normalized
            order by coalesce(is_active, false) desc, created_at, user_id
        ) as email_rank
    from salesforce_users
    where coalesce(user_type, 'Standard') = 'Standard'
),

salesforce_agents as (
    select
        *,
        email_normalized is not null and email_rank = 1 as can_match
    from salesforce_ranked
),

matched as (
    select
        z.user_id as zendesk_user_id,
        s.user_id as salesforce_user_id,
        z.name as zendesk_name,
        s.name as salesforce_name,
        coalesce(z.email_normalized, s.email_normalized) as email,
        z.is_active as zendesk_active,
        s.is_active as salesforce_active,
        z.group_name,
        z.support_tier
    from zendesk_agents as z
    left join salesforce_agents as s
        on s.can_match and s.email_normalized = z.email_normalized
    union all
    select
        null as zendesk_user_id,
        s.user_id as salesforce_user_id,
        null as zendesk_name,
        s.name as salesforce_name,
        s.email_normalized as email,
        null as zendesk_active,
        s.is_active as salesforce_active,
        null as group_name,
        null as support_tier
    from salesforce_agents as s
    where not (
        s.can_match
        and exists (select 1 from zendesk_agents as z where z.email_normalized = s.email_normalized)
    )
),

final as (
    select
        case
            when zendesk_user_id is not null then 'zendesk:' || zendesk_user_id::VARCHAR
            else 'salesforce:' || salesforce_user_id
        end::VARCHAR as agent_key,
        zendesk_user_id::BIGINT as zendesk_user_id,
        salesforce_user_id::VARCHAR as salesforce_user_id,
        coalesce(zendesk_name, salesforce_name)::VARCHAR as name,
        email::VARCHAR as email,
        (coalesce(zendesk_active, false) or coalesce(salesforce_active, false))::BOOLEAN as is_active,
        group_name::VARCHAR as group_name,
        support_tier::VARCHAR as support_tier,
        (zendesk_user_id is not null and salesforce_user_id is not null)::BOOLEAN as is_matched
    from matched
)

select * from final
