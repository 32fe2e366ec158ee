-- What CaseHistory tells about each case that has any history (one row per case; a case without a
-- single history row is absent, so downstream its counts are unknown, NULL, not 0):
-- - escalations: owner changes (Field 'Owner' or 'ownerAssignment') into a queue/group whose tier
--   (intermediate.int_support_tiers, by the group's Id or by its name: Salesforce writes one row of
--   Ids and one of names per change) is higher than the tier of the queue that owned the case before
--   (the latest queue with a tier among the earlier old and new owners). Changes into users, or into
--   queues without a tier, neither count nor reset the comparison. Several rows at the same moment
--   are one change. The first escalation's time, for 'before the first solve'.
-- - highest_tier_number: the highest tier among all queues in the case's owner history.
-- - reopens: Status changes from a closed status to an open one. Closed statuses: 'Closed', 'Solved',
--   'Resolved', any status starting with 'Closed', and any status a closed case (IsClosed) has now.
--   (CaseStatus, which says IsClosed per status, is not synced: the statuses closed cases have are
--   what the warehouse knows.)
-- - first_closed_at: the first Status change into a closed status (the first solve, KPIS.md), NULL
--   when the history has none (a case closed on creation writes no Status change).
with history as (
    select * from staging.stg_salesforce__case_history
),

cases as (
    select * from staging.stg_salesforce__cases
),

tiers as (
    select * from intermediate.int_support_tiers
    where tier_source = 'salesforce_group' and tier_number is not null
),

tier_by_id as (
    select source_id as group_id, max(tier_number) as tier_number
    from tiers
    group by source_id
),

tier_by_name as (
    select name, max(tier_number) as tier_number
    from tiers
    group by name
),

owner_rows as (
    select
        h.case_id,
        h.created_at,
        coalesce(oi.tier_number, oname.tier_number) as old_tier,
        coalesce(ni.tier_number, nname.tier_number) as new_tier
    from history as h
    left join tier_by_id as oi on oi.group_id = h.old_value
    left join tier_by_name as oname on oname.name = h.old_value
    left join tier_by_id as ni on ni.group_id = h.new_value
    left join tier_by_name as nname on nname.name = h.new_value
    where h.field in ('Owner', 'ownerAssignment')
),

owner_changes as (
    select
        case_id,
        created_at,
        max(old_tier) as old_tier,
        max(new_tier) as new_tier
    from owner_rows
    group by case_id, created_at
),

queue_owners as (
    select case_id, created_at, 0 as side, old_tier as tier_number
    from owner_changes
    where old_tier is not null
    union all
    select case_id, created_at, 1 as side, new_tier as tier_number
    from owner_changes
    where new_tier is not null
),

queue_steps as (
    select
        case_id,
        created_at,
        side,
        tier_number,
        lag(tier_number) over (partition by case_id order by created_at, side) as previous_tier_number
    from queue_owners
),

escalations as (
    select
        case_id,
        count(*) as escalation_count,
        min(created_at) as first_escalated_at
    from queue_steps
    where side = 1 and tier_number > previous_tier_number
    group by case_id
),

highest as (
    select case_id, max(tier_number) as highest_tier_number
    from queue_owners
    group by case_id
),

closed_statuses as (
    select distinct lower(status) as status
    from cases
    where is_closed and status is not null
    union
    select 'closed' as status
    union
    select 'solved' as status
    union
    select 'resolved' as status
),

status_changes as (
    select
        h.case_id,
        lower(h.old_value) as old_status,
        lower(h.new_value) as new_status
    from history as h
    where h.field = 'Status' and h.old_value is not null and h.new_value is not null
),

first_closes as (
    select
        h.case_id,
        min(h.created_at) as first_closed_at
    from history as h
    where h.field = 'Status' and h.new_value is not null
        and (lower(h.new_value) in (select status from closed_statuses) or starts_with(lower(h.new_value), 'closed'))
    group by h.case_id
),

reopens as (
    select
        s.case_id,
        count(*) as reopen_count
    from status_changes as s
    where (s.old_status in (select status from closed_statuses) or starts_with(s.old_status, 'closed'))
        and not (s.new_status in (select status from closed_statuses) or starts_with(s.new_status, 'closed'))
    group by s.case_id
),

with_history as (
    select distinct case_id
    from history
    where case_id is not null
),

final as (
    select
        w.case_id::VARCHAR as case_id,
        coalesce(e.escalation_count, 0)::BIGINT as escalation_count,
        e.first_escalated_at::TIMESTAMP as first_escalated_at,
        hi.highest_tier_number::BIGINT as highest_tier_number,
        coalesce(r.reopen_count, 0)::BIGINT as reopen_count,
        fc.first_closed_at::TIMESTAMP as first_closed_at
    from with_history as w
    left join escalations as e on e.case_id = w.case_id
    left join highest as hi on hi.case_id = w.case_id
    left join reopens as r on r.case_id = w.case_id
    left join first_closes as fc on fc.case_id = w.case_id
)

select * from final
