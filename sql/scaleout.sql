-- Scale-out (README "Scale-out with Citus"): partial results computed
-- apart, shipped as text or binary, and combined in another order give the
-- one-pass answer; hash aggregation that spills to disk gives the answer of
-- the sorted plan; partial states of small and large groups cross parallel
-- workers intact.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
DROP TABLE IF EXISTS qoe_so_ev, qoe_so_parts, qoe_so_recv;
RESET client_min_messages;
SET TIME ZONE 'UTC';

-- ~20k events, deterministic: 40 users, ~2000 keyed sessions (and NULL
-- keys), 8 videos, ties, unknown names, bad positions, duplicates.
CREATE TABLE qoe_so_ev AS
WITH g AS (
  SELECT i,
         hashint4(i)::bigint + 2147483648 AS h1,
         hashint4(i + 100003)::bigint + 2147483648 AS h2,
         hashint4(i + 200003)::bigint + 2147483648 AS h3
  FROM generate_series(1, 20000) i)
SELECT i,
       (i / 10) % 40 AS user_id,
       CASE WHEN h2 % 50 = 0 THEN NULL ELSE 's' || (i / 10) END AS sess,
       (i / 10) % 8 AS video,
       timestamptz '2024-01-01 00:00:00+00'
         + ((i / 10) * 7 + (i % 10) * 20 + h3 % 3) * interval '1 s' AS ts,
       (ARRAY['play', 'heartbeat', 'heartbeat', 'buffer_start', 'buffer_end',
              'pause', 'resume', 'seek_start', 'seek_end', 'bitrate', 'ended',
              'request', 'playing', 'exit', 'error', 'bogus'])[1 + h1 % 16] AS event,
       CASE WHEN h2 % 13 = 0 THEN NULL
            WHEN h2 % 97 = 0 THEN -1
            ELSE ((i % 10) * 20 + h3 % 5)::float8 END AS pos,
       ((1 + h1 % 4) * 1000000)::float8 AS val,
       (h1 # h2) % 4 AS shard
FROM g;
INSERT INTO qoe_so_ev SELECT * FROM qoe_so_ev WHERE i % 101 = 0;
ANALYZE qoe_so_ev;
SELECT count(*) AS n_rows, count(DISTINCT sess) AS sessions FROM qoe_so_ev;

-- The one-pass answer.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE so_one AS
  SELECT qoe_stats(ts, event, pos, val, sess)::text AS s FROM qoe_so_ev;

-- Partial timelines, one per shard (what each worker node computes).
CREATE TABLE qoe_so_parts AS
  SELECT shard, qoe_timeline(ts, event, pos, val, sess) AS t
  FROM qoe_so_ev GROUP BY shard;
SELECT count(*) AS parts FROM qoe_so_parts;

-- Shipped as text, combined in reverse order and in forward order.
SELECT qoe_stats(rollup(t::text::qoe_timeline ORDER BY shard DESC))::text
         = (SELECT s FROM so_one) AS text_reverse_equal,
       qoe_stats(rollup(t::text::qoe_timeline ORDER BY shard))::text
         = (SELECT s FROM so_one) AS text_forward_equal
FROM qoe_so_parts;

-- Shipped as bytes: binary COPY goes through qoe_timeline_send and
-- qoe_timeline_recv, as a COPY between nodes does.
\copy (SELECT shard, t FROM qoe_so_parts ORDER BY shard DESC) TO 'results/scaleout_parts.bin' WITH (FORMAT binary)
CREATE TABLE qoe_so_recv (shard bigint, t qoe_timeline);
\copy qoe_so_recv FROM 'results/scaleout_parts.bin' WITH (FORMAT binary)
SELECT count(*) AS received,
       bool_and(qoe_timeline_send(r.t) = qoe_timeline_send(p.t)) AS same_bytes,
       bool_and(length(qoe_timeline_send(r.t)) > 56) AS not_empty
FROM qoe_so_recv r JOIN qoe_so_parts p USING (shard);
SELECT qoe_stats(rollup(t ORDER BY shard DESC))::text
         = (SELECT s FROM so_one) AS binary_reverse_equal
FROM qoe_so_recv;

-- Two levels of rollup (pairs of shards, then everything), in a scrambled
-- order, and the timeline of the rollup equals the one-pass timeline.
SELECT qoe_stats(rollup(t2 ORDER BY pair DESC))::text = (SELECT s FROM so_one) AS nested_equal,
       rollup(t2 ORDER BY pair)::text
         = (SELECT qoe_timeline(ts, event, pos, val, sess)::text FROM qoe_so_ev) AS timeline_equal
FROM (SELECT shard % 2 AS pair, rollup(t ORDER BY shard DESC) AS t2
      FROM qoe_so_recv GROUP BY 1) p;

-- Per video as a two-level query: per session "on the workers" (grouping
-- by the distribution column), summed "on the coordinator".  Times are
-- summed as doubles, so they are compared to the microsecond.
SELECT count(*) AS videos,
       bool_and(round(w.watch::numeric, 6) = round((d.s).play_time::numeric, 6)) AS watch_equal,
       bool_and(round(w.buffering::numeric, 6) = round((d.s).buffer_time::numeric, 6)) AS buffer_equal,
       bool_and(w.sessions = (d.s).sessions) AS sessions_equal
FROM (SELECT video, sum(watch) AS watch, sum(buffering) AS buffering, sum(n) AS sessions
      FROM (SELECT video, sess, watch_time(ts, event, pos, val, sess) AS watch,
                   buffer_time(ts, event, pos, val, sess) AS buffering,
                   (qoe_stats(ts, event, pos, val, sess)).sessions AS n
            FROM qoe_so_ev GROUP BY video, sess) per_session
      GROUP BY video) w
JOIN (SELECT video, qoe_stats(ts, event, pos, val, sess) AS s
      FROM qoe_so_ev GROUP BY video) d USING (video);

-- Hash aggregation over more groups than work_mem holds spills to disk
-- and gives the answer of the sorted plan: per session (small groups) and
-- per user (groups large enough to leave the compact form).  PostgreSQL
-- decides to spill when it creates a group, so the per-user input is a copy
-- of the table in user order: each user's group is created once the earlier
-- ones have outgrown work_mem.
CREATE TEMP TABLE so_by_user AS SELECT * FROM qoe_so_ev ORDER BY user_id, i;
ANALYZE so_by_user;
CREATE FUNCTION pg_temp.spilled(q text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
  line text;
  hashed bool := false;
  batches int := 0;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'HashAggregate' THEN hashed := true; END IF;
    IF line ~ 'Batches: \d+' THEN
      batches := greatest(batches, substring(line FROM 'Batches: (\d+)')::int);
    END IF;
  END LOOP;
  RETURN hashed AND batches > 1;
END $$;
SET work_mem = '64kB';
SET enable_sort = off;
SELECT pg_temp.spilled('SELECT sess, qoe_stats(ts, event, pos, val, sess) FROM qoe_so_ev GROUP BY sess') AS session_spilled,
       pg_temp.spilled('SELECT user_id, qoe_stats(ts, event, pos, val, sess) FROM so_by_user GROUP BY user_id') AS user_spilled;
CREATE TEMP TABLE so_hash_sess AS
  SELECT sess, qoe_stats(ts, event, pos, val, sess)::text AS s FROM qoe_so_ev GROUP BY sess;
CREATE TEMP TABLE so_hash_user AS
  SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s,
         qoe_timeline(ts, event, pos, val, sess)::text AS t
  FROM so_by_user GROUP BY user_id;
RESET enable_sort;
RESET work_mem;
SET enable_hashagg = off;
CREATE TEMP TABLE so_sort_sess AS
  SELECT sess, qoe_stats(ts, event, pos, val, sess)::text AS s FROM qoe_so_ev GROUP BY sess;
CREATE TEMP TABLE so_sort_user AS
  SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s,
         qoe_timeline(ts, event, pos, val, sess)::text AS t
  FROM qoe_so_ev GROUP BY user_id;
CREATE TEMP TABLE so_sort_video AS
  SELECT video, qoe_stats(ts, event, pos, val, sess)::text AS s,
         qoe_timeline(ts, event, pos, val, sess)::text AS t
  FROM qoe_so_ev GROUP BY video;
RESET enable_hashagg;
SELECT (SELECT count(*) FROM so_hash_sess) AS session_groups,
       (SELECT count(*) FROM (SELECT * FROM so_hash_sess EXCEPT SELECT * FROM so_sort_sess) x)
     + (SELECT count(*) FROM (SELECT * FROM so_sort_sess EXCEPT SELECT * FROM so_hash_sess) y) AS session_differences,
       (SELECT count(*) FROM so_hash_user) AS user_groups,
       (SELECT count(*) FROM (SELECT * FROM so_hash_user EXCEPT SELECT * FROM so_sort_user) x)
     + (SELECT count(*) FROM (SELECT * FROM so_sort_user EXCEPT SELECT * FROM so_hash_user) y) AS user_differences;

-- Forced parallel aggregation: partial states serialized by the workers
-- (logs of their rows; below, under a small qoe_agg.partial_log_limit,
-- also sorted buffers in the compact binary form) and combined by the
-- leader equal the serial
-- results.  The planner only aggregates partially when that shrinks what
-- the workers send; with 10 rows per session it would not, so it is told
-- there are 50 sessions.
ALTER TABLE qoe_so_ev ALTER COLUMN sess SET (n_distinct = 50);
ANALYZE qoe_so_ev;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT sess, qoe_stats(ts, event, pos, val, sess) FROM qoe_so_ev GROUP BY sess;
SELECT (SELECT count(*) FROM (SELECT sess, qoe_stats(ts, event, pos, val, sess)::text AS s
                              FROM qoe_so_ev GROUP BY sess EXCEPT SELECT * FROM so_sort_sess) x) AS session_differences,
       (SELECT count(*) FROM (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s,
                                     qoe_timeline(ts, event, pos, val, sess)::text AS t
                              FROM qoe_so_ev GROUP BY user_id EXCEPT SELECT * FROM so_sort_user) y) AS user_differences,
       (SELECT qoe_stats(ts, event, pos, val, sess)::text FROM qoe_so_ev) = (SELECT s FROM so_one) AS all_equal;
-- Per video, each worker's part of a group is a log of 10-30 kB: sent as
-- it is under the default qoe_agg.partial_log_limit (256 kB), and as a
-- sorted buffer in the compact binary form, merged by the leader in one
-- pass, under a limit of 8 kB.  With a tiny work_mem the leader's hash aggregate also spills:
-- rows of groups it does not hold are deserialized and set aside, and come
-- back in a later pass.
SET work_mem = '64kB';
EXPLAIN (COSTS OFF) SELECT video, qoe_stats(ts, event, pos, val, sess) FROM qoe_so_ev GROUP BY video;
SELECT count(*) AS video_differences_logs
FROM (SELECT video, qoe_stats(ts, event, pos, val, sess)::text AS s,
             qoe_timeline(ts, event, pos, val, sess)::text AS t
      FROM qoe_so_ev GROUP BY video
      EXCEPT SELECT * FROM so_sort_video) x;
SET qoe_agg.partial_log_limit = '8kB';
SELECT count(*) AS video_differences_canonical,
       (SELECT qoe_stats(ts, event, pos, val, sess)::text FROM qoe_so_ev) = (SELECT s FROM so_one) AS all_equal_canonical
FROM (SELECT video, qoe_stats(ts, event, pos, val, sess)::text AS s,
             qoe_timeline(ts, event, pos, val, sess)::text AS t
      FROM qoe_so_ev GROUP BY video
      EXCEPT SELECT * FROM so_sort_video) x;
RESET qoe_agg.partial_log_limit;
RESET work_mem;
RESET enable_sort;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

DROP TABLE qoe_so_ev, qoe_so_parts, qoe_so_recv;
