-- Edge cases of the state machine that the precise readings settle
-- (SPEC 2 rank order, 3, 4, 8.7, 8.8, 8.13).  Seconds after t0.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';
CREATE TEMP TABLE ev (sc text, sec float8, event text, pos float8, sess text);
INSERT INTO ev VALUES
  -- e01 a seek closed by play: no direction, and seek grace starts (8.7)
  ('e01', 0, 'play', 0, NULL), ('e01', 10, 'seek_start', 10, NULL),
  ('e01', 12, 'play', 50, NULL), ('e01', 12.5, 'buffer_start', 50, NULL),
  ('e01', 13, 'buffer_end', NULL, NULL), ('e01', 23, 'ended', 60, NULL),
  -- e02 an unreported skip also starts the seek grace (8.7)
  ('e02', 0, 'play', 0, NULL), ('e02', 10, 'heartbeat', 100, NULL),
  ('e02', 10.5, 'buffer_start', 100, NULL), ('e02', 12, 'buffer_end', NULL, NULL),
  ('e02', 22, 'ended', 110, NULL),
  -- e03 a playing event after the first raw gap: the session does not use
  --     playing events, the play at 0 plays at once (SPEC 3)
  ('e03', 0, 'play', 0, NULL), ('e03', 2000, 'heartbeat', 2000, NULL),
  ('e03', 2001, 'playing', 2001, NULL), ('e03', 2011, 'ended', 2011, NULL),
  -- e04 a zero-length playing interval does not make the session played (8.13)
  ('e04', 0, 'play', 0, NULL), ('e04', 0, 'buffer_start', 0, NULL),
  ('e04', 3, 'buffer_end', NULL, NULL), ('e04', 13, 'ended', 10, NULL),
  -- e05 a pause before the first frame is not counted
  ('e05', 0, 'request', NULL, NULL), ('e05', 1, 'play', 0, NULL),
  ('e05', 2, 'pause', 0, NULL), ('e05', 5, 'play', 0, NULL),
  ('e05', 6, 'playing', 0, NULL), ('e05', 16, 'ended', 10, NULL),
  -- e06 seek_start without a position: the position in force
  ('e06', 0, 'play', 0, NULL), ('e06', 10, 'seek_start', NULL, NULL),
  ('e06', 11, 'seek_end', 5, NULL), ('e06', 21, 'ended', 15, NULL),
  -- e07 an unpaired seek_end is an instantaneous seek (8.8: not p1)
  ('e07', 0, 'play', 0, NULL), ('e07', 10, 'seek_end', 50, NULL),
  ('e07', 20, 'ended', 60, NULL),
  -- e08 playing (not play) after ended: no replay
  ('e08', 0, 'play', 0, NULL), ('e08', 10, 'ended', 10, NULL),
  ('e08', 20, 'playing', 0, NULL), ('e08', 30, 'ended', 10, NULL),
  -- e09 a gap while playing that positions do not corroborate
  ('e09', 0, 'play', 0, NULL), ('e09', 1900, 'heartbeat', 1800, NULL),
  -- e10 buffering during an ad (buffering comes first)
  ('e10', 0, 'play', 0, NULL), ('e10', 10, 'ad_start', 10, NULL),
  ('e10', 12, 'buffer_start', NULL, NULL), ('e10', 14, 'buffer_end', NULL, NULL),
  ('e10', 20, 'ad_end', NULL, NULL), ('e10', 30, 'ended', 20, NULL),
  -- e11 exit ranks last at its ts: the play at the same ts belongs to the
  --     session that exits
  ('e11', 0, 'play', 0, NULL), ('e11', 10, 'heartbeat', 10, NULL),
  ('e11', 10, 'exit', NULL, NULL), ('e11', 10, 'play', 10, NULL),
  ('e11', 20, 'ended', 20, NULL),
  -- e12 startup_time is the mean over the sessions that have one
  ('e12', 0, 'request', NULL, 'x'), ('e12', 2, 'play', 0, 'x'), ('e12', 12, 'ended', 10, 'x'),
  ('e12', 0, 'request', NULL, 'y'), ('e12', 4, 'play', 0, 'y'), ('e12', 14, 'ended', 10, 'y'),
  ('e12', 0, 'request', NULL, 'z'), ('e12', 1, 'exit', NULL, 'z');
