-- One row per account (grain: account_key): core.accounts with the current ARR and segment.
-- Segment: Enterprise from the configured enterprise_min_arr (default $5M ARR), Mid-Market from
-- mid_market_min_arr (default $500K), Commercial below; 'Unassigned' for an account that has
-- never had won ARR (a Zendesk organization matched to no Account, say). A churned account keeps
-- the segment of its last active month. When [segments] account_field names an Account field, its
-- recognised value wins (intermediate.int_account_field_segments).
with accounts as (
    select * from core.accounts
),

account_months as (
    select * from marts.fct_account_monthly
),

field_segments as (
    select * from intermediate.int_account_field_segments
),

latest as (
    select
        account_key,
        arr,
        is_active,
        row_number() over (partition by account_key order by month_start desc) as rn
    from account_months
),

last_segment as (
    select
        account_key,
        segment,
        row_number() over (
            partition by account_key
            order by case when segment = 'Unassigned' then 1 else 0 end, month_start desc
        ) as rn
    from account_months
),

history as (
    select
        account_key,
        min(case when is_active then month_start end) as first_active_month,
        max(case when is_churned then month_start end) as last_churned_month
    from account_months
    group by account_key
),

final as (
    select
        a.account_key::VARCHAR as account_key,
        a.name::VARCHAR as account_name,
        a.source_system::VARCHAR as source_system,
        a.salesforce_account_id::VARCHAR as salesforce_account_id,
        a.zendesk_organization_id::BIGINT as zendesk_organization_id,
        a.account_type::VARCHAR as account_type,
        a.industry::VARCHAR as industry,
        a.zendesk_organization_count::BIGINT as zendesk_organization_count,
        coalesce(l.arr, 0)::DOUBLE as current_arr,
        coalesce(fs.segment, s.segment, 'Unassigned')::VARCHAR as segment,
        coalesce(l.is_active, false)::BOOLEAN as is_active_customer,
        h.first_active_month::DATE as first_active_month,
        h.last_churned_month::DATE as last_churned_month,
        a.created_at::TIMESTAMP as created_at,
        a.is_deleted::BOOLEAN as is_deleted,
        a.is_merged::BOOLEAN as is_merged
    from accounts as a
    left join latest as l on l.account_key = a.account_key and l.rn = 1
    left join last_segment as s on s.account_key = a.account_key and s.rn = 1
    left join history as h on h.account_key = a.account_key
    left join field_segments as fs on fs.account_key = a.account_key
)

select * from final
