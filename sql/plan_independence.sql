-- Plan independence (SPEC 2: "the result never depends on the order rows
-- reach the aggregate"): serial, parallel, forced-parallel, partitionwise,
-- spilling hash aggregation and distributed rollup all agree exactly.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
-- (left over only if an earlier run was interrupted)
DROP TABLE IF EXISTS qoe_pi_ev, qoe_pi_hash, qoe_pi_rng;
RESET client_min_messages;
SET TIME ZONE 'UTC';

-- ~30k messy events, deterministic (hashint4, no random()): 50 users, up to
-- 3 keyed sessions per user plus NULL keys, ties (3 s grid + jitter), a one
-- hour gap in the middle, aliases, unknown and NULL names, NULL ts, NULL /
-- negative / NaN positions, zero bitrates, and ~300 exact duplicate rows.
CREATE TABLE qoe_pi_ev AS
WITH g AS (
  SELECT i,
         hashint4(i)::bigint + 2147483648 AS h1,
         hashint4(i + 100003)::bigint + 2147483648 AS h2,
         hashint4(i + 200003)::bigint + 2147483648 AS h3,
         hashint4(i + 300007)::bigint + 2147483648 AS h4
  FROM generate_series(1, 30000) i)
SELECT i,
       'u' || lpad((h1 % 50)::text, 2, '0') AS user_id,
       CASE WHEN h2 % 25 = 0 THEN NULL
            ELSE 'u' || (h1 % 50) || 's' || (h2 % 3) END AS sess,
       CASE WHEN i % 1009 = 0 THEN NULL
            ELSE timestamptz '2024-01-01 00:00:00+00'
                 + ((i / 10) * 3 + h3 % 4 + CASE WHEN i > 15000 THEN 3600 ELSE 0 END)
                   * interval '1 s' END AS ts,
       (ARRAY['play', 'pause', 'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat',
              'buffer_start', 'buffer_end', 'seek_start', 'seek_end', 'seek',
              'bitrate', 'ended', 'request', 'playing', 'Play-Request', 'exit',
              'error', 'ad_start', 'ad_end', 'bogus', NULL, '  HEARTBEAT ',
              'timeupdate'])[1 + h4 % 24] AS event,
       CASE WHEN h3 % 17 = 0 THEN NULL
            WHEN h3 % 101 = 0 THEN -1
            WHEN h3 % 103 = 0 THEN 'NaN'::float8
            ELSE ((i / 10) * 3 % 3600 + h2 % 3)::float8 END AS pos,
       CASE WHEN h2 % 7 = 0 THEN 0
            ELSE (1 + (h1 # h3) % 5) * 1000000 END::float8 AS val,
       i % 2000 AS grp
FROM g;
INSERT INTO qoe_pi_ev SELECT * FROM qoe_pi_ev WHERE i % 97 = 0;
ANALYZE qoe_pi_ev;
SELECT count(*) AS n_rows, count(DISTINCT user_id) AS users FROM qoe_pi_ev;

-- Serial reference results.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE r_user AS
  SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s
  FROM qoe_pi_ev GROUP BY user_id;
CREATE TEMP TABLE r_all AS
  SELECT qoe_stats(ts, event, pos, val, sess) AS s FROM qoe_pi_ev;

-- The data-quality counters and the event counts that need no state
-- machine, recomputed with plain SQL from SPEC 1 and 8.3-8.5: invalid rows
-- (bad ts first; unknown names only unknown; then the position; then a
-- bitrate's value), unknown rows, exact duplicates among the kept rows
-- (positions after invalid ones became NULL), ended / error / ad_start
-- applied once each, first and last valid ts.
WITH k(name, kind) AS (VALUES
  ('play', 'play'), ('pause', 'pause'), ('heartbeat', 'heartbeat'),
  ('buffer_start', 'buffer_start'), ('buffer_end', 'buffer_end'),
  ('seek_start', 'seek_start'), ('seek_end', 'seek_end'), ('seek', 'seek'),
  ('bitrate', 'bitrate'), ('ended', 'ended'), ('request', 'request'),
  ('playing', 'playing'), ('Play-Request', 'request'), ('exit', 'exit'),
  ('error', 'error'), ('ad_start', 'ad_start'), ('ad_end', 'ad_end'),
  ('  HEARTBEAT ', 'heartbeat'), ('timeupdate', 'heartbeat')),
r AS (
  SELECT e.*, k.kind,
         coalesce(e.pos = 'NaN' OR e.pos < 0, false) AS badpos,
         CASE WHEN e.pos = 'NaN' OR e.pos < 0 THEN NULL ELSE e.pos END AS pn,
         k.kind = 'bitrate' AND NOT coalesce(e.val > 0 AND e.val < 'Infinity', false) AS badval
  FROM qoe_pi_ev e LEFT JOIN k ON k.name = e.event),
kept AS (SELECT * FROM r WHERE ts IS NOT NULL AND kind IS NOT NULL AND NOT badval),
x AS (
  SELECT (SELECT count(*) FROM r WHERE ts IS NULL
            OR (kind IS NOT NULL AND (badpos OR badval))) AS invalid,
         (SELECT count(*) FROM r WHERE ts IS NOT NULL AND kind IS NULL) AS unknown,
         (SELECT count(*) - count(DISTINCT (sess, ts, kind, pn, val)) FROM kept) AS dups,
         (SELECT count(DISTINCT (sess, ts, kind, pn, val)) FROM kept WHERE kind = 'ended') AS ended,
         (SELECT count(DISTINCT (sess, ts, kind, pn, val)) FROM kept WHERE kind = 'error') AS errors,
         (SELECT count(DISTINCT (sess, ts, kind, pn, val)) FROM kept WHERE kind = 'ad_start') AS ads,
         (SELECT min(ts) FROM kept) AS first_ts, (SELECT max(ts) FROM kept) AS last_ts)
SELECT (s).invalid_events = x.invalid AS invalid_ok,
       (s).unknown_events = x.unknown AS unknown_ok,
       (s).duplicate_events = x.dups AS dups_ok,
       (s).duplicate_events > 250 AS has_dups,
       (s).completions = x.ended AS ended_ok, (s).errors = x.errors AS errors_ok,
       (s).ad_count = x.ads AS ads_ok,
       (s).first_ts = x.first_ts AND (s).last_ts = x.last_ts AS ts_ok,
       (s).sessions > 50 AS sessions_split, (s).play_time > 0 AS played
FROM r_all, x;

-- Keyed rows: session keys never span users, so per-user sessions and
-- completions add up to the global ones.  (Rows with a NULL key are one
-- key-less stream per group: grouping by user splits them differently.)
SELECT sum((qoe_stats(t)).sessions) =
         (SELECT sessions(qoe_timeline(ts, event, pos, val, sess)) FROM qoe_pi_ev
          WHERE sess IS NOT NULL) AS sessions_add,
       sum((qoe_stats(t)).completions) =
         (SELECT completions(qoe_timeline(ts, event, pos, val, sess)) FROM qoe_pi_ev
          WHERE sess IS NOT NULL) AS compl_add
FROM (SELECT user_id, qoe_timeline(ts, event, pos, val, sess) AS t
      FROM qoe_pi_ev WHERE sess IS NOT NULL GROUP BY user_id) q;

-- Forced parallel aggregation (partial + combine + serialize/deserialize).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT qoe_stats(ts, event, pos, val, sess) FROM qoe_pi_ev;
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s
      FROM qoe_pi_ev GROUP BY user_id) q USING (user_id);
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same
FROM qoe_pi_ev;
SELECT (SELECT s::text FROM r_all) = qoe_stats(qoe_timeline(ts, event, pos, val, sess))::text AS same
FROM qoe_pi_ev;
-- Without the leader taking part.
SET parallel_leader_participation = off;
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s
      FROM qoe_pi_ev GROUP BY user_id) q USING (user_id);
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same
FROM qoe_pi_ev;
RESET parallel_leader_participation;
-- Whole query in a worker (PostgreSQL 15: force_parallel_mode).
SET force_parallel_mode = on;
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s
      FROM qoe_pi_ev GROUP BY user_id) q USING (user_id);
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same
FROM qoe_pi_ev;
-- The one-step aggregates in parallel equal the serial accessors.
SELECT watch_time(ts, event, pos, val, sess) = (SELECT (s).play_time FROM r_all) AS w,
       buffer_time(ts, event, pos, val, sess) = (SELECT (s).buffer_time FROM r_all) AS b,
       rebuffer_count(ts, event, pos, val, sess) = (SELECT (s).rebuffer_count FROM r_all) AS rc,
       startup_time(ts, event, pos, val, sess) IS NOT DISTINCT FROM (SELECT (s).startup_time FROM r_all) AS su
FROM qoe_pi_ev;
RESET force_parallel_mode;

-- Partitioned copies: by hash of the grouping key, and by range of ts
-- (sessions then span partitions: partial aggregates must be combined).
CREATE TABLE qoe_pi_hash (LIKE qoe_pi_ev) PARTITION BY HASH (user_id);
CREATE TABLE qoe_pi_hash_0 PARTITION OF qoe_pi_hash FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE qoe_pi_hash_1 PARTITION OF qoe_pi_hash FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE qoe_pi_hash_2 PARTITION OF qoe_pi_hash FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE qoe_pi_hash_3 PARTITION OF qoe_pi_hash FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO qoe_pi_hash SELECT * FROM qoe_pi_ev;
CREATE TABLE qoe_pi_rng (LIKE qoe_pi_ev) PARTITION BY RANGE (ts);
CREATE TABLE qoe_pi_rng_0 PARTITION OF qoe_pi_rng
  FOR VALUES FROM (MINVALUE) TO ('2024-01-01 01:00:00+00');
CREATE TABLE qoe_pi_rng_1 PARTITION OF qoe_pi_rng
  FOR VALUES FROM ('2024-01-01 01:00:00+00') TO ('2024-01-01 02:00:00+00');
CREATE TABLE qoe_pi_rng_2 PARTITION OF qoe_pi_rng
  FOR VALUES FROM ('2024-01-01 02:00:00+00') TO ('2024-01-01 03:00:00+00');
CREATE TABLE qoe_pi_rng_3 PARTITION OF qoe_pi_rng
  FOR VALUES FROM ('2024-01-01 03:00:00+00') TO (MAXVALUE);
CREATE TABLE qoe_pi_rng_d PARTITION OF qoe_pi_rng DEFAULT;
INSERT INTO qoe_pi_rng SELECT * FROM qoe_pi_ev;
ANALYZE qoe_pi_hash;
ANALYZE qoe_pi_rng;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT qoe_stats(ts, event, pos, val, sess) FROM qoe_pi_rng;
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s
      FROM qoe_pi_hash GROUP BY user_id) q USING (user_id);
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s
      FROM qoe_pi_rng GROUP BY user_id) q USING (user_id);
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same
FROM qoe_pi_rng;
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same
FROM qoe_pi_hash;
-- Partitionwise and parallel together.
SET max_parallel_workers_per_gather = 2;
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s
      FROM qoe_pi_rng GROUP BY user_id) q USING (user_id);
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same
FROM qoe_pi_rng;
-- Every partial state sent in the compact form (partial_log_limit 0), from
-- 13 range partitions: the leader keeps the first states compact and
-- pending, and the final functions read them merged a piece at a time;
-- past 8 pending states, or for a smaller state, it decodes them into one
-- buffer.  qoe_stats and qoe_timeline share one state per group (two final
-- functions read it).  All equal the serial results.
CREATE TABLE qoe_pi_rng13 (LIKE qoe_pi_ev) PARTITION BY RANGE (ts);
DO $$
BEGIN
  FOR i IN 0..11 LOOP
    EXECUTE format('CREATE TABLE qoe_pi_rng13_%s PARTITION OF qoe_pi_rng13 FOR VALUES FROM (%L) TO (%L)',
                   i, CASE WHEN i = 0 THEN '-infinity'::timestamptz
                           ELSE '2024-01-01 00:00:00+00'::timestamptz + i * interval '20 minutes' END,
                   '2024-01-01 00:00:00+00'::timestamptz + (i + 1) * interval '20 minutes');
  END LOOP;
