-- BI views: qoe_create_views() / qoe_refresh_views() over a small
-- hand-worked events table.  Every figure below is worked out by hand in
-- the comments first; times are seconds after the session's start, [p] is
-- the playhead position.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
DROP SCHEMA IF EXISTS bi, qoe, qoe_mat, qoe_alerts, qoe_nouser, qoe_err,
  "we""ird; DROP TABLE bi.x; --", "views ""q""; DROP TABLE bi.x; --" CASCADE;
RESET client_min_messages;
SET TIME ZONE 'UTC';
-- errors raised inside the functions: message, detail and hint, no context
\set SHOW_CONTEXT never

CREATE SCHEMA bi;
CREATE TABLE bi.videos (video_id text PRIMARY KEY, duration float8);
-- v4 has no row: its duration is unknown
INSERT INTO bi.videos VALUES ('v1', 100), ('v2', 200), ('v3', 60);

-- The column names follow the row form of SPEC 6 ("bitrate" is the value
-- column), plus user_id, video_id and two dimensions.
CREATE TABLE bi.events (ts timestamptz, event text, "position" float8, bitrate float8,
  session_id text, user_id int, video_id text, device_type text, country_code text);

CREATE TEMP TABLE raw (sid text, uid int, vid text, dev text, cc text,
  t0 timestamptz, sec float8, event text, pos float8, val float8);
