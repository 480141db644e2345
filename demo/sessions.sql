-- demo step 2: one row per session key, its dimensions, its timeline (the
-- extension's qoe_timeline aggregate) and every metric (qoe_stats)
SET work_mem = '256MB';
CREATE TABLE session_timelines AS
SELECT session_id, min(user_id) AS user_id, min(video_id) AS video_id,
       min(device_type) AS device_type, min(app_version) AS app_version,
       min(network_type) AS network_type, min(country_code) AS country_code,
       min(cdn_pop) AS cdn_pop, qoe_timeline(e) AS t
  FROM events e
 GROUP BY session_id;

CREATE TABLE sessions AS
SELECT s.session_id, s.user_id, s.video_id, s.device_type, s.app_version,
       s.network_type, s.country_code, s.cdn_pop, s.t,
       (q.first_ts AT TIME ZONE 'UTC')::date AS day,
       v.duration, completed(s.t, v.duration) AS completed,
       percent_watched(s.t, v.duration) AS percent_watched,
       q.*
  FROM session_timelines s
  JOIN videos v USING (video_id)
 CROSS JOIN LATERAL qoe_stats(s.t) q;
ANALYZE sessions;
