-- name: call_sessions
-- description: Every tool call of the baseline and the window in its session. A session is one identity's calls from one client address under one MCP session id, split where the calls pause for more than 30 minutes (5 minutes for derived sessions: without an id, a client's burst of calls is its unit of work, and an agent's tasks follow each other minutes apart). Session ids that no other call shares (one per request) mean nothing and are dropped; a call without one (protocol 2026-07-28, SDKs that emit none) gets a derived session, labelled `(derived) <address> <start>`; an id kept for a whole process is split at its pauses.
-- params: since
-- unique: call_key
-- depends: window_calls
-- output: user, client_address, session, derived, session_start, in_window, time, tool, customers, hosts, wide, operation_id, call_key
WITH shared AS (
    SELECT session_id FROM window_calls
    WHERE session_id IS NOT NULL AND session_id <> ''
    GROUP BY session_id
    HAVING count(*) > 1
),
-- Only the columns the output needs (the window buffers what it carries); an id that other calls
-- share is never empty, so an empty session_key is a call without one.
keyed AS (
    SELECT c."user", c.client_address, c.time, c.tool, c.customers, c.hosts, c.wide, c.operation_id, c.call_key, coalesce(s.session_id, '') AS session_key,
           CAST(CASE WHEN s.session_id IS NULL THEN 300 ELSE 1800 END AS BIGINT) AS pause_seconds
    FROM window_calls c LEFT JOIN shared s ON c.session_id = s.session_id
),
-- session_marks numbers the parts of each (identity, address, session id) where its calls pause
-- for longer than the limit, gives the time of each part's first call, and names the session
-- (the id, with " (part N)" from the second part on; for calls without a shared id,
-- "(derived) <address> <start>"), in one pass over all the calls at once (src/query/sessions.rs:
-- the running count of pauses and the latest start, as lag and two running aggregates per group
-- would give them). It orders only the keys, so the calls themselves are never sorted: a sort
-- copies every column it carries, and held most of scope's memory at 5 GB.
marked AS (
    SELECT *, session_marks("user", client_address, session_key, time, pause_seconds) OVER () AS marks
    FROM keyed
)
SELECT "user", client_address,
       marks['session'] AS session,
       session_key = '' AS derived,
       marks['start'] AS session_start,
       marks['start'] >= $since AS in_window,
       time, tool, customers, hosts, wide, operation_id, call_key
FROM marked