CREATE TEMP TABLE st AS
  SELECT sc, (s).*
  FROM (SELECT sc, qoe_stats(timestamptz '2024-01-01 00:00:00+00' + sec * interval '1 s',
                             event, pos, NULL, sess) AS s
        FROM ev GROUP BY sc) q;
-- e01: play 0->10, seeking 10->12 (1 seek, closed by play: no direction),
--   play 12->12.5 (50 -> 50), buffering 12.5->13 is 0.5 s after the seek
--   closed at 12: cause seek; play 13->23: play 20.5, seek 2, buffer 0.5,
--   view 23; watched [0,10] + [50,60] = 20, max 60.
-- e02: 0->10 goes 0 -> 100: unreported forward skip ending at 10; the
--   buffering at 10.5 is within 1 s: cause seek; play 10 + 0.5 + 10 = 20.5,
--   buffer 1.5, view 22; watched [0,10] + [100,110] = 20, max 110.
-- e03: 0->2000 corroborated (dp = dt): one session, play 2011, startup 0.
-- e04: at 0 play (rank 4) then buffer_start (rank 8): the 0 s playing
--   interval is not credited play: cause startup; buffering 0->3, play
--   3->13: startup 3, play 10, buffer 3, no rebuffer.
-- e05: starting 0->2, paused 2->5 (pause from starting: not counted), the
--   play at 5 waits for the first frame (no play credited yet): starting
--   5->6, play 6->16: starting 3, paused 3, 0 pauses, startup 6.
-- e06: seek_start at 10 without position: before = 10, after 5: backward;
--   seeking 10->11; play 0->10 and 11->21: 20; watched [0,10] u [5,15] = 15.
-- e07: seek_end alone: 1 seek, 10 -> 50 forward; 0->10 covers [0,10]
--   (50 is not its p1), 10->20 [50,60]: watched 20, max 60.
-- e08: the session uses playing events: the play at 0 waits (starting
--   0->10), ended; playing at 20 is no replay: play 20->30; startup 20,
--   2 completions.
-- e09: 0->1900 playing, dp 1800 vs dt 1900: |dp - dt| = 100 > 2 + 19: the
--   gap splits: 2 sessions, no play; the first had intent and no play:
--   exit before start; max position 1800, watched 0.
-- e10: play 0->10, ad 10->12, buffering (stall) 12->14, ad 14->20, play
--   20->30 (10 -> 20): play 20, ad 8, buffer = rebuffer 2, view 30.
-- e11: at 10: play, heartbeat, exit (ranks 4, 14, 15): session 1 plays
--   0->10 and exits; the ended at 20 is a session of its own: 2 sessions,
--   play 10, 1 completion, max 20.
-- e12: startups 2 (x) and 4 (y), z exits before start: mean 3; starting
--   2 + 4 + 1 = 7, view 27.
SELECT sc, sessions AS n, play_time AS play, view_time AS view,
       starting_time AS starting, paused_time AS paused, buffer_time AS buf,
       seek_time AS seek, ad_time AS ad, rebuffer_time AS rebuf,
       buffer_count AS bufs, rebuffer_count AS rebufs, pause_count AS pauses
FROM st ORDER BY sc;
SELECT sc, seek_count AS seeks, seek_forward AS fwd, seek_backward AS bwd,
       replays, completions AS compl, exits_before_start AS ebs,
       startup_time AS startup, content_watched AS watched, max_position AS max_pos,
       ad_count AS ads
FROM st ORDER BY sc;
