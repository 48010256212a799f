-- name: overview_tool_usage
-- description: Tool usage, the window against the baseline (overview): per tool, the calls of the window and of the baseline, the identities that called it in the window and in the baseline, and the window's failed calls (Success false). Every tool call any origin logged, attributed or not.
-- params: since, until, baseline_start
-- output: tool, window_calls, baseline_calls, window_identities, baseline_identities, window_failures
SELECT coalesce(tool, '(no tool name)') AS tool,
       sum(CASE WHEN time >= $since THEN 1 ELSE 0 END) AS window_calls,
       sum(CASE WHEN time < $since THEN 1 ELSE 0 END) AS baseline_calls,
       count(DISTINCT CASE WHEN time >= $since THEN "user" END) AS window_identities,
       count(DISTINCT CASE WHEN time < $since THEN "user" END) AS baseline_identities,
       sum(CASE WHEN time >= $since AND success = false THEN 1 ELSE 0 END) AS window_failures
FROM tool_calls
WHERE time >= $baseline_start AND time < $until
GROUP BY coalesce(tool, '(no tool name)')
ORDER BY window_calls DESC, tool
