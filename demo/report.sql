-- demo step 3: the report.  Every figure comes from the extension's
-- aggregates and accessors over the generated table.
\pset footer off
\pset null '-'
SET work_mem = '256MB';

\echo
\echo '== Totals ====================================================================='
WITH a AS (SELECT qoe_stats(e) AS q FROM events e),
     n AS (SELECT count(*) AS events, count(DISTINCT user_id) AS users,
                  count(DISTINCT video_id) AS videos FROM events)
SELECT to_char(n.events, 'FM9,999,999,999') AS events,
       to_char((q).sessions, 'FM9,999,999') AS sessions,
       to_char(n.users, 'FM9,999,999') AS users,
       n.videos,
       to_char((q).watch_time / 3600, 'FM9,999,990') AS watch_hours,
       to_char(100 * (q).rebuffer_ratio, 'FM0.000') || ' %' AS rebuffer_ratio,
       to_char((q).startup_time, 'FM90.00') || ' s' AS mean_startup,
       (q).exits_before_start AS exits_before_start,
       (q).start_failures AS start_failures,
       (q).playback_failures AS playback_failures
  FROM a, n;

\echo
\echo '== Top 10 videos by watch time ================================================'
SELECT v.title, v.category AS cat, round(v.duration / 60) AS min,
       to_char(sum(s.watch_time) / 3600, 'FM99,990.0') AS watch_h,
       count(*) AS sessions,
       count(DISTINCT s.user_id) AS viewers,
       to_char(100.0 * avg(s.completed::int), 'FM990.0') || ' %' AS completion,
       to_char(100 * avg(s.percent_watched), 'FM990.0') || ' %' AS avg_watched
  FROM sessions s JOIN videos v USING (video_id)
 GROUP BY v.video_id, v.title, v.category, v.duration
 ORDER BY sum(s.watch_time) DESC
 LIMIT 10;

\echo
\echo '== Daily active users and watch time (UTC days) ==============================='
CREATE TEMP TABLE daily AS
SELECT day, count(DISTINCT user_id) AS dau, count(*) AS sessions,
       sum(watch_time) / 3600 AS watch_hours,
       100 * rebuffer_ratio(rollup(t)) AS rebuffer_pct,
       startup_time(rollup(t)) AS startup_s
  FROM sessions GROUP BY day;
SELECT to_char(d.day, 'Dy MM-DD') AS day, dau, sessions,
       to_char(watch_hours, 'FM9,990') AS watch_h,
       to_char(rebuffer_pct, 'FM0.000') || ' %' AS rebuffer,
       to_char(startup_s, 'FM90.00') || ' s' AS startup,
       repeat('#', (40 * watch_hours / max(watch_hours) OVER ())::int) AS watch_time
  FROM daily d ORDER BY d.day;

\echo
\echo '== QoE by device type x app version (x others = vs other versions, same device) =='
CREATE TEMP TABLE by_device_app AS
WITH g AS (
  SELECT device_type, app_version, count(*) AS sessions,
         sum(watch_time) AS play, sum(rebuffer_time) AS rebuf,
         sum(rebuffer_count) AS stalls,
         rebuffer_ratio(rollup(t)) AS ratio, startup_time(rollup(t)) AS startup
    FROM sessions GROUP BY device_type, app_version),
dev AS (SELECT device_type, sum(play) AS play, sum(rebuf) AS rebuf FROM g GROUP BY device_type)
SELECT g.*, g.ratio / ((dev.rebuf - g.rebuf) / (dev.play + dev.rebuf - g.play - g.rebuf)) AS x_others
  FROM g JOIN dev USING (device_type);
SELECT device_type, app_version AS app, sessions,
       to_char(play / 3600, 'FM99,990') AS watch_h,
       to_char(stalls / (play / 3600), 'FM990.0') AS stalls_per_h,
       to_char(100 * ratio, 'FM0.000') || ' %' AS rebuffer_ratio,
       to_char(x_others, 'FM90.0') || 'x' AS x_others,
       to_char(startup, 'FM90.00') || ' s' AS startup,
       CASE WHEN x_others > 2 THEN '<== fault' ELSE '' END AS " "
  FROM by_device_app ORDER BY device_type, app_version;

