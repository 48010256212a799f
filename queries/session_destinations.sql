-- name: session_destinations
-- description: Where each session's calls reached out in the baseline and the window: the destination (peer address, else target) of every outgoing dependency of its calls that is not a database query or in-process (an HTTP call, a blob or vault request). session_signs reads them three times (the baseline's destinations, those one identity alone reaches, each session's new ones), so they are computed once.
-- params: until, baseline_start
-- depends: call_sessions
-- output: user, session, in_window, destination, time
SELECT c."user", c.session, c.in_window, coalesce(d.peer_address, d."Target") AS destination, d."TimeGenerated" AS time
FROM "AppDependencies" d
JOIN call_sessions c ON d."OperationId" = c.operation_id
WHERE d."TimeGenerated" >= $baseline_start AND d."TimeGenerated" < $until
  AND coalesce(d."DependencyType", '') NOT IN ('SQL', 'InProc')
  AND coalesce(d.peer_address, d."Target") IS NOT NULL
