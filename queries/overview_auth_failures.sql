-- name: overview_auth_failures
-- description: Failed sign-ins per day (UTC) and result code, baseline and window (overview): every sign-in table, a result other than 0, with how many addresses and identities failed that way that day.
-- params: until, baseline_start
-- depends: window_signins
-- output: day, result, failures, addresses, identities
SELECT date_trunc('day', time) AS day, result, count(*) AS failures,
       count(DISTINCT ip) AS addresses, count(DISTINCT "user") AS identities
FROM window_signins
WHERE time >= $baseline_start AND time < $until AND result IS NOT NULL AND result <> '0'
GROUP BY date_trunc('day', time), result
ORDER BY day, result