\echo
\echo '== Startup by CDN point of presence (x rest = vs all other sessions) =========='
WITH g AS (
  SELECT cdn_pop, count(*) AS sessions, startup_time(rollup(t)) AS startup,
         sum(startup_time) AS st_sum, count(startup_time) AS st_n,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY startup_time) AS p90,
         sum(exits_before_start) AS ebvs
    FROM sessions GROUP BY cdn_pop),
tot AS (SELECT sum(st_sum) AS st_sum, sum(st_n) AS st_n FROM g)
SELECT g.cdn_pop, g.sessions,
       to_char(g.startup, 'FM90.00') || ' s' AS mean_startup,
       to_char(g.p90, 'FM90.00') || ' s' AS p90_startup,
       to_char(100.0 * g.ebvs / g.sessions, 'FM90.0') || ' %' AS exits_before_start,
       to_char(g.startup / ((tot.st_sum - g.st_sum) / (tot.st_n - g.st_n)), 'FM90.0') || 'x' AS x_rest,
       CASE WHEN g.startup > 2 * (tot.st_sum - g.st_sum) / (tot.st_n - g.st_n)
            THEN '<== fault' ELSE '' END AS " "
  FROM g, tot
 ORDER BY g.startup DESC;

\echo
\echo '== Data quality ================================================================'
WITH a AS (SELECT sum(duplicate_events) AS dup, sum(unknown_events) AS unk,
                  sum(unmatched_buffer_ends) AS unmatched,
                  count(*) FILTER (WHERE completions = 0 AND max_position >= duration - 1)
                    AS no_ended,
                  count(*) FILTER (WHERE completions > 0) AS with_ended
             FROM sessions),
ep AS (SELECT count(*) AS episodes,
              count(*) FILTER (WHERE NOT closed) AS left_open,
              count(*) FILTER (WHERE closed AND NOT EXISTS (
                  SELECT 1 FROM events e
                   WHERE e.session_id = b.session AND e.ts = b.ended_at
                     AND e.event IN ('buffer_end', 'playing', 'rebuffer_end', 'stall_end',
                                     'buffer_complete', 'buffer_completed', 'buffer_ended',
                                     'video_playback_buffer_completed'))) AS no_end_row
         FROM sessions s CROSS JOIN LATERAL buffer_episodes(s.t) b)
SELECT 'duplicate rows (applied once)' AS check, dup AS count FROM a
UNION ALL SELECT 'unknown event names (skipped)', unk FROM a
UNION ALL SELECT 'unmatched buffer_end rows (buffer_start lost)', unmatched FROM a
UNION ALL SELECT 'buffer episodes closed without a buffer_end row', no_end_row FROM ep
UNION ALL SELECT 'stalls the viewer left (closed = false)', left_open FROM ep
UNION ALL SELECT 'sessions that reached the end without ''ended''', no_ended FROM a;

\echo
\echo 'unknown event names, as counted by the extension (qoe_stats(ts, event) per name):'
SELECT event, (qoe_stats(ts, event)).unknown_events AS rows
  FROM events GROUP BY event
HAVING (qoe_stats(ts, event)).unknown_events > 0
 ORDER BY 2 DESC;

-- chart data (demo/out/*.csv)
\copy (SELECT day, watch_hours, rebuffer_pct, dau FROM daily ORDER BY day) TO 'out/daily.csv' WITH (FORMAT csv)
\copy (SELECT device_type || ' ' || app_version, 100 * ratio, CASE WHEN x_others > 2 THEN 1 ELSE 0 END FROM by_device_app ORDER BY device_type, app_version) TO 'out/rebuffer_by_device_app.csv' WITH (FORMAT csv)
