-- Salesforce first responses from entitlement milestones (one row per case with one): the earliest
-- CompletionDate of a completed, non-deleted CaseMilestone whose MilestoneType is named
-- 'First Response' (case-insensitive). core.tickets prefers it to the first agent comment (KPIS.md).
with milestones as (
    select * from staging.stg_salesforce__case_milestones
    where is_completed and not is_deleted and completed_at is not null
),

milestone_types as (
    select * from staging.stg_salesforce__milestone_types
),

final as (
    select
        m.case_id::VARCHAR as case_id,
        min(m.completed_at)::TIMESTAMP as first_response_at
    from milestones as m
    inner join milestone_types as t on t.milestone_type_id = m.milestone_type_id
    where lower(trim(t.name)) = 'first response'
    group by m.case_id
)

select * from final
