-- One row per agent (grain: agent_key): core.agents with the team (their default group) and tier.
with agents as (
    select * from core.agents
),

final as (
    select
        agent_key::VARCHAR as agent_key,
        name::VARCHAR as agent_name,
        email::VARCHAR as email,
        group_name::VARCHAR as team,
        coalesce(support_tier, 'Unassigned')::VARCHAR as support_tier,
        (zendesk_user_id is not null)::BOOLEAN as is_zendesk_agent,
        (salesforce_user_id is not null)::BOOLEAN as is_salesforce_user,
        is_matched::BOOLEAN as is_matched,
        is_active::BOOLEAN as is_active
    from agents
)

select * from final
