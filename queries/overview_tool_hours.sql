-- name: overview_tool_hours
-- description: Tool calls per tool and hour of day (UTC), the window against the baseline (overview heat map): an attacker working while the tenant sleeps shows as calls in hours the baseline has none.
-- params: since, until, baseline_start
-- output: tool, hour, window_calls, baseline_calls
SELECT coalesce(tool, '(no tool name)') AS tool,
       CAST(date_part('hour', time) AS BIGINT) AS hour,
       sum(CASE WHEN time >= $since THEN 1 ELSE 0 END) AS window_calls,
       sum(CASE WHEN time < $since THEN 1 ELSE 0 END) AS baseline_calls
FROM tool_calls
WHERE time >= $baseline_start AND time < $until
GROUP BY coalesce(tool, '(no tool name)'), CAST(date_part('hour', time) AS BIGINT)
ORDER BY tool, hour
