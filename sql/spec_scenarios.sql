-- SPEC section 7: the twelve worked scenarios, with every metric derivable
-- from SPEC sections 2-4 and 8.  Times are seconds after t0 = 2024-01-01 UTC.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE ev (sc int, sec float8, event text, pos float8, val float8, sess text);
INSERT INTO ev VALUES
  -- 1. play@0[0], ended@60[60]
  (1, 0, 'play', 0, NULL, NULL), (1, 60, 'ended', 60, NULL, NULL),
  -- 2. play@0[0], pause@10[10], play@20[10], ended@70[60]
  (2, 0, 'play', 0, NULL, NULL), (2, 10, 'pause', 10, NULL, NULL),
  (2, 20, 'play', 10, NULL, NULL), (2, 70, 'ended', 60, NULL, NULL),
  -- 3. play@0[0], pause@10[10], then nothing
  (3, 0, 'play', 0, NULL, NULL), (3, 10, 'pause', 10, NULL, NULL),
  -- 4. play@0[0], heartbeat@10[10], heartbeat@20[200]
  (4, 0, 'play', 0, NULL, NULL), (4, 10, 'heartbeat', 10, NULL, NULL),
  (4, 20, 'heartbeat', 200, NULL, NULL),
  -- 5. play@0[0], seek_start@30[30], seek_end@30[15], ended@75[60]
  (5, 0, 'play', 0, NULL, NULL), (5, 30, 'seek_start', 30, NULL, NULL),
  (5, 30, 'seek_end', 15, NULL, NULL), (5, 75, 'ended', 60, NULL, NULL),
  -- 6. buffer_start@0, buffer_end@30
  (6, 0, 'buffer_start', NULL, NULL, NULL), (6, 30, 'buffer_end', NULL, NULL, NULL),
  -- 7. play@0[0], buffer_start@5[5], heartbeat@20[6]
  (7, 0, 'play', 0, NULL, NULL), (7, 5, 'buffer_start', 5, NULL, NULL),
  (7, 20, 'heartbeat', 6, NULL, NULL),
  -- 8. play@0[0], pause@10[10], play@4000[10], pause@4010[20]
  (8, 0, 'play', 0, NULL, NULL), (8, 10, 'pause', 10, NULL, NULL),
  (8, 4000, 'play', 10, NULL, NULL), (8, 4010, 'pause', 20, NULL, NULL),
  -- 9. play@0[0], ended@7200[7200]
  (9, 0, 'play', 0, NULL, NULL), (9, 7200, 'ended', 7200, NULL, NULL),
  -- 10. request@0, playing@2[0], ended@12[10]
  (10, 0, 'request', NULL, NULL, NULL), (10, 2, 'playing', 0, NULL, NULL),
  (10, 12, 'ended', 10, NULL, NULL),
  -- 11. request@0, exit@5
  (11, 0, 'request', NULL, NULL, NULL), (11, 5, 'exit', NULL, NULL, NULL),
  -- 12. play@0[0], buffer_start@1[1], then nothing
  (12, 0, 'play', 0, NULL, NULL), (12, 1, 'buffer_start', 1, NULL, NULL);

CREATE TEMP VIEW evt AS
  SELECT sc, timestamptz '2024-01-01 00:00:00+00' + sec * interval '1 second' AS ts,
         event, pos, val, sess
  FROM ev;
CREATE TEMP TABLE tl AS
  SELECT sc, qoe_timeline(ts, event, pos, val, sess) AS t FROM evt GROUP BY sc;
CREATE TEMP TABLE st AS
  SELECT tl.sc, s.* FROM tl CROSS JOIN LATERAL qoe_stats(tl.t) s;

