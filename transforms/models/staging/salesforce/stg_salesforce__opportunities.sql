-- Salesforce opportunities, times in UTC; deleted ones flagged (_sl_deleted).
with source as (
    select * from salesforce.opportunity
),

final as (
    select
        id as opportunity_id,
        account_id,
        name,
        type as opportunity_type,
        stage_name,
        amount,
        probability,
        close_date::DATE as close_date,
        coalesce(is_closed, false) as is_closed,
        coalesce(is_won, false) as is_won,
        owner_id,
        created_date at time zone 'UTC' as created_at,
        system_modstamp at time zone 'UTC' as system_modstamp,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
