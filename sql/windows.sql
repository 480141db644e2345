-- qoe_windows(t, bucket): per-bucket concurrency, play, buffering, bitrate
-- (SPEC 6 and 8.20).  Every figure below is worked out by hand in the
-- comment above its query.  t0 = 2024-01-01 00:00:00 UTC, which is aligned
-- to every bucket width used here (the Unix epoch alignment).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE wev (s text, sec float8, event text, pos float8, val float8, pop text);
CREATE FUNCTION wt(float8) RETURNS timestamptz LANGUAGE sql IMMUTABLE
	AS $$ SELECT '2024-01-01 00:00:00+00'::timestamptz + $1 * interval '1 second' $$;

-- 1. The peak is read after all changes at one instant: a leaves at 60 as b
-- joins at 60, so at most one viewer at any instant.  Bucket 2 min:
-- [0,120) holds a (0-60) and b (60-120): avg 1, peak 1, play 120,
-- 2 sessions started; [120,240) holds b's last event only.
INSERT INTO wev VALUES
 ('a', 0, 'play', 0, NULL, 'p1'), ('a', 60, 'ended', 60, NULL, 'p1'),
 ('b', 60, 'play', 0, NULL, 'p1'), ('b', 120, 'ended', 60, NULL, 'p1');
SELECT w.* FROM (SELECT qoe_timeline(wt(sec), event, pos, val, s) t FROM wev) x,
	qoe_windows(x.t, '2 minutes') w;

-- 2. Time-weighted average over the whole bucket: one viewer 15 s - 45 s of
-- a 1-minute bucket: avg 0.5, peak 1.
TRUNCATE wev;
INSERT INTO wev VALUES ('a', 15, 'play', 0, NULL, 'p1'), ('a', 45, 'ended', 30, NULL, 'p1');
SELECT bucket_start, concurrent_peak, concurrent_avg, play_time
FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '1 minute');

-- 3. Empty buckets in the middle: a plays 0-10, b plays 200-210.  Buckets
-- 0, 60, 120, 180: the middle two are empty (zeros, NULL bitrates); the
-- last has avg 10/60, play 10, one session started.
TRUNCATE wev;
INSERT INTO wev VALUES
 ('a', 0, 'play', 0, NULL, 'p1'), ('a', 10, 'ended', 10, NULL, 'p1'),
 ('b', 200, 'play', 0, NULL, 'p1'), ('b', 210, 'ended', 10, NULL, 'p1');
SELECT bucket_start, concurrent_peak, round(concurrent_avg::numeric, 6) AS avg,
	play_time, buffer_count, buffer_time, avg_bitrate, sessions_started
FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '1 minute');

-- 4. A stall and a playing interval split across buckets: play@50,
-- buffer_start@55, buffer_end@70, ended@130 (1-minute buckets).
--   [0,60):   play 50-55 = 5, buffer 55-60 = 5, 1 episode opens; viewer
--             concurrent 50-60 (buffering overlays count): avg 10/60
--   [60,120): buffer 60-70 = 10, play 70-120 = 50, avg 1, no episode opens
--   [120,180): play 120-130 = 10, avg 10/60
TRUNCATE wev;
INSERT INTO wev VALUES
 ('a', 50, 'play', 50, NULL, 'p1'), ('a', 55, 'buffer_start', NULL, NULL, 'p1'),
 ('a', 70, 'buffer_end', NULL, NULL, 'p1'), ('a', 130, 'ended', NULL, NULL, 'p1');
SELECT bucket_start, concurrent_peak, round(concurrent_avg::numeric, 6) AS avg,
	play_time, buffer_count, buffer_time
FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '1 minute');

-- 5. Bitrate weighted inside a bucket, with the bitrate in force carried in
-- from an earlier bucket: play@0, bitrate 1000@10, heartbeat@70,
-- bitrate 2000@90, ended@120.
--   [0,60):    0-10 has no bitrate (left out), 10-60 at 1000: avg 1000
--   [60,120):  60-90 at 1000 (carried in), 90-120 at 2000:
--              avg (30*1000 + 30*2000)/60 = 1500, min 1000, max 2000
--   [120,180): only the ended event: no play, NULL bitrates
TRUNCATE wev;
INSERT INTO wev VALUES
 ('a', 0, 'play', 0, NULL, 'p1'), ('a', 10, 'bitrate', NULL, 1000, 'p1'),
 ('a', 70, 'heartbeat', 70, NULL, 'p1'), ('a', 90, 'bitrate', NULL, 2000, 'p1'),
 ('a', 120, 'ended', 120, NULL, 'p1');
