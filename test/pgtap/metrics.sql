-- SPEC 7 worked scenarios, checked independently of the pg_regress suite.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
BEGIN;
SET LOCAL TIME ZONE 'UTC';
SELECT plan(30);

CREATE TEMP TABLE sc (n int, sec float8, event text, pos float8);
INSERT INTO sc VALUES
  (1, 0, 'play', 0), (1, 60, 'ended', 60),
  (2, 0, 'play', 0), (2, 10, 'pause', 10), (2, 20, 'play', 10), (2, 70, 'ended', 60),
  (3, 0, 'play', 0), (3, 10, 'pause', 10),
  (4, 0, 'play', 0), (4, 10, 'heartbeat', 10), (4, 20, 'heartbeat', 200),
  (5, 0, 'play', 0), (5, 30, 'seek_start', 30), (5, 30, 'seek_end', 15), (5, 75, 'ended', 60),
  (6, 0, 'buffer_start', NULL), (6, 30, 'buffer_end', NULL),
  (7, 0, 'play', 0), (7, 5, 'buffer_start', 5), (7, 20, 'heartbeat', 6),
  (8, 0, 'play', 0), (8, 10, 'pause', 10), (8, 4000, 'play', 10), (8, 4010, 'pause', 20),
  (9, 0, 'play', 0), (9, 7200, 'ended', 7200),
  (10, 0, 'request', NULL), (10, 2, 'playing', 0), (10, 12, 'ended', 10),
  (11, 0, 'request', NULL), (11, 5, 'exit', NULL),
  (12, 0, 'play', 0), (12, 1, 'buffer_start', 1);
CREATE TEMP TABLE t AS
  SELECT n, qoe_timeline(timestamptz '2024-01-01 00:00:00+00' + sec * interval '1 s', event, pos) AS t
  FROM sc GROUP BY n;
CREATE FUNCTION pg_temp.tl(int) RETURNS qoe_timeline LANGUAGE sql AS 'SELECT t FROM t WHERE n = $1';

SELECT is(play_time(pg_temp.tl(1)), 60::float8, '1: play_time 60');
SELECT is(content_watched(pg_temp.tl(1)), 60::float8, '1: content_watched 60');
SELECT is(completions(pg_temp.tl(1)), 1::bigint, '1: completions 1');
SELECT is(play_time(pg_temp.tl(2)), 60::float8, '2: play 60');
SELECT is(paused_time(pg_temp.tl(2)), 10::float8, '2: paused 10');
SELECT is(pause_count(pg_temp.tl(2)), 1::bigint, '2: pause_count 1');
SELECT is(play_time(pg_temp.tl(3)), 10::float8, '3: play 10');
SELECT is(paused_time(pg_temp.tl(3)), 0::float8, '3: paused 0 (browser closed while paused)');
SELECT is(play_time(pg_temp.tl(4)), 20::float8, '4: play 20');
SELECT is(seek_forward(pg_temp.tl(4)), 1::bigint, '4: seek_forward 1');
SELECT is(content_watched(pg_temp.tl(4)), 20::float8, '4: content_watched 20');
SELECT is(play_time(pg_temp.tl(5)), 75::float8, '5: play 75');
SELECT is(seek_count(pg_temp.tl(5)), 1::bigint, '5: seek_count 1');
SELECT is(seek_backward(pg_temp.tl(5)), 1::bigint, '5: seek_backward 1');
SELECT is(content_watched(pg_temp.tl(5)), 60::float8, '5: content_watched 60');
SELECT is(buffer_time(pg_temp.tl(6)), 30::float8, '6: buffer_time 30');
SELECT is((SELECT array_agg(cause) FROM buffer_episodes(pg_temp.tl(6))), ARRAY['startup'],
          '6: one episode, cause startup');
SELECT is((SELECT array_agg(cause || ' ' || extract(epoch FROM started_at - '2024-01-01 00:00:00+00')
                            || '->' || extract(epoch FROM ended_at - '2024-01-01 00:00:00+00'))
           FROM buffer_episodes(pg_temp.tl(7))),
          ARRAY['stall 5.000000->20.000000'], '7: episode 5->20, cause stall');
SELECT is(rebuffer_time(pg_temp.tl(7)), 15::float8, '7: rebuffer_time 15');
SELECT is(play_time(pg_temp.tl(7)), 5::float8, '7: play 5');
SELECT is(sessions(pg_temp.tl(8)), 2::bigint, '8: 2 sessions');
SELECT is(play_time(pg_temp.tl(8)), 20::float8, '8: play 20');
SELECT is(paused_time(pg_temp.tl(8)), 0::float8, '8: paused 0');
SELECT is(sessions(pg_temp.tl(9)), 1::bigint, '9: 1 session (corroborated gap)');
SELECT is(play_time(pg_temp.tl(9)), 7200::float8, '9: play 7200');
SELECT is(startup_time(pg_temp.tl(10)), 2::float8, '10: startup_time 2');
SELECT is(play_time(pg_temp.tl(10)), 10::float8, '10: play 10');
SELECT is(exits_before_start(pg_temp.tl(11)), 1::bigint, '11: exits_before_start 1');
SELECT is(startup_time(pg_temp.tl(11)), NULL, '11: startup_time NULL');
SELECT is((SELECT array_agg(buffer_count(pg_temp.tl(12))::text || ' ' || duration || ' ' || closed)
           FROM buffer_episodes(pg_temp.tl(12))),
          ARRAY['1 0 false'], '12: buffer_count 1, duration 0, closed false');

SELECT * FROM finish();
ROLLBACK;
