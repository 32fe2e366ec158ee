-- Salesforce groups and queues (case owners may be queues).
with source as (
    select * from salesforce."group" as sf_group
),

final as (
    select
        id as group_id,
        name,
        developer_name,
        type as group_type,
        created_date at time zone 'UTC' as created_at
    from source
)

select * from final
