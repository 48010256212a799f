-- name: overview_unattributed
-- description: What the call telemetry cannot attribute, per day (UTC), baseline and window (overview): tool calls, calls with no identity (anonymous), calls without a client address, and calls whose rows stand for more than one event (sampled, ItemCount above 1).
-- params: until, baseline_start
-- output: day, calls, anonymous_calls, calls_without_address, sampled_calls
SELECT date_trunc('day', time) AS day, count(*) AS calls,
       sum(CASE WHEN "user" = '(anonymous)' THEN 1 ELSE 0 END) AS anonymous_calls,
       sum(CASE WHEN client_address IS NULL OR client_address = '' THEN 1 ELSE 0 END) AS calls_without_address,
       sum(CASE WHEN coalesce(item_count, 1) > 1 THEN 1 ELSE 0 END) AS sampled_calls
FROM tool_calls
WHERE time >= $baseline_start AND time < $until
GROUP BY date_trunc('day', time)
ORDER BY day
