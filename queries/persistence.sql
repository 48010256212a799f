-- name: persistence
-- description: Directory changes in the window that keep or widen access, made by or for a suspect identity or from an attacker address (AuditLogs): security info or authentication methods registered, consent granted to an application, a role assigned, credentials, certificates, secrets or owners added to an application or service principal. Part of the attack chain, with the record behind each.
-- params: since, until
-- depends: suspects, attacker_calls
-- output: time, activity, category, result, initiated_by, initiated_by_ip, target, suspect, _blob, _line
WITH suspect_ids AS (
    SELECT "user", user_id FROM suspects WHERE "user" <> '(anonymous)'
),
attacker_ips AS (SELECT DISTINCT client_address AS ip FROM attacker_calls WHERE attacker_address AND client_address IS NOT NULL),
changes AS (
    SELECT a."TimeGenerated" AS time, a."ActivityDisplayName" AS activity, a."Category" AS category, a."Result" AS result,
           coalesce(a.initiated_by_upn, a.initiated_by_app, a.initiated_by_user_id) AS initiated_by,
           a.initiated_by_user_id, a.initiated_by_ip, a."TargetResources" AS targets, a._blob, a._line
    FROM "AuditLogs" a
    WHERE a."TimeGenerated" >= $since AND a."TimeGenerated" < $until
      AND (lower(a."ActivityDisplayName") LIKE '%security info%'
           OR lower(a."ActivityDisplayName") LIKE '%authentication method%'
           OR lower(a."ActivityDisplayName") LIKE '%consent%'
           OR lower(a."ActivityDisplayName") LIKE '%role%'
           OR lower(a."ActivityDisplayName") LIKE '%credential%'
           OR lower(a."ActivityDisplayName") LIKE '%certificates and secrets%'
           OR lower(a."ActivityDisplayName") LIKE '%owner%'
           OR lower(a."ActivityDisplayName") LIKE '%federated%')
)
SELECT c.time, c.activity, c.category, c.result, c.initiated_by, c.initiated_by_ip,
       substr(c.targets, 1, 300) AS target,
       coalesce(max(s."user"), CASE WHEN max(ip.ip) IS NOT NULL THEN '(attacker address)' END) AS suspect,
       c._blob, c._line
FROM changes c
LEFT JOIN suspect_ids s ON c.initiated_by_user_id = s.user_id OR lower(c.initiated_by) = lower(s."user")
                        OR (s.user_id IS NOT NULL AND c.targets LIKE '%' || s.user_id || '%')
LEFT JOIN attacker_ips ip ON c.initiated_by_ip = ip.ip
GROUP BY c.time, c.activity, c.category, c.result, c.initiated_by, c.initiated_by_ip, c.targets, c._blob, c._line
HAVING max(s."user") IS NOT NULL OR max(ip.ip) IS NOT NULL
ORDER BY c.time, c._blob, c._line
