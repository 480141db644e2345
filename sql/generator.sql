--
-- The telemetry generator: qoe_generate_events / qoe_generate_videos.
-- Determinism, shape, realism invariants, and each injected fault found
-- with the extension's own functions (README "Generator").
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;

-- columns and types
CREATE TEMP TABLE g0 AS SELECT * FROM qoe_generate_events(0);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'g0'::regclass AND attnum > 0 ORDER BY attnum;
CREATE TEMP TABLE v0 AS SELECT * FROM qoe_generate_videos(0);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'v0'::regclass AND attnum > 0 ORDER BY attnum;

-- a small run
SELECT count(*) AS rows, count(DISTINCT session_id) AS sessions
  FROM qoe_generate_events(10, 30, 1);

-- determinism: same arguments, same rows in the same order; another seed differs
CREATE FUNCTION pg_temp.digest(n int, d int, s int) RETURNS text LANGUAGE sql AS $$
  SELECT md5(string_agg(concat_ws('|', n_, ts, event, position, bitrate, session_id, user_id,
                                  video_id, device_type, os_version, app_version, network_type,
                                  country_code, isp, cdn_pop), E'\n' ORDER BY n_))
    FROM qoe_generate_events(n, d, s) WITH ORDINALITY AS g(ts, event, position, bitrate,
         session_id, user_id, video_id, device_type, os_version, app_version, network_type,
         country_code, isp, cdn_pop, n_) $$;
SELECT pg_temp.digest(300, 30, 1) = pg_temp.digest(300, 30, 1) AS same_seed_same_rows,
       pg_temp.digest(300, 30, 1) <> pg_temp.digest(300, 30, 2) AS other_seed_differs,
       pg_temp.digest(300, 30, 1) <> pg_temp.digest(300, 7, 1) AS other_days_differs;
-- as a parallel-safe scan in a bigger query, sorted by a full key
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SELECT (SELECT md5(string_agg(concat_ws('|', ts, event, position, bitrate, session_id), ',' ORDER BY session_id, ts, event, position, bitrate))
          FROM qoe_generate_events(300, 30, 1))
     = (SELECT md5(string_agg(concat_ws('|', ts, event, position, bitrate, session_id), ',' ORDER BY session_id, ts, event, position, bitrate))
          FROM (SELECT * FROM qoe_generate_events(300, 30, 1) ORDER BY random()) r) AS order_independent;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;

-- the data set used below
CREATE TEMP TABLE ev AS SELECT * FROM qoe_generate_events(4000, 30, 1);
CREATE TEMP TABLE vid AS SELECT * FROM qoe_generate_videos(1000, 1);
CREATE TEMP TABLE ses AS
SELECT s.*, v.duration, q.*
  FROM (SELECT session_id, min(device_type) AS device_type, min(app_version) AS app_version,
               min(cdn_pop) AS cdn_pop, min(video_id) AS video_id, qoe_timeline(e) AS t
          FROM ev e GROUP BY session_id) s
  JOIN vid v USING (video_id)
 CROSS JOIN LATERAL qoe_stats(s.t) q;

-- shape and realism
SELECT count(DISTINCT session_id) = 4000 AS sessions,
       count(*) BETWEEN 70000 AND 130000 AS rows_per_session_15_to_30,
       count(DISTINCT user_id) BETWEEN 600 AND 800 AS users_about_a_fifth,
       bool_and(ts >= '2024-06-01 00:00+00' AND ts < '2024-07-01 06:00+00') AS ts_in_period,
       bool_and(session_id ~ '^[0-9a-f]{16}$') AS session_ids,
       bool_and(bitrate IS NULL OR bitrate BETWEEN 2e5 AND 2e7) AS bitrates_bps
  FROM ev;
SELECT count(*) = 1000 AS videos, min(duration) < 60 AS has_clips, max(duration) > 7000 AS has_films,
       count(DISTINCT category) AS categories, count(DISTINCT title) > 900 AS titles
  FROM vid;
SELECT bool_and(e.position <= v.duration) AS positions_within_duration,
       bool_and(e.position = v.duration) FILTER (WHERE e.event = 'ended') AS ended_at_duration
  FROM ev e JOIN vid v USING (video_id);
