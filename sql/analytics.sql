-- Analytics behaviour on small hand-worked sessions (SPEC 2-4, 8).
-- Times are seconds after t0 = 2024-01-01 UTC; [p] is the position.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE ev (sc text, sec float8, event text, pos float8, val float8, sess text);
INSERT INTO ev VALUES
  -- a01 play to end, with a request first
  ('a01', 0, 'request', NULL, NULL, NULL), ('a01', 1, 'play', 0, NULL, NULL),
  ('a01', 11, 'heartbeat', 10, NULL, NULL), ('a01', 21, 'heartbeat', 20, NULL, NULL),
  ('a01', 31, 'ended', 30, NULL, NULL),
  -- a02 pause and resume
  ('a02', 0, 'play', 0, NULL, NULL), ('a02', 30, 'pause', 30, NULL, NULL),
  ('a02', 90, 'play', 30, NULL, NULL), ('a02', 120, 'ended', 60, NULL, NULL),
  -- a03 pause, then the browser closes
  ('a03', 0, 'play', 0, NULL, NULL), ('a03', 10, 'heartbeat', 10, NULL, NULL),
  ('a03', 15, 'pause', 15, NULL, NULL),
  -- a04 skips: reported (seek; seek_start/seek_end) and unreported
  ('a04', 0, 'play', 0, NULL, NULL), ('a04', 10, 'seek', 100, NULL, NULL),
  ('a04', 20, 'heartbeat', 110, NULL, NULL), ('a04', 30, 'seek_start', 120, NULL, NULL),
  ('a04', 32, 'seek_end', 50, NULL, NULL), ('a04', 42, 'heartbeat', 60, NULL, NULL),
  ('a04', 52, 'heartbeat', 10, NULL, NULL), ('a04', 62, 'heartbeat', 20, NULL, NULL),
  ('a04', 72, 'ended', 30, NULL, NULL),
  -- a05a replay after the end
  ('a05a', 0, 'play', 0, NULL, NULL), ('a05a', 10, 'ended', 10, NULL, NULL),
  ('a05a', 20, 'play', 0, NULL, NULL), ('a05a', 30, 'ended', 10, NULL, NULL),
  -- a05b a request between the end and the play: no replay (8.6)
  ('a05b', 0, 'play', 0, NULL, NULL), ('a05b', 10, 'ended', 10, NULL, NULL),
  ('a05b', 15, 'request', NULL, NULL, NULL), ('a05b', 20, 'play', 0, NULL, NULL),
  ('a05b', 30, 'ended', 10, NULL, NULL),
  -- a05c play after an error is no replay
  ('a05c', 0, 'play', 0, NULL, NULL), ('a05c', 5, 'error', 5, NULL, NULL),
  ('a05c', 10, 'play', 5, NULL, NULL), ('a05c', 20, 'ended', 15, NULL, NULL),
  -- a06 two keyed sessions (two videos) interleaved in time
  ('a06', 0, 'play', 0, NULL, 'a'), ('a06', 30, 'ended', 30, NULL, 'a'),
  ('a06', 10, 'play', 0, NULL, 'b'), ('a06', 20, 'pause', 10, NULL, 'b'),
  ('a06', 25, 'play', 10, NULL, 'b'), ('a06', 35, 'exit', 20, NULL, 'b'),
  -- a07 sessions inferred without a key: exit + page refresh, then a gap
  ('a07', 100, 'play', 0, NULL, NULL), ('a07', 110, 'exit', 10, NULL, NULL),
  ('a07', 112, 'play', 10, NULL, NULL), ('a07', 140, 'ended', 38, NULL, NULL),
  ('a07', 4000, 'play', 0, NULL, NULL), ('a07', 4010, 'ended', 10, NULL, NULL),
  -- a08 tab switch seen as a long pause (40 min)
  ('a08', 0, 'play', 0, NULL, NULL), ('a08', 60, 'pause', 60, NULL, NULL),
  ('a08', 2460, 'play', 60, NULL, NULL), ('a08', 2520, 'ended', 120, NULL, NULL),
  -- a09 resume from the last position
  ('a09', 0, 'play', 300, NULL, NULL), ('a09', 10, 'heartbeat', 310, NULL, NULL),
  ('a09', 20, 'pause', 320, NULL, NULL),
  -- a10a startup with playing events
  ('a10a', 0, 'request', NULL, NULL, NULL), ('a10a', 1, 'play', 0, NULL, NULL),
  ('a10a', 3, 'playing', 0, NULL, NULL), ('a10a', 13, 'heartbeat', 10, NULL, NULL),
  ('a10a', 23, 'ended', 20, NULL, NULL),
  -- a10b a resume in a session using playing events plays at once
  ('a10b', 0, 'request', NULL, NULL, NULL), ('a10b', 1, 'play', 0, NULL, NULL),
  ('a10b', 2, 'playing', 0, NULL, NULL), ('a10b', 12, 'pause', 10, NULL, NULL),
  ('a10b', 20, 'play', 10, NULL, NULL), ('a10b', 21, 'playing', 11, NULL, NULL),
  ('a10b', 31, 'ended', 21, NULL, NULL),
  -- a10c a replay in a session using playing events waits for its first frame
  ('a10c', 0, 'play', 0, NULL, NULL), ('a10c', 1, 'playing', 0, NULL, NULL),
  ('a10c', 11, 'ended', 10, NULL, NULL), ('a10c', 20, 'play', 0, NULL, NULL),
  ('a10c', 22, 'playing', 0, NULL, NULL), ('a10c', 32, 'ended', 10, NULL, NULL),
  -- a11a intent, then exit
  ('a11a', 0, 'request', NULL, NULL, NULL), ('a11a', 8, 'exit', NULL, NULL, NULL),
  -- a11b intent, then error
  ('a11b', 0, 'request', NULL, NULL, NULL), ('a11b', 4, 'error', NULL, NULL, NULL),
  -- a11c failure before the first frame: startup buffering, then error
  ('a11c', 0, 'request', NULL, NULL, NULL), ('a11c', 1, 'play', 0, NULL, NULL),
  ('a11c', 1, 'buffer_start', 0, NULL, NULL), ('a11c', 9, 'error', NULL, NULL, NULL),
  -- a12 failure after the first frame
  ('a12', 0, 'play', 0, NULL, NULL), ('a12', 10, 'heartbeat', 10, NULL, NULL),
  ('a12', 15, 'error', 15, NULL, NULL),
  -- a13 ads: a pre-roll, and a mid-roll with a repeated ad_start (8.17)
  ('a13', 0, 'request', NULL, NULL, NULL), ('a13', 1, 'ad_start', NULL, NULL, NULL),
  ('a13', 16, 'play', 0, NULL, NULL), ('a13', 16, 'ad_end', NULL, NULL, NULL),
  ('a13', 46, 'ad_start', 30, NULL, NULL), ('a13', 56, 'ad_start', NULL, NULL, NULL),
  ('a13', 76, 'ad_end', NULL, NULL, NULL), ('a13', 106, 'ended', 60, NULL, NULL),
  -- a14 bitrate weighting
  ('a14', 0, 'play', 0, NULL, NULL), ('a14', 10, 'bitrate', NULL, 1000000, NULL),
  ('a14', 10, 'heartbeat', 10, NULL, NULL), ('a14', 40, 'bitrate', NULL, 3000000, NULL),
  ('a14', 40, 'heartbeat', 40, NULL, NULL), ('a14', 50, 'bitrate', NULL, 2000000, NULL),
  ('a14', 50, 'heartbeat', 50, NULL, NULL), ('a14', 70, 'ended', 70, NULL, NULL),
  ('a14', 70, 'bitrate', NULL, 500000, NULL),
  -- a15 seek-caused buffering and the seek grace
  ('a15', 0, 'play', 0, NULL, NULL), ('a15', 10, 'seek_start', 10, NULL, NULL),
  ('a15', 10.5, 'buffer_start', NULL, NULL, NULL), ('a15', 11, 'seek_end', 50, NULL, NULL),
  ('a15', 12, 'buffer_end', NULL, NULL, NULL), ('a15', 20, 'heartbeat', 58, NULL, NULL),
  ('a15', 30, 'seek', 100, NULL, NULL), ('a15', 30.5, 'buffer_start', 100, NULL, NULL),
  ('a15', 32, 'buffer_end', NULL, NULL, NULL), ('a15', 40, 'heartbeat', 108, NULL, NULL),
  ('a15', 50, 'seek', 200, NULL, NULL), ('a15', 52, 'buffer_start', 200, NULL, NULL),
  ('a15', 55, 'buffer_end', NULL, NULL, NULL), ('a15', 60, 'ended', 205, NULL, NULL),
  -- a16 ended, but no position ever known
  ('a16', 0, 'play', NULL, NULL, NULL), ('a16', 10, 'ended', NULL, NULL, NULL);

