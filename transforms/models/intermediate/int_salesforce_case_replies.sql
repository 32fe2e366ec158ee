-- Agent replies on Salesforce cases (one row per case with at least one): published CaseComments
-- (IsPublished) that are not deleted, written by an internal user: CreatedById is a User Id ('005...'),
-- not the case's contact, and not a portal/community user (UserType other than Standard, when the
-- user is known). Every such comment counts, whenever it was written.
with comments as (
    select * from staging.stg_salesforce__case_comments
    where is_published and not is_deleted
),

cases as (
    select * from staging.stg_salesforce__cases
),

users as (
    select * from staging.stg_salesforce__users
),

agent_replies as (
    select
        c.case_id,
        c.created_at
    from comments as c
    inner join cases as k on k.case_id = c.case_id
    left join users as u on u.user_id = c.created_by_id
    where starts_with(c.created_by_id, '005')
        and (k.contact_id is null or c.created_by_id <> k.contact_id)
        and coalesce(u.user_type, 'Standard') = 'Standard'
),

final as (
    select
        case_id::VARCHAR as case_id,
        count(*)::BIGINT as reply_count,
        min(created_at)::TIMESTAMP as first_reply_at
    from agent_replies
    group by case_id
)

select * from final
