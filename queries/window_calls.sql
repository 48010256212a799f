-- name: window_calls
-- description: The tool calls of the baseline and the window that have a client address, with only the columns the profiles compare (user, address, time, hour, tool, session). ip_profiles reads them several times, so they are computed once.
-- params: until, baseline_start
-- output: user, user_id, client_address, time, tool, session_id, item_count, hour
SELECT "user", user_id, client_address, time, tool, session_id, item_count, CAST(date_part('hour', time) AS BIGINT) AS hour
FROM tool_calls
WHERE time >= $baseline_start AND time < $until AND client_address IS NOT NULL
