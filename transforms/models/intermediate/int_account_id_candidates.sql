-- Every Zendesk value that may hold a Salesforce Account Id, normalised in one place: one row per
-- record and id source. Sources: an override (inputs.input_account_overrides, the latest row per
-- organization; its raw_value is NULL when it says 'never match'); an organization's external_id;
-- the configured organization field and the configured ticket field
-- (supportlake_config.configured_fields, field 'account_id').
-- account_id is the 18-character form: a 15-character id gets Salesforce's checksum suffix (per
-- 5-character chunk, the letter of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345' whose index has bit i set when
-- character i is an upper-case letter); an 18-character id keeps its first 15 and gets the suffix
-- recomputed. A value that is no id (not 15 or 18 letters and digits) has a NULL account_id.
with organizations as (
    select * from staging.stg_zendesk__organizations
),

overrides as (
    select * from inputs.input_account_overrides
),

latest_overrides as (
    select
        zendesk_organization_id,
        salesforce_account_id,
        row_number() over (
            partition by zendesk_organization_id order by loaded_at desc, source_file desc
        ) as override_rank
    from overrides
    where zendesk_organization_id is not null
),

configured as (
    select * from supportlake_config.configured_fields
    where field = 'account_id' and regexp_matches(source_id, '^[0-9]+$')
),

candidates as (
    select
        'zendesk_organization' as record_type,
        zendesk_organization_id as record_id,
        'override' as id_source,
        nullif(trim(salesforce_account_id), '') as raw_value
    from latest_overrides
    where override_rank = 1
    union all
    select
        'zendesk_organization' as record_type,
        organization_id as record_id,
        'external_id' as id_source,
        external_id as raw_value
    from organizations
    where external_id is not null
    union all
    select
        case source_table
            when 'zendesk.organizations' then 'zendesk_organization'
            when 'zendesk.tickets' then 'zendesk_ticket'
        end as record_type,
        source_id::BIGINT as record_id,
        case source_table
            when 'zendesk.organizations' then 'organization_field'
            when 'zendesk.tickets' then 'ticket_field'
        end as id_source,
        value as raw_value
    from configured
    where source_table in ('zendesk.organizations', 'zendesk.tickets')
),

shaped as (
    select
        *,
        case
            when regexp_matches(trim(coalesce(raw_value, '')), '^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$')
                then left(trim(raw_value), 15)
        end as id15
    from candidates
),

-- A character is an upper-case letter when lower() changes it (ids hold only ASCII letters and digits).
normalized as (
    select
        record_type,
        record_id,
        id_source,
        raw_value,
        id15
        || substring('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + (
            (case when substring(id15, 1, 1) <> lower(substring(id15, 1, 1)) then 1 else 0 end)
            + (case when substring(id15, 2, 1) <> lower(substring(id15, 2, 1)) then 2 else 0 end)
            + (case when substring(id15, 3, 1) <> lower(substring(id15, 3, 1)) then 4 else 0 end)
            + (case when substring(id15, 4, 1) <> lower(substring(id15, 4, 1)) then 8 else 0 end)
            + (case when substring(id15, 5, 1) <> lower(substring(id15, 5, 1)) then 16 else 0 end)
        ), 1)
        || substring('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + (
            (case when substring(id15, 6, 1) <> lower(substring(id15, 6, 1)) then 1 else 0 end)
            + (case when substring(id15, 7, 1) <> lower(substring(id15, 7, 1)) then 2 else 0 end)
            + (case when substring(id15, 8, 1) <> lower(substring(id15, 8, 1)) then 4 else 0 end)
            + (case when substring(id15, 9, 1) <> lower(substring(id15, 9, 1)) then 8 else 0 end)
            + (case when substring(id15, 10, 1) <> lower(substring(id15, 10, 1)) then 16 else 0 end)
        ), 1)
        || substring('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + (
            (case when substring(id15, 11, 1) <> lower(substring(id15, 11, 1)) then 1 else 0 end)
            + (case when substring(id15, 12, 1) <> lower(substring(id15, 12, 1)) then 2 else 0 end)
            + (case when substring(id15, 13, 1) <> lower(substring(id15, 13, 1)) then 4 else 0 end)
            + (case when substring(id15, 14, 1) <> lower(substring(id15, 14, 1)) then 8 else 0 end)
            + (case when substring(id15, 15, 1) <> lower(substring(id15, 15, 1)) then 16 else 0 end)
        ), 1) as account_id
    from shaped
),

final as (
    select
        record_type::VARCHAR as record_type,
        record_id::BIGINT as record_id,
        id_source::VARCHAR as id_source,
        raw_value::VARCHAR as raw_value,
        account_id::VARCHAR as account_id
    from normalized
)

select * from final
