-- The aggregates as window functions: running totals, frames, and rows
-- arriving out of time order between two final calls.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE ev (s text, sec float8, event text, pos float8, val float8);
INSERT INTO ev VALUES
  ('a', 0, 'play', 0, NULL), ('a', 10, 'heartbeat', 10, NULL),
  ('a', 10, 'bitrate', NULL, 1000000), ('a', 20, 'pause', 20, NULL),
  ('a', 30, 'play', 20, NULL), ('a', 50, 'ended', 40, NULL),
  ('b', 0, 'play', 0, NULL), ('b', 5, 'buffer_start', 5, NULL),
  ('b', 8, 'buffer_end', NULL, NULL), ('b', 18, 'heartbeat', 15, NULL),
  ('b', 20, 'ended', 17, NULL);
CREATE TEMP VIEW evt AS
  SELECT s, timestamptz '2024-01-01 00:00:00+00' + sec * interval '1 s' AS ts,
         sec, event, pos, val
  FROM ev;

-- Running totals per session (default frame: up to the current ts, peers
-- included, so the two rows at a/10 show the same figure).
-- a: play 0->10 (10), 10->20 (20), paused 20->30, play 30->50: 0, 10, 10,
--    20, 20, 40.  Bitrate 1e6 from 10: no play after it until the pause
--    row (10->20 at 1e6).
-- b: play 0->5, stall 5->8 (buffer 3), play 8->20: watch 0, 5, 5, 15, 17;
--    buffer 0 (the episode is closed at the last event, 5), 3, 3, 3.
SELECT s, sec, event,
       watch_time(ts, event, pos) OVER w AS watch,
       buffer_time(ts, event, pos) OVER w AS buf,
       view_time(ts, event, pos) OVER w AS view,
       (qoe_stats(ts, event, pos, val) OVER w).avg_bitrate AS avg_br
FROM evt
WINDOW w AS (PARTITION BY s ORDER BY ts)
ORDER BY s, sec, event;

-- Whole-partition frame equals the grouped aggregate: a 40, b 17.
SELECT DISTINCT s, watch_time(ts, event, pos) OVER (PARTITION BY s) AS w
FROM evt ORDER BY s;
SELECT s, watch_time(ts, event, pos) AS w FROM evt GROUP BY s ORDER BY s;

-- Both keyed sessions in one running total (ROWS, ordered by ts, s, event):
-- 0, 0, 5 (b plays 0->5), 5 (b buffers), 15 (a 0->10), 15, 25 (b 8->18),
-- 35 (a 10->20), 37 (b 18->20), 37 (a paused), 57 (a 30->50).
SELECT sec, s, event,
       watch_time(ts, event, pos, val, s) OVER (ORDER BY ts, s, event ROWS UNBOUNDED PRECEDING) AS w
FROM evt ORDER BY sec, s, event;

-- Rows arriving out of time order between final calls (ordered by name):
-- bitrate@10, ended@50, heartbeat@10, pause@20 (no play yet: 0 each),
-- then play@0 (play 0->20: 20), then play@30 (+ 30->50: 40).
SELECT event, sec,
       watch_time(ts, event, pos) OVER (ORDER BY event, ts ROWS UNBOUNDED PRECEDING) AS w
FROM evt WHERE s = 'a' ORDER BY event, sec;

-- A sliding two-row frame (the aggregate restarts for each frame):
-- b: {play@0}: 0; {play@0, bs@5}: 5; {bs@5, be@8}: 0 (no play);
-- {be@8, hb@18}: 0 (no play event: idle); {hb@18, ended@20}: 0.
-- buffer: 0, 0, 3 (5->8), 0, 0.
SELECT sec, event,
       watch_time(ts, event, pos) OVER f AS w,
       buffer_time(ts, event, pos) OVER f AS buf
FROM evt WHERE s = 'b'
WINDOW f AS (ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
ORDER BY sec;

-- After the window queries, the plain aggregate is unchanged.
SELECT watch_time(ts, event, pos, val, s) AS w, qoe_stats(ts, event, pos, val, s)::text =
       qoe_stats(qoe_timeline(ts, event, pos, val, s))::text AS same
FROM evt;
