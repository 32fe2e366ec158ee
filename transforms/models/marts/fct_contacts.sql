-- One row per contact (grain: contact_key): Zendesk Talk calls and Salesforce Omni-Channel work
-- items, with handle minutes (talk + hold + wrap-up, or HandleTime) for handled ones; unanswered and
-- abandoned contacts stay, flagged, and are excluded from handle time. is_ticket_excluded: the contact's
-- ticket is deleted, merged away or spam (KPIS.md: handle time excludes them too); false for a
-- contact without a ticket.
with contacts as (
    select * from core.contacts_handled
),

tickets as (
    select * from marts.fct_tickets
),

final as (
    select
        c.contact_key::VARCHAR as contact_key,
        c.source_system::VARCHAR as source_system,
        c.contact_type::VARCHAR as contact_type,
        c.channel_group::VARCHAR as channel_group,
        c.ticket_key::VARCHAR as ticket_key,
        c.agent_key::VARCHAR as agent_key,
        coalesce(t.segment, 'Unassigned')::VARCHAR as segment,
        c.direction::VARCHAR as direction,
        c.status::VARCHAR as status,
        c.started_at::TIMESTAMP as started_at,
        (c.started_at + coalesce(c.handle_seconds, 0) * INTERVAL 1 SECOND)::TIMESTAMP as ended_at,
        (c.started_at + coalesce(c.handle_seconds, 0) * INTERVAL 1 SECOND)::DATE as ended_date,
        c.talk_seconds::BIGINT as talk_seconds,
        c.hold_seconds::BIGINT as hold_seconds,
        c.wrap_up_seconds::BIGINT as wrap_up_seconds,
        c.handle_seconds::BIGINT as handle_seconds,
        case when c.is_handled then c.handle_seconds / 60.0 end::DOUBLE as handle_minutes,
        c.is_handled::BOOLEAN as is_handled,
        coalesce(t.is_excluded, false)::BOOLEAN as is_ticket_excluded,
        t.exclusion_reason::VARCHAR as ticket_exclusion_reason
    from contacts as c
    left join tickets as t on t.ticket_key = c.ticket_key
)

select * from final