INSERT INTO raw VALUES
  -- day 1 = 2024-03-01 (UTC) -------------------------------------------
  -- s1 u1 v1(100 s): startup 2, play 100, content 100, completed, 3 Mbps,
  --    view 102 (starting 2 + play 100); 4 events
  ('s1', 1, 'v1', 'tv', 'DE', '2024-03-01 10:00+00', 0, 'request', NULL, NULL),
  ('s1', 1, 'v1', 'tv', 'DE', '2024-03-01 10:00+00', 2, 'playing', 0, NULL),
  ('s1', 1, 'v1', 'tv', 'DE', '2024-03-01 10:00+00', 2, 'bitrate', NULL, 3000000),
  ('s1', 1, 'v1', 'tv', 'DE', '2024-03-01 10:00+00', 102, 'ended', 100, NULL),
  -- s2 u1 v2(200 s): play 30, stall 30->34 (rebuffer 4), play 100 more:
  --    play 130, content 130 = 65 % < 75 % although it ended
  --    -> completion_under_75pct; view 134; 4 events
  ('s2', 1, 'v2', 'mobile', 'DE', '2024-03-01 11:00+00', 0, 'play', 0, NULL),
  ('s2', 1, 'v2', 'mobile', 'DE', '2024-03-01 11:00+00', 30, 'buffer_start', 30, NULL),
  ('s2', 1, 'v2', 'mobile', 'DE', '2024-03-01 11:00+00', 34, 'buffer_end', 30, NULL),
  ('s2', 1, 'v2', 'mobile', 'DE', '2024-03-01 11:00+00', 134, 'ended', 130, NULL),
  -- s3 u2 v1: 0-10 [0-10], 10-20 jumps to 80 (unreported forward skip,
  --    covers [10,20]), 20-40 [80-100]; pause at the end: play 40,
  --    content 40 (0.4), seek_forward 1, pause_count 1, no completion
  ('s3', 2, 'v1', 'tv', 'FR', '2024-03-01 12:00+00', 0, 'play', 0, NULL),
  ('s3', 2, 'v1', 'tv', 'FR', '2024-03-01 12:00+00', 10, 'heartbeat', 10, NULL),
  ('s3', 2, 'v1', 'tv', 'FR', '2024-03-01 12:00+00', 20, 'heartbeat', 80, NULL),
  ('s3', 2, 'v1', 'tv', 'FR', '2024-03-01 12:00+00', 40, 'pause', 100, NULL),
  -- s4 u2 v3(60 s): the play row twice -> duplicate_events 1; play 60,
  --    content 60, completed; 3 rows
  ('s4', 2, 'v3', 'mobile', 'FR', '2024-03-01 13:00+00', 0, 'play', 0, NULL),
  ('s4', 2, 'v3', 'mobile', 'FR', '2024-03-01 13:00+00', 0, 'play', 0, NULL),
  ('s4', 2, 'v3', 'mobile', 'FR', '2024-03-01 13:00+00', 60, 'ended', 60, NULL),
  -- s12 u6 v2: play 15, then an error -> playback failure; content 15
  ('s12', 6, 'v2', 'tv', 'US', '2024-03-01 14:00+00', 0, 'play', 0, NULL),
  ('s12', 6, 'v2', 'tv', 'US', '2024-03-01 14:00+00', 10, 'heartbeat', 10, NULL),
  ('s12', 6, 'v2', 'tv', 'US', '2024-03-01 14:00+00', 15, 'error', 15, NULL),
  -- day 2 = 2024-03-02 -------------------------------------------------
  -- s5 u3 v3(60 s): 40 s played, seek back to 0, 60 s more: play 100 >
  --    1.1 * 60 -> watch_time_over_duration; content 60, completed,
  --    seek_backward 1
  ('s5', 3, 'v3', 'tv', 'US', '2024-03-02 09:00+00', 0, 'play', 0, NULL),
  ('s5', 3, 'v3', 'tv', 'US', '2024-03-02 09:00+00', 40, 'seek', 0, NULL),
  ('s5', 3, 'v3', 'tv', 'US', '2024-03-02 09:00+00', 100, 'ended', 60, NULL),
  -- s6 u3 v2: position -5 is negative -> unknown, invalid_events 1,
  --    negative_times; play 20, content 10 ([10,20]: the first interval
  --    has no known start position), pause 1
  ('s6', 3, 'v2', 'tv', 'US', '2024-03-02 10:00+00', 0, 'play', -5, NULL),
  ('s6', 3, 'v2', 'tv', 'US', '2024-03-02 10:00+00', 10, 'heartbeat', 10, NULL),
  ('s6', 3, 'v2', 'tv', 'US', '2024-03-02 10:00+00', 20, 'pause', 20, NULL),
  -- s7 u4 v4(unknown): 5.5 hours of play without heartbeats in between,
  --    corroborated by positions (one session): play 19800 -> session_over_4h
  ('s7', 4, 'v4', 'mobile', 'DE', '2024-03-02 11:00+00', 0, 'play', 0, NULL),
  ('s7', 4, 'v4', 'mobile', 'DE', '2024-03-02 11:00+00', 9000, 'heartbeat', 9000, NULL),
  ('s7', 4, 'v4', 'mobile', 'DE', '2024-03-02 11:00+00', 19800, 'ended', 19800, NULL),
  -- s8 u4 v1: 2 events -> events_per_session_outside_3_5; play 100, completed
  ('s8', 4, 'v1', 'mobile', 'DE', '2024-03-02 12:00+00', 0, 'play', 0, NULL),
  ('s8', 4, 'v1', 'mobile', 'DE', '2024-03-02 12:00+00', 100, 'ended', 100, NULL),
  -- s9 u5 v2: request, first frame at 1 (startup 1), an unknown event,
  --    exit at 10: play 9, view 10, unknown_events 1
  ('s9', 5, 'v2', 'tv', 'FR', '2024-03-02 13:00+00', 0, 'request', NULL, NULL),
  ('s9', 5, 'v2', 'tv', 'FR', '2024-03-02 13:00+00', 1, 'playing', 0, NULL),
  ('s9', 5, 'v2', 'tv', 'FR', '2024-03-02 13:00+00', 5, 'foo_bar', NULL, NULL),
  ('s9', 5, 'v2', 'tv', 'FR', '2024-03-02 13:00+00', 10, 'exit', 9, NULL),
  -- s10 u5 v3: a buffer_end with no buffering open -> unmatched 1; play 10
  ('s10', 5, 'v3', 'tv', 'FR', '2024-03-02 14:00+00', 0, 'play', 0, NULL),
  ('s10', 5, 'v3', 'tv', 'FR', '2024-03-02 14:00+00', 5, 'buffer_end', 5, NULL),
  ('s10', 5, 'v3', 'tv', 'FR', '2024-03-02 14:00+00', 10, 'pause', 10, NULL),
  -- s11 u5 v1: request, a bitrate, exit at 8 -> exit before start, play 0,
  --    view 8 (starting), no bitrate during play
  ('s11', 5, 'v1', 'mobile', 'FR', '2024-03-02 15:00+00', 0, 'request', NULL, NULL),
  ('s11', 5, 'v1', 'mobile', 'FR', '2024-03-02 15:00+00', 1, 'bitrate', NULL, 2000000),
  ('s11', 5, 'v1', 'mobile', 'FR', '2024-03-02 15:00+00', 8, 'exit', NULL, NULL),
  -- s13 u6 v3: request, error at 3 -> start failure, play 0, view 3
  ('s13', 6, 'v3', 'mobile', 'US', '2024-03-02 17:00+00', 0, 'request', NULL, NULL),
  ('s13', 6, 'v3', 'mobile', 'US', '2024-03-02 17:00+00', 3, 'error', NULL, NULL),
  ('s13', 6, 'v3', 'mobile', 'US', '2024-03-02 17:00+00', 4, 'exit', NULL, NULL),
  -- s14 u6 v4: two hours, corroborated: play 7200, completed
  ('s14', 6, 'v4', 'tv', 'US', '2024-03-02 18:00+00', 0, 'play', 0, NULL),
  ('s14', 6, 'v4', 'tv', 'US', '2024-03-02 18:00+00', 3600, 'heartbeat', 3600, NULL),
  ('s14', 6, 'v4', 'tv', 'US', '2024-03-02 18:00+00', 7200, 'ended', 7200, NULL);
