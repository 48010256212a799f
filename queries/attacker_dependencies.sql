-- name: attacker_dependencies
-- description: The outgoing calls (not SQL or in-process) the server made for attacker calls to hosts new in the window, one row per dependency with its host, the address it carries and its time. A host is new when the server did not reach it in the baseline within three days before its first dependency of the window (as destinations are in window_outbound), and the server does not reach it for other callers in the window (a new service it started using is not the attacker's; calls whose caller the evidence does not name count for nobody). exfiltration reads them several times; held, the baseline's dependencies are scanned once.
-- params: since, until, baseline_start
-- depends: attacker_calls, window_calls, window_dependencies
-- output: host, peer_address, time
WITH attacker_operations AS (SELECT DISTINCT operation_id FROM attacker_calls),
window_targets AS (
    SELECT host AS target, min(time) AS first_seen FROM window_dependencies
    WHERE time >= $since AND time < $until AND has_target AND host IS NOT NULL
    GROUP BY 1
),
baseline_targets AS (
    SELECT w.target FROM window_targets w
    JOIN "AppDependencies" d ON target_host(d."Target") = w.target
    WHERE d."TimeGenerated" >= $baseline_start AND d."TimeGenerated" < $since AND d."Target" IS NOT NULL
      AND d."TimeGenerated" >= w.first_seen - INTERVAL '3 days'
    GROUP BY w.target
),
unnamed_operations AS (
    SELECT DISTINCT operation_id FROM window_calls
    WHERE "user" = '(authenticated caller, not named)' AND time >= $since AND time < $until AND operation_id IS NOT NULL
),
own_work_targets AS (
    SELECT DISTINCT d.host AS target
    FROM window_dependencies d
    LEFT JOIN attacker_operations a ON d.operation_id = a.operation_id
    LEFT JOIN unnamed_operations u ON d.operation_id = u.operation_id
    WHERE d.time >= $since AND d.time < $until AND d.has_target AND a.operation_id IS NULL AND u.operation_id IS NULL
)
SELECT d.host, d.peer_address, d.time
FROM window_dependencies d
JOIN attacker_operations a ON d.operation_id = a.operation_id
LEFT JOIN baseline_targets t ON d.host = t.target
LEFT JOIN own_work_targets w ON d.host = w.target
WHERE d.time >= $since AND d.time < $until AND d.has_target AND t.target IS NULL AND w.target IS NULL
  AND d.dependency_type NOT IN ('SQL', 'InProc')
