-- One row per account (grain: account_key): each Salesforce Account, with the Zendesk organizations
-- matched to it, and each Zendesk organization that matched none (its account is itself: unmatched,
-- conflicting_ids, or an override saying 'no match'). is_deleted: soft-deleted or purged in Salesforce
-- (staging reads deleted_records), deleted in Zendesk.
with identity as (
    select * from core.account_identity
),

accounts as (
    select * from staging.stg_salesforce__accounts
),

organizations as (
    select * from staging.stg_zendesk__organizations
),

org_counts as (
    select
        account_key,
        count(*) as zendesk_organization_count
    from identity
    where source_system = 'zendesk'
    group by account_key
),

salesforce_accounts as (
    select
        'salesforce:' || a.account_id as account_key,
        'salesforce' as source_system,
        a.account_id as salesforce_account_id,
        null::BIGINT as zendesk_organization_id,
        a.name,
        a.account_type,
        a.industry,
        a.website,
        a.created_at,
        a.is_deleted,
        a.master_record_id is not null as is_merged
    from accounts as a
),

zendesk_only as (
    select
        i.account_key,
        'zendesk' as source_system,
        null as salesforce_account_id,
        o.organization_id as zendesk_organization_id,
        o.name,
        null as account_type,
        null as industry,
        null as website,
        o.created_at,
        o.is_deleted,
        false as is_merged
    from identity as i
    inner join organizations as o on 'zendesk:' || o.organization_id::VARCHAR = i.identity_key
    where i.source_system = 'zendesk' and i.account_key = i.identity_key
),

unioned as (
    select * from salesforce_accounts
    union all
    select * from zendesk_only
),

final as (
    select
        u.account_key::VARCHAR as account_key,
        u.source_system::VARCHAR as source_system,
        u.salesforce_account_id::VARCHAR as salesforce_account_id,
        u.zendesk_organization_id::BIGINT as zendesk_organization_id,
        u.name::VARCHAR as name,
        u.account_type::VARCHAR as account_type,
        u.industry::VARCHAR as industry,
        u.website::VARCHAR as website,
        coalesce(c.zendesk_organization_count, 0)::BIGINT as zendesk_organization_count,
        u.created_at::TIMESTAMP as created_at,
        u.is_deleted::BOOLEAN as is_deleted,
        u.is_merged::BOOLEAN as is_merged
    from unioned as u
    left join org_counts as c on c.account_key = u.account_key
)

select * from final