INSERT INTO bi.events
SELECT t0 + sec * interval '1 second', event, pos, val, sid, uid, vid, dev, cc FROM raw;
-- 45 rows: s1 4, s2 4, s3 4, s4 3, s5 3, s6 3, s7 3, s8 2, s9 4, s10 3,
-- s11 3, s12 3, s13 3, s14 3
SELECT count(*) AS rows FROM bi.events;

-- ---------------------------------------------------------------------
-- Creating the views
-- ---------------------------------------------------------------------
SELECT * FROM qoe_create_views('bi.events', videos => 'bi.videos');
SELECT table_name FROM information_schema.views WHERE table_schema = 'qoe' ORDER BY 1;

-- The aggregate runs once per session: qoe_stats() is computed by one
-- aggregate node, once (the nodes above only read the fields of its result).
CREATE FUNCTION pg_temp.plan_json(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF, FORMAT JSON) ' || q INTO j;
  RETURN j::jsonb;
END $$;
SELECT count(*) AS aggregate_outputs_calling_qoe_stats
FROM jsonb_path_query(pg_temp.plan_json('SELECT * FROM qoe.session_metrics'),
                      'strict $.**?(@."Node Type" == "Aggregate")."Output"[*]') o
WHERE o #>> '{}' LIKE 'qoe_stats(%';

-- ---------------------------------------------------------------------
-- session_metrics: one row per session key (figures in the comments above)
-- ---------------------------------------------------------------------
SELECT session_id AS sid, user_id AS u, video_id AS v, device_type AS dev, country_code AS cc,
       day, event_count AS n, sessions AS ns, play_time_s AS play, watch_time_s AS watch,
       view_time_s AS view, startup_time_s AS startup, content_watched_s AS content,
       max_position_s AS maxpos, video_duration_s AS dur, round(percent_watched::numeric, 3) AS pct,
       completions AS compl, completed
FROM qoe.session_metrics ORDER BY substr(session_id, 2)::int;

-- the rest of SPEC 5, where it is not zero / NULL
SELECT session_id AS sid, starting_time_s AS starting, paused_time_s AS paused,
       buffer_time_s AS buf, rebuffer_time_s AS rebuf, rebuffer_count AS rbc, buffer_count AS bc,
       round(rebuffer_ratio::numeric, 4) AS rr, round(rebuffer_percentage::numeric, 4) AS rp,
       round(rebuffer_frequency_per_min::numeric, 4) AS rf,
       pause_count AS pc, seek_count AS sc, seek_forward AS sf, seek_backward AS sb,
       errors AS err, exits_before_start AS ebs, start_failures AS sfail, playback_failures AS pfail,
       avg_bitrate_bps AS avgbr, min_bitrate_bps AS minbr, max_bitrate_bps AS maxbr,
       duplicate_events AS dup, unknown_events AS unk, invalid_events AS inv,
       unmatched_buffer_ends AS unm, negative_position_events AS neg
FROM qoe.session_metrics
WHERE session_id IN ('s1', 's2', 's3', 's4', 's5', 's6', 's9', 's10', 's11', 's12', 's13')
ORDER BY substr(session_id, 2)::int;
-- s2: rebuffer_ratio 4/134 = 0.0299, rebuffer_percentage 4/134 (view 134)
--     = 0.0299, frequency 1 per 134/60 min = 0.4478.

