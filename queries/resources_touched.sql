-- name: resources_touched
-- description: What the attacker's calls reached inside: the dependencies under each attacker call (database statements, HTTP URLs, storage), and MCP resources read (mcp.resource.uri).
-- params: since, until
-- depends: attacker_calls
-- output: kind, target, detail, calls, first, last
WITH deps AS (
    SELECT coalesce(d."DependencyType", 'dependency') AS kind, d."Target" AS target, d."Data" AS detail, d."TimeGenerated" AS time
    FROM "AppDependencies" d
    JOIN (SELECT DISTINCT operation_id FROM attacker_calls) a ON d."OperationId" = a.operation_id
    WHERE d."TimeGenerated" >= $since AND d."TimeGenerated" < $until
),
resources AS (
    SELECT 'mcp resource' AS kind, r.server AS target, r.resource_uri AS detail, r.time
    FROM (
        SELECT q."AppRoleName" AS server, q.resource_uri, q."TimeGenerated" AS time, q."OperationId" AS operation_id
        FROM "AppRequests" q
        WHERE q.resource_uri IS NOT NULL AND q."TimeGenerated" >= $since AND q."TimeGenerated" < $until
    ) r
    JOIN (SELECT DISTINCT operation_id FROM attacker_calls) a ON r.operation_id = a.operation_id
)
SELECT kind, target, detail, count(*) AS calls, min(time) AS first, max(time) AS last
FROM (SELECT * FROM deps UNION ALL SELECT * FROM resources)
GROUP BY kind, target, detail
ORDER BY kind, target, first, detail
