-- Salesforce accounts, times in UTC; merged-away accounts flagged, deleted ones too (_sl_deleted:
-- soft-deleted, or purged while the row stays as last seen).
with source as (
    select * from salesforce.account
),

final as (
    select
        id as account_id,
        name,
        type as account_type,
        industry,
        parent_id,
        owner_id,
        website,
        master_record_id,
        annual_revenue,
        number_of_employees,
        billing_country,
        created_date at time zone 'UTC' as created_at,
        system_modstamp at time zone 'UTC' as system_modstamp,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
