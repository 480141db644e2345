-- The qoe_timeline type: text form (JSON), exact round trip, binary
-- send/receive, rollup, and the set-returning functions (SPEC 6, 8.18, 8.19).
-- quiet: the extension may already exist from an earlier test file
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qoe_agg;
RESET client_min_messages;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE ev (ts timestamptz, event text, pos float8, val float8, sess text);
INSERT INTO ev VALUES
  ('2024-01-01 00:01:00+00', 'Ended', 60, NULL, 's1'),
  ('2024-01-01 00:00:01.5+00', 'play', 0.25, NULL, 's2'),
  ('2024-01-01 00:00:10.25+00', 'heartbeat', 10.25, NULL, 's1'),
  ('2024-01-01 00:00:05+00', 'quality_change', NULL, 2500000, 's1'),
  ('2024-01-01 00:00:00+00', 'play', 0, NULL, 's1'),
  ('2024-01-01 00:00:00+00', 'play', 0, NULL, 's1'),
  ('2024-01-01 00:00:03+00', 'nonsense', NULL, NULL, 's1'),
  (NULL, 'play', 0, NULL, 's1');
CREATE TEMP TABLE tlx AS SELECT qoe_timeline(ts, event, pos, val, sess) AS t FROM ev;

-- Text form: kinds (not names), sorted by session key then ts, the
-- duplicate play applied once and counted, the NULL ts invalid, the
-- unknown name counted; NULL position/value as null.
SELECT t FROM tlx;
SELECT t::text::jsonb->'events'->1->>1 AS kind, t::text::jsonb->'events'->1->>3 AS value,
       jsonb_array_length(t::text::jsonb->'events') AS n,
       t::text::jsonb->>'invalid_events' AS invalid
FROM tlx;

-- Exact round trip, and the same metrics from the reparsed value.
SELECT t::text::qoe_timeline::text = t::text AS text_same,
       qoe_stats(t::text::qoe_timeline)::text = qoe_stats(t)::text AS stats_same
FROM tlx;

-- Values that stress exactness: microsecond timestamps, doubles that need
-- 17 digits, a NaN value on a heartbeat (kept as given), session keys with
-- quotes, backslashes, non-ASCII and the empty key (distinct from NULL).
CREATE TEMP TABLE odd AS
SELECT qoe_timeline(ts, event, pos, val, sess) AS t FROM (VALUES
  (timestamptz '2024-01-01 00:00:00.000001+00', 'play', 0.1::float8 + 0.2::float8, NULL::float8, 'quote"back\slash'),
  ('2024-01-01 00:00:00.999999+00', 'heartbeat', 1e-7, 'NaN', 'quote"back\slash'),
  ('2024-01-01 00:00:01+00', 'bitrate', NULL, 123456789.123456789, 'ünï'),
  ('2024-01-01 00:00:02+00', 'heartbeat', 1e300, '-Infinity', ''),
  ('2024-01-01 00:00:02+00', 'heartbeat', 5e-324, NULL, NULL),
  ('1999-12-31 23:59:59.5+00', 'play', 0, NULL, NULL)) v(ts, event, pos, val, sess);
SELECT t::text::qoe_timeline::text = t::text AS same,
       qoe_stats(t::text::qoe_timeline)::text = qoe_stats(t)::text AS stats_same,
       sessions(t) AS sessions
FROM odd;
-- The keys read back as given, in bytewise order (NULL key last or first is
-- not part of the contract: filter it out).
SELECT e->>4 AS sess, (e->>2)::float8 AS pos, e->>3 AS val
FROM odd, jsonb_array_elements(t::text::jsonb->'events') e
WHERE e->>4 IS NOT NULL
ORDER BY (e->>4) COLLATE "C", e->>0;

-- Input accepts JSON white space and prints compactly.
SELECT ' { "version" : 1 , "invalid_events" : 2 , "unknown_events" : 1 ,
  "duplicate_events" : 0 , "events" : [ [ "2024-01-01T00:00:00Z" , "play" , 0 , null , null ] ,
  ["2024-01-01T00:01:00Z","ended",60,null,null] ] } '::qoe_timeline AS t;
SELECT watch_time('{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","play",0,null,null],["2024-01-01T00:01:00Z","ended",60,null,null]]}'::qoe_timeline) AS w;

-- Malformed input is rejected (SQLSTATE 22P02).
CREATE TEMP TABLE bad (id int, txt text);
INSERT INTO bad VALUES
  (1, 'not json'),
  (2, '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","playy",0,null,null]]}'),
  (3, '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-13-01T00:00:00Z","play",0,null,null]]}'),
  (4, '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","play",-1,null,null]]}'),
  (5, '{"version":2,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[]}'),
  (6, '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[["2024-01-01T00:00:00Z","play",0,null,null]'),
  (7, ''),
  (8, '{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,"events":[]} x');
