-- Salesforce users, times in UTC (users are deactivated, never deleted).
with source as (
    select * from salesforce."user" as sf_user
),

final as (
    select
        id as user_id,
        username,
        name,
        email,
        lower(trim(email)) as email_normalized,
        is_active,
        user_type,
        department,
        manager_id,
        created_date at time zone 'UTC' as created_at,
        system_modstamp at time zone 'UTC' as system_modstamp
    from source
)

select * from final