-- device mix (share of sessions, %)
SELECT device_type, round(100.0 * count(*) / sum(count(*)) OVER ()) AS pct
  FROM ses GROUP BY device_type ORDER BY 2 DESC, 1;
SELECT sum(sessions) AS sessions,
       sum(play_time) / 3600 BETWEEN 600 AND 1400 AS watch_hours_plausible,
       avg(startup_time) BETWEEN 1 AND 3 AS startup_plausible,
       sum(exits_before_start) > 0 AS exits_before_start,
       sum(start_failures) > 0 AS start_failures,
       sum(playback_failures) > 0 AS playback_failures,
       sum(completions) > 1000 AS completions,
       sum(pause_count) > 0 AND sum(seek_count) > 0 AND sum(replays) > 0
         AND sum(ad_count) > 0 AND sum(upshifts) > 0 AND sum(downshifts) > 0 AS all_behaviours
  FROM ses;

-- fault 1: app 5.2.0 on smart_tv rebuffers several times more than the other
-- smart_tv versions; 5.2.0 elsewhere does not
WITH g AS (SELECT device_type, app_version = '5.2.0' AS v520, rebuffer_ratio(rollup(t)) AS r
             FROM ses GROUP BY 1, 2)
SELECT device_type, a.r > 2.5 * b.r AS rebuffers_over_2_5x
  FROM g a JOIN g b USING (device_type)
 WHERE a.v520 AND NOT b.v520 ORDER BY 1;

-- fault 2: cdn_pop fra-2 starts slowly
SELECT (SELECT startup_time(rollup(t)) FROM ses WHERE cdn_pop = 'fra-2')
     > 2 * (SELECT startup_time(rollup(t)) FROM ses WHERE cdn_pop <> 'fra-2') AS fra2_startup_over_2x;
SELECT cdn_pop FROM ses GROUP BY cdn_pop
HAVING startup_time(rollup(t)) > 2 * (SELECT startup_time(rollup(t)) FROM ses);

-- fault 3: delivery defects
SELECT sum(duplicate_events) > 0 AS duplicates,
       sum(unknown_events) > 0 AS unknown_names,
       sum(unmatched_buffer_ends) > 0 AS unmatched_buffer_ends,
       count(*) FILTER (WHERE completions = 0 AND max_position >= duration - 1) > 0
         AS reached_end_without_ended
  FROM ses;
SELECT event FROM ev GROUP BY event HAVING (qoe_stats(ts, event)).unknown_events > 0 ORDER BY 1;
-- (HTML5-style web players end a stall with 'playing': compare canonical names)
SELECT count(*) FILTER (WHERE event = 'buffer_start') > count(*) FILTER (WHERE event = 'buffer_end')
       AS buffer_ends_missing
  FROM ev;
SELECT count(*) FILTER (WHERE ts < prev) > 0 AS out_of_order_rows
  FROM (SELECT ts, lag(ts) OVER (PARTITION BY session_id ORDER BY n) AS prev
          FROM qoe_generate_events(4000, 30, 1) WITH ORDINALITY AS g(ts, event, position,
               bitrate, session_id, user_id, video_id, device_type, os_version, app_version,
               network_type, country_code, isp, cdn_pop, n)) x;
-- order-independence: the metrics of the shuffled table equal those of the sorted one
SELECT (SELECT qoe_stats(e)::text FROM (SELECT * FROM ev ORDER BY session_id, ts) e)
     = (SELECT qoe_stats(e)::text FROM (SELECT * FROM ev ORDER BY md5(ts::text || event)) e)
       AS delivery_order_irrelevant;

-- bad arguments
SELECT count(*) FROM qoe_generate_events(-1);
SELECT count(*) FROM qoe_generate_events(10, 0);
SELECT count(*) FROM qoe_generate_events(10, 30, 1, 0);
SELECT count(*) FROM qoe_generate_events(2000000000);
SELECT count(*) FROM qoe_generate_events(10, 30, 1, 1000, 'infinity');
SELECT count(*) FROM qoe_generate_videos(-5);
SELECT count(*) FROM qoe_generate_events(NULL);
