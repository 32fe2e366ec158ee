-- The support tier (1-3) that a name or a configured value stands for, read in one place: one row per
-- Zendesk group, Salesforce group/queue, and Salesforce case with a value in the configured tier
-- field (supportlake_config.configured_fields, field 'support_tier').
-- A name names a tier when it holds 'Tier 2', 'Tier2', 'T2', 'L2' or 'Level 2' (any case; ' ', '-' or
-- '_' between; not inside a longer word or number): 'Tier 2 Support', 'EMEA-L2', 'Tier_2_Support'.
-- A configured value may also be the bare number ('2', '2.0'). A group or queue named in the settings
-- (tiers.groups, matched case-insensitively) has the tier configured there, whatever its name says.
-- Anything else: NULL tier.
with zendesk_groups as (
    select * from staging.stg_zendesk__groups
),

salesforce_groups as (
    select * from staging.stg_salesforce__groups
),

group_settings as (
    select
        lower(trim(value)) as group_name,
        max(number) as tier_number
    from supportlake_config.settings
    where name = 'tiers.groups'
    group by lower(trim(value))
),

configured as (
    select * from supportlake_config.configured_fields
    where field = 'support_tier' and source_table = 'salesforce.case'
),

named as (
    select
        'zendesk_group' as tier_source,
        group_id::VARCHAR as source_id,
        name
    from zendesk_groups
    union all
    select
        'salesforce_group' as tier_source,
        group_id as source_id,
        name
    from salesforce_groups
    union all
    select
        'salesforce_case_field' as tier_source,
        source_id,
        value as name
    from configured
),

digits as (
    select
        tier_source,
        source_id,
        name,
        case
            when tier_source <> 'salesforce_case_field' and exists (
                select 1 from group_settings as g where g.group_name = lower(trim(named.name))
            ) then (
                select min(g.tier_number)::BIGINT::VARCHAR
                from group_settings as g where g.group_name = lower(trim(named.name))
            )
            when tier_source = 'salesforce_case_field' and regexp_matches(trim(name), '^[1-3]([.]0+)?$')
                then left(trim(name), 1)
            else nullif(
                regexp_extract(lower(coalesce(name, '')), '(^|[^a-z0-9])(tier|level|t|l)[ _-]?([1-3])([^0-9]|$)', 3),
                ''
            )
        end as tier_digit
    from named
),

final as (
    select
        tier_source::VARCHAR as tier_source,
        source_id::VARCHAR as source_id,
        name::VARCHAR as name,
        tier_digit::BIGINT as tier_number,
        ('Tier ' || tier_digit)::VARCHAR as support_tier
    from digits
)

select * from final
