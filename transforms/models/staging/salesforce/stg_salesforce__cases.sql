-- Salesforce cases, times in UTC; merged-away cases flagged, deleted ones too (_sl_deleted:
-- soft-deleted, or purged while the row stays as last seen).
with source as (
    select * from salesforce."case" as sf_case
),

final as (
    select
        id as case_id,
        case_number,
        account_id,
        contact_id,
        owner_id,
        parent_id,
        master_record_id,
        subject,
        status,
        priority,
        origin,
        type as case_type,
        reason,
        coalesce(is_closed, false) as is_closed,
        coalesce(is_closed_on_create, false) as is_closed_on_create,
        coalesce(is_escalated, false) as is_escalated,
        business_hours_id,
        supplied_email,
        created_date at time zone 'UTC' as created_at,
        last_modified_date at time zone 'UTC' as last_modified_at,
        system_modstamp at time zone 'UTC' as system_modstamp,
        closed_date at time zone 'UTC' as closed_at,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