CREATE TEMP VIEW evt AS
  SELECT sc, timestamptz '2024-01-01 00:00:00+00' + sec * interval '1 second' AS ts,
         event, pos, val, sess
  FROM ev;
CREATE TEMP TABLE tl AS
  SELECT sc, qoe_timeline(ts, event, pos, val, sess) AS t FROM evt GROUP BY sc;
CREATE TEMP TABLE st AS
  SELECT tl.sc, s.* FROM tl CROSS JOIN LATERAL qoe_stats(tl.t) s;

-- Times (no session uses playing events except a10a-c, so elsewhere a play
-- goes straight to base playing):
-- a01: request->starting 0->1 (1 s), plays 1->31 (30); startup 1 - 0 = 1.
-- a02: play 0->30, paused 30->90 (60), play 90->120: play 60, paused 60.
-- a03: play 0->15; nothing after the last event: paused 0.
-- a04: playing 0->30 (3 x 10), seeking 30->32 (2), playing 32->72 (4 x 10):
--      play 70, seek 2, view 72.
-- a05a: play 0->10, ended 10->20 credits nothing, play 20->30: play 20.
-- a05b: as a05a, plus starting 15->20 after the request: starting 5, view 25;
--      startup is per session from its first intent (play@0): 0.
-- a05c: play 0->5, ended (error) 5->10 nothing, play 10->20: play 15.
-- a06: key a plays 0->30 (30); key b plays 10->20, paused 20->25, plays
--      25->35: play 50, paused 5, 2 sessions, startups 0 and 0.
-- a07: exit at 110 ends session 1 (play 10); session 2 plays 112->140 (28);
--      the 3860 s gap after ended splits: session 3 plays 10: play 48.
-- a08: the 2400 s gap after the pause splits (not playing): play 60 + 60,
--      paused 0, 2 sessions.
-- a09: play 0->20 from position 300.
-- a10a: uses playing events: starting 0->3 (the play at 1 waits for the first
--      frame), play 3->23 (20); startup 3.
-- a10b: starting 0->2, play 2->12 (10), paused 12->20 (8); the play at 20 is a
--      resume (play time credited, base not ended): plays at once 20->21 (1),
--      then 21->31 (10): play 21, startup 2, view 2 + 21 = 23.
-- a10c: starting 0->1, play 1->11, the replay at 20 waits for its first
--      frame: starting 20->22, play 22->32: starting 3, play 20, startup 1.
-- a11a: starting 0->8; a11b: starting 0->4; neither has a startup time.
-- a11c: starting 0->1, play@1 then buffer_start@1 (rank play < buffer_start):
--      zero-length playing interval, not credited (8.13); buffering 1->9 (8):
--      view 9, no startup time.
-- a12: play 0->15.
-- a13: starting 0->1, ad 1->16 (overlay over starting: 15), at 16 play
--      (rank 4) then ad_end (rank 10): zero-length ad; play 16->46 (30),
--      ad 46->56->76 (30), play 76->106 (30): play 60, ad 45, starting 1,
--      view 106; startup 16 - 0 = 16.
-- a14: play 0->70 (bitrates do not end anything that matters here).
-- a15: play 0->10, seeking 10->10.5 (0.5), buffering 10.5->12 (1.5), play
--      12->30.5 (18.5), buffering 30.5->32 (1.5), play 32->52 (20),
--      buffering 52->55 (3), play 55->60 (5): play 53.5, buffer 6, seek 0.5,
--      view 60.
-- a16: play 0->10.
SELECT sc, sessions, play_time, view_time, starting_time, paused_time,
       buffer_time, seek_time, ad_time, startup_time
