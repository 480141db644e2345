-- Blocks of 32 MB and more (README "Settings", qoe_agg.huge_pages): one
-- session of 1,200,000 events decodes into an event buffer of 38 MB, which
-- grows past 32 MB by a new block and a copy when huge pages are asked for,
-- and in place otherwise.  The results are exact and the same both ways.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';
SET max_parallel_workers_per_gather = 0;

-- play at 0 s, a heartbeat every second with position = seconds played,
-- ended at 1,199,999 s: watch time 1,199,999 s, one session, max position
-- 1,199,999, and the timeline's binary form holds 56 + 32 * 1,200,000 bytes.
CREATE TEMP TABLE lb AS
SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '1 s' AS ts,
       CASE WHEN i = 0 THEN 'play' WHEN i = 1199999 THEN 'ended' ELSE 'heartbeat' END AS event,
       i::float8 AS pos
FROM generate_series(0, 1199999) i;

CREATE TEMP TABLE lb_on AS
SELECT watch_time(ts, event, pos) AS w, qoe_timeline(ts, event, pos) AS t FROM lb;
SHOW qoe_agg.huge_pages;	-- the default, once the library is loaded
SET qoe_agg.huge_pages = off;
CREATE TEMP TABLE lb_off AS
SELECT watch_time(ts, event, pos) AS w, qoe_timeline(ts, event, pos) AS t FROM lb;
RESET qoe_agg.huge_pages;

SELECT w, sessions(t), play_time(t), max_position(t), last_ts(t),
       octet_length(qoe_timeline_send(t)) AS bytes
FROM lb_on;
SELECT (SELECT w FROM lb_on) = (SELECT w FROM lb_off) AS same_watch_time,
       (SELECT md5(qoe_timeline_send(t)) FROM lb_on)
         = (SELECT md5(qoe_timeline_send(t)) FROM lb_off) AS same_timeline;
DROP TABLE lb, lb_on, lb_off;
