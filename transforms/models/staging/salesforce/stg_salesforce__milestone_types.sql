-- Salesforce milestone types (entitlement milestones such as 'First Response'): the names
-- CaseMilestone.MilestoneTypeId points at. A setup object: no IsDeleted.
with source as (
    select * from salesforce.milestone_type
),

final as (
    select
        id as milestone_type_id,
        name,
        description,
        recurrence_type
    from source
)

select * from final
