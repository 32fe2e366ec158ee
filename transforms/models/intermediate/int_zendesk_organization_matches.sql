-- Each Zendesk organization matched to at most one Salesforce Account (one row per organization):
-- 0. override: a row of inputs.input_account_overrides decides, before any rule: 'override' to the
--    Account it names (any Account Salesforce has, even deleted or merged: a person chose it), or
--    'override_unmatched' when its Account Id is empty ('never match') or names no Account Salesforce
--    has (match_value keeps that id); no other rule is tried;
-- 1. external_id / organization_field: organization.external_id or the configured organization field
--    (supportlake_config.configured_fields) holds the Account Id (ids normalised to 18 characters in
--    intermediate.int_account_id_candidates); both rank equal: when they name two different Accounts
--    the organization is 'conflicting_ids' and stays unmatched (match_value names both);
-- 2. email_domain: one of its domains belongs to exactly one Account (website) and to no other
--    organization, and its domains point to a single Account;
-- 3. normalized_name: its normalised name is that of exactly one Account and of no other organization.
-- Deleted (soft-deleted or purged) and merged-away Accounts are never match targets. Unmatched
-- organizations have NULLs.
with organizations as (
    select * from staging.stg_zendesk__organizations
),

all_accounts as (
    select * from staging.stg_salesforce__accounts
),

accounts as (
    select * from all_accounts
    where not is_deleted and master_record_id is null
),

candidates as (
    select * from intermediate.int_account_id_candidates
    where record_type = 'zendesk_organization'
),

org_normalized as (
    select
        o.organization_id,
        o.name,
        o.domain_names_json,
        trim(o.external_id) as external_id,
        c.account_id as external_id_18
    from organizations as o
    left join candidates as c on c.record_id = o.organization_id and c.id_source = 'external_id'
),

by_override as (
    select
        c.record_id as organization_id,
        a.account_id,
        case when a.account_id is not null then 'override' else 'override_unmatched' end as match_method,
        coalesce(a.account_id, c.account_id, c.raw_value) as match_value
    from candidates as c
    left join all_accounts as a on a.account_id = c.account_id
    where c.id_source = 'override'
),

id_matches as (
    select distinct
        c.record_id as organization_id,
        c.id_source,
        a.account_id
    from candidates as c
    inner join accounts as a on a.account_id = c.account_id
    where c.id_source in ('external_id', 'organization_field')
        and c.record_id not in (select organization_id from by_override)
),

id_folded as (
    select
        organization_id,
        count(distinct account_id) as accounts,
        min(account_id) as account_id,
        bool_or(id_source = 'external_id') as has_external_id,
        string_agg(id_source || '=' || account_id, '; ' order by id_source, account_id) as all_ids
    from id_matches
    group by organization_id
),

by_id as (
    select
        organization_id,
        case when accounts = 1 then account_id end as account_id,
        case
            when accounts > 1 then 'conflicting_ids'
            when has_external_id then 'external_id'
            else 'organization_field'
        end as match_method,
        case when accounts = 1 then account_id else all_ids end as match_value
    from id_folded
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
    where od.organization_id not in (select organization_id from by_override)
        and od.organization_id not in (select organization_id from by_id)
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
        and o.organization_id not in (select organization_id from by_override)
        and o.organization_id not in (select organization_id from by_id)
        and o.organization_id not in (select organization_id from by_domain)
),

matches as (
    select * from by_override
    union all
    select * from by_id
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
