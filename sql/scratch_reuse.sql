-- Temporary blocks reused from one group to the next (qoe_cache.c, README
-- "Performance"): the final, serial and accessor functions decode and sort
-- each group's events into temporary blocks; those of 64 kB to 16 MB go
-- back to one cache per backend, which keeps up to 8 (32 MB) until the end
-- of the transaction for the next groups.  Sixteen groups, one session
-- each, of 1,000 to 600,000 events (32 kB to 19 MB of decoded events:
-- below, inside and above the kept sizes), in an order where a group often
-- takes a block a larger group left, and where more blocks are freed than
-- kept.  The rows arrive shuffled, so that each group is sorted (more
-- temporary blocks).
--
-- Group g of n events: play at 0 s, a heartbeat every second with the
-- position played, ended at n - 1 s.  Each is one session of exactly
-- n - 1 s of play time, max position n - 1, last event at n - 1 s, no
-- duplicates.  Every plan below must give exactly that, in every form.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE sr AS
SELECT g, n,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 s' AS ts,
       CASE WHEN i = 0 THEN 'play' WHEN i = n - 1 THEN 'ended' ELSE 'heartbeat' END AS event,
       i::float8 AS pos
FROM (VALUES (1, 600000), (2, 2500), (3, 200000), (4, 1000), (5, 40000),
             (6, 5000), (7, 150000), (8, 2500), (9, 1100), (10, 70000),
             (11, 40000), (12, 3000), (13, 9000), (14, 17000), (15, 33000),
             (16, 2500)) v(g, n),
     generate_series(0, n - 1) i
ORDER BY hashint4(i * 16 + g);
ANALYZE sr;

-- one row per group: whether every form gives n - 1 s, 1 session, max
-- position n - 1, the last event at n - 1 s and no duplicates; a wrong
-- group shows its play times
CREATE TEMP VIEW sr_check AS
SELECT g, n,
       w = n - 1 AND (s).play_time = n - 1 AND (s).sessions = 1
         AND (s).max_position = n - 1 AND (s).duplicate_events = 0
         AND play_time(t) = n - 1 AND sessions(t) = 1 AND max_position(t) = n - 1
         AND last_ts(t) = timestamptz '2024-01-01 00:00:00+00' + (n - 1) * interval '1 s'
         AND duplicate_events(t) = 0 AS exact,
       CASE WHEN w = n - 1 AND (s).play_time = n - 1 AND play_time(t) = n - 1 THEN ''
            ELSE format('%s %s %s', w, (s).play_time, play_time(t)) END AS wrong
FROM (SELECT g, n, watch_time(ts, event, pos) AS w, qoe_stats(ts, event, pos) AS s,
             qoe_timeline(ts, event, pos) AS t
      FROM sr GROUP BY g, n) q;

-- serial, hash aggregation: the finals run one group after another
SET max_parallel_workers_per_gather = 0;
SELECT * FROM sr_check ORDER BY g;

-- serial, sorted groups (GroupAggregate): the same, in group order
SET enable_hashagg = off;
SELECT * FROM sr_check ORDER BY g;
RESET enable_hashagg;

-- forced parallel, every partial state serialized sorted (the serial
-- function decodes and sorts each group's log in the worker's cache)
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET qoe_agg.partial_log_limit = 0;
SELECT * FROM sr_check ORDER BY g;
RESET qoe_agg.partial_log_limit;

-- a window aggregate (WindowAgg calls the final once per partition):
-- exact for each group
SET max_parallel_workers_per_gather = 0;
SELECT g, n, w = n - 1 AS exact
FROM (SELECT g, n, row_number() OVER (PARTITION BY g ORDER BY ts DESC) AS r,
             watch_time(ts, event, pos) OVER (PARTITION BY g) AS w
      FROM sr WHERE g IN (2, 4, 5, 9)) x
WHERE r = 1 ORDER BY g;

-- accessors over stored timelines, one row after another (each decodes
-- the row's timeline into blocks the previous rows freed)
CREATE TEMP TABLE sr_t AS
SELECT g, n, qoe_timeline(ts, event, pos) AS t FROM sr GROUP BY g, n;
SELECT g, n,
       play_time(t) = n - 1 AND (qoe_stats(t)).play_time = n - 1
         AND max_position(t) = n - 1 AND completed(t, n - 1, 0.99) AS exact
FROM sr_t ORDER BY g;

-- The cache is a memory context ("qoe_agg scratch") under the
-- transaction's: inside a transaction it holds the kept blocks (more than
-- 1 MB here, at most 32 MB and its own overhead), and the next transaction
-- starts without it.
BEGIN;
SELECT count(*) AS exact FROM sr_t WHERE play_time(t) = n - 1;
SELECT count(*) AS contexts,
       sum(total_bytes) BETWEEN 1048576 AND 34603008 AS kept_within_limit
FROM pg_backend_memory_contexts WHERE name = 'qoe_agg scratch';
COMMIT;
SELECT count(*) AS contexts_after_commit
FROM pg_backend_memory_contexts WHERE name = 'qoe_agg scratch';

-- Errors caught by an EXCEPTION block (a subtransaction): each call below
-- reads timelines until the statement timeout cancels it, most often in
-- the middle of a call that has blocks out.  Those blocks are given up
-- with the cache when the subtransaction aborts, so 20 cancels leave at
-- most the 32 MB limit, not 20 calls' worth of abandoned blocks.
BEGIN;
SET LOCAL statement_timeout = '60ms';
CREATE FUNCTION pg_temp.sr_read_until_cancel() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    LOOP
      PERFORM sum(play_time(t)) FROM sr_t WHERE n BETWEEN 40000 AND 200000;
    END LOOP;
  EXCEPTION WHEN query_canceled THEN
    NULL;
  END;
END $$;
SELECT 'SELECT pg_temp.sr_read_until_cancel()' FROM generate_series(1, 20) \gexec
SELECT coalesce(sum(total_bytes), 0) <= 34603008 AS within_limit
FROM pg_backend_memory_contexts WHERE name = 'qoe_agg scratch';
COMMIT;
DROP TABLE sr_t;

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP VIEW sr_check;
DROP TABLE sr;
