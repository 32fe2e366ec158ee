-- Average handle time: handle minutes over handled contacts, by month of the contact's end, per
-- segment × channel group (cube: every total too; support tier is always 'all').
with contacts as (
    select * from marts.fct_contacts
    where is_handled and handle_minutes is not null and not is_ticket_excluded
),

final as (
    select
        date_trunc('month', ended_at)::DATE as month_start,
        'aht_minutes' as kpi_name,
        segment, channel_group, 'all' as support_tier,
        sum(handle_minutes) as numerator,
        count(*) as denominator
    from contacts
    group by 1, cube (segment, channel_group)
)

select * from final
