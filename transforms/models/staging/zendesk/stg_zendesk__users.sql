-- Zendesk users (end users, agents, admins), times in UTC.
with source as (
    select * from zendesk.users
),

final as (
    select
        id as user_id,
        name,
        email,
        lower(trim(email)) as email_normalized,
        role,
        role in ('agent', 'admin') as is_agent,
        active as is_active,
        suspended as is_suspended,
        organization_id,
        default_group_id,
        external_id,
        time_zone,
        created_at at time zone 'UTC' as created_at,
        updated_at at time zone 'UTC' as updated_at
    from source
)

select * from final