FROM st ORDER BY sc;

-- Counts:
-- a04: seek@10 (before: position in force 0 + 10 = 10, after 100: forward;
--      8.8: its position is not p1 of 0->10, so no extra unreported skip);
--      seek_start@30[120] / seek_end@32[50]: backward; 42->52 goes 60 -> 10,
--      dp = -50 < -(2 + 0.1): unreported backward: 3 seeks, 1 fwd, 2 bwd.
-- a05a: play after ended: 1 replay, 2 completions.  a05b: 0 replays (8.6).
-- a05c: no replay after an error; error after play time: playback failure.
-- a07: 2 ended; a06: 1 pause, 1 ended (b exits).
-- a10c: the play at 20 follows an ended: 1 replay.
-- a11a: exit before start.  a11b: start failure.  a11c: start failure, one
--      startup-cause buffering episode (closed by the error).
-- a12: playback failure.  a13: 3 ad_start (8.17: the second one at 56 counts
--      although the ad flag is on).
-- a15: seek_start, seek, seek = 3 seeks, all forward (10->50, 68->100,
--      118->200); 3 episodes (seek, seek, stall): rebuffer 1 episode of 3 s.
SELECT sc, pause_count AS pauses, seek_count AS seeks, seek_forward AS fwd,
       seek_backward AS bwd, replays, completions AS compl, errors,
       exits_before_start AS ebs, start_failures AS sf,
       playback_failures AS pf, buffer_count AS bufs,
       rebuffer_count AS rebufs, rebuffer_time AS rebuf_s, ad_count AS ads