END $$;
CREATE TABLE qoe_pi_rng13_d PARTITION OF qoe_pi_rng13 DEFAULT;
INSERT INTO qoe_pi_rng13 SELECT * FROM qoe_pi_ev;
ANALYZE qoe_pi_rng13;
SELECT count(*) AS partitions_with_rows
FROM (SELECT DISTINCT tableoid FROM qoe_pi_rng13) p;
SET qoe_agg.partial_log_limit = 0;
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing,
       count(*) FILTER (WHERE r.s IS DISTINCT FROM q.ts) AS differing_from_timeline
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(ts, event, pos, val, sess)::text AS s,
             qoe_stats(qoe_timeline(ts, event, pos, val, sess))::text AS ts
      FROM qoe_pi_rng13 GROUP BY user_id) q USING (user_id);
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same,
       (SELECT s::text FROM r_all) = qoe_stats(qoe_timeline(ts, event, pos, val, sess))::text AS same_timeline,
       (SELECT qoe_timeline(ts, event, pos, val, sess)::text FROM qoe_pi_ev)
         = qoe_timeline(ts, event, pos, val, sess)::text AS same_timeline_text
FROM qoe_pi_rng13;
SET max_parallel_workers_per_gather = 0;
SELECT (SELECT s::text FROM r_all) = qoe_stats(ts, event, pos, val, sess)::text AS same_serial
FROM qoe_pi_rng13;
SET max_parallel_workers_per_gather = 2;
RESET qoe_agg.partial_log_limit;
DROP TABLE qoe_pi_rng13;
RESET enable_partitionwise_aggregate;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- Many small groups: a hash aggregate that spills (64kB work_mem) equals
-- the sorted grouping.
SET max_parallel_workers_per_gather = 0;
SET work_mem = '64kB';
SET enable_sort = off;
EXPLAIN (COSTS OFF)
  SELECT grp, qoe_stats(ts, event, pos, val, sess)::text FROM qoe_pi_ev GROUP BY grp;