-- s7: first_ts, last_ts and the session duration (5.5 h = 19800 s)
SELECT first_ts, last_ts, session_duration_s FROM qoe.session_metrics WHERE session_id = 's7';

-- The view agrees with the extension's own functions on every session:
-- the row form qoe_stats(e), completed(t, duration), percent_watched().
WITH t AS (SELECT e.session_id, qoe_timeline(e.ts, e.event, e."position", e.bitrate, e.session_id) AS t,
                  qoe_stats(e) AS st
           FROM bi.events e GROUP BY e.session_id)
SELECT count(*) AS sessions_checked,
       count(*) FILTER (WHERE sm.watch_time_s = (t.st).watch_time AND sm.view_time_s = (t.st).view_time
                          AND sm.content_watched_s IS NOT DISTINCT FROM (t.st).content_watched
                          AND sm.startup_time_s IS NOT DISTINCT FROM (t.st).startup_time
                          AND sm.completed = completed(t.t, vv.duration)
                          AND sm.percent_watched IS NOT DISTINCT FROM percent_watched(t.t, vv.duration)) AS agree
FROM qoe.session_metrics sm JOIN t USING (session_id) LEFT JOIN bi.videos vv USING (video_id);

-- ---------------------------------------------------------------------
-- user_metrics
--   u1: s1 (v1, 100, completed) + s2 (v2, 130, not completed): sessions 2,
--       watch 230, videos watched 2, completed 1 (v1), completed sessions 1,
--       forward skips 0.  score = 50*230/36000 + 30*1/2 + 20*2/10 - 0
--       = 0.319 + 15 + 4 = 19.3 -> Low
--   u2: s3 (v1, 40, skip) + s4 (v3, 60, completed): watch 100, videos 2/1,
--       forward 1: 0.139 + 15 + 4 - 20*1/2 = 9.1 -> Minimal
--   u3: s5 (v3, 100, completed) + s6 (v2, 20): watch 120: 0.167 + 15 + 4
--       = 19.2 -> Low
--   u4: s7 (v4, 19800, completed) + s8 (v1, 100, completed): watch 19900:
--       50*19900/36000 = 27.639, + 30*2/2 + 4 = 61.6 -> High
--   u5: s9 (v2, 9) + s10 (v3, 10) + s11 (v1, 0): watch 19, videos watched 2
--       (s11 played nothing), none completed: 0.026 + 0 + 20*3/10 = 6.0
--       -> Minimal
--   u6: s12 (v2, 15) + s13 (v3, 0) + s14 (v4, 7200, completed): watch 7215,
--       videos watched 2, completed 1: 10.021 + 10 + 6 = 26.0 -> Medium
-- ---------------------------------------------------------------------
SELECT user_id, sessions, total_watch_time_s, round(total_watch_hours::numeric, 4) AS hours,
       videos_watched, videos_completed, completed_sessions, forward_skips,
       engagement_score, engagement_tier, first_seen, last_seen
FROM qoe.user_metrics ORDER BY user_id;

-- ---------------------------------------------------------------------
-- video_metrics
--   v1 (100 s): s1 u1 100 completed 1.0, s3 u2 40 0.4 (1 forward skip),
--       s8 u4 100 completed 1.0, s11 u5 0 (no positions: NULL):
--       4 sessions, 4 viewers, watch 240, completed 2 -> 0.5, avg watch 60,
--       avg percent (1 + 0.4 + 1)/3 = 0.8;
--       score 60*0.8 + 40*0.5 - 20*1/4 = 48 + 20 - 5 = 63.0
--   v2 (200 s): s2 130 (0.65), s6 20 (content 10: 0.05), s9 9 (0.045),
--       s12 15 (0.075): watch 174, none completed, avg watch 43.5,
--       avg percent 0.82/4 = 0.205; score 60*0.205 = 12.3
--   v3 (60 s): s4 60 (1.0, completed), s5 100 (content 60: 1.0, completed),
--       s10 10 (0.1667), s13 0 (NULL): watch 170, rate 0.5, avg 42.5,
--       avg percent 2.1667/3 = 0.7222; score 43.33 + 20 = 63.3
--   v4 (unknown): s7 19800 + s14 7200, both completed: watch 27000, rate 1,
--       avg 13500, avg percent NULL -> score uses the completion rate:
--       60*1 + 40*1 = 100
-- ---------------------------------------------------------------------
SELECT video_id, video_duration_s AS dur, sessions, unique_viewers, total_watch_time_s,
       completed_sessions, completion_rate, avg_watch_time_s,
       round(avg_percent_watched::numeric, 4) AS avg_pct, forward_skips, engagement_score
