-- name: window_dependencies
-- description: The outgoing calls the server logged in the window (AppDependencies rows with a Target or an address, two seconds either side of the window), one row each: whether it has a Target, the host its Target names, the address it carries when the exporter wrote one, its trace, its type and the dependencies it stands for under sampling (ItemCount). window_outbound, exfiltration and affected_customers read them several times; held once, the window's dependencies are scanned once.
-- params: since, until
-- output: time, has_target, host, peer_address, operation_id, dependency_type, weight
SELECT "TimeGenerated" AS time, coalesce("Target", '') <> '' AS has_target, target_host("Target") AS host, peer_address, trace_id("OperationId") AS operation_id,
       coalesce("DependencyType", '') AS dependency_type, coalesce("ItemCount", 1) AS weight
FROM "AppDependencies"
WHERE "TimeGenerated" >= $since - INTERVAL '2 seconds' AND "TimeGenerated" < $until + INTERVAL '2 seconds'
  AND (coalesce("Target", '') <> '' OR peer_address IS NOT NULL)