SELECT bucket_start, play_time, avg_bitrate, min_bitrate, max_bitrate
FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '1 minute');

-- 6. Viewers paused (not concurrent) versus buffering (concurrent), and
-- sessions that start inside a bucket:
--   a: play@0, pause@10, play@40, ended@59: concurrent 0-10 and 40-59 = 29 s
--   b: play@0, buffer_start@10, buffer_end@40, ended@59: concurrent 0-59
--   c: play@20, ended@30, in the same bucket: concurrent 20-30 = 10 s
-- avg = (29 + 59 + 10) / 60 = 1.633333; peak 2 (0-10: a and b; 20-30: a is
-- paused, b buffering and c playing; 40-59: a and b); buffer 30 s (b);
-- play a 10 + 19, b 10 + 19, c 10 = 68; 3 sessions started.
TRUNCATE wev;
INSERT INTO wev VALUES
 ('a', 0, 'play', 0, NULL, 'p1'), ('a', 10, 'pause', 10, NULL, 'p1'),
 ('a', 40, 'play', 10, NULL, 'p1'), ('a', 59, 'ended', 29, NULL, 'p1'),
 ('b', 0, 'play', 0, NULL, 'p1'), ('b', 10, 'buffer_start', 10, NULL, 'p1'),
 ('b', 40, 'buffer_end', 10, NULL, 'p1'), ('b', 59, 'ended', 29, NULL, 'p1'),
 ('c', 20, 'play', 0, NULL, 'p1'), ('c', 30, 'ended', 10, NULL, 'p1');
SELECT bucket_start, concurrent_peak, round(concurrent_avg::numeric, 6) AS avg,
	play_time, buffer_count, buffer_time, sessions_started
FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '1 minute');

-- 7. Per CDN point of presence: GROUP BY inside, LATERAL outside.
--   p1: a plays 0-90; p2: b plays 30-60 then stalls 60-75, c plays 45-120.
--   p1 [0,60): avg 1, play 60; [60,120): avg 0.5, play 30
--   p2 [0,60): b 30-60 + c 45-60 = 45 s: avg 0.75, peak 2, play 45, 2 started
--      [60,120): b stalled 60-75 (concurrent, 15 s), c 60-120: avg 75/60,
--      peak 2, play 60, buffer 15, 1 episode
--      [120,180): c's ended event only: zeros
TRUNCATE wev;
INSERT INTO wev VALUES
 ('a', 0, 'play', 0, NULL, 'p1'), ('a', 90, 'ended', 90, NULL, 'p1'),
 ('b', 30, 'play', 0, NULL, 'p2'), ('b', 60, 'buffer_start', 30, NULL, 'p2'),
 ('b', 75, 'exit', NULL, NULL, 'p2'),
 ('c', 45, 'play', 0, NULL, 'p2'), ('c', 120, 'ended', 75, NULL, 'p2');
SELECT x.pop, w.bucket_start, w.concurrent_peak, w.concurrent_avg, w.play_time,
	w.buffer_count, w.buffer_time, w.sessions_started
FROM (SELECT pop, qoe_timeline(wt(sec), event, pos, val, s) t FROM wev GROUP BY pop) x
	CROSS JOIN LATERAL qoe_windows(x.t, '1 minute') w
ORDER BY 1, 2;

-- 8. A sliding window over the buckets with ordinary window functions:
-- the rolling peak and time-weighted bitrate over the current and the
-- previous bucket (30 s buckets).
TRUNCATE wev;
INSERT INTO wev VALUES
 ('a', 0, 'play', 0, NULL, 'p1'), ('a', 0, 'bitrate', NULL, 1000, 'p1'),
 ('a', 60, 'bitrate', NULL, 3000, 'p1'), ('a', 90, 'ended', 90, NULL, 'p1'),
 ('b', 30, 'play', 0, NULL, 'p1'), ('b', 30, 'bitrate', NULL, 2000, 'p1'),
 ('b', 45, 'ended', 15, NULL, 'p1');
