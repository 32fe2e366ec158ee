-- Salesforce CaseHistory: one row per tracked field change of a case (Owner, ownerAssignment,
-- Status, created, ...), times in UTC. OldValue/NewValue as text: ids or names for Owner (Salesforce
-- writes an EntityId row and a Text row per owner change), status names for Status.
-- Deleted rows flagged (_sl_deleted: their case deleted; history is never read again after that).
with source as (
    select * from salesforce.case_history
),

final as (
    select
        id as case_history_id,
        case_id,
        created_by_id,
        field,
        data_type,
        old_value,
        new_value,
        created_date at time zone 'UTC' as created_at,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