SELECT txt::qoe_timeline FROM bad WHERE id = 1;
SELECT txt::qoe_timeline FROM bad WHERE id = 2;
SELECT txt::qoe_timeline FROM bad WHERE id = 3;
SELECT txt::qoe_timeline FROM bad WHERE id = 4;
SELECT txt::qoe_timeline FROM bad WHERE id = 5;
SELECT txt::qoe_timeline FROM bad WHERE id = 6;
SELECT txt::qoe_timeline FROM bad WHERE id = 7;
SELECT txt::qoe_timeline FROM bad WHERE id = 8;

-- Binary send/receive: COPY (FORMAT binary) out and back in.
COPY (SELECT t FROM tlx UNION ALL SELECT t FROM odd) TO '/tmp/qoe_agg_regress_tl.bin' (FORMAT binary);
CREATE TEMP TABLE back (t qoe_timeline);
COPY back FROM '/tmp/qoe_agg_regress_tl.bin' (FORMAT binary);
SELECT count(*) AS n,
       count(*) FILTER (WHERE b.t::text IN (SELECT t::text FROM tlx UNION ALL SELECT t::text FROM odd)) AS same
FROM back b;
-- send() gives the wire bytes: a bytea column holding them reads back (via
-- the binary COPY format, which carries only the bytes) as the same value.
COPY (SELECT qoe_timeline_send(t) FROM tlx) TO '/tmp/qoe_agg_regress_send.bin' (FORMAT binary);
TRUNCATE back;
COPY back FROM '/tmp/qoe_agg_regress_send.bin' (FORMAT binary);
SELECT b.t::text = x.t::text AS same, qoe_timeline_send(b.t) = qoe_timeline_send(x.t) AS bytes_same
FROM back b, tlx x;
-- A value in the first binary form (32 bytes per event, "QTL1"), as
-- earlier versions stored and sent it, written here byte by byte: one play
-- at 2024-01-01 00:00 UTC, position 0, session "s1".  It reads back, and
-- is stored again in the compact form (\x51434231 = "QCB1"; 71 bytes: the
-- 56-byte header, the key (length 1 + 2 bytes), the counts of the empty
-- NULL-key group and of the key's group (1 + 1), the event (tag 1, ts 8,
-- position 1)).
COPY (SELECT '\x51544c31010000000100000000000000010000000000000000000000000000000000000000000000000000000000000002000000000000000040e9d4d5b00200000000000000000000000000000000000000000004010000020000007331'::bytea)
  TO '/tmp/qoe_agg_regress_qtl1.bin' (FORMAT binary);
TRUNCATE back;
COPY back FROM '/tmp/qoe_agg_regress_qtl1.bin' (FORMAT binary);
SELECT t::text, sessions(t), substr(qoe_timeline_send(t), 1, 4) AS form,
       octet_length(qoe_timeline_send(t)) AS bytes
FROM back;
-- Garbage bytes are rejected by receive (SQLSTATE 22P03).
COPY (SELECT '\x00010203deadbeef'::bytea) TO '/tmp/qoe_agg_regress_bad.bin' (FORMAT binary);
TRUNCATE back;
-- expect error: invalid external value
COPY back FROM '/tmp/qoe_agg_regress_bad.bin' (FORMAT binary);

-- rollup(): parts merged give the one-pass timeline, including duplicates
-- that fall in different parts.  Rows (part, ts, event, position, session):
-- the play at 0 of s1 is in parts 1 and 2 (a duplicate across parts), the
-- heartbeat at 10 twice in part 1 (a duplicate within a part).
CREATE TEMP TABLE pe (part int, ts timestamptz, event text, pos float8, sess text);
INSERT INTO pe VALUES
  (1, '2024-01-01 00:00:00+00', 'play', 0, 's1'),
  (2, '2024-01-01 00:00:00+00', 'play', 0, 's1'),
  (1, '2024-01-01 00:00:10+00', 'heartbeat', 10, 's1'),
  (1, '2024-01-01 00:00:10+00', 'heartbeat', 10, 's1'),
  (2, '2024-01-01 00:00:20+00', 'ended', 20, 's1'),
  (3, '2024-01-01 00:00:05+00', 'play', 0, 's2'),
  (3, '2024-01-01 00:00:06+00', 'bogus', NULL, 's2'),
  (2, '2024-01-01 00:00:35+00', 'pause', 30, 's2'),
  (1, NULL, 'play', NULL, 's3');
CREATE TEMP TABLE parts AS
  SELECT part, qoe_timeline(ts, event, pos, NULL, sess) AS t FROM pe GROUP BY part;
-- Per part: 1 has one duplicate, 2 none, 3 none.
SELECT part, duplicate_events(t) AS dups, invalid_events(t) AS invalid,
       unknown_events(t) AS unknown
