-- Buffering: pairing of buffer_start/buffer_end, episodes, closing rules
-- (SPEC 3 buffer rows, 8.9, 8.10).  Seconds after t0 = 2024-01-01 UTC.
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE ev (sc text, sec float8, event text, pos float8, sess text);
INSERT INTO ev VALUES
  -- b1 a raw stream of buffer rows only: unmatched ends, a repeated start,
  --    and a start left open at the end
  ('b1', 0, 'buffer_end', NULL, NULL), ('b1', 5, 'buffer_start', NULL, NULL),
  ('b1', 8, 'buffer_start', NULL, NULL), ('b1', 10, 'buffer_end', NULL, NULL),
  ('b1', 12, 'buffer_end', NULL, NULL), ('b1', 20, 'buffer_start', NULL, NULL),
  ('b1', 25, 'buffer_end', NULL, NULL), ('b1', 30, 'buffer_start', NULL, NULL),
  ('b1', 40, 'buffer_start', NULL, NULL),
  -- b2 heartbeats during a stall: NULL position and same position do not
  --    close it, a different position does (8.9)
  ('b2', 0, 'play', 0, NULL), ('b2', 10, 'buffer_start', 10, NULL),
  ('b2', 12, 'heartbeat', NULL, NULL), ('b2', 14, 'heartbeat', 10, NULL),
  ('b2', 20, 'heartbeat', 11, NULL), ('b2', 30, 'ended', 21, NULL),
  -- b3 a heartbeat cannot close a stall opened at an unknown position (8.9);
  --    the exit closes it, not closed (8.10)
  ('b3', 0, 'play', NULL, NULL), ('b3', 10, 'buffer_start', NULL, NULL),
  ('b3', 15, 'heartbeat', 5, NULL), ('b3', 20, 'exit', NULL, NULL),
  -- b4 exit during buffering
  ('b4', 0, 'play', 0, NULL), ('b4', 5, 'buffer_start', 5, NULL),
  ('b4', 9, 'exit', NULL, NULL),
  -- b5 ended during buffering
  ('b5', 0, 'play', 0, NULL), ('b5', 5, 'buffer_start', 5, NULL),
  ('b5', 9, 'ended', 5, NULL),
  -- b6 error during buffering
  ('b6', 0, 'play', 0, NULL), ('b6', 5, 'buffer_start', 5, NULL),
  ('b6', 7, 'error', NULL, NULL),
  -- b7 buffer_end at the same ts as the play that closed the episode
  ('b7', 0, 'play', 0, NULL), ('b7', 10, 'pause', 10, NULL),
  ('b7', 15, 'buffer_start', 10, NULL), ('b7', 20, 'play', 10, NULL),
  ('b7', 20, 'buffer_end', NULL, NULL), ('b7', 30, 'ended', 20, NULL),
  -- b8 buffer_end one second after the play that closed the episode
  ('b8', 0, 'play', 0, NULL), ('b8', 5, 'buffer_start', 5, NULL),
  ('b8', 7, 'play', 5, NULL), ('b8', 8, 'buffer_end', NULL, NULL),
  ('b8', 10, 'ended', 8, NULL),
  -- b9 pairing is per session key
  ('b9', 0, 'buffer_start', NULL, 'x'), ('b9', 5, 'buffer_end', NULL, 'y'),
  ('b9', 10, 'buffer_end', NULL, 'x');

CREATE TEMP VIEW evt AS
  SELECT sc, timestamptz '2024-01-01 00:00:00+00' + sec * interval '1 second' AS ts,
         event, pos, sess
  FROM ev;
CREATE TEMP TABLE tl AS
  SELECT sc, qoe_timeline(ts, event, pos, NULL, sess) AS t FROM evt GROUP BY sc;

-- b1: end@0 unmatched; 5 opens (startup: nothing ever played); 8 no-op;
--     10 closes (5 s); 12 unmatched; 20->25 (5 s); 30 opens, 40 no-op, the
--     session ends at 40: 30->40 (10 s) not closed.  buffer 20, 3 episodes,
--     none a stall, 2 unmatched.
-- b2: play 0->10, stall 10->20 (closed by the heartbeat [11]), play 20->30:
--     play 20, buffer = rebuffer = 10.
-- b3: play 0->10 (no position), stall 10->20 closed by the exit: play 10,
--     rebuffer 10.
-- b4: play 5, stall 5->9 (exit): 4.  b5: same, ended at 9: 4, 1 completion.
-- b6: stall 5->7 closed by the error: 2, error after play: playback failure.
-- b7: play 10, paused 10->15, buffering 15->20 over the paused base (stall,
--     5 s), play at 20 closes it; buffer_end at 20 sorts after play (rank)
--     and an episode closed at that ts: not unmatched.  play 20, paused 5.
-- b8: stall 5->7 closed by play; buffer_end at 8: nothing closed at 8:
--     unmatched.  play 5 + 1 + 2 = 8.
-- b9: key x: startup episode 0->10; key y: a lone buffer_end, unmatched.
SELECT sc, (s).sessions, (s).play_time AS play, (s).paused_time AS paused,
       (s).buffer_time AS buf, (s).rebuffer_time AS rebuf,
       (s).buffer_count AS bufs, (s).rebuffer_count AS rebufs,
       (s).unmatched_buffer_ends AS unmatched, (s).completions AS compl,
       (s).errors, (s).playback_failures AS pf
FROM (SELECT sc, qoe_stats(t) AS s FROM tl) q
ORDER BY sc;

-- Every episode.  position = position in force when it opened (NULL when
-- unknown); closed false only when the session ended during it (b1, b3 at
-- the end / by exit, b4 by exit); ended (b5) and error (b6) close it (8.10).
SELECT sc, e.session, e.session_no, e.started_at, e.ended_at, e.duration,
       e.cause, e."position", e.closed
FROM tl CROSS JOIN LATERAL buffer_episodes(tl.t) e
ORDER BY sc, e.session, e.started_at;

-- One-step aggregates over the raw buffer stream b1 (2-argument form).
SELECT buffer_time(ts, event), buffer_count(ts, event),
       rebuffer_count(ts, event), rebuffer_time(ts, event),
       (qoe_stats(ts, event)).unmatched_buffer_ends
FROM evt WHERE sc = 'b1';

-- b2: rebuffer_ratio = 10 / (20 + 10); rebuffer_percentage = 10 / view 30;
-- frequency = 1 / (30 / 60) = 2 per minute.
SELECT round(rebuffer_ratio(t)::numeric, 6) AS ratio,
       round(rebuffer_percentage(t)::numeric, 6) AS pct,
       rebuffer_frequency(t) AS freq
FROM tl WHERE sc = 'b2';
-- b2 playback intervals: buffering keeps its start position (10) as end;
-- playing 20->30 starts at the heartbeat's 11 and ends at 21.
SELECT state, started_at, ended_at, duration, start_position, end_position
FROM tl CROSS JOIN LATERAL playback_intervals(tl.t)
WHERE sc = 'b2' ORDER BY started_at;
