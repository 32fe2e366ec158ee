-- Signs that an agent worked a Salesforce case (one row per case with at least one), for
-- self-service (KPIS.md: a self-service resolution is one no agent touched):
-- - a published agent comment (intermediate.int_salesforce_case_replies);
-- - a completed 'First Response' milestone (intermediate.int_salesforce_first_responses);
-- - Omni-Channel AgentWork on the case that an agent accepted;
-- - a phone case (Origin Phone) owned by a user (OwnerId '005...'), not a queue: an agent took the call.
-- Outbound EmailMessage is not synced (not an object supportlake reads), so e-mail replies count only
-- through the milestone.
with cases as (
    select * from staging.stg_salesforce__cases
),

replies as (
    select * from intermediate.int_salesforce_case_replies
),

first_responses as (
    select * from intermediate.int_salesforce_first_responses
),

work as (
    select * from staging.stg_salesforce__agent_work
    where not is_deleted and accepted_at is not null
),

worked as (
    select distinct work_item_id as case_id
    from work
),

signs as (
    select
        c.case_id,
        r.case_id is not null as has_agent_reply,
        fr.case_id is not null as has_first_response,
        w.case_id is not null as has_agent_work,
        lower(coalesce(c.origin, '')) = 'phone' and starts_with(coalesce(c.owner_id, ''), '005') as is_agent_phone_case
    from cases as c
    left join replies as r on r.case_id = c.case_id
    left join first_responses as fr on fr.case_id = c.case_id
    left join worked as w on w.case_id = c.case_id
),

final as (
    select
        case_id::VARCHAR as case_id,
        has_agent_reply::BOOLEAN as has_agent_reply,
        has_first_response::BOOLEAN as has_first_response,
        has_agent_work::BOOLEAN as has_agent_work,
        is_agent_phone_case::BOOLEAN as is_agent_phone_case
    from signs
    where has_agent_reply or has_first_response or has_agent_work or is_agent_phone_case
)

select * from final