FROM qoe.video_metrics ORDER BY video_id;

-- ---------------------------------------------------------------------
-- daily_metrics
--   2024-03-01: s1 s2 s3 s4 s12; users u1 u2 u6 = 3; watch 100+130+40+60+15
--       = 345 (0.0958 h); view 102+134+40+60+15 = 351; rebuffer 4 ->
--       4/349 = 0.0115; startup (2+0+0+0+0)/5 = 0.4; completed s1 s4: 0.4;
--       playback failure s12: 1/5 = 0.2
--   2024-03-02: s5 s6 s7 s8 s9 s10 s11 s13 s14; users u3 u4 u5 u6 = 4;
--       watch 100+20+19800+100+9+10+0+0+7200 = 27239 (7.5664 h);
--       view 100+20+19800+100+10+10+8+3+7200 = 27251; rebuffer 0 -> 0;
--       startup over the 7 that started: (0+0+0+0+1+0+0)/7 = 0.1429;
--       completed s5 s7 s8 s14: 4/9 = 0.4444; start failure s13: 1/9;
--       exit before start s11: 1/9
-- ---------------------------------------------------------------------
SELECT day, active_users, sessions, watch_time_s, round(watch_hours::numeric, 4) AS hours,
       view_time_s, rebuffer_time_s, round(rebuffer_ratio::numeric, 4) AS rr,
       round(avg_startup_time_s::numeric, 4) AS startup, completed_sessions,
       round(completion_rate::numeric, 4) AS compl_rate,
       start_failures, round(start_failure_rate::numeric, 4) AS sf_rate,
       playback_failures, round(playback_failure_rate::numeric, 4) AS pf_rate,
       exits_before_start, round(exit_before_start_rate::numeric, 4) AS ebs_rate
FROM qoe.daily_metrics ORDER BY day;

-- ---------------------------------------------------------------------
-- data_quality: each check fails on exactly the session built for it
--   watch_time_over_duration  s5 (100 > 66); total: 12 sessions with a
--                             known duration (not s7, s14)
--   negative_times            s6's position -5; total 45 events
--   completion_under_75pct    s2 (130 < 150); total: sessions with a
--                             completion and a duration: s1 s2 s4 s5 s8 = 5
--   session_over_4h           s7 (19800 s); total 14
--   events_per_session_3_5    s8 (2 events); total 14
--   duplicate_events          s4; unknown_events s9; unmatched s10;
--   invalid_events            s6 (the negative position); each over 45
-- ---------------------------------------------------------------------
SELECT check_name, failing_count, total, round(rate::numeric, 4) AS rate, unit
FROM qoe.data_quality;

-- ---------------------------------------------------------------------
-- alerts on this table: the data is from 2024 (stale_data) and s6 has a
-- negative position (negative_watch_time).  Silent: the completion rate
-- went up (0.4 -> 0.4444), zero-watch sessions are s11 and s13, 2/14 =
-- 14.3 % <= 15 %.
-- ---------------------------------------------------------------------
SELECT alert_name, severity, value > 3 AS over_3h, threshold FROM qoe.alerts WHERE alert_name = 'stale_data';
SELECT alert_name, severity, detail, value, threshold FROM qoe.alerts WHERE alert_name <> 'stale_data';

-- ---------------------------------------------------------------------
-- Alerts, each on a case of its own, over fresh data (relative to now())
-- ---------------------------------------------------------------------
-- clean: three sessions starting at the same instant 10 minutes ago, all
-- completed; no alert, and every data-quality check passes
CREATE TABLE bi.fresh (ts timestamptz, event text, "position" float8, session_id text);
INSERT INTO bi.fresh
SELECT date_trunc('second', now()) - interval '10 min' + d * interval '1 second', e, p, s
FROM (VALUES ('f1'), ('f2'), ('f3')) ss(s),
     (VALUES (0, 'play', 0), (30, 'heartbeat', 30), (60, 'ended', 60)) ev(d, e, p);