FROM parts ORDER BY part;
-- Merged: 2 duplicates (1 within part 1, 1 across parts 1 and 2), 1 invalid,
-- 1 unknown; s1 plays 0->20, s2 plays 5->35: 50.
SELECT r::text = o::text AS same_text, duplicate_events(r) AS dups,
       invalid_events(r) AS invalid, unknown_events(r) AS unknown,
       watch_time(r) AS w, sessions(r) AS sessions
FROM (SELECT rollup(t) AS r FROM parts) a,
     (SELECT qoe_timeline(ts, event, pos, NULL, sess) AS o FROM pe) b;
-- rollup of rollups (per session key, then all) is the same.
SELECT rollup(t)::text = (SELECT qoe_timeline(ts, event, pos, NULL, sess) FROM pe)::text AS same
FROM (SELECT rollup(t) AS t FROM parts WHERE part < 3
      UNION ALL SELECT t FROM parts WHERE part = 3) q;

-- ---------------------------------------------------------------------
-- Set-returning functions on hand-worked sessions (one key per case).
-- ---------------------------------------------------------------------
CREATE TEMP TABLE sr (sess text, sec float8, event text, pos float8);
INSERT INTO sr VALUES
  ('s1', 0, 'play', 0), ('s1', 10, 'heartbeat', 10), ('s1', 20, 'heartbeat', 50),
  ('s2', 0, 'play', 0), ('s2', 10, 'pause', 10), ('s2', 10, 'play', 10), ('s2', 20, 'ended', 20),
  ('s3', 0, 'play', 0), ('s3', 10, 'pause', 10), ('s3', 15, 'play', 10), ('s3', 25, 'heartbeat', 5),
  ('s4', 0, 'play', 10), ('s4', 1, 'heartbeat', 9),
  ('s5', 0, 'play', 0), ('s5', 10, 'exit', NULL),
  ('s6', 0, 'request', NULL), ('s6', 3, 'playing', 0), ('s6', 5, 'pause', 2),
  ('s7', 0, 'play', 0), ('s7', 10, 'seek', 100), ('s7', 20, 'heartbeat', 110), ('s7', 30, 'ended', 120),
  ('s8', 0, 'play', 5), ('s8', 0, 'exit', 5),
  ('s9', 0, 'play', 0), ('s9', 10, 'seek_start', 10), ('s9', 12, 'seek_end', 30),
  ('s9', 12, 'buffer_start', 30), ('s9', 14, 'buffer_end', NULL), ('s9', 20, 'ended', 36);
CREATE TEMP TABLE srt AS
  SELECT qoe_timeline(timestamptz '2024-01-01 00:00:00+00' + sec * interval '1 s',
                      event, pos, NULL, sess) AS t
  FROM sr;
-- s1: 0->10 continuous (0->10), 10->20 a skip 10 -> 50 (dp 40 > 12.1): its
--     end is p0 + dt = 20 (8.18); touching playing intervals merge: one row.
-- s2: pause then play at 10 (rank): zero-length paused dropped, the two
--     playing intervals then touch and merge: playing 0->20, 0 -> 20.
-- s3: playing 0->10, paused 10->15 (keeps 10), playing 15->25: 10 -> 5 is a
--     backward skip (-5 < -2.1): end 10 + 10 = 20.
-- s4: 10 -> 9 in 1 s: continuous (-1 >= -2.01): end p1 = 9.
-- s5: exit has no position: end p0 + dt = 10.
-- s6: starting 0->3 (no position: NULL, NULL), playing 3->5 (0 -> 2).
-- s7: 0->10 ends at a seek (8.8: not p1): end 0 + 10; 10->20 100 -> 110;
--     20->30 110 -> 120: all playing and touching: one row 0->30, 0 -> 120.
-- s8: play and exit at 0: zero-length, no row.
-- s9: playing 0->10, seeking 10->12 (keeps 10), at 12 seek_end then
--     buffer_start (rank): playing 12->12 dropped, buffering 12->14 (30),
--     playing 14->20 (30 -> 36).
SELECT session, session_no, state, started_at, ended_at, duration,
       start_position, end_position
FROM srt, playback_intervals(t)
ORDER BY session, started_at;
-- Ranges: merged, touching ones joined, zero-length ones not reported.
-- s1 [0,10]+[10,20]; s2 [0,20]; s3 [0,10]+[10,20]; s4 [9,10] (8.12: p1 < p0
-- covers [p1,p0]); s5 [0,10]; s6 [0,2]; s7 [0,10], [100,120]; s8 none
-- ([5,5]); s9 [0,10], [30,36].
SELECT session, session_no, from_position, to_position
FROM srt, watched_ranges(t)
ORDER BY session, from_position;
SELECT content_watched(t) AS watched, max_position(t) AS max_pos, sessions(t)
FROM srt;
SELECT session, started_at, ended_at, duration, cause, "position", closed
FROM srt, buffer_episodes(t) ORDER BY session, started_at;
