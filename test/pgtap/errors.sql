-- qoe_agg errors and their SQLSTATEs: malformed text (22P02), malformed
-- binary (22P03), the row form without usable columns (42703 / 42804).
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
BEGIN;
SELECT plan(22);

-- Malformed text input: 22P02 invalid_text_representation.
SELECT throws_ok($$SELECT 'not json'::qoe_timeline$$, '22P02',
                 'invalid input syntax for type qoe_timeline', 'not JSON');
SELECT throws_ok($$SELECT ''::qoe_timeline$$, '22P02', NULL, 'empty text');
SELECT throws_ok($$SELECT '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","playy",0,null,null]]}'::qoe_timeline$$,
                 '22P02', NULL, 'unknown kind');
SELECT throws_ok($$SELECT '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-02-30T00:00:00Z","play",0,null,null]]}'::qoe_timeline$$,
                 '22P02', NULL, 'bad timestamp');
SELECT throws_ok($$SELECT '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","play",-1,null,null]]}'::qoe_timeline$$,
                 '22P02', NULL, 'negative position');
SELECT throws_ok($$SELECT '{"version":2,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[]}'::qoe_timeline$$,
                 '22P02', NULL, 'version 2');
SELECT throws_ok($$SELECT '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","play",0,null,null]'::qoe_timeline$$,
                 '22P02', NULL, 'truncated');
SELECT throws_ok($$SELECT '{"version":1,"invalid_events":-1,"unknown_events":0,"duplicate_events":0,"events":[]}'::qoe_timeline$$,
                 '22P02', NULL, 'negative counter');
SELECT throws_ok($$SELECT '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","play",0,null]]}'::qoe_timeline$$,
                 '22P02', NULL, 'an event with four fields');
SELECT throws_ok($$SELECT '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[]} trailing'::qoe_timeline$$,
                 '22P02', NULL, 'trailing garbage');
SELECT lives_ok($$SELECT '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[]}'::qoe_timeline$$,
                'an empty timeline is valid');

-- Malformed binary input: 22P03 invalid_binary_representation, through
-- COPY (FORMAT binary) of raw bytes into a qoe_timeline column.
CREATE TEMP TABLE bin_in (t qoe_timeline);
COPY (SELECT '\x00010203deadbeef'::bytea) TO '/tmp/qoe_agg_pgtap_bad1.bin' (FORMAT binary);
COPY (SELECT ''::bytea) TO '/tmp/qoe_agg_pgtap_bad2.bin' (FORMAT binary);
COPY (SELECT qoe_timeline_send(qoe_timeline(ts, e)) || '\xff'::bytea
      FROM (VALUES ('2024-01-01 00:00:00+00'::timestamptz, 'play')) v(ts, e))
  TO '/tmp/qoe_agg_pgtap_bad3.bin' (FORMAT binary);
COPY (SELECT qoe_timeline_send(qoe_timeline(ts, e))
      FROM (VALUES ('2024-01-01 00:00:00+00'::timestamptz, 'play')) v(ts, e))
  TO '/tmp/qoe_agg_pgtap_good.bin' (FORMAT binary);
SELECT throws_ok($$COPY bin_in FROM '/tmp/qoe_agg_pgtap_bad1.bin' (FORMAT binary)$$, '22P03',
                 'invalid external qoe_timeline value', 'garbage bytes');
SELECT throws_ok($$COPY bin_in FROM '/tmp/qoe_agg_pgtap_bad2.bin' (FORMAT binary)$$, '22P03',
                 NULL, 'no bytes');
SELECT throws_ok($$COPY bin_in FROM '/tmp/qoe_agg_pgtap_bad3.bin' (FORMAT binary)$$, '22P03',
                 NULL, 'a valid value followed by an extra byte');
SELECT lives_ok($$COPY bin_in FROM '/tmp/qoe_agg_pgtap_good.bin' (FORMAT binary)$$,
                'the bytes of qoe_timeline_send() read back');
SELECT is((SELECT t::text FROM bin_in),
          '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","play",null,null,null]]}',
          'and give the same value');

-- The row form needs a timestamp and an event column: 42703 undefined_column.
CREATE TEMP TABLE noev (ts timestamptz, what text);
INSERT INTO noev VALUES ('2024-01-01 00:00:00+00', 'play');
CREATE TEMP TABLE nots (at timestamptz, event text);
INSERT INTO nots VALUES ('2024-01-01 00:00:00+00', 'play');
CREATE TEMP TABLE badts (ts text, event text);
INSERT INTO badts VALUES ('2024-01-01 00:00:00+00', 'play');
SELECT throws_ok('SELECT watch_time(n) FROM noev n', '42703',
                 'row has no event name column', 'no event column');
SELECT throws_ok('SELECT qoe_timeline(n) FROM nots n', '42703',
                 'row has no event timestamp column', 'no timestamp column');
SELECT throws_ok('SELECT qoe_stats(n) FROM badts n', '42804', NULL,
                 'a timestamp column of type text');
SELECT is((SELECT watch_time(n) FROM noev n WHERE false), NULL,
          'over no rows the row form returns NULL');

-- An altered qoe_stats type is refused, never misread (it used to crash).
ALTER TYPE qoe_stats ALTER ATTRIBUTE sessions TYPE text;
SELECT throws_ok($$SELECT qoe_stats(now(), 'play')$$, '42804',
                 'attribute "sessions" of type qoe_stats has type text, expected bigint',
                 'qoe_stats aggregate refuses an altered composite type');
SELECT throws_ok($$SELECT qoe_stats(qoe_timeline(now(), 'play'))$$, '42804', NULL,
                 'qoe_stats accessor refuses an altered composite type');

SELECT * FROM finish();
ROLLBACK;
