-- qoe_agg SQL surface (SPEC 5, 6): types, every aggregate form, accessors,
-- set-returning functions, volatility, strictness, parallel safety and the
-- columns of qoe_stats.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
BEGIN;
SELECT plan(314);

SELECT has_type('qoe_timeline');
SELECT has_type('qoe_stats');
SELECT has_composite('qoe_stats');

-- Aggregates: 11 names x 5 argument forms, plus rollup(qoe_timeline).
CREATE TEMP TABLE agg_names (name text);
INSERT INTO agg_names VALUES ('qoe_timeline'), ('qoe_stats'), ('watch_time'),
  ('play_time'), ('view_time'), ('buffer_time'), ('buffer_count'),
  ('rebuffer_time'), ('rebuffer_count'), ('rebuffer_ratio'), ('startup_time');
CREATE TEMP TABLE agg_forms (n int, args text[]);
INSERT INTO agg_forms VALUES
  (2, ARRAY['timestamp with time zone', 'text']),
  (3, ARRAY['timestamp with time zone', 'text', 'double precision']),
  (4, ARRAY['timestamp with time zone', 'text', 'double precision', 'double precision']),
  (5, ARRAY['timestamp with time zone', 'text', 'double precision', 'double precision', 'text']),
  (1, ARRAY['record']);
-- 55 has_function + 55 is_aggregate
SELECT has_function(name, args, name || '(' || array_to_string(args, ', ') || ') exists')
FROM agg_names, agg_forms ORDER BY name, n;
SELECT is_aggregate(name, args, name || '(' || array_to_string(args, ', ') || ') is an aggregate')
FROM agg_names, agg_forms ORDER BY name, n;
SELECT has_function('rollup', ARRAY['qoe_timeline']);
SELECT is_aggregate('rollup', ARRAY['qoe_timeline']);

-- Accessors: one per metric of SPEC 5 (the columns of qoe_stats), plus
-- qoe_stats(t): has_function, STABLE, STRICT, return type (41 x 4).
CREATE TEMP TABLE metrics (name text, typ text);
INSERT INTO metrics VALUES
  ('sessions', 'bigint'), ('play_time', 'double precision'),
  ('watch_time', 'double precision'), ('view_time', 'double precision'),
  ('starting_time', 'double precision'), ('paused_time', 'double precision'),
  ('buffer_time', 'double precision'), ('seek_time', 'double precision'),
  ('ad_time', 'double precision'), ('rebuffer_time', 'double precision'),
  ('rebuffer_count', 'bigint'), ('buffer_count', 'bigint'),
  ('startup_time', 'double precision'), ('pause_count', 'bigint'),
  ('seek_count', 'bigint'), ('seek_forward', 'bigint'), ('seek_backward', 'bigint'),
  ('ad_count', 'bigint'), ('replays', 'bigint'), ('completions', 'bigint'),
  ('errors', 'bigint'), ('exits_before_start', 'bigint'),
  ('start_failures', 'bigint'), ('playback_failures', 'bigint'),
  ('max_position', 'double precision'), ('content_watched', 'double precision'),
  ('avg_bitrate', 'double precision'), ('min_bitrate', 'double precision'),
  ('max_bitrate', 'double precision'), ('upshifts', 'bigint'), ('downshifts', 'bigint'),
  ('unmatched_buffer_ends', 'bigint'), ('duplicate_events', 'bigint'),
  ('unknown_events', 'bigint'), ('invalid_events', 'bigint'),
  ('first_ts', 'timestamp with time zone'), ('last_ts', 'timestamp with time zone'),
  ('rebuffer_ratio', 'double precision'), ('rebuffer_percentage', 'double precision'),
  ('rebuffer_frequency', 'double precision');
INSERT INTO metrics VALUES ('qoe_stats', 'qoe_stats');
SELECT has_function(name, ARRAY['qoe_timeline'], name || '(qoe_timeline) exists')
FROM metrics ORDER BY name;
SELECT volatility_is(name, ARRAY['qoe_timeline'], 'stable', name || '(qoe_timeline) is STABLE')
FROM metrics ORDER BY name;
SELECT is_strict(name, ARRAY['qoe_timeline'], name || '(qoe_timeline) is STRICT')
FROM metrics ORDER BY name;
SELECT function_returns(name, ARRAY['qoe_timeline'], typ, name || '(qoe_timeline) returns ' || typ)
FROM metrics ORDER BY name;

-- The columns of qoe_stats are exactly the metrics of SPEC 5 (40).
SELECT set_eq(
  $$SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
    WHERE attrelid = 'qoe_stats'::regclass AND attnum > 0 AND NOT attisdropped$$,
  $$SELECT name, typ FROM metrics WHERE name <> 'qoe_stats'$$,
  'qoe_stats has one column per SPEC 5 metric, with its type');
SELECT is((SELECT count(*) FROM pg_attribute
           WHERE attrelid = 'qoe_stats'::regclass AND attnum > 0 AND NOT attisdropped),
          40::bigint, 'qoe_stats has 40 columns');

