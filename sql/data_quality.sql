-- Data quality: ties, duplicates, names and aliases, invalid rows, empty and
-- all-invalid groups, the settings, and the row form (SPEC 1, 2, 6, 8.1-8.5,
-- 8.16, 8.21).  Seconds after t0 = 2024-01-01 UTC.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE ev (sc text, ts timestamptz, event text, pos float8, val float8, sess text);
CREATE TEMP VIEW t0 AS SELECT timestamptz '2024-01-01 00:00:00+00' AS t0;

-- ---------------------------------------------------------------------
-- Ties at one ts: rank order, whatever the insertion order.
-- ---------------------------------------------------------------------
INSERT INTO ev SELECT 'tie1', t0 + s * interval '1 s', e, p, NULL, NULL
FROM t0, (VALUES (20, 'ended', 20), (10, 'play', 10), (10, 'pause', 10),
                 (0, 'play', 0)) v(s, e, p);
INSERT INTO ev SELECT 'tie2', t0 + s * interval '1 s', e, p, NULL, NULL
FROM t0, (VALUES (20, 'ended', 10), (10, 'play', 0), (10, 'ended', 10),
                 (0, 'play', 0)) v(s, e, p);
-- tie1: at 10 pause (rank 3) before play (rank 4): play 0->10, pause counted,
--   0 s paused, resume 10->20: play 20, 1 pause, paused 0.
-- tie2: at 10 ended (rank 1) before play (rank 4): the play is a replay:
--   play 0->10 and 10->20: play 20, 1 replay, 2 completions.
SELECT sc, watch_time(ts, event, pos) AS play, (qoe_stats(ts, event, pos)).pause_count AS pauses,
       (qoe_stats(ts, event, pos)).paused_time AS paused,
       (qoe_stats(ts, event, pos)).replays, (qoe_stats(ts, event, pos)).completions AS compl
FROM ev WHERE sc LIKE 'tie%' GROUP BY sc ORDER BY sc;

-- ---------------------------------------------------------------------
-- Exact duplicates (at-least-once delivery), and 8.5: duplicates compare
-- positions after invalid ones became NULL.
-- ---------------------------------------------------------------------
INSERT INTO ev SELECT 'dup', t0 + s * interval '1 s', e, p, v, NULL
FROM t0, (VALUES (0, 'play', 0::float8, NULL::float8), (0, 'play', 0, NULL),
                 (0, 'play', 0, NULL), (10, 'heartbeat', 10, NULL),
                 (10, 'heartbeat', 10, NULL), (10, 'heartbeat', 11, NULL),
                 (10, 'heartbeat', 'NaN', NULL), (10, 'heartbeat', -1, NULL),
                 (15, 'bitrate', NULL, 1000000), (15, 'bitrate', NULL, 1000000),
                 (20, 'ended', 20, NULL)) v(s, e, p, v);
-- duplicates: play x3 (2 extra), heartbeat [10] x2 (1), heartbeats [NaN] and
--   [-1] both become [NULL] (1 extra; both counted invalid: 2), bitrate x2
--   (1): 5 duplicates, 2 invalid.
-- At 10 the heartbeats sort NULL, 10, 11.  0->10 covers [0,10]; 10->10
--   (10 -> 11, dp 1 within tolerance); 10->15 from 11 (bitrate has no
--   position) covers [11,16]; 15->20 from 16 to 20 (dp 4, dt 5) continuous:
--   play 20, watched 20, one seek-free session; bitrate 1e6 in force 15->20.
SELECT (s).play_time, (s).content_watched, (s).seek_count, (s).duplicate_events AS dups,
       (s).invalid_events AS invalid, (s).avg_bitrate, (s).min_bitrate,
       (s).upshifts + (s).downshifts AS shifts
FROM (SELECT qoe_stats(ts, event, pos, val, sess) AS s FROM ev WHERE sc = 'dup') q;
-- Applied once: the stored timeline holds one play at 0, two heartbeats at
-- 10 plus the NULL one, one bitrate: 1 + 3 + 1 + 1 = 6 events.
SELECT jsonb_array_length((qoe_timeline(ts, event, pos, val, sess)::text::jsonb)->'events') AS n,
       (qoe_timeline(ts, event, pos, val, sess)::text::jsonb)->'duplicate_events' AS dups
FROM ev WHERE sc = 'dup';

-- ---------------------------------------------------------------------
-- Names: case, white space, hyphens and dots (8.1).
-- ---------------------------------------------------------------------
INSERT INTO ev SELECT 'names', t0 + s * interval '1 s', e, p, NULL, NULL
FROM t0, (VALUES (0, 'Play-Request', NULL), (0.5, 'Play  Request', NULL),
                 (1, ' BUFFER.START ', NULL), (3, 'buffer-end', NULL),
                 (3, 'First Frame', 0), (13, 'Video Playback Paused', 10),
                 (14, E'\tVIDEO_PLAYBACK_EXITED\n', NULL)) v(s, e, p);
