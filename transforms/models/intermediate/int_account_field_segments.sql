-- Segments named by a Salesforce Account field ([segments] account_field, e.g. Segment__c; read
-- through supportlake_config.configured_fields), one row per account with a recognised value: values
-- starting 'Ent' → Enterprise; 'Mid' or 'MM' → Mid-Market; 'Comm', 'SMB' or 'Small' → Commercial
-- (case-insensitive). Accounts without one (or no field configured: no rows) keep the ARR bands.
with configured as (
    select * from supportlake_config.configured_fields
    where field = 'segment' and source_table = 'salesforce.account'
),

mapped as (
    select
        'salesforce:' || source_id as account_key,
        value as segment_raw,
        case
            when starts_with(lower(value), 'ent') then 'Enterprise'
            when starts_with(lower(value), 'mid') or starts_with(lower(value), 'mm') then 'Mid-Market'
            when starts_with(lower(value), 'comm') or starts_with(lower(value), 'smb')
                or starts_with(lower(value), 'small') then 'Commercial'
        end as segment
    from configured
),

final as (
    select
        account_key::VARCHAR as account_key,
        segment_raw::VARCHAR as segment_raw,
        segment::VARCHAR as segment
    from mapped
    where segment is not null
)

select * from final
