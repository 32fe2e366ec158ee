-- One row per contact an agent could handle (grain: contact_key): Zendesk Talk calls and Salesforce
-- Omni-Channel work items. is_handled is false for abandoned/unanswered calls and work never
-- accepted (excluded from handle time); handle_seconds = talk + hold + wrap-up (Zendesk) or
-- HandleTime (Salesforce), NULL when not handled.
with calls as (
    select * from staging.stg_zendesk__calls
),

work as (
    select * from staging.stg_salesforce__agent_work
    where not is_deleted
),

agents as (
    select * from core.agents
),

tickets as (
    select * from core.tickets
),

zendesk_contacts as (
    select
        'zendesk:' || c.call_id::VARCHAR as contact_key,
        'zendesk' as source_system,
        'call' as contact_type,
        'phone' as channel_group,
        'zendesk:' || c.ticket_id::VARCHAR as ticket_key,
        coalesce(a.agent_key, 'zendesk:' || c.agent_id::VARCHAR) as agent_key,
        c.direction,
        c.completion_status as status,
        c.created_at as started_at,
        c.talk_seconds,
        c.hold_seconds,
        c.wrap_up_seconds,
        c.agent_id is not null and coalesce(c.talk_seconds, 0) > 0 as is_handled
    from calls as c
    left join agents as a on a.zendesk_user_id = c.agent_id
),

salesforce_contacts as (
    select
        'salesforce:' || w.agent_work_id as contact_key,
        'salesforce' as source_system,
        'work_item' as contact_type,
        coalesce(t.channel_group, 'other') as channel_group,
        case when starts_with(w.work_item_id, '500') then 'salesforce:' || w.work_item_id end as ticket_key,
        coalesce(a.agent_key, 'salesforce:' || w.user_id) as agent_key,
        null as direction,
        w.status,
        coalesce(w.accepted_at, w.assigned_at, w.requested_at) as started_at,
        null::BIGINT as talk_seconds,
        null::BIGINT as hold_seconds,
        null::BIGINT as wrap_up_seconds,
        w.accepted_at is not null as is_handled,
        w.handle_seconds
    from work as w
    left join agents as a on a.salesforce_user_id = w.user_id
    left join tickets as t on t.ticket_key = 'salesforce:' || w.work_item_id
),

unioned as (
    select
        *,
        case
            when is_handled then coalesce(talk_seconds, 0) + coalesce(hold_seconds, 0) + coalesce(wrap_up_seconds, 0)
        end as handle_seconds
    from zendesk_contacts
    union all
    select
        contact_key,
        source_system,
        contact_type,
        channel_group,
        ticket_key,
        agent_key,
        direction,
        status,
        started_at,
        talk_seconds,
        hold_seconds,
        wrap_up_seconds,
        is_handled,
        case when is_handled then handle_seconds end as handle_seconds
    from salesforce_contacts
),

final as (
    select
        contact_key::VARCHAR as contact_key,
        source_system::VARCHAR as source_system,
        contact_type::VARCHAR as contact_type,
        channel_group::VARCHAR as channel_group,
        ticket_key::VARCHAR as ticket_key,
        agent_key::VARCHAR as agent_key,
        direction::VARCHAR as direction,
        status::VARCHAR as status,
        started_at::TIMESTAMP as started_at,
        talk_seconds::BIGINT as talk_seconds,
        hold_seconds::BIGINT as hold_seconds,
        wrap_up_seconds::BIGINT as wrap_up_seconds,
        handle_seconds::BIGINT as handle_seconds,
        is_handled::BOOLEAN as is_handled
    from unioned
)

select * from final
