-- One row per Salesforce opportunity (grain: opportunity_key).
with opportunities as (
    select * from staging.stg_salesforce__opportunities
),

final as (
    select
        ('salesforce:' || opportunity_id)::VARCHAR as opportunity_key,
        opportunity_id::VARCHAR as salesforce_opportunity_id,
        ('salesforce:' || account_id)::VARCHAR as account_key,
        name::VARCHAR as name,
        opportunity_type::VARCHAR as opportunity_type,
        stage_name::VARCHAR as stage_name,
        amount::DOUBLE as amount,
        probability::DOUBLE as probability,
        close_date::DATE as close_date,
        is_closed::BOOLEAN as is_closed,
        is_won::BOOLEAN as is_won,
        ('salesforce:' || owner_id)::VARCHAR as owner_key,
        created_at::TIMESTAMP as created_at,
        is_deleted::BOOLEAN as is_deleted
    from opportunities
)

select * from final