SELECT * FROM qoe_create_views('bi.fresh', 'qoe_alerts');
SELECT count(*) AS alerts FROM qoe_alerts.alerts;
SELECT check_name, failing_count, total FROM qoe_alerts.data_quality;
-- user_metrics and video_metrics were not created (no user_id, no video_id)
SELECT table_name FROM information_schema.views WHERE table_schema = 'qoe_alerts' ORDER BY 1;

-- zero_watch_sessions: one more session that never plays: 1/4 = 25 % > 15 %
INSERT INTO bi.fresh
SELECT date_trunc('second', now()) - interval '10 min' + d * interval '1 second', e, NULL, 'f4'
FROM (VALUES (0, 'request'), (5, 'request'), (9, 'exit')) ev(d, e);
SELECT alert_name, severity, detail, value, threshold FROM qoe_alerts.alerts;
DELETE FROM bi.fresh WHERE session_id = 'f4';

-- negative_watch_time: one negative position
UPDATE bi.fresh SET "position" = -1 WHERE session_id = 'f1' AND event = 'play';
SELECT alert_name, severity, detail, value, threshold FROM qoe_alerts.alerts;
UPDATE bi.fresh SET "position" = 0 WHERE session_id = 'f1' AND event = 'play';
SELECT count(*) AS alerts FROM qoe_alerts.alerts;

-- stale_data: the same events moved 3 hours and 10 minutes back (the
-- newest is then 3 h 9 min old)
UPDATE bi.fresh SET ts = ts - interval '3 hours';
SELECT alert_name, severity, value BETWEEN 3.1 AND 3.5 AS about_3h9m, threshold FROM qoe_alerts.alerts;
-- an empty table is stale too: there is no valid event at all
DELETE FROM bi.fresh;
SELECT alert_name, detail, value FROM qoe_alerts.alerts;

-- completion_rate_drop: 2024-03-01 two completed sessions (rate 1),
-- 2024-03-02 one of two completed (0.5): down 50 % > 20 %.  The data is
-- old, so stale_data fires as well.
CREATE TABLE bi.drop (ts timestamptz, event text, "position" float8, session_id text);
INSERT INTO bi.drop VALUES
  ('2024-03-01 10:00+00', 'play', 0, 'a'), ('2024-03-01 10:00:30+00', 'heartbeat', 30, 'a'),
  ('2024-03-01 10:01+00', 'ended', 60, 'a'),
  ('2024-03-01 11:00+00', 'play', 0, 'b'), ('2024-03-01 11:00:30+00', 'heartbeat', 30, 'b'),
  ('2024-03-01 11:01+00', 'ended', 60, 'b'),
  ('2024-03-02 10:00+00', 'play', 0, 'c'), ('2024-03-02 10:00:30+00', 'heartbeat', 30, 'c'),
  ('2024-03-02 10:01+00', 'ended', 60, 'c'),
  ('2024-03-02 11:00+00', 'play', 0, 'd'), ('2024-03-02 11:00:30+00', 'heartbeat', 30, 'd'),
  ('2024-03-02 11:01+00', 'pause', 60, 'd');
SELECT * FROM qoe_create_views('bi.drop', 'qoe_alerts');
SELECT alert_name, severity, CASE WHEN alert_name = 'stale_data' THEN NULL ELSE detail END AS detail,
       CASE WHEN alert_name = 'stale_data' THEN NULL ELSE value END AS value, threshold
FROM qoe_alerts.alerts;
-- d completed too: 1 vs 1, silent
UPDATE bi.drop SET event = 'ended' WHERE session_id = 'd' AND event = 'pause';
SELECT alert_name FROM qoe_alerts.alerts;
-- a gap of a day between the two days with data: nothing to compare
UPDATE bi.drop SET event = 'pause' WHERE session_id = 'd' AND event = 'ended';
UPDATE bi.drop SET ts = ts + interval '1 day' WHERE session_id IN ('c', 'd');
SELECT alert_name FROM qoe_alerts.alerts;

