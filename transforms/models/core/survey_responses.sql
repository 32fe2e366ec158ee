-- One row per survey response or offer (grain: survey_key).
-- Zendesk satisfaction ratings, offered-but-unanswered ones included (is_response false); legacy
-- good/bad scores are normalised to 5/1; is_offered: a survey went out (every rating but 'unoffered').
-- The agent and group are the ones the rating names: as they were when the customer rated.
-- Salesforce: the configured Case field ([salesforce] csat_field, default CSAT_Score__c, read through
-- supportlake_config.configured_fields), one response per case holding a number within the configured
-- scale (csat_scale_min..csat_scale_max, normalised linearly to 1–5; other values are no score).
-- responded_at: the latest CaseHistory change of that field when the field is history-tracked, else
-- ClosedDate, else the case's last modification. A Case field records answers only, not invitations:
-- is_offered is NULL (unknown), so Salesforce is outside the response rate. The agent is the case's
-- owner when a user owns it (no owner history at rating time is read).
with ratings as (
    select * from staging.stg_zendesk__satisfaction_ratings
),

cases as (
    select * from staging.stg_salesforce__cases
),

case_history as (
    select * from staging.stg_salesforce__case_history
),

configured as (
    select * from supportlake_config.configured_fields
    where field = 'csat_score' and source_table = 'salesforce.case'
),

settings as (
    select * from supportlake_config.settings
),

scale as (
    select
        max(case when name = 'salesforce.csat_field' then lower(value) end) as field_name,
        max(case when name = 'salesforce.csat_scale_min' then number end) as scale_min,
        max(case when name = 'salesforce.csat_scale_max' then number end) as scale_max
    from settings
),

scored as (
    select
        *,
        case
            when starts_with(score, 'good') then 5.0
            when starts_with(score, 'bad') then 1.0
        end as score_1_to_5
    from ratings
),

zendesk_surveys as (
    select
        'zendesk:' || rating_id::VARCHAR as survey_key,
        'zendesk' as source_system,
        'zendesk:' || ticket_id::VARCHAR as ticket_key,
        'zendesk:' || requester_id::VARCHAR as requester_key,
        'zendesk:' || assignee_id::VARCHAR as assignee_agent_key,
        'zendesk:' || group_id::VARCHAR as group_key,
        score as score_raw,
        score_1_to_5,
        coalesce(score, '') <> 'unoffered' as is_offered,
        created_at as offered_at,
        case when score_1_to_5 is not null then coalesce(updated_at, created_at) end as responded_at
    from scored
),

score_changes as (
    select
        h.case_id,
        max(h.created_at) as changed_at
    from case_history as h
    cross join scale as s
    where lower(h.field) = s.field_name and h.new_value is not null
    group by h.case_id
),

salesforce_values as (
    select
        c.case_id,
        c.contact_id,
        c.owner_id,
        trim(f.value) as score_raw,
        case
            when regexp_matches(trim(f.value), '^-?[0-9]+(\.[0-9]+)?$') then trim(f.value)::DOUBLE
        end as score_number,
        coalesce(sc.changed_at, c.closed_at, c.last_modified_at, c.system_modstamp) as responded_at,
        s.scale_min,
        s.scale_max
    from configured as f
    inner join cases as c on c.case_id = f.source_id
    left join score_changes as sc on sc.case_id = c.case_id
    cross join scale as s
),

salesforce_surveys as (
    select
        'salesforce:' || case_id || ':csat' as survey_key,
        'salesforce' as source_system,
        'salesforce:' || case_id as ticket_key,
        'salesforce:' || contact_id as requester_key,
        case when starts_with(owner_id, '005') then 'salesforce:' || owner_id end as assignee_agent_key,
        case when not starts_with(owner_id, '005') then 'salesforce:' || owner_id end as group_key,
        score_raw,
        case
            when score_number between scale_min and scale_max
                then 1.0 + (score_number - scale_min) * 4.0 / (scale_max - scale_min)
        end as score_1_to_5,
        null::BOOLEAN as is_offered,
        null::TIMESTAMP as offered_at,
        responded_at
    from salesforce_values
),

unioned as (
    select * from zendesk_surveys
    union all
    select * from salesforce_surveys
),

final as (
    select
        survey_key::VARCHAR as survey_key,
        source_system::VARCHAR as source_system,
        ticket_key::VARCHAR as ticket_key,
        requester_key::VARCHAR as requester_key,
        assignee_agent_key::VARCHAR as assignee_agent_key,
        group_key::VARCHAR as group_key,
        score_raw::VARCHAR as score_raw,
        score_1_to_5::DOUBLE as score,
        (score_1_to_5 is not null)::BOOLEAN as is_response,
        case when score_1_to_5 is not null then score_1_to_5 >= 4 end::BOOLEAN as is_positive,
        is_offered::BOOLEAN as is_offered,
        offered_at::TIMESTAMP as offered_at,
        case when score_1_to_5 is not null then responded_at end::TIMESTAMP as responded_at
    from unioned
)

select * from final