-- Times.  No scenario has a request except 10 and 11, and none has a playing
-- event except 10, so a play goes straight to base playing (SPEC 3, play row).
-- 1: 0->60 playing: play 60; intent 0 = first credited play 0: startup 0.
-- 2: 0->10 play 10, 10->20 paused 10, 20->70 play 50: play 60, paused 10.
-- 3: 0->10 play 10; nothing after the last event (SPEC 4): paused 0.
-- 4: 0->10 and 10->20 are both playing: play 20 (the jump is a skip, the
--    interval is still play time, covering [10,20]).
-- 5: 0->30 play 30; seek_start/seek_end at 30 (dt 0, seek_time 0); 30->75
--    play 45: play 75.
-- 6: buffering 0->30: buffer 30; no intent (no request/play/playing), so no
--    startup time; view_time = buffer 30.
-- 7: 0->5 play 5; 5->20 buffering 15 (the heartbeat at 20 closes it);
--    view_time 5 + 15 = 20.
-- 8: the 3990 s gap follows a pause (not playing): split (SPEC 2); session 1
--    plays 0->10, session 2 plays 4000->4010: 2 sessions, play 20, paused 0
--    (each session ends at its pause); startups 0 and 0: mean 0.
-- 9: 7200 s playing with |dp - dt| = 0 <= tol = 2 + 72: continuous, one
--    session (SPEC 4 gap exception): play 7200.
-- 10: uses playing events: request->starting 0->2 (starting 2), playing at 2,
--    2->12 play 10; startup = 2 - 0 = 2; view_time 2 + 10 = 12.
-- 11: request->starting 0->5: starting 5, view_time 5, no startup time.
-- 12: 0->1 play 1; the stall opened at 1 is closed at the last event (1).
SELECT sc, sessions, play_time, watch_time, view_time, starting_time,
       paused_time, buffer_time, seek_time, ad_time, startup_time
FROM st ORDER BY sc;

-- Counts.
-- 2, 3: one pause from playing each; 8: two pauses (one per session).
-- 4: dp = 190 > dt + tol = 10 + 2.1: one unreported forward skip.
-- 5: seek_start counts the seek; seek_end (seeking on) does not count again;
--    30 -> 15: backward.
-- 1, 2, 5, 9, 10: one ended each.
-- 6: cause startup (no play credited): buffer_count 1, rebuffer_count 0.
-- 7: cause stall (5 s played): rebuffer 1 episode of 15 s.
-- 12: cause stall (1 s played), duration 0: rebuffer_count 1, rebuffer 0 s.
-- 11: intent, no play time, no error: exits_before_start 1.
SELECT sc, pause_count AS pauses, seek_count AS seeks, seek_forward AS fwd,
       seek_backward AS bwd, completions AS compl, buffer_count AS bufs,
       rebuffer_count AS rebufs, rebuffer_time AS rebuf_s,
       exits_before_start AS ebs, start_failures AS sf,
       playback_failures AS pf, replays, errors, ad_count AS ads
FROM st ORDER BY sc;

-- Positions and ratios.
-- max_position = largest position known or reached: 1: 60; 2: 60; 3: 10;
--   4: 200 (known from the heartbeat); 5: 60; 6: NULL (no position ever);
--   7: 6 (heartbeat); 8: 20; 9: 7200; 10: 10; 11: NULL; 12: 1.
-- content_watched = union of covered ranges, summed over sessions:
--   1: [0,60] 60; 2: [0,10]+[10,60] 60; 3: [0,10] 10; 4: [0,10]+[10,20] 20;
--   5: [0,30] u [15,60] = [0,60] 60; 6: NULL; 7: [0,5] 5 (buffering covers
--   nothing); 8: [0,10] + [10,20] (separate sessions) 20; 9: 7200; 10: [0,10]
--   10; 11: NULL; 12: [0,1] 1.
-- rebuffer_ratio = rebuffer / (play + rebuffer), NULL on 0/0:
--   6: 0/(0+0) NULL, 11: NULL, 7: 15/20 = 0.75, the others 0.
-- rebuffer_percentage = rebuffer / view_time: 7: 15/20 = 0.75, others 0
--   (all have view_time > 0).
-- rebuffer_frequency = rebuffer_count / (view_time / 60): 7: 1/(20/60) = 3;
--   12: 1/(1/60) = 60; others 0.
SELECT sc, max_position AS max_pos, content_watched AS watched,
       rebuffer_ratio AS ratio, rebuffer_percentage AS pct,
       rebuffer_frequency AS freq, avg_bitrate, upshifts + downshifts AS shifts
FROM st ORDER BY sc;

-- first_ts / last_ts over valid events; data-quality counters all 0.
SELECT sc, first_ts, last_ts,
       unmatched_buffer_ends + duplicate_events + unknown_events + invalid_events AS dq