FROM st ORDER BY sc;

-- Positions (max known or reached; union of covered ranges per session):
-- a01 [0,30]; a02 [0,30]+[30,60]; a03 [0,15];
-- a04 [0,10] [100,110] [110,120] [50,60] [60,70] (skip: [p0, p0+dt]) [10,20]
--     [20,30] -> [0,30] + [50,70] + [100,120] = 70, max 120;
-- a05a/a05b [0,10] twice in one session: 10; a05c [0,5] + [5,15] = 15;
-- a06 a: 30, b: [0,10] + [10,20] = 20 -> 50; a07 10 + 28 + 10 = 48, max 38;
-- a08 60 + 60, max 120; a09 [300,320] = 20, max 320; a10a 20; a10b [0,10]
-- [10,11] [11,21] = 21; a10c 10; a11a, a11b: no position: NULL;
-- a11c: only the zero-length [0,0]: max 0, watched 0; a12 15;
-- a13 [0,30] + [30,60] (ads do not advance the position) = 60;
-- a14 70; a15 [0,10] + [50,68] + [100,118] + [200,205] = 51, max 205;
-- a16 no position: NULL.
SELECT sc, max_position AS max_pos, content_watched AS watched,
       first_ts, last_ts
FROM st ORDER BY sc;

-- Bitrate (a14).  Order at 10/40/50: bitrate (rank 13) before heartbeat
-- (14).  0->10 has no known bitrate: left out.  1e6 for 10->40 (30 s),
-- 3e6 for 40->50 (10 s), 2e6 for 50->70 (20 s):
-- avg = (30e6 + 30e6 + 40e6) / 60 = 1666666.666...; min 1e6, max 3e6;
-- shifts: 1e6 -> 3e6 up, 3e6 -> 2e6 down, 2e6 -> 5e5 down (at 70, after
-- ended: a change of bitrate, but never in force during play time, so not
-- the minimum, 8.15).  Other sessions have no bitrate: NULLs.
SELECT sc, round(avg_bitrate::numeric, 3) AS avg_bitrate, min_bitrate,
       max_bitrate, upshifts, downshifts
