-- qoe_agg settings (SPEC 1, 2, 3, 4, 6, 8.21): defaults, rejected values
-- (SQLSTATE 22023 with a detail and a hint), accepted values.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
BEGIN;
SELECT plan(52);

-- The settings exist once the library is loaded (any call loads it).
SELECT is(sessions('{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[]}'::qoe_timeline),
          0::bigint, 'an empty timeline has no session (and loads the library)');

SELECT is(current_setting('qoe_agg.session_timeout'), '30min', 'session_timeout defaults to 30 min');
SELECT is(current_setting('qoe_agg.seek_grace'), '1s', 'seek_grace defaults to 1 s');
SELECT is(current_setting('qoe_agg.jump_tolerance'), '2s', 'jump_tolerance defaults to 2 s');
SELECT is(current_setting('qoe_agg.event_aliases'), '', 'event_aliases defaults to empty');
SELECT is(current_setting('qoe_agg.partial_log_limit'), '256kB', 'partial_log_limit defaults to 256 kB');
SELECT is(current_setting('qoe_agg.huge_pages'), 'on', 'huge_pages defaults to on');

-- sqlstate|has a hint|detail of an error, or NULL when the statement works
CREATE FUNCTION pg_temp.err_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; h text; d text;
BEGIN
  EXECUTE sql;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, h = PG_EXCEPTION_HINT, d = PG_EXCEPTION_DETAIL;
  RETURN st || '|' || (coalesce(h, '') <> '')::text || '|' || coalesce(d, '');
END $$;

-- session_timeout: zero and negative rejected.
SELECT throws_ok('SET qoe_agg.session_timeout = 0', '22023',
                 'invalid value for parameter "qoe_agg.session_timeout": 0',
                 'session_timeout 0 is rejected');
SELECT throws_ok($$SET qoe_agg.session_timeout = '-5 min'$$, '22023',
                 'invalid value for parameter "qoe_agg.session_timeout": -300000',
                 'a negative session_timeout is rejected');
SELECT throws_ok('SET qoe_agg.session_timeout = -1', '22023', NULL,
                 'session_timeout -1 ms is rejected');
SELECT is(pg_temp.err_of('SET qoe_agg.session_timeout = 0'),
          '22023|true|The session timeout must be positive.',
          'the session_timeout error has a detail and a hint');
SELECT is(current_setting('qoe_agg.session_timeout'), '30min', 'a rejected value leaves the setting');

-- seek_grace: negative rejected, zero accepted.
SELECT throws_ok($$SET qoe_agg.seek_grace = '-1s'$$, '22023',
                 'invalid value for parameter "qoe_agg.seek_grace": -1000',
                 'a negative seek_grace is rejected');
SELECT throws_ok('SET qoe_agg.seek_grace = -1', '22023', NULL, 'seek_grace -1 ms is rejected');
SELECT alike(pg_temp.err_of($$SET qoe_agg.seek_grace = '-1s'$$), '22023|true|_%',
            'the seek_grace error has a detail and a hint');

-- jump_tolerance: negative rejected, zero accepted.
SELECT throws_ok('SET qoe_agg.jump_tolerance = -1', '22023',
                 'invalid value for parameter "qoe_agg.jump_tolerance": -1',
                 'a negative jump_tolerance is rejected');
SELECT throws_ok('SET qoe_agg.jump_tolerance = -0.001', '22023', NULL,
                 'a slightly negative jump_tolerance is rejected');
SELECT alike(pg_temp.err_of('SET qoe_agg.jump_tolerance = -1'), '22023|true|_%',
            'the jump_tolerance error has a detail and a hint');

-- partial_log_limit: negative rejected, zero accepted.
SELECT throws_ok($$SET qoe_agg.partial_log_limit = '-1kB'$$, '22023',
                 'invalid value for parameter "qoe_agg.partial_log_limit": -1',
                 'a negative partial_log_limit is rejected');
SELECT alike(pg_temp.err_of('SET qoe_agg.partial_log_limit = -1'), '22023|true|_%',
            'the partial_log_limit error has a detail and a hint');

-- event_aliases: a bad entry is rejected with a message naming it.
SELECT throws_ok($$SET qoe_agg.event_aliases = 'foo'$$, '22023',
                 'invalid value for parameter "qoe_agg.event_aliases": "foo"',
                 'an entry without = is rejected');
SELECT throws_ok($$SET qoe_agg.event_aliases = 'a=play, foo=bar'$$, '22023', NULL,
                 'an unknown kind is rejected');