-- ---------------------------------------------------------------------
-- Re-running replaces the views; a new dimension column shows up
-- ---------------------------------------------------------------------
SELECT c.oid AS old_oid FROM pg_class c WHERE c.oid = 'qoe.session_metrics'::regclass \gset
ALTER TABLE bi.events ADD COLUMN cdn_pop text;
UPDATE bi.events SET cdn_pop = 'fra1' WHERE session_id = 's1';
SELECT * FROM qoe_create_views('bi.events', 'qoe', 'bi.videos');
SELECT 'qoe.session_metrics'::regclass::oid <> :old_oid AS replaced;
SELECT count(*) AS relations FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'qoe';
SELECT session_id, cdn_pop FROM qoe.session_metrics WHERE session_id IN ('s1', 's2') ORDER BY 1;
-- the extension's functions are found even when its schema is not on the
-- caller's search_path (they are qualified with the extension's schema)
SET search_path = bi;
SELECT count(*) AS views FROM public.qoe_create_views('bi.events', 'qoe', 'bi.videos');
SELECT count(*) AS sessions FROM qoe.session_metrics;
RESET search_path;
-- without the videos table the durations are unknown
SELECT * FROM qoe_create_views('bi.events');
SELECT count(*) FILTER (WHERE video_duration_s IS NULL) AS no_duration, count(*) AS sessions,
       count(*) FILTER (WHERE completed) AS completed
FROM qoe.session_metrics;
SELECT check_name, failing_count, total FROM qoe.data_quality WHERE check_name IN
  ('watch_time_over_duration', 'completion_under_75pct');
SELECT * FROM qoe_create_views('bi.events', 'qoe', 'bi.videos');

-- a table of the same name in the target schema is never dropped
CREATE SCHEMA qoe_nouser;
CREATE TABLE qoe_nouser.alerts (x int);
SELECT * FROM qoe_create_views('bi.fresh', 'qoe_nouser');
-- nor is a view of the user that depends on ours
CREATE VIEW bi.mine AS SELECT count(*) FROM qoe.user_metrics;
SELECT * FROM qoe_create_views('bi.events', 'qoe', 'bi.videos');
DROP VIEW bi.mine;
-- nor is a view of the user's own that bears one of our names
CREATE VIEW qoe_nouser.alerts_v AS SELECT 1 AS x;
DROP TABLE qoe_nouser.alerts;
ALTER VIEW qoe_nouser.alerts_v RENAME TO alerts;
SELECT * FROM qoe_create_views('bi.fresh', 'qoe_nouser');
SELECT count(*) AS still_mine FROM qoe_nouser.alerts;

-- ---------------------------------------------------------------------
-- Missing or unusable columns: a clear error naming the accepted names
-- ---------------------------------------------------------------------
\set VERBOSITY default
CREATE TABLE bi.noevent (ts timestamptz, what text, session_id text);
SELECT * FROM qoe_create_views('bi.noevent', 'qoe_err');
CREATE TABLE bi.nothing (a int);
SELECT * FROM qoe_create_views('bi.nothing', 'qoe_err');
CREATE TABLE bi.badts (ts text, event text, session_id text);
SELECT * FROM qoe_create_views('bi.badts', 'qoe_err');
CREATE TABLE bi.vids_bad (id text, length_s float8);
SELECT * FROM qoe_create_views('bi.events', 'qoe_err', 'bi.vids_bad');
SELECT * FROM qoe_create_views('bi.fresh', 'qoe_err', 'bi.videos');
SELECT * FROM qoe_create_views(NULL, 'qoe_err');
SELECT * FROM qoe_create_views('bi.events', NULL);
-- the SQLSTATE of a missing column is 42703 (undefined_column)
DO $$
BEGIN
  PERFORM qoe_create_views('bi.noevent', 'qoe_err');
EXCEPTION WHEN undefined_column THEN
  RAISE NOTICE 'SQLSTATE %', SQLSTATE;
END $$;
-- nothing was left behind by the failed calls
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'qoe_err';

-- ---------------------------------------------------------------------
-- Hostile identifiers: quotes, spaces, semicolons, keywords
-- ---------------------------------------------------------------------
CREATE SCHEMA "we""ird; DROP TABLE bi.x; --";
CREATE TABLE bi.x (keep int);
-- keyword column names (time, type, current_time, value, view_id) and a
-- duration_s column in the videos table
CREATE TABLE "we""ird; DROP TABLE bi.x; --"."my events" ("time" timestamp, "type" varchar(20),
  "current_time" numeric, value real, view_id int, user_id uuid, video_id int);
