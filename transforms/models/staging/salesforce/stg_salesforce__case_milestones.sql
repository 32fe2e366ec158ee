-- Salesforce case milestones (entitlement SLA targets), times in UTC; deleted ones flagged
-- (_sl_deleted: soft-deleted, purged, or their case deleted).
with source as (
    select * from salesforce.case_milestone
),

final as (
    select
        id as case_milestone_id,
        case_id,
        milestone_type_id,
        start_date at time zone 'UTC' as started_at,
        target_date at time zone 'UTC' as target_at,
        completion_date at time zone 'UTC' as completed_at,
        coalesce(is_completed, false) as is_completed,
        coalesce(is_violated, false) as is_violated,
        target_response_in_mins,
        elapsed_time_in_mins,
        business_hours_id,
        coalesce(_sl_deleted, false) as is_deleted
    from source
)

select * from final
