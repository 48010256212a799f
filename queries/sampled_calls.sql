-- name: sampled_calls
-- description: Attacker calls the telemetry only samples: per identity and tool, the rows seen, the calls they stand for (sum of ItemCount) and the calls not in the evidence. The customers those unseen calls named cannot be listed; the coverage statements say so.
-- params: none
-- depends: attacker_calls
-- output: user, tool, rows, estimated_calls, unseen_calls
SELECT "user", coalesce(tool, '(no tool name)') AS tool, count(*) AS rows, sum(item_count) AS estimated_calls,
       sum(item_count) - count(*) AS unseen_calls
FROM attacker_calls
GROUP BY "user", coalesce(tool, '(no tool name)')
HAVING sum(item_count) > count(*)
ORDER BY unseen_calls DESC, "user", tool