INSERT INTO "we""ird; DROP TABLE bi.x; --"."my events" VALUES
  ('2024-03-01 10:00', 'play', 0, NULL, 7, '00000000-0000-0000-0000-000000000001', 42),
  ('2024-03-01 10:00:05', 'bitrate_change', NULL, 1500000, 7, '00000000-0000-0000-0000-000000000001', 42),
  ('2024-03-01 10:01', 'ended', 60, NULL, 7, '00000000-0000-0000-0000-000000000001', 42);
CREATE TABLE "we""ird; DROP TABLE bi.x; --"."vid'eos" (video_id text, duration_s float8);
INSERT INTO "we""ird; DROP TABLE bi.x; --"."vid'eos" VALUES ('42', 70);
SELECT * FROM qoe_create_views('"we""ird; DROP TABLE bi.x; --"."my events"',
  'views "q"; DROP TABLE bi.x; --', '"we""ird; DROP TABLE bi.x; --"."vid''eos"');
SELECT count(*) AS x_still_there FROM bi.x;
-- timestamp without time zone is read as UTC, like the row form; the
-- video_id types differ (int vs text) and are joined as text; 60 of 70 s
-- watched: completed (>= 75 %)
SELECT session_id, user_id, video_id, first_ts, play_time_s, avg_bitrate_bps, video_duration_s,
       round(percent_watched::numeric, 4) AS pct, completed
FROM "views ""q""; DROP TABLE bi.x; --".session_metrics;
SELECT user_id, sessions, engagement_tier FROM "views ""q""; DROP TABLE bi.x; --".user_metrics;
SELECT pg_typeof(session_id) AS session_type, pg_typeof(user_id) AS user_type
FROM "views ""q""; DROP TABLE bi.x; --".session_metrics;

-- ---------------------------------------------------------------------
-- Materialized variant and refresh
-- ---------------------------------------------------------------------
SELECT * FROM qoe_create_views('bi.events', 'qoe_mat', 'bi.videos', materialized => true);
SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'qoe_mat' AND c.relkind IN ('v', 'm') ORDER BY 1;
-- a new session is not seen until the refresh
INSERT INTO bi.events (ts, event, "position", session_id, user_id, video_id)
VALUES ('2024-03-02 20:00+00', 'play', 0, 's15', 7, 'v1'),
       ('2024-03-02 20:01:40+00', 'ended', 100, 's15', 7, 'v1'),
       ('2024-03-02 20:01:41+00', 'exit', 100, 's15', 7, 'v1');
SELECT count(*) AS sessions FROM qoe_mat.session_metrics;
SELECT * FROM qoe_refresh_views('qoe_mat');
SELECT count(*) AS sessions FROM qoe_mat.session_metrics;
-- day 2 now has 10 sessions, 5 completed; u7 is one session of 100 s,
-- completed: 50*100/36000 + 30 + 2 = 32.1 -> Medium
SELECT day, sessions, completed_sessions FROM qoe_mat.daily_metrics ORDER BY day;
SELECT user_id, engagement_score, engagement_tier FROM qoe_mat.user_metrics WHERE user_id = 7;
DELETE FROM bi.events WHERE session_id = 's15';
SELECT * FROM qoe_refresh_views('qoe_mat', concurrently => true);
SELECT count(*) AS sessions FROM qoe_mat.session_metrics;
-- the plain views of schema qoe follow the table at once; nothing to refresh
SELECT * FROM qoe_refresh_views('qoe');
SELECT * FROM qoe_refresh_views('no_such_schema');
-- re-running turns materialized views back into plain ones
SELECT * FROM qoe_create_views('bi.events', 'qoe_mat', 'bi.videos');
SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'qoe_mat' AND c.relkind IN ('v', 'm', 'i') ORDER BY 1;

-- Documentation for BI tools: comments on the views and their columns
SELECT obj_description('qoe.user_metrics'::regclass) IS NOT NULL AS view_comment,
       col_description('qoe.user_metrics'::regclass,
         (SELECT attnum FROM pg_attribute WHERE attrelid = 'qoe.user_metrics'::regclass
            AND attname = 'engagement_tier')) AS tier_comment;

SET client_min_messages = warning;
DROP SCHEMA bi, qoe, qoe_mat, qoe_alerts, qoe_nouser, "we""ird; DROP TABLE bi.x; --",
  "views ""q""; DROP TABLE bi.x; --" CASCADE;
RESET client_min_messages;