SELECT throws_ok($$SET qoe_agg.event_aliases = '=play'$$, '22023', NULL,
                 'an empty alias is rejected');
SELECT throws_ok($$SET qoe_agg.event_aliases = 'start=resume'$$, '22023', NULL,
                 'the kind must be a kind name, not an alias');
SELECT alike(pg_temp.err_of($$SET qoe_agg.event_aliases = 'a=play, not an entry'$$),
            '22023|true|%not an entry%', 'the detail names the bad entry (no =)');
SELECT alike(pg_temp.err_of($$SET qoe_agg.event_aliases = 'a=play, x=nokind'$$),
            '22023|true|%x=nokind%', 'the detail names the bad entry (unknown kind)');
SELECT is(current_setting('qoe_agg.event_aliases'), '', 'rejected aliases leave the setting');

-- Accepted values.
SELECT lives_ok($$SET qoe_agg.session_timeout = '10 min'$$, 'session_timeout accepts 10 min');
SELECT is(current_setting('qoe_agg.session_timeout'), '10min', 'session_timeout is 10 min');
SELECT lives_ok($$SET qoe_agg.session_timeout = '30 min'$$, 'session_timeout accepts 30 min');
SELECT lives_ok('SET qoe_agg.session_timeout = 1', 'session_timeout accepts 1 ms');
SELECT is(current_setting('qoe_agg.session_timeout'), '1ms', 'session_timeout is 1 ms');
SELECT lives_ok($$SET qoe_agg.session_timeout = '2h'$$, 'session_timeout accepts 2h');
SELECT is(current_setting('qoe_agg.session_timeout'), '2h', 'session_timeout is 2 h');
SELECT lives_ok('SET qoe_agg.seek_grace = 0', 'seek_grace accepts 0');
SELECT lives_ok($$SET qoe_agg.seek_grace = '500ms'$$, 'seek_grace accepts 500ms');
SELECT is(current_setting('qoe_agg.seek_grace'), '500ms', 'seek_grace is 500 ms');
SELECT lives_ok('SET qoe_agg.jump_tolerance = 0', 'jump_tolerance accepts 0');
SELECT lives_ok('SET qoe_agg.jump_tolerance = 0.5', 'jump_tolerance accepts 0.5');
SELECT lives_ok('SET qoe_agg.partial_log_limit = 0', 'partial_log_limit accepts 0');
SELECT lives_ok($$SET qoe_agg.partial_log_limit = '1MB'$$, 'partial_log_limit accepts 1MB');
SELECT is(current_setting('qoe_agg.partial_log_limit'), '1MB', 'partial_log_limit is 1 MB');
SELECT lives_ok('RESET qoe_agg.partial_log_limit', 'partial_log_limit resets');
SELECT lives_ok('SET qoe_agg.huge_pages = off', 'huge_pages accepts off');
SELECT is(current_setting('qoe_agg.huge_pages'), 'off', 'huge_pages is off');
SELECT throws_ok($$SET qoe_agg.huge_pages = 'sometimes'$$, '22023', NULL, 'huge_pages takes a boolean');
RESET qoe_agg.huge_pages;
SELECT lives_ok($$SET qoe_agg.event_aliases = 'vid_start=play, X-Stall = Buffer-Start,,'$$,
                'event_aliases accepts a list with normalised names and empty entries');
SELECT lives_ok($$SET qoe_agg.event_aliases = ''$$, 'event_aliases accepts empty');
SELECT lives_ok('RESET qoe_agg.session_timeout', 'reset');
SELECT is(current_setting('qoe_agg.session_timeout'), '30min', 'reset to 30 min');
-- A setting changes the result (session_timeout read when metrics are computed).
SELECT is((SELECT sessions(qoe_timeline(ts, e)) FROM (VALUES
             ('2024-01-01 00:00:00+00'::timestamptz, 'play'),
             ('2024-01-01 00:20:00+00', 'pause')) v(ts, e)), 1::bigint,
          '20 min apart: one session with the default timeout');
SET LOCAL qoe_agg.session_timeout = '10min';
SELECT is((SELECT sessions(qoe_timeline(ts, e)) FROM (VALUES
             ('2024-01-01 00:00:00+00'::timestamptz, 'play'),
             ('2024-01-01 00:20:00+00', 'pause')) v(ts, e)), 2::bigint,
          '20 min apart: two sessions with a 10 min timeout');

SELECT * FROM finish();
ROLLBACK;