CREATE TEMP TABLE r_hash AS
  SELECT grp, qoe_stats(ts, event, pos, val, sess)::text AS s FROM qoe_pi_ev GROUP BY grp;
RESET enable_sort;
SET enable_hashagg = off;
CREATE TEMP TABLE r_sort AS
  SELECT grp, qoe_stats(ts, event, pos, val, sess)::text AS s FROM qoe_pi_ev GROUP BY grp;
RESET enable_hashagg;
RESET work_mem;
SELECT count(*) AS groups, count(*) FILTER (WHERE h.s IS DISTINCT FROM o.s) AS differing
FROM r_hash h FULL JOIN r_sort o USING (grp);

-- Serialization across "nodes": per-node timelines shipped as text, cast
-- back and merged in another order, give the one-pass result.
CREATE TEMP TABLE shipped AS
  SELECT i % 5 AS node, user_id, qoe_timeline(ts, event, pos, val, sess)::text AS t
  FROM qoe_pi_ev GROUP BY i % 5, user_id;
SELECT count(*) AS users, count(*) FILTER (WHERE r.s IS DISTINCT FROM q.s) AS differing
FROM r_user r FULL JOIN
     (SELECT user_id, qoe_stats(rollup(t::qoe_timeline ORDER BY node DESC))::text AS s
      FROM shipped GROUP BY user_id) q USING (user_id);
SELECT (SELECT s::text FROM r_all) =
       qoe_stats(rollup(t::qoe_timeline ORDER BY user_id DESC, node))::text AS same
FROM shipped;
-- Two-level: per node first, then across nodes.
SELECT (SELECT s::text FROM r_all) = qoe_stats(rollup(t ORDER BY node DESC))::text AS same
FROM (SELECT node, rollup(t::qoe_timeline) AS t FROM shipped GROUP BY node) q;

DROP TABLE qoe_pi_ev, qoe_pi_hash, qoe_pi_rng;
