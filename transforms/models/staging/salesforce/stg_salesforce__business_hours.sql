-- Salesforce BusinessHours: weekly hours per weekday as the API sends `time` values
-- ('08:00:00.000Z': a local wall-clock time in TimeZoneSidKey despite the Z; a day whose start and
-- end are NULL has no business hours; 00:00 to 00:00 is the whole day). Never deleted, deactivated.
with source as (
    select * from salesforce.business_hours
),

final as (
    select
        id as business_hours_id,
        name,
        coalesce(is_active, false) as is_active,
        coalesce(is_default, false) as is_default,
        time_zone_sid_key as time_zone,
        sunday_start_time,
        sunday_end_time,
        monday_start_time,
        monday_end_time,
        tuesday_start_time,
        tuesday_end_time,
        wednesday_start_time,
        wednesday_end_time,
        thursday_start_time,
        thursday_end_time,
        friday_start_time,
        friday_end_time,
        saturday_start_time,
        saturday_end_time
    from source
)

select * from final
