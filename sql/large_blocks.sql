-- Blocks of 32 MB and more (README "Settings", qoe_agg.huge_pages): one
-- session of 1,200,000 events decodes into an event buffer of 38 MB (one
-- block: the log counts its events).  rollup() of two copies of its
-- timeline merges them into a buffer that grows from 48 MB to 108 MB: by a
-- new block and a copy when huge pages are asked for, in place otherwise.
-- The results are exact and the same both ways.  Then one group of 50,000
-- sessions, whose log goes on in new blocks past 32 MB.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';
SET max_parallel_workers_per_gather = 0;

-- play at 0 s, a heartbeat every second with position = seconds played,
-- ended at 1,199,999 s: watch time 1,199,999 s, one session, max position
-- 1,199,999.  The timeline's compact binary form holds 8,400,062 bytes: a
-- 56-byte header, the count of events without a session key (3 bytes), the
-- play (tag, ts as 8 bytes, position 0: 10 bytes), then 1,199,999 events of
-- 7 bytes (tag, ts + 1 s and position + 1 s as 3-byte varints).
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
CREATE TEMP TABLE lb_roll_off AS
SELECT rollup(t) AS t FROM (SELECT t FROM lb_off UNION ALL SELECT t FROM lb_off) x;
RESET qoe_agg.huge_pages;
CREATE TEMP TABLE lb_roll_on AS
SELECT rollup(t) AS t FROM (SELECT t FROM lb_on UNION ALL SELECT t FROM lb_on) x;

SELECT w, sessions(t), play_time(t), max_position(t), last_ts(t),
       octet_length(qoe_timeline_send(t)) AS bytes
FROM lb_on;
SELECT (SELECT w FROM lb_on) = (SELECT w FROM lb_off) AS same_watch_time,
       (SELECT md5(qoe_timeline_send(t)) FROM lb_on)
         = (SELECT md5(qoe_timeline_send(t)) FROM lb_off) AS same_timeline;
-- the rollup: every event twice, so 1,200,000 duplicates, and the same
-- bytes as the timeline but for that counter (bytes 41-48)
SELECT play_time(t), duplicate_events(t),
       substr(qoe_timeline_send(t), 1, 40) = substr(o.b, 1, 40)
         AND substr(qoe_timeline_send(t), 49) = substr(o.b, 49) AS same_but_counter,
       (SELECT md5(qoe_timeline_send(t)) FROM lb_roll_off) = md5(qoe_timeline_send(t))
         AS same_both_ways
FROM lb_roll_on, (SELECT qoe_timeline_send(t) AS b FROM lb_on) o;
DROP TABLE lb, lb_on, lb_off, lb_roll_on, lb_roll_off;

-- Many sessions in one group (the keyed form), interleaved in time:
-- session s (0..49,999, keys of 64 bytes) plays at s ms, sends a
-- heartbeat every 40 s with the position played, and ends at 360 s with
-- position 360: 500,000 events, 360 s of playing each, 18,000,000 s in
-- all.  The group's log (about 77 bytes per event: the key changes on
-- every row) passes 32 MB, so it goes on in new blocks, and it is decoded
-- straight into canonical order.  The play rows of every seventh session
-- come last in the table: out of time order within their sessions, sorted
-- after.  One group, serial and with workers (a plain table: workers do
-- not read temporary ones), gives what the per-session groups give.
CREATE TABLE lk AS
SELECT 'session-' || repeat('0123456789', 5) || '-' || lpad(s::text, 5, '0') AS sid,
       timestamptz '2024-01-01 00:00:00+00' + s * interval '1 ms' + j * interval '40 s' AS ts,
       CASE j WHEN 0 THEN 'play' WHEN 9 THEN 'ended' ELSE 'heartbeat' END AS event,
       (j * 40)::float8 AS pos
FROM generate_series(0, 49999) s, generate_series(0, 9) j
ORDER BY (j = 0 AND s % 7 = 0), j, s;
ANALYZE lk;
CREATE TEMP TABLE lk_serial AS
SELECT qoe_stats(ts, event, pos, NULL::float8, sid) AS st,
       qoe_timeline(ts, event, pos, NULL::float8, sid) AS t FROM lk;
SELECT (st).sessions, (st).play_time, sessions(t), play_time(t) FROM lk_serial;
SELECT count(*) AS sessions, sum(w) AS per_session_sum
FROM (SELECT watch_time(ts, event, pos) AS w FROM lk GROUP BY sid) x;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT qoe_stats(ts, event, pos, NULL::float8, sid) FROM lk;
CREATE TEMP TABLE lk_par AS
SELECT qoe_stats(ts, event, pos, NULL::float8, sid) AS st,
       qoe_timeline(ts, event, pos, NULL::float8, sid) AS t FROM lk;
SELECT (p.st).play_time = (s.st).play_time AS same_play_time,
       md5(qoe_timeline_send(p.t)) = md5(qoe_timeline_send(s.t)) AS same_timeline
FROM lk_par p, lk_serial s;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
DROP TABLE lk, lk_serial, lk_par;
