-- How each source record became an account (grain: identity_key): every Salesforce Account is its
-- own account; a Zendesk organization joins the Account it matched (see
-- intermediate.int_zendesk_organization_matches for the order), or stands alone when none did.
with org_matches as (
    select * from intermediate.int_zendesk_organization_matches
),

accounts as (
    select * from staging.stg_salesforce__accounts
),

salesforce_rows as (
    select
        'salesforce:' || account_id as identity_key,
        'salesforce' as source_system,
        account_id as source_id,
        name as source_name,
        'salesforce:' || account_id as account_key,
        'salesforce_account' as match_method,
        account_id as match_value
    from accounts
),

zendesk_rows as (
    select
        'zendesk:' || organization_id::VARCHAR as identity_key,
        'zendesk' as source_system,
        organization_id::VARCHAR as source_id,
        organization_name as source_name,
        case
            when salesforce_account_id is not null then 'salesforce:' || salesforce_account_id
            else 'zendesk:' || organization_id::VARCHAR
        end as account_key,
        coalesce(match_method, 'unmatched') as match_method,
        match_value
    from org_matches
),

unioned as (
    select * from salesforce_rows
    union all
    select * from zendesk_rows
),

final as (
    select
        identity_key::VARCHAR as identity_key,
        source_system::VARCHAR as source_system,
        source_id::VARCHAR as source_id,
        source_name::VARCHAR as source_name,
        account_key::VARCHAR as account_key,
        match_method::VARCHAR as match_method,
        match_value::VARCHAR as match_value
    from unioned
)

select * from final