-- Set-returning functions, completed(), percent_watched().
SELECT has_function('buffer_episodes', ARRAY['qoe_timeline']);
SELECT has_function('playback_intervals', ARRAY['qoe_timeline']);
SELECT has_function('watched_ranges', ARRAY['qoe_timeline']);
SELECT is_strict('buffer_episodes', ARRAY['qoe_timeline']);
SELECT is_strict('playback_intervals', ARRAY['qoe_timeline']);
SELECT is_strict('watched_ranges', ARRAY['qoe_timeline']);
SELECT volatility_is('buffer_episodes', ARRAY['qoe_timeline'], 'stable');
SELECT volatility_is('playback_intervals', ARRAY['qoe_timeline'], 'stable');
SELECT volatility_is('watched_ranges', ARRAY['qoe_timeline'], 'stable');
SELECT function_returns('buffer_episodes', ARRAY['qoe_timeline'], 'setof record');
SELECT function_returns('playback_intervals', ARRAY['qoe_timeline'], 'setof record');
SELECT function_returns('watched_ranges', ARRAY['qoe_timeline'], 'setof record');
SELECT has_function('completed', ARRAY['qoe_timeline', 'double precision', 'double precision']);
SELECT has_function('percent_watched', ARRAY['qoe_timeline', 'double precision']);
SELECT function_returns('completed', ARRAY['qoe_timeline', 'double precision', 'double precision'], 'boolean');
SELECT function_returns('percent_watched', ARRAY['qoe_timeline', 'double precision'], 'double precision');
SELECT volatility_is('completed', ARRAY['qoe_timeline', 'double precision', 'double precision'], 'stable');
SELECT volatility_is('percent_watched', ARRAY['qoe_timeline', 'double precision'], 'stable');
-- Output columns of the SRFs (SPEC 6).
SELECT set_eq(
  $$SELECT unnest(proargnames[2:]) || ' ' || unnest(ARRAY(SELECT format_type(t, NULL) FROM unnest(proallargtypes[2:]) t))
    FROM pg_proc WHERE proname = 'buffer_episodes'$$,
  ARRAY['session text', 'session_no integer', 'started_at timestamp with time zone',
        'ended_at timestamp with time zone', 'duration double precision', 'cause text',
        'position double precision', 'closed boolean'],
  'buffer_episodes columns');
SELECT set_eq(
  $$SELECT unnest(proargnames[2:]) || ' ' || unnest(ARRAY(SELECT format_type(t, NULL) FROM unnest(proallargtypes[2:]) t))
    FROM pg_proc WHERE proname = 'playback_intervals'$$,
  ARRAY['session text', 'session_no integer', 'state text', 'started_at timestamp with time zone',
        'ended_at timestamp with time zone', 'duration double precision',
        'start_position double precision', 'end_position double precision'],
  'playback_intervals columns');
SELECT set_eq(
  $$SELECT unnest(proargnames[2:]) || ' ' || unnest(ARRAY(SELECT format_type(t, NULL) FROM unnest(proallargtypes[2:]) t))
    FROM pg_proc WHERE proname = 'watched_ranges'$$,
  ARRAY['session text', 'session_no integer', 'from_position double precision',
        'to_position double precision'],
  'watched_ranges columns');

-- Type I/O is IMMUTABLE and STRICT.
SELECT volatility_is('qoe_timeline_in', ARRAY['cstring'], 'immutable');
SELECT volatility_is('qoe_timeline_out', ARRAY['qoe_timeline'], 'immutable');
SELECT volatility_is('qoe_timeline_recv', ARRAY['internal'], 'immutable');
SELECT volatility_is('qoe_timeline_send', ARRAY['qoe_timeline'], 'immutable');
SELECT is_strict('qoe_timeline_in', ARRAY['cstring']);
SELECT is_strict('qoe_timeline_out', ARRAY['qoe_timeline']);
SELECT is_strict('qoe_timeline_recv', ARRAY['internal']);
SELECT is_strict('qoe_timeline_send', ARRAY['qoe_timeline']);

-- Every function of the extension is PARALLEL SAFE (aggregates included),
-- except the two that run DDL (BI views), which are PARALLEL UNSAFE.
SELECT ok((SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
           WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
             AND e.extname = 'qoe_agg') > 100,
          'the extension owns more than 100 functions');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text
                FROM pg_proc p
                JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
                JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qoe_agg'
                WHERE p.proparallel <> 's' ORDER BY 1),
          ARRAY['qoe_create_views(regclass,name,regclass,boolean)',
                'qoe_refresh_views(name,boolean)']::text[],
          'every function of qoe_agg but the DDL ones is PARALLEL SAFE');
-- Every aggregate has combine, serial and deserial functions.
SELECT is(ARRAY(SELECT a.aggfnoid::regprocedure::text FROM pg_aggregate a
                JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = a.aggfnoid
                 AND d.refclassid = 'pg_extension'::regclass
                JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qoe_agg'
                WHERE a.aggcombinefn = 0 OR a.aggserialfn = 0 OR a.aggdeserialfn = 0
                ORDER BY 1),
          ARRAY[]::text[], 'every aggregate can run in parallel (combine/serial/deserial)');
-- Every aggregate declares its typical state size (SSPACE): without it the
-- planner assumes 8 kB per group for an internal state, sorts instead of
-- hashing a million groups, and the query takes 4x as long.
SELECT is(ARRAY(SELECT a.aggfnoid::regprocedure::text || ' ' || a.aggtransspace
                FROM pg_aggregate a
                JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = a.aggfnoid
                 AND d.refclassid = 'pg_extension'::regclass
                JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qoe_agg'
                WHERE a.aggtransspace <> 1024
                ORDER BY 1),
          ARRAY[]::text[], 'every aggregate declares SSPACE = 1024');

SELECT * FROM finish();
ROLLBACK;
