-- name: affected_customers
-- description: Customers (data subjects) named in the arguments or results of attacker calls, under the case's customer keys (customer_id, customerId, customer_ids, customerIds, customer, account_id, accountId by default), with first and last access, identities, tools, calls, whether those calls are tied to an exfiltration path, and the evidence rows.
-- params: since, until
-- depends: attacker_calls, exfiltration
-- output: customer_id, first_access, last_access, users, tools, calls, exfiltration_confirmed, evidence
WITH named AS (
    SELECT unnest(customer_ids(arguments)) AS customer_id, _blob, _line FROM attacker_calls WHERE arguments IS NOT NULL
    UNION
    SELECT unnest(customer_ids(result)) AS customer_id, _blob, _line FROM attacker_calls WHERE result IS NOT NULL
),
response_seen AS (
    SELECT a._blob, a._line
    FROM attacker_calls a
    JOIN flows f ON f.src_ip = a.client_address AND f.direction = 'I'
                AND f.time >= a.time - INTERVAL '2 minutes' AND f.time <= a.time + INTERVAL '5 minutes'
    WHERE f.bytes_dst_to_src > 0 AND f.time >= $since AND f.time < $until
    GROUP BY a._blob, a._line
),
uploads AS (
    SELECT a._blob, a._line
    FROM attacker_calls a
    JOIN "AppDependencies" d ON d."OperationId" = a.operation_id
    JOIN exfiltration e ON d.peer_address = e.destination_ip
    WHERE d."TimeGenerated" >= $since AND d."TimeGenerated" < $until
    GROUP BY a._blob, a._line
),
calls AS (
    SELECT a.*, r._blob IS NOT NULL OR u._blob IS NOT NULL OR (a.origin = 'APIM' AND coalesce(a.response_bytes, 0) > 0) AS exfiltrated
    FROM attacker_calls a
    LEFT JOIN response_seen r ON a._blob = r._blob AND a._line = r._line
    LEFT JOIN uploads u ON a._blob = u._blob AND a._line = u._line
)
SELECT n.customer_id,
       min(c.time) AS first_access,
       max(c.time) AS last_access,
       array_sort(array_agg(DISTINCT c."user")) AS users,
       array_sort(array_agg(DISTINCT c.tool)) AS tools,
       count(*) AS calls,
       bool_or(c.exfiltrated) AS exfiltration_confirmed,
       array_agg(c.origin || ' ' || coalesce(c.span_id, c.operation_id, '') || ' ' || c._blob || ':' || CAST(c._line AS VARCHAR) ORDER BY c.time, c._blob, c._line) AS evidence
FROM named n
JOIN calls c ON n._blob = c._blob AND n._line = c._line
GROUP BY n.customer_id
ORDER BY first_access, n.customer_id
