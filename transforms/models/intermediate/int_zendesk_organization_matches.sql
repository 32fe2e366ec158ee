-- Each Zendesk organization matched to at most one Salesforce Account (one row per organization):
-- 1. external_id: organization.external_id holds the Account Id (a 15-character id is normalised to
--    18 with its checksum suffix);
-- 2. email_domain: one of its domains belongs to exactly one Account (website) and to no other
--    organization, and its domains point to a single Account;
-- 3. normalized_name: its normalised name is that of exactly one Account and of no other organization.
-- Deleted and merged-away Accounts are never match targets. Unmatched organizations have NULLs.
with organizations as (
    select * from staging.stg_zendesk__organizations
),

accounts as (
    select * from staging.stg_salesforce__accounts
    where not is_deleted and master_record_id is null
),

org_ids as (
    select
        organization_id,
        name,
        domain_names_json,
        trim(external_id) as external_id,
        case
            when regexp_matches(trim(coalesce(external_id, '')), '^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$')
                then left(trim(external_id), 15)
        end as external_id_15
    from organizations
),

org_normalized as (
    select
        organization_id,
        name,
        domain_names_json,
        external_id,
        case
            when external_id_15 is not null then external_id_15
            || substring('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + (
                (case when regexp_matches(substring(external_id_15, 1, 1), '^[A-Z]$') then 1 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 2, 1), '^[A-Z]$') then 2 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 3, 1), '^[A-Z]$') then 4 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 4, 1), '^[A-Z]$') then 8 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 5, 1), '^[A-Z]$') then 16 else 0 end)
            ), 1)
            || substring('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + (
                (case when regexp_matches(substring(external_id_15, 6, 1), '^[A-Z]$') then 1 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 7, 1), '^[A-Z]$') then 2 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 8, 1), '^[A-Z]$') then 4 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 9, 1), '^[A-Z]$') then 8 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 10, 1), '^[A-Z]$') then 16 else 0 end)
            ), 1)
            || substring('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + (
                (case when regexp_matches(substring(external_id_15, 11, 1), '^[A-Z]$') then 1 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 12, 1), '^[A-Z]$') then 2 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 13, 1), '^[A-Z]$') then 4 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 14, 1), '^[A-Z]$') then 8 else 0 end)
                + (case when regexp_matches(substring(external_id_15, 15, 1), '^[A-Z]$') then 16 else 0 end)
            ), 1)
        end as external_id_18
    from org_ids
),

by_external_id as (
    select
        o.organization_id,
        a.account_id,
        'external_id' as match_method,
        o.external_id_18 as match_value
    from org_normalized as o
    inner join accounts as a on a.account_id = o.external_id_18
),

account_domains as (
    select distinct
        account_id,
        split_part(
            split_part(
                regexp_replace(regexp_replace(lower(trim(website)), '^[a-z]+://', ''), '^www[.]', ''),
                '/', 1
            ),
            ':', 1
        ) as domain
    from accounts
    where nullif(trim(website), '') is not null
),

org_domains as (
    select distinct
        organization_id,
        lower(trim(domain)) as domain
    from (
        select
            organization_id,
            unnest(regexp_extract_all(coalesce(domain_names_json, ''), '"([^"]+)"', 1)) as domain
        from org_normalized
    ) as d
),

unique_domains as (
    select ad.domain, min(ad.account_id) as account_id
    from account_domains as ad
    where ad.domain <> ''
    group by ad.domain
    having count(distinct ad.account_id) = 1
        and (select count(distinct od.organization_id) from org_domains as od where od.domain = ad.domain) = 1
),

domain_candidates as (
    select
        od.organization_id,
        min(ud.account_id) as account_id,
        min(ud.domain) as domain,
        count(distinct ud.account_id) as accounts
    from org_domains as od
    inner join unique_domains as ud on ud.domain = od.domain
    where od.organization_id not in (select organization_id from by_external_id)
    group by od.organization_id
),

by_domain as (
    select
        organization_id,
        account_id,
        'email_domain' as match_method,
        domain as match_value
    from domain_candidates
    where accounts = 1
),

names as (
    select
        'account' as side,
        account_id as id_text,
        null::BIGINT as organization_id,
        name
    from accounts
    union all
    select
        'organization' as side,
        null as id_text,
        organization_id,
        name
    from org_normalized
),

normalized_names as (
    select
        side,
        id_text,
        organization_id,
        replace(
            regexp_replace(
                trim(regexp_replace(lower(coalesce(name, '')), '[^a-z0-9]+', ' ', 'g')),
                ' (inc|llc|ltd|limited|corp|corporation|co|company|gmbh|ag|sa|sas|plc|bv|nv|pty)$',
                ''
            ),
            ' ',
            ''
        ) as name_key
    from names
),

unique_names as (
    select name_key
    from normalized_names
    where name_key <> ''
    group by name_key
    having count(*) filter (where side = 'account') = 1
        and count(*) filter (where side = 'organization') = 1
),

by_name as (
    select
        o.organization_id,
        a.id_text as account_id,
        'normalized_name' as match_method,
        o.name_key as match_value
    from normalized_names as o
    inner join unique_names as u on u.name_key = o.name_key
    inner join normalized_names as a on a.name_key = o.name_key and a.side = 'account'
    where o.side = 'organization'
        and o.organization_id not in (select organization_id from by_external_id)
        and o.organization_id not in (select organization_id from by_domain)
),

matches as (
    select * from by_external_id
    union all
    select * from by_domain
    union all
    select * from by_name
),

final as (
    select
        o.organization_id::BIGINT as organization_id,
        o.name::VARCHAR as organization_name,
        o.external_id::VARCHAR as external_id,
        o.external_id_18::VARCHAR as external_id_normalized,
        m.account_id::VARCHAR as salesforce_account_id,
        m.match_method::VARCHAR as match_method,
        m.match_value::VARCHAR as match_value
    from org_normalized as o
    left join matches as m on m.organization_id = o.organization_id
)

select * from final