-- 'Play  Request' has two spaces: play__request, unknown (one for one).
-- request@0 (starting), buffer_start@1 (startup cause), at 3 buffer_end
-- (rank 9) then first_frame = playing (rank 12): starting 0->1, buffering
-- 1->3, play 3->13, paused 13->14, exit.  startup 3, 1 unknown.
SELECT (s).starting_time, (s).buffer_time, (s).play_time, (s).paused_time,
       (s).startup_time, (s).buffer_count, (s).rebuffer_count, (s).pause_count,
       (s).unknown_events, (s).sessions
FROM (SELECT qoe_stats(ts, event, pos) AS s FROM ev WHERE sc = 'names') q;

-- ---------------------------------------------------------------------
-- Invalid rows (8.3: at most once per row; ts first; unknown names count
-- only as unknown; then the position; then a bitrate's value).
-- ---------------------------------------------------------------------
INSERT INTO ev SELECT 'bad', t0 + s * interval '1 s', e, p, v, NULL
FROM t0, (VALUES (0, 'play', 0::float8, NULL::float8),   -- valid
                 (0, NULL, NULL, NULL),                  -- unknown 1
                 (0, 'bogus', -1, NULL),                 -- unknown 2 (not invalid)
                 (5, 'unknown_thing', 3, NULL),          -- unknown 3
                 (25, '', NULL, NULL),                   -- unknown 4
                 (10, 'heartbeat', 'NaN', NULL),         -- invalid 1, kept
                 (10, 'bitrate', NULL, 0),               -- invalid 2, dropped
                 (10, 'bitrate', NULL, -1000000),        -- invalid 3
                 (10, 'bitrate', NULL, 'NaN'),           -- invalid 4
                 (10, 'bitrate', NULL, 'Infinity'),      -- invalid 5
                 (10, 'bitrate', NULL, NULL),            -- invalid 6
                 (10, 'bitrate', -3, -1),                -- invalid 7 (once)
                 (20, 'bitrate', NULL, 2000000),         -- valid
                 (20, 'heartbeat', 'Infinity', NULL),    -- invalid 8, kept
                 (30, 'heartbeat', -5, NULL),            -- invalid 9, kept
                 (40, 'ended', 40, NULL),                -- valid
                 (40, 'heartbeat', NULL, 'NaN')          -- valid (value unread)
         ) v(s, e, p, v);
INSERT INTO ev VALUES
  ('bad', NULL, 'play', 0, NULL, NULL),                  -- invalid 10
  ('bad', 'infinity', 'play', 0, NULL, NULL),            -- invalid 11
  ('bad', '-infinity', 'bogus', 'NaN', NULL, NULL);      -- invalid 12 (ts first)
-- Valid events: play@0[0], hb@10, bitrate@20 (2e6), hb@20, hb@30,
-- ended@40[40], hb@40: play 0->40 (covers [0,40], positions in force
-- advance), bitrate 2e6 over 20->40 (20 s), no shifts; first 0, last 40.
SELECT (s).sessions, (s).play_time, (s).content_watched, (s).max_position,
       (s).completions, (s).avg_bitrate, (s).min_bitrate, (s).max_bitrate,
       (s).upshifts + (s).downshifts AS shifts, (s).invalid_events AS invalid,
       (s).unknown_events AS unknown, (s).first_ts, (s).last_ts
FROM (SELECT qoe_stats(ts, event, pos, val, sess) AS s FROM ev WHERE sc = 'bad') q;

-- ---------------------------------------------------------------------
-- A group of invalid rows only: zeros, NULL for nullable metrics (8.16).
-- ---------------------------------------------------------------------
INSERT INTO ev VALUES
  ('allbad', NULL, 'play', 0, NULL, NULL),
  ('allbad', 'infinity', 'pause', 0, NULL, NULL),
  ('allbad', '2024-01-01 00:00:00+00', 'nonsense', NULL, NULL, NULL),
  ('allbad', '2024-01-01 00:00:00+00', NULL, NULL, NULL, NULL),
  ('allbad', '2024-01-01 00:00:01+00', 'bitrate', NULL, -5, NULL);
SELECT (s).sessions, (s).play_time, (s).view_time, (s).buffer_count,
       (s).completions, (s).invalid_events AS invalid, (s).unknown_events AS unknown,
       (s).startup_time, (s).rebuffer_ratio, (s).rebuffer_percentage,
       (s).rebuffer_frequency, (s).max_position, (s).content_watched,
       (s).avg_bitrate, (s).min_bitrate, (s).first_ts, (s).last_ts
FROM (SELECT qoe_stats(ts, event, pos, val, sess) AS s FROM ev WHERE sc = 'allbad') q;
SELECT watch_time(ts, event) AS w, buffer_count(ts, event) AS bc,
       rebuffer_ratio(ts, event) AS rr, startup_time(ts, event) AS su,
       qoe_timeline(ts, event, pos, val, sess)::text AS t
FROM ev WHERE sc = 'allbad';

-- ---------------------------------------------------------------------
-- No rows at all: NULL, like sum(); grouped: no groups.
-- ---------------------------------------------------------------------
SELECT watch_time(ts, event) AS w, view_time(ts, event, pos) AS v,
       buffer_count(ts, event) AS bc, qoe_stats(ts, event) IS NULL AS s_null,
       qoe_timeline(ts, event, pos, val, sess) IS NULL AS t_null, sum(pos) AS sum
FROM ev WHERE false;
SELECT rollup(t) IS NULL AS r_null
FROM (SELECT qoe_timeline(ts, event) AS t FROM ev WHERE false GROUP BY sc) q;
SELECT sc, watch_time(ts, event) FROM ev WHERE false GROUP BY sc;

-- ---------------------------------------------------------------------
-- qoe_agg.event_aliases: applied when rows are aggregated (8.21).
-- ---------------------------------------------------------------------
SHOW qoe_agg.event_aliases;
INSERT INTO ev SELECT 'alias', t0 + s * interval '1 s', e, p, NULL, NULL
FROM t0, (VALUES (0, 'VID_START', 0), (10, 'vid stall', 10),
                 (12, 'vid.stall.over', NULL), (20, 'ended', 18)) v(s, e, p);
-- Without aliases the three vid_* names are unknown: only ended@20 remains.
SELECT watch_time(ts, event, pos) AS w, (qoe_stats(ts, event, pos)).unknown_events AS unknown
FROM ev WHERE sc = 'alias';
SET qoe_agg.event_aliases = 'vid_start=play, vid_stall=buffer_start,, Vid-Stall-Over = Buffer-End,';
-- play 0->10, stall 10->12 (rebuffer 2), play 12->20 (from 10 to 18,
-- continuous): play 18, 1 stall of 2 s, nothing unknown.
SELECT watch_time(ts, event, pos) AS w, rebuffer_time(ts, event, pos) AS rebuf,
       rebuffer_count(ts, event, pos) AS rebufs,
       (qoe_stats(ts, event, pos)).unknown_events AS unknown
FROM ev WHERE sc = 'alias';
CREATE TEMP TABLE alias_tl AS
  SELECT qoe_timeline(ts, event, pos) AS t FROM ev WHERE sc = 'alias';
RESET qoe_agg.event_aliases;
-- The stored timeline keeps kinds: same figures after the reset.
SELECT watch_time(t) AS w, rebuffer_time(t) AS rebuf, unknown_events(t) AS unknown
FROM alias_tl;
-- Overriding a built-in: 'start' is a play alias; as request, the session
-- never plays: play@0->12 = 12 by default; as request, starting 0->12, no
-- play, exit before start.
INSERT INTO ev SELECT 'override', t0 + s * interval '1 s', e, p, NULL, NULL
FROM t0, (VALUES (0, 'start', 0), (10, 'heartbeat', 10), (12, 'exit', 12)) v(s, e, p);
SELECT watch_time(ts, event, pos) AS w, (qoe_stats(ts, event, pos)).exits_before_start AS ebs
FROM ev WHERE sc = 'override';
SET qoe_agg.event_aliases = 'START=request';
SELECT watch_time(ts, event, pos) AS w, (qoe_stats(ts, event, pos)).starting_time AS starting,
       (qoe_stats(ts, event, pos)).exits_before_start AS ebs
FROM ev WHERE sc = 'override';
SHOW qoe_agg.event_aliases;
-- Bad values are rejected and name the entry; the setting is unchanged.
-- expect error: no '='
SET qoe_agg.event_aliases = 'good=play, foo';
-- expect error: unknown kind
SET qoe_agg.event_aliases = 'foo=bar';
-- expect error: empty alias
SET qoe_agg.event_aliases = '=play';
SHOW qoe_agg.event_aliases;
RESET qoe_agg.event_aliases;

-- ---------------------------------------------------------------------
-- qoe_agg.session_timeout: read when metrics are computed.
-- ---------------------------------------------------------------------
SHOW qoe_agg.session_timeout;
INSERT INTO ev SELECT 'gap', t0 + s * interval '1 s', e, p, NULL, NULL
FROM t0, (VALUES (0, 'play', 0), (10, 'pause', 10), (900, 'play', 10),
                 (910, 'ended', 20)) v(s, e, p);
CREATE TEMP TABLE gap_tl AS SELECT qoe_timeline(ts, event, pos) AS t FROM ev WHERE sc = 'gap';
-- 30 min: the 890 s pause is one session: play 20, paused 890.
SELECT sessions(t), watch_time(t), paused_time(t) FROM gap_tl;
SET qoe_agg.session_timeout = '10 min';
SHOW qoe_agg.session_timeout;
-- 10 min: 890 s > 600 s while paused: 2 sessions, paused 0.
SELECT sessions(t), watch_time(t), paused_time(t) FROM gap_tl;
SET qoe_agg.session_timeout = 900000;
SHOW qoe_agg.session_timeout;
SELECT sessions(t), watch_time(t), paused_time(t) FROM gap_tl;
-- expect error: zero
SET qoe_agg.session_timeout = 0;
-- expect error: negative
SET qoe_agg.session_timeout = '-5 min';
SHOW qoe_agg.session_timeout;
RESET qoe_agg.session_timeout;
SHOW qoe_agg.session_timeout;

-- ---------------------------------------------------------------------
-- qoe_agg.jump_tolerance and qoe_agg.seek_grace.
-- ---------------------------------------------------------------------
SHOW qoe_agg.jump_tolerance;
SHOW qoe_agg.seek_grace;
INSERT INTO ev SELECT 'jump', t0 + s * interval '1 s', e, p, NULL, NULL
FROM t0, (VALUES (0, 'play', 0), (10, 'heartbeat', 15), (20, 'ended', 25)) v(s, e, p);
CREATE TEMP TABLE jump_tl AS SELECT qoe_timeline(ts, event, pos) AS t FROM ev WHERE sc = 'jump';
-- default tol = 2 + 0.01 * 10 = 2.1: dp 15 > 10 + 2.1: a forward skip;
-- covered [0,10] + [15,25] = 20.
SELECT seek_count(t), seek_forward(t), content_watched(t) FROM jump_tl;
SET qoe_agg.jump_tolerance = 10;
-- tol 10.1: 15 <= 20.1, continuous: no seek, covered [0,15] + [15,25] = 25.
SELECT seek_count(t), seek_forward(t), content_watched(t) FROM jump_tl;
SET qoe_agg.jump_tolerance = 0;
SELECT seek_count(t), seek_forward(t), content_watched(t) FROM jump_tl;
-- expect error: negative tolerance
SET qoe_agg.jump_tolerance = -1;
RESET qoe_agg.jump_tolerance;
SET qoe_agg.seek_grace = 0;
SET qoe_agg.seek_grace = '2500ms';
SHOW qoe_agg.seek_grace;
-- expect error: negative grace
SET qoe_agg.seek_grace = '-1s';
RESET qoe_agg.seek_grace;

-- ---------------------------------------------------------------------
-- The row form reads columns by name.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE rowev (user_id int, event_time timestamptz, event_type text,
                         playhead float8, bitrate_bps float8, view_id int);
INSERT INTO rowev SELECT u, t0 + s * interval '1 s', e, p, b, vid
FROM t0, (VALUES (1, 0, 'play', 0, NULL::float8, 1), (1, 60, 'ended', 60, NULL, 1),
                 (1, 100, 'play', 0, NULL, 2), (1, 110, 'pause', 10, NULL, 2),
                 (2, 0, 'play', 0, NULL, 3), (2, 5, 'bitrate', NULL, 800000, 3),
                 (2, 25, 'ended', 25, NULL, 3)) v(u, s, e, p, b, vid);
-- user 1: view 1 plays 60, view 2 plays 10 (two sessions by key);
-- user 2: plays 25, bitrate 8e5 over 5->25.
SELECT user_id, watch_time(e) AS w, (qoe_stats(e)).sessions,
       (qoe_stats(e)).avg_bitrate, completions(qoe_timeline(e)) AS compl
FROM rowev e GROUP BY user_id ORDER BY user_id;
-- The row form equals the explicit column form.
SELECT qoe_stats(e)::text = qoe_stats(event_time, event_type, playhead, bitrate_bps, view_id::text)::text AS same
FROM rowev e;
-- A row without an event column, or without a timestamp column: an error
-- naming the accepted column names.
CREATE TEMP TABLE noev (ts timestamptz, what text);
INSERT INTO noev VALUES ('2024-01-01 00:00:00+00', 'play');
SELECT watch_time(n) FROM noev n;
CREATE TEMP TABLE nots (at timestamptz, event text);
INSERT INTO nots VALUES ('2024-01-01 00:00:00+00', 'play');
SELECT watch_time(n) FROM nots n;
