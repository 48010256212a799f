-- name: call_groups
-- description: The calls of the baseline and the window that carry a caller address, counted per identity, address, hour of day, tool and side (baseline or window): what ip_profiles compares of them, read from window_calls once and held (tens of thousands of groups where there are a million calls), where its many comparisons would each read the calls again.
-- params: since
-- depends: window_calls
-- output: user, client_address, hour, tool, in_window, user_id, calls, weighted_calls, first_call, last_call
SELECT "user", client_address, hour, tool, time >= $since AS in_window, max(user_id) AS user_id,
       count(*) AS calls, sum(item_count) AS weighted_calls, min(time) AS first_call, max(time) AS last_call
FROM window_calls
WHERE client_address IS NOT NULL
GROUP BY "user", client_address, hour, tool, time >= $since