FROM st WHERE sc IN ('a14', 'a01') ORDER BY sc;

-- Keyed sessions (a06), sessions from exit and a gap (a07), tab switch (a08):
-- numbering per key in time order; paused keeps the start position as end.
SELECT sc, session, session_no, state, started_at, ended_at, duration,
       start_position AS p_start, end_position AS p_end
FROM tl CROSS JOIN LATERAL playback_intervals(tl.t)
WHERE sc IN ('a06', 'a07', 'a08')
ORDER BY sc, session, session_no, started_at;

-- a15 episodes: 10.5 while seeking (cause seek, position in force 10),
-- 30.5 is 0.5 s after the seek at 30 (< 1 s grace: seek, position 100),
-- 52 is 2 s after the seek at 50 (stall, position 200).
SELECT started_at, ended_at, duration, cause, "position", closed
FROM tl CROSS JOIN LATERAL buffer_episodes(tl.t)
WHERE sc = 'a15' ORDER BY started_at;
-- a11c: one startup episode 1->9 closed by the error (8.10: closed true).
SELECT started_at, ended_at, duration, cause, "position", closed
FROM tl CROSS JOIN LATERAL buffer_episodes(tl.t)
WHERE sc = 'a11c' ORDER BY started_at;

-- seek_grace is read when the metric is computed:
-- 3 s: the episode at 52 (2 s after a seek) becomes seek-caused: 0 stalls.
-- 0 s: nothing is within 0 s after a seek; the 30.5 episode (seeking off,
-- play credited) becomes a stall: 2 stalls, 1.5 + 3 = 4.5 s.
-- rebuffer_ratio by default: 3 / (53.5 + 3) = 0.0530973...
SELECT rebuffer_count(t), rebuffer_time(t), round(rebuffer_ratio(t)::numeric, 6) AS ratio
FROM tl WHERE sc = 'a15';
SET qoe_agg.seek_grace = '3s';
SELECT rebuffer_count(t), rebuffer_time(t), buffer_count(t)
FROM tl WHERE sc = 'a15';
SET qoe_agg.seek_grace = 0;
SELECT rebuffer_count(t), rebuffer_time(t), buffer_count(t)
FROM tl WHERE sc = 'a15';
SELECT cause, count(*) FROM tl CROSS JOIN LATERAL buffer_episodes(tl.t)
WHERE sc = 'a15' GROUP BY cause ORDER BY cause;
RESET qoe_agg.seek_grace;

-- completed() and percent_watched() (SPEC 5, 8.22):
-- a01 watched 30 with one ended: 30 >= 0.75 * 40 = 30 true; 41: 30.75 false;
-- min_fraction 0.5 of 60: 30 true; percent 30/60 = 0.5; duration 0,
-- negative or NULL: percent NULL.
SELECT completed(t) AS c, completed(t, NULL) AS c_null, completed(t, 40) AS c40,
       completed(t, 41) AS c41, completed(t, 60, 0.5) AS c60_half,
       percent_watched(t, 60) AS p60, percent_watched(t, 0) AS p0,
       percent_watched(t, -1) AS pneg, percent_watched(t, NULL) AS pnull
FROM tl WHERE sc = 'a01';
-- a03 no ended: never completed; watched 15 of 30 = 0.5.
SELECT completed(t) AS c, completed(t, 15) AS c15, percent_watched(t, 30) AS p30
FROM tl WHERE sc = 'a03';
-- a16 ended without positions: completed without duration is true; with a
-- duration it is false, not NULL; percent_watched is NULL (8.22).
SELECT completed(t) AS c, completed(t, 10) AS c10, percent_watched(t, 10) AS p10
FROM tl WHERE sc = 'a16';
-- completed() over a NULL timeline is NULL (no group).
SELECT completed(NULL::qoe_timeline) AS c, percent_watched(NULL::qoe_timeline, 10) AS p;