FROM st ORDER BY sc;

-- Buffer episodes of scenarios 6, 7, 12.
-- 6: 0->30, startup, position NULL (never known), closed by buffer_end.
-- 7: 5->20 (heartbeat [6] differs from 5), stall, position 5, closed.
-- 12: 1->1, stall, position 1, open at the session's end: closed false.
SELECT tl.sc, b.session, b.session_no, b.started_at, b.ended_at, b.duration,
       b.cause, b."position", b.closed
FROM tl CROSS JOIN LATERAL buffer_episodes(tl.t) b
WHERE tl.sc IN (6, 7, 12)
ORDER BY tl.sc, b.started_at;

-- Scenario 8: two sessions, numbered 1 and 2 in time order, without a key.
SELECT session, session_no, state, started_at, ended_at, duration,
       start_position, end_position
FROM tl CROSS JOIN LATERAL playback_intervals(tl.t)
WHERE tl.sc = 8 ORDER BY started_at;

-- One-step aggregates (every argument form) agree with the accessors over
-- the qoe_timeline of the same rows.
SELECT a.sc,
       a.w5 IS NOT DISTINCT FROM watch_time(tl.t)
   AND a.w3 IS NOT DISTINCT FROM watch_time(tl.t)
   AND a.p4 IS NOT DISTINCT FROM play_time(tl.t)
   AND a.v5 IS NOT DISTINCT FROM view_time(tl.t)
   AND a.b5 IS NOT DISTINCT FROM buffer_time(tl.t)
   AND a.bc5 IS NOT DISTINCT FROM buffer_count(tl.t)
   AND a.rt5 IS NOT DISTINCT FROM rebuffer_time(tl.t)
   AND a.rc5 IS NOT DISTINCT FROM rebuffer_count(tl.t)
   AND a.rr5 IS NOT DISTINCT FROM rebuffer_ratio(tl.t)
   AND a.su5 IS NOT DISTINCT FROM startup_time(tl.t)
   AND a.s5::text = qoe_stats(tl.t)::text
   AND a.t5::text = tl.t::text AS agree
FROM (SELECT sc,
             watch_time(ts, event, pos, val, sess) AS w5,
             watch_time(ts, event, pos) AS w3,
             play_time(ts, event, pos, val) AS p4,
             view_time(ts, event, pos, val, sess) AS v5,
             buffer_time(ts, event, pos, val, sess) AS b5,
             buffer_count(ts, event, pos, val, sess) AS bc5,
             rebuffer_time(ts, event, pos, val, sess) AS rt5,
             rebuffer_count(ts, event, pos, val, sess) AS rc5,
             rebuffer_ratio(ts, event, pos, val, sess) AS rr5,
             startup_time(ts, event, pos, val, sess) AS su5,
             qoe_stats(ts, event, pos, val, sess) AS s5,
             qoe_timeline(ts, event, pos, val, sess) AS t5
      FROM evt GROUP BY sc) a
JOIN tl USING (sc)
ORDER BY a.sc;

-- The named one-step figures of section 7 directly.
SELECT sc, watch_time(ts, event, pos) AS watch, buffer_time(ts, event, pos) AS buf,
       buffer_count(ts, event, pos) AS bufs, rebuffer_time(ts, event, pos) AS rebuf,
       startup_time(ts, event, pos) AS startup
FROM evt GROUP BY sc ORDER BY sc;

-- Without positions (2-argument form) scenario 9 has nothing to corroborate
-- the 7200 s gap: it splits into two one-event sessions, no play time.
-- Scenario 4 without positions: no skip can be seen, play still 20.
-- Scenario 7 without positions: the heartbeat cannot close the stall
-- (SPEC 8.9), which runs 5->20 and is left open (closed false).
SELECT sc, (s).sessions, (s).play_time, (s).seek_count, (s).buffer_time,
       (s).max_position
FROM (SELECT sc, qoe_stats(ts, event) AS s FROM evt
      WHERE sc IN (4, 7, 9) GROUP BY sc) q
ORDER BY sc;
SELECT duration, cause, closed
FROM buffer_episodes((SELECT qoe_timeline(ts, event) FROM evt WHERE sc = 7));
