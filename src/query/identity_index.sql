-- identity_index for a case without index files (written by an earlier version): the same rows,
-- one per Entra object id, computed from the sign-ins of every day (all_days_sign_ins: the
-- catalogue's identity sources under the all_days schema, catalog::sign_ins_view), with the
-- same reading of each sign-in's Entra Agent ID object (`Agent`) as case::identities: an
-- identity is an agent when an `agentType` of its sign-ins is agentic; an agent acted for it
-- when `agentSubjectType` is agentic and `agentType` is not.
CREATE VIEW identity_index AS
WITH signed AS (
    SELECT user_id AS id, upn, display, time AS t, kind AS table_kind, agent, app
    FROM all_days_sign_ins
    WHERE user_id IS NOT NULL AND user_id <> ''
),
-- A service principal's display name is its name (as case::identities reads it); written
-- here rather than as the same column twice, which the optimizer cannot project.
agentic AS (
    SELECT id, upn, CASE WHEN table_kind = 'person' THEN display ELSE upn END AS display, t, table_kind, agent, app,
           coalesce(lower(nullif(json_get_str(agent, 'agentType'), '')) IN ('agenticapp', 'agenticappinstance', 'agentidentityblueprintprincipal', 'agentiduser'), false) AS is_agent,
           coalesce(lower(nullif(json_get_str(agent, 'agentSubjectType'), '')) IN ('agenticapp', 'agenticappinstance', 'agentidentityblueprintprincipal', 'agentiduser'), false) AS subject_agent,
           coalesce(nullif(json_get_str(agent, 'agentSubjectParentId'), ''), nullif(json_get_str(agent, 'parentAppId'), '')) AS parent
    FROM signed
)
SELECT id AS user_id,
       last_value(upn ORDER BY t NULLS FIRST, upn NULLS FIRST, display NULLS FIRST) AS user_principal_name,
       last_value(display ORDER BY t NULLS FIRST, upn NULLS FIRST, display NULLS FIRST) AS display_name,
       min(t) AS first_sign_in,
       max(t) AS last_sign_in,
       count(*) AS sign_ins,
       CASE WHEN bool_or(is_agent) THEN 'agent'
            ELSE last_value(table_kind ORDER BY t NULLS FIRST, upn NULLS FIRST, display NULLS FIRST) END AS kind,
       max(CASE WHEN is_agent THEN json_get_str(agent, 'agentType') END) AS agent_type,
       max(CASE WHEN is_agent THEN parent END) AS agent_parent,
       max(CASE WHEN is_agent THEN nullif(app, '') END) AS agent_app,
       max(CASE WHEN NOT is_agent AND subject_agent THEN parent END) AS acting_agent
FROM agentic
GROUP BY id
