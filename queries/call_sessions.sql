-- name: call_sessions
-- description: Every tool call of the baseline and the window in its session. A session is one identity's calls from one client address under one MCP session id, split where the calls pause for more than 30 minutes (5 minutes for derived sessions: without an id, a client's burst of calls is its unit of work, and an agent's tasks follow each other minutes apart). Session ids that no other call shares (one per request) mean nothing and are dropped; a call without one (protocol 2026-07-28, SDKs that emit none) gets a derived session, labelled `(derived) <address> <start>`; an id kept for a whole process is split at its pauses.
-- params: since
-- depends: window_calls
-- output: user, client_address, session, derived, session_start, in_window, time, tool, customers, hosts, wide, operation_id, _blob, _line
WITH shared AS (
    SELECT session_id FROM window_calls
    WHERE session_id IS NOT NULL AND session_id <> ''
    GROUP BY session_id
    HAVING count(*) > 1
),
keyed AS (
    SELECT c.*, s.session_id AS mcp_session, coalesce(c.client_address, '') AS address_key, coalesce(s.session_id, '') AS session_key,
           CAST(CASE WHEN s.session_id IS NULL THEN 300 ELSE 1800 END AS BIGINT) AS pause_seconds
    FROM window_calls c LEFT JOIN shared s ON c.session_id = s.session_id
),
-- Each identity's calls in one ordering, by address and session id, then time: `session_part`
-- numbers the parts of each (identity, address, session id) where its calls pause for longer
-- than the limit, and `session_start` gives the time of each part's first call, in one pass
-- (src/query/sessions.rs: the running count of pauses and the latest start, as lag and two
-- running aggregates per group would give them). Partitioned by identity only, so both cores sort
-- and number (a partition per group was most of the time). Calls of equal time are ordered
-- either way: neither can start a part the other does not belong to, so the numbers and starts
-- are the same.
started AS (
    SELECT *,
           session_part("user", address_key, session_key, time, pause_seconds) OVER ordered AS part,
           session_start("user", address_key, session_key, time, pause_seconds) OVER ordered AS session_start
    FROM keyed
    WINDOW ordered AS (PARTITION BY "user" ORDER BY address_key, session_key, time)
)
SELECT "user", client_address,
       CASE WHEN mcp_session IS NULL
            THEN '(derived) ' || coalesce(client_address, 'no address') || ' ' || to_char(session_start, '%Y-%m-%dT%H:%M:%SZ')
            WHEN part > 1 THEN mcp_session || ' (part ' || CAST(part AS VARCHAR) || ')'
            ELSE mcp_session END AS session,
       mcp_session IS NULL AS derived,
       session_start,
       session_start >= $since AS in_window,
       time, tool, customers, hosts, wide, operation_id, _blob, _line
FROM started