-- buckets 0, 30, 60, 90: peaks 1, 2, 1, 0; play 30, 45, 30, 0;
-- bitrate-weighted sums 30000, 30*1000+15*2000 = 60000, 90000, 0
SELECT bucket_start, concurrent_peak,
	max(concurrent_peak) OVER w AS rolling_peak,
	sum(avg_bitrate * play_time) OVER w / nullif(sum(play_time) FILTER (WHERE avg_bitrate IS NOT NULL) OVER w, 0) AS rolling_bitrate
FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '30 seconds')
WINDOW w AS (ORDER BY bucket_start ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
ORDER BY bucket_start;

-- 9. Bad buckets are errors with a hint.
SELECT count(*) FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '0 seconds');
SELECT count(*) FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '-1 minute');
SELECT count(*) FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '1 month');
-- 90 s / 1 us = 90,000,001 buckets: refused
SELECT count(*) FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev), '1 microsecond');
-- an empty timeline group gives no rows (the aggregate over no rows is NULL)
SELECT count(*) FROM qoe_windows((SELECT qoe_timeline(wt(sec), event, pos, val, s) FROM wev WHERE false), '1 minute');

-- 10. Plan independence: the same windows serial, parallel and partitioned.
CREATE TABLE wbig (ts timestamptz, event text, position float8, bitrate float8, session_id text, pop int);
INSERT INTO wbig
SELECT wt(s * 7 + k * 13 + (abs(hashint4(s * 31 + k)) % 5)),
	(ARRAY['play','heartbeat','heartbeat','buffer_start','buffer_end','pause','play','bitrate','heartbeat','ended'])[k + 1],
	CASE WHEN k = 7 THEN NULL ELSE k * 13 END,
	CASE WHEN k = 7 THEN 1000 + (abs(hashint4(s)) % 4) * 500 END,
	's' || s, s % 3
FROM generate_series(1, 3000) s, generate_series(0, 9) k;
ANALYZE wbig;
CREATE TEMP TABLE w_serial AS
SELECT w.* FROM (SELECT qoe_timeline(e) t FROM wbig e) x, qoe_windows(x.t, '5 minutes') w;
SELECT count(*), sum(concurrent_peak), round(sum(play_time)::numeric, 3) AS play, sum(sessions_started) FROM w_serial;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
CREATE TEMP TABLE w_parallel AS
SELECT w.* FROM (SELECT qoe_timeline(e) t FROM wbig e) x, qoe_windows(x.t, '5 minutes') w;
RESET force_parallel_mode;
CREATE TABLE wpart (LIKE wbig) PARTITION BY LIST (pop);
CREATE TABLE wpart0 PARTITION OF wpart FOR VALUES IN (0);
CREATE TABLE wpart1 PARTITION OF wpart FOR VALUES IN (1);
CREATE TABLE wpart2 PARTITION OF wpart FOR VALUES IN (2);
INSERT INTO wpart SELECT * FROM wbig ORDER BY ts DESC;
ANALYZE wpart;
SET enable_partitionwise_aggregate = on;
CREATE TEMP TABLE w_part AS
SELECT w.* FROM (SELECT qoe_timeline(e) t FROM wpart e) x, qoe_windows(x.t, '5 minutes') w;
SELECT (SELECT count(*) FROM (SELECT * FROM w_serial EXCEPT SELECT * FROM w_parallel) d) AS serial_not_parallel,
	(SELECT count(*) FROM (SELECT * FROM w_parallel EXCEPT SELECT * FROM w_serial) d) AS parallel_not_serial,
	(SELECT count(*) FROM (SELECT * FROM w_serial EXCEPT SELECT * FROM w_part) d) AS serial_not_partitioned,
	(SELECT count(*) FROM (SELECT * FROM w_part EXCEPT SELECT * FROM w_serial) d) AS partitioned_not_serial;
DROP TABLE wbig, wpart;
