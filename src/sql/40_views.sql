-- ---------------------------------------------------------------------
-- BI views: qoe_create_views(source, target_schema, videos, materialized)
-- builds session_metrics, user_metrics, video_metrics, daily_metrics,
-- data_quality and alerts over the caller's events table;
-- qoe_refresh_views(target_schema) refreshes the materialized variant.
--
-- Every identifier is quoted (format %I, regclass::text); functions of the
-- extension are qualified with the schema the extension lives in, looked up
-- when the views are created, so the views work whatever the readers'
-- search_path and the extension stays relocatable.  Neither function is
-- PARALLEL SAFE: they run DDL.
-- ---------------------------------------------------------------------
CREATE FUNCTION qoe_create_views(source regclass, target_schema name DEFAULT 'qoe',
	videos regclass DEFAULT NULL, materialized boolean DEFAULT false)
	RETURNS SETOF text
	LANGUAGE plpgsql VOLATILE
AS $qoe_views$
DECLARE
	ext text;			-- quoted schema of the extension
	sch text;			-- quoted target schema
	cols text[];
	vcols text[];
	c_ts text;
	c_ev text;
	c_pos text;
	c_val text;
	c_sess text;
	c_user text;
	c_video text;
	v_id text;
	v_dur text;
	ts_base oid;
	relk_base oid;
	ts_expr text;
	pos_expr text;
	val_expr text;
	user_expr text;
	video_expr text;
	dur_expr text;
	join_sql text := '';
	dim text;
	dims text[] := '{}';
	dim_inner text := '';
	dim_outer text := '';
	kind text;
	rel text;
	relk "char";
	ours boolean;
	q text;
	made text[] := '{}';
	dim_names CONSTANT text[] := ARRAY['device_type', 'os_version', 'app_version',
		'network_type', 'country_code', 'isp', 'cdn_pop'];
	ts_names CONSTANT text[] := ARRAY['ts', 'event_time', 'timestamp', 'time'];
	ev_names CONSTANT text[] := ARRAY['event', 'event_type', 'event_name', 'type'];
	pos_names CONSTANT text[] := ARRAY['position', 'position_s', 'playhead', 'current_time'];
	val_names CONSTANT text[] := ARRAY['value', 'bitrate', 'bitrate_bps'];
	sess_names CONSTANT text[] := ARRAY['session_id', 'session', 'view_id'];
	all_views CONSTANT text[] := ARRAY['session_metrics', 'user_metrics', 'video_metrics',
		'daily_metrics', 'data_quality', 'alerts'];
BEGIN
	IF source IS NULL THEN
		RAISE EXCEPTION 'qoe_create_views: source must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF target_schema IS NULL OR target_schema = '' THEN
		RAISE EXCEPTION 'qoe_create_views: target_schema must not be NULL or empty'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	materialized := coalesce(materialized, false);
	kind := CASE WHEN materialized THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END;
	sch := quote_ident(target_schema);

	SELECT quote_ident(n.nspname) INTO ext
	FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname = 'qoe_agg';
	IF ext IS NULL THEN
		RAISE EXCEPTION 'qoe_create_views: the qoe_agg extension is not installed in this database';
	END IF;

	-- ---- columns of the source, by the row-form names of SPEC 6 --------
	SELECT array_agg(a.attname::text) INTO cols
	FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;
	cols := coalesce(cols, '{}');

	SELECT u.n INTO c_ts FROM unnest(ts_names) WITH ORDINALITY u(n, o) WHERE u.n = ANY (cols) ORDER BY u.o LIMIT 1;
	SELECT u.n INTO c_ev FROM unnest(ev_names) WITH ORDINALITY u(n, o) WHERE u.n = ANY (cols) ORDER BY u.o LIMIT 1;
	SELECT u.n INTO c_pos FROM unnest(pos_names) WITH ORDINALITY u(n, o) WHERE u.n = ANY (cols) ORDER BY u.o LIMIT 1;
	SELECT u.n INTO c_val FROM unnest(val_names) WITH ORDINALITY u(n, o) WHERE u.n = ANY (cols) ORDER BY u.o LIMIT 1;
	SELECT u.n INTO c_sess FROM unnest(sess_names) WITH ORDINALITY u(n, o) WHERE u.n = ANY (cols) ORDER BY u.o LIMIT 1;
	IF 'user_id' = ANY (cols) THEN c_user := 'user_id'; END IF;
	IF 'video_id' = ANY (cols) THEN c_video := 'video_id'; END IF;

	IF c_ts IS NULL OR c_ev IS NULL OR c_sess IS NULL THEN
		RAISE EXCEPTION 'qoe_create_views: % has %', source::text,
			array_to_string(ARRAY[
				CASE WHEN c_ts IS NULL THEN 'no event timestamp column (ts, event_time, timestamp or time)' END,
				CASE WHEN c_ev IS NULL THEN 'no event name column (event, event_type, event_name or type)' END,
				CASE WHEN c_sess IS NULL THEN 'no session key column (session_id, session or view_id)' END], ', ')
			USING ERRCODE = 'undefined_column',
				DETAIL = 'The views need an event timestamp, an event name and a session key, found by the row-form column names of SPEC 6.',
				HINT = 'Rename the columns in a view over the table and pass the view.';
	END IF;

	SELECT a.atttypid INTO ts_base
	FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = source AND a.attname = c_ts AND NOT a.attisdropped;
	-- a domain counts as its base type
	LOOP
		SELECT t.typbasetype INTO relk_base FROM pg_catalog.pg_type t WHERE t.oid = ts_base AND t.typtype = 'd';
		EXIT WHEN NOT FOUND;
		ts_base := relk_base;
	END LOOP;
	IF ts_base = 'timestamptz'::regtype THEN
		ts_expr := format('e.%I', c_ts);
	ELSIF ts_base = 'timestamp'::regtype THEN
		-- like the row form: a timestamp without time zone is read as UTC
		ts_expr := format('(e.%I AT TIME ZONE ''UTC'')', c_ts);
	ELSE
		RAISE EXCEPTION 'qoe_create_views: column % of % has type %', quote_ident(c_ts), source::text,
			pg_catalog.format_type(ts_base, NULL)
			USING ERRCODE = 'datatype_mismatch',
				DETAIL = 'The event timestamp column must be of type timestamp with time zone or timestamp without time zone.';
	END IF;
	pos_expr := CASE WHEN c_pos IS NULL THEN 'NULL::float8' ELSE format('e.%I::float8', c_pos) END;
	val_expr := CASE WHEN c_val IS NULL THEN 'NULL::float8' ELSE format('e.%I::float8', c_val) END;

	-- per-session attributes: the smallest value seen in the session (a
	-- session normally carries one); types without min() take any value
	FOREACH dim IN ARRAY ARRAY['user_id', 'video_id'] || dim_names LOOP
		CONTINUE WHEN NOT dim = ANY (cols);
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
				   WHERE a.attrelid = source AND a.attname = dim AND NOT a.attisdropped
					 AND pg_catalog.to_regprocedure(format('pg_catalog.min(%s)',
							pg_catalog.format_type(a.atttypid, NULL))) IS NOT NULL) THEN
			q := format('min(e.%1$I) AS %1$I', dim);
		ELSE
			q := format('(array_agg(e.%1$I) FILTER (WHERE e.%1$I IS NOT NULL))[1] AS %1$I', dim);
		END IF;
		IF dim = 'user_id' THEN
			user_expr := q;
		ELSIF dim = 'video_id' THEN
			video_expr := q;
		ELSE
			dims := array_append(dims, dim);
			dim_inner := dim_inner || ', ' || q;
			dim_outer := dim_outer || format(', s.%I', dim);
		END IF;
	END LOOP;
	user_expr := coalesce(user_expr, 'NULL::text AS user_id');
	video_expr := coalesce(video_expr, 'NULL::text AS video_id');

	-- ---- optional videos table: video_id + duration (seconds) ----------
	IF videos IS NOT NULL THEN
		SELECT array_agg(a.attname::text) INTO vcols
		FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = videos AND a.attnum > 0 AND NOT a.attisdropped;
		vcols := coalesce(vcols, '{}');
		IF 'video_id' = ANY (vcols) THEN v_id := 'video_id'; END IF;
		SELECT u.n INTO v_dur FROM unnest(ARRAY['duration', 'duration_s']) WITH ORDINALITY u(n, o)
		WHERE u.n = ANY (vcols) ORDER BY u.o LIMIT 1;
		IF v_id IS NULL OR v_dur IS NULL THEN
			RAISE EXCEPTION 'qoe_create_views: videos table % has %', videos::text,
				array_to_string(ARRAY[CASE WHEN v_id IS NULL THEN 'no video_id column' END,
					CASE WHEN v_dur IS NULL THEN 'no duration column (duration or duration_s, seconds)' END], ', ')
				USING ERRCODE = 'undefined_column';
		END IF;
		IF c_video IS NULL THEN
			RAISE EXCEPTION 'qoe_create_views: % has no video_id column to join the videos table %',
				source::text, videos::text
				USING ERRCODE = 'undefined_column';
		END IF;
		-- join on equal types directly, else on the text forms
		IF (SELECT a.atttypid FROM pg_catalog.pg_attribute a
			WHERE a.attrelid = source AND a.attname = 'video_id' AND NOT a.attisdropped)
		   = (SELECT a.atttypid FROM pg_catalog.pg_attribute a
			  WHERE a.attrelid = videos AND a.attname = 'video_id' AND NOT a.attisdropped) THEN
			join_sql := format(' LEFT JOIN (SELECT vv.%I AS video_id, max(vv.%I::float8) AS duration_s'
				' FROM %s vv GROUP BY vv.%I) v ON v.video_id = s.video_id', v_id, v_dur, videos::text, v_id);
		ELSE
			join_sql := format(' LEFT JOIN (SELECT vv.%I::text AS video_id, max(vv.%I::float8) AS duration_s'
				' FROM %s vv GROUP BY vv.%I::text) v ON v.video_id = s.video_id::text', v_id, v_dur, videos::text, v_id);
		END IF;
		dur_expr := 'v.duration_s';
	ELSE
		dur_expr := 'NULL::float8';
	END IF;

	-- ---- replace: drop what a previous run made (never CASCADE) --------
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = target_schema) THEN
		EXECUTE format('CREATE SCHEMA %s', sch);
	END IF;
	FOR rel IN SELECT x FROM unnest(all_views) WITH ORDINALITY u(x, o) ORDER BY u.o DESC LOOP
		SELECT c.relkind, coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') LIKE 'qoe_agg:%'
		INTO relk, ours
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = target_schema AND c.relname = rel;
		IF NOT FOUND THEN
			CONTINUE;
		ELSIF relk IN ('v', 'm') AND NOT ours THEN
			-- a view of the user's own that happens to bear one of our names
			RAISE EXCEPTION 'qoe_create_views: %.% exists and was not made by qoe_create_views', sch, quote_ident(rel)
				USING ERRCODE = 'duplicate_table',
					HINT = 'Drop or rename it, or choose another target_schema.';
		ELSIF relk = 'v' THEN
			EXECUTE format('DROP VIEW %s.%I', sch, rel);
		ELSIF relk = 'm' THEN
			EXECUTE format('DROP MATERIALIZED VIEW %s.%I', sch, rel);
		ELSE
			RAISE EXCEPTION 'qoe_create_views: %.% exists and is not a view', sch, quote_ident(rel)
				USING ERRCODE = 'wrong_object_type',
					HINT = 'Drop or rename it, or choose another target_schema.';
		END IF;
	END LOOP;

	-- ---- session_metrics -----------------------------------------------
	-- The aggregate runs in a grouped subquery (never flattened), so it is
	-- computed once per session and its fields are read from the result.
	q := format($q$
SELECT s.session_id, s.user_id, s.video_id%1$s,
	(((s.st).first_ts) AT TIME ZONE 'UTC')::date AS day,
	(s.st).first_ts, (s.st).last_ts,
	(EXTRACT(epoch FROM (s.st).last_ts - (s.st).first_ts))::float8 AS session_duration_s,
	%2$s AS video_duration_s,
	s.event_count,
	(s.st).sessions,
	(s.st).play_time AS play_time_s,
	(s.st).watch_time AS watch_time_s,
	(s.st).view_time AS view_time_s,
	(s.st).starting_time AS starting_time_s,
	(s.st).paused_time AS paused_time_s,
	(s.st).buffer_time AS buffer_time_s,
	(s.st).seek_time AS seek_time_s,
	(s.st).ad_time AS ad_time_s,
	(s.st).rebuffer_time AS rebuffer_time_s,
	(s.st).rebuffer_count,
	(s.st).buffer_count,
	(s.st).startup_time AS startup_time_s,
	(s.st).pause_count,
	(s.st).seek_count,
	(s.st).seek_forward,
	(s.st).seek_backward,
	(s.st).ad_count,
	(s.st).replays,
	(s.st).completions,
	(s.st).errors,
	(s.st).exits_before_start,
	(s.st).start_failures,
	(s.st).playback_failures,
	(s.st).max_position AS max_position_s,
	(s.st).content_watched AS content_watched_s,
	(s.st).avg_bitrate AS avg_bitrate_bps,
	(s.st).min_bitrate AS min_bitrate_bps,
	(s.st).max_bitrate AS max_bitrate_bps,
	(s.st).upshifts,
	(s.st).downshifts,
	(s.st).unmatched_buffer_ends,
	(s.st).duplicate_events,
	(s.st).unknown_events,
	(s.st).invalid_events,
	(s.st).rebuffer_ratio,
	(s.st).rebuffer_percentage,
	(s.st).rebuffer_frequency AS rebuffer_frequency_per_min,
	CASE WHEN %2$s > 0 THEN (s.st).content_watched / %2$s END AS percent_watched,
	((s.st).completions > 0 AND (%2$s IS NULL OR %2$s <= 0
		OR coalesce((s.st).content_watched >= 0.75 * %2$s, false))) AS completed,
	s.negative_position_events
FROM (SELECT e.%3$I AS session_id, %4$s, %5$s%6$s,
		count(*) AS event_count,
		count(*) FILTER (WHERE %7$s < 0) AS negative_position_events,
		%8$s.qoe_stats(%9$s, e.%10$I::text, %7$s, %11$s, e.%3$I::text) AS st
	FROM %12$s e
	GROUP BY e.%3$I) s%13$s$q$,
		dim_outer, dur_expr, c_sess, user_expr, video_expr, dim_inner,
		pos_expr, ext, ts_expr, c_ev, val_expr, source::text, join_sql);
	EXECUTE format('CREATE %s %s.session_metrics AS %s', kind, sch, q);
	made := array_append(made, 'session_metrics');

	-- ---- user_metrics --------------------------------------------------
	IF c_user IS NULL THEN
		RAISE NOTICE 'qoe_create_views: % has no user_id column: user_metrics not created', source::text;
	ELSE
		q := format($q$
SELECT u.*,
	CASE WHEN u.engagement_score >= 60 THEN 'High'
		 WHEN u.engagement_score >= 25 THEN 'Medium'
		 WHEN u.engagement_score >= 10 THEN 'Low'
		 ELSE 'Minimal' END AS engagement_tier
FROM (SELECT b.*,
		round(greatest(0::float8, least(100::float8,
			  50 * least(b.total_watch_time_s / 36000, 1::float8)
			+ 30 * b.completed_sessions::float8 / b.sessions
			+ 20 * least(b.sessions::float8 / 10, 1::float8)
			- 20 * least(b.forward_skips::float8 / b.sessions, 1::float8)))::numeric, 1)::float8
			AS engagement_score
	FROM (SELECT sm.user_id,
			count(*) AS sessions,
			coalesce(sum(sm.watch_time_s), 0) AS total_watch_time_s,
			coalesce(sum(sm.watch_time_s), 0) / 3600 AS total_watch_hours,
			%2$s AS videos_watched,
			%3$s AS videos_completed,
			count(*) FILTER (WHERE sm.completed) AS completed_sessions,
			coalesce(sum(sm.seek_forward), 0)::bigint AS forward_skips,
			min(sm.first_ts) AS first_seen,
			max(sm.last_ts) AS last_seen
		FROM %1$s.session_metrics sm
		GROUP BY sm.user_id) b) u$q$,
			sch,
			CASE WHEN c_video IS NULL THEN 'NULL::bigint'
				 ELSE 'count(DISTINCT sm.video_id) FILTER (WHERE sm.watch_time_s > 0)' END,
			CASE WHEN c_video IS NULL THEN 'NULL::bigint'
				 ELSE 'count(DISTINCT sm.video_id) FILTER (WHERE sm.completed)' END);
		EXECUTE format('CREATE %s %s.user_metrics AS %s', kind, sch, q);
		made := array_append(made, 'user_metrics');
	END IF;

	-- ---- video_metrics -------------------------------------------------
	IF c_video IS NULL THEN
		RAISE NOTICE 'qoe_create_views: % has no video_id column: video_metrics not created', source::text;
	ELSE
		q := format($q$
SELECT b.*,
	round(greatest(0::float8, least(100::float8,
		  60 * least(coalesce(b.avg_percent_watched, b.completion_rate), 1::float8)
		+ 40 * b.completion_rate
		- 20 * least(b.forward_skips::float8 / b.sessions, 1::float8)))::numeric, 1)::float8
		AS engagement_score
FROM (SELECT sm.video_id,
		max(sm.video_duration_s) AS video_duration_s,
		count(*) AS sessions,
		%2$s AS unique_viewers,
		coalesce(sum(sm.watch_time_s), 0) AS total_watch_time_s,
		count(*) FILTER (WHERE sm.completed) AS completed_sessions,
		(count(*) FILTER (WHERE sm.completed))::float8 / count(*) AS completion_rate,
		avg(sm.watch_time_s) AS avg_watch_time_s,
		avg(sm.percent_watched) AS avg_percent_watched,
		coalesce(sum(sm.seek_forward), 0)::bigint AS forward_skips
	FROM %1$s.session_metrics sm
	GROUP BY sm.video_id) b$q$,
			sch,
			CASE WHEN c_user IS NULL THEN 'NULL::bigint' ELSE 'count(DISTINCT sm.user_id)' END);
		EXECUTE format('CREATE %s %s.video_metrics AS %s', kind, sch, q);
		made := array_append(made, 'video_metrics');
	END IF;

	-- ---- daily_metrics (UTC days of the sessions' first event) ---------
	q := format($q$
SELECT sm.day,
	%2$s AS active_users,
	count(*) AS sessions,
	coalesce(sum(sm.watch_time_s), 0) AS watch_time_s,
	coalesce(sum(sm.watch_time_s), 0) / 3600 AS watch_hours,
	coalesce(sum(sm.view_time_s), 0) AS view_time_s,
	coalesce(sum(sm.rebuffer_time_s), 0) AS rebuffer_time_s,
	sum(sm.rebuffer_time_s) / nullif(sum(sm.watch_time_s) + sum(sm.rebuffer_time_s), 0) AS rebuffer_ratio,
	avg(sm.startup_time_s) AS avg_startup_time_s,
	count(*) FILTER (WHERE sm.completed) AS completed_sessions,
	(count(*) FILTER (WHERE sm.completed))::float8 / count(*) AS completion_rate,
	count(*) FILTER (WHERE sm.start_failures > 0) AS start_failures,
	(count(*) FILTER (WHERE sm.start_failures > 0))::float8 / count(*) AS start_failure_rate,
	count(*) FILTER (WHERE sm.playback_failures > 0) AS playback_failures,
	(count(*) FILTER (WHERE sm.playback_failures > 0))::float8 / count(*) AS playback_failure_rate,
	count(*) FILTER (WHERE sm.exits_before_start > 0) AS exits_before_start,
	(count(*) FILTER (WHERE sm.exits_before_start > 0))::float8 / count(*) AS exit_before_start_rate
FROM %1$s.session_metrics sm
WHERE sm.day IS NOT NULL
GROUP BY sm.day$q$,
		sch, CASE WHEN c_user IS NULL THEN 'NULL::bigint' ELSE 'count(DISTINCT sm.user_id)' END);
	EXECUTE format('CREATE %s %s.daily_metrics AS %s', kind, sch, q);
	made := array_append(made, 'daily_metrics');

	-- ---- data_quality (always a plain view over session_metrics) -------
	-- one pass over session_metrics, unpivoted into one row per check
	q := format($q$
SELECT c.check_name, c.failing_count, c.total,
	c.failing_count::float8 / nullif(c.total, 0) AS rate,
	c.unit, c.description
FROM (SELECT
		count(*) AS sessions,
		coalesce(sum(sm.event_count), 0)::bigint AS events,
		count(*) FILTER (WHERE sm.video_duration_s > 0) AS with_duration,
		count(*) FILTER (WHERE sm.video_duration_s > 0
			AND sm.watch_time_s > 1.1 * sm.video_duration_s) AS over_duration,
		coalesce(sum(sm.negative_position_events), 0)::bigint AS negative_positions,
		count(*) FILTER (WHERE sm.completions > 0 AND sm.video_duration_s > 0) AS completions_with_duration,
		count(*) FILTER (WHERE sm.completions > 0 AND sm.video_duration_s > 0
			AND coalesce(sm.content_watched_s, 0) < 0.75 * sm.video_duration_s) AS completions_under_75,
		count(*) FILTER (WHERE sm.session_duration_s > 4 * 3600) AS over_4h,
		count(*) FILTER (WHERE sm.event_count NOT BETWEEN 3 AND 5) AS outside_3_5,
		coalesce(sum(sm.duplicate_events), 0)::bigint AS duplicates,
		coalesce(sum(sm.unknown_events), 0)::bigint AS unknowns,
		coalesce(sum(sm.unmatched_buffer_ends), 0)::bigint AS unmatched,
		coalesce(sum(sm.invalid_events), 0)::bigint AS invalids
	FROM %1$s.session_metrics sm) x,
	LATERAL (VALUES
	(1, 'watch_time_over_duration'::text, x.over_duration, x.with_duration, 'sessions'::text,
		'sessions whose watch time exceeds the video duration by more than 10%% (sessions of videos with a known duration)'::text),
	(2, 'negative_times', x.negative_positions, x.events, 'events',
		'events with a negative playhead position (read as unknown and counted invalid)'),
	(3, 'completion_under_75pct', x.completions_under_75, x.completions_with_duration, 'sessions',
		'sessions with an ended event but less than 75%% of the video watched (sessions with a completion and a known duration)'),
	(4, 'session_over_4h', x.over_4h, x.sessions, 'sessions',
		'sessions whose first and last events are more than 4 hours apart'),
	(5, 'events_per_session_outside_3_5', x.outside_3_5, x.sessions, 'sessions',
		'sessions with fewer than 3 or more than 5 event rows'),
	(6, 'duplicate_events', x.duplicates, x.events, 'events',
		'exact duplicate events (same session, ts, kind, position and value), applied once'),
	(7, 'unknown_events', x.unknowns, x.events, 'events',
		'events whose name is NULL or not in the vocabulary (nor in qoe_agg.event_aliases)'),
	(8, 'unmatched_buffer_ends', x.unmatched, x.events, 'events',
		'buffer_end events with no buffering episode open'),
	(9, 'invalid_events', x.invalids, x.events, 'events',
		'events with an unusable ts, position or bitrate value')
	) c(n, check_name, failing_count, total, unit, description)
ORDER BY c.n$q$, sch);
	EXECUTE format('CREATE VIEW %s.data_quality AS %s', sch, q);
	made := array_append(made, 'data_quality');

	-- ---- alerts (a plain view: now() is read when it is queried) -------
	-- session_metrics is read once (a CTE used twice is materialized)
	q := format($q$
WITH sm AS MATERIALIZED (
	SELECT s.day, s.last_ts, s.watch_time_s, s.completed, s.negative_position_events
	FROM %1$s.session_metrics s),
g AS (
	SELECT max(sm.last_ts) AS last_ts, max(sm.day) AS last_day, count(*) AS sessions,
		count(*) FILTER (WHERE coalesce(sm.watch_time_s, 0) = 0) AS zero_watch,
		coalesce(sum(sm.negative_position_events), 0)::bigint AS neg_events,
		count(*) FILTER (WHERE sm.watch_time_s < 0) AS neg_sessions
	FROM sm),
d AS (
	-- completion rate of the latest day and of the day before it
	SELECT (count(*) FILTER (WHERE sm.completed AND sm.day = g.last_day))::float8
			/ nullif(count(*) FILTER (WHERE sm.day = g.last_day), 0) AS rate,
		(count(*) FILTER (WHERE sm.completed AND sm.day = g.last_day - 1))::float8
			/ nullif(count(*) FILTER (WHERE sm.day = g.last_day - 1), 0) AS prev_rate,
		g.last_day
	FROM sm, g
	WHERE sm.day BETWEEN g.last_day - 1 AND g.last_day
	GROUP BY g.last_day)
SELECT a.alert_name, a.severity, a.detail, a.value, a.threshold
FROM (
	SELECT 1 AS n, 'stale_data'::text AS alert_name, 'critical'::text AS severity,
		CASE WHEN g.last_ts IS NULL THEN 'no valid events'
			 ELSE format('newest event at %%s, %%s hours ago (threshold 3 hours)',
				to_char(g.last_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
				round((EXTRACT(epoch FROM now() - g.last_ts) / 3600)::numeric, 1)) END AS detail,
		(EXTRACT(epoch FROM now() - g.last_ts) / 3600)::float8 AS value,
		3::float8 AS threshold
	FROM g
	WHERE g.last_ts IS NULL OR g.last_ts < now() - interval '3 hours'
	UNION ALL
	SELECT 2, 'completion_rate_drop', 'warning',
		format('completion rate %%s on %%s, %%s on %%s: down %%s%%%% day over day (threshold 20%%%%)',
			round(d.rate::numeric, 4), d.last_day, round(d.prev_rate::numeric, 4), d.last_day - 1,
			round((100 * (d.prev_rate - d.rate) / d.prev_rate)::numeric, 1)),
		(d.prev_rate - d.rate) / d.prev_rate,
		0.2
	FROM d
	WHERE d.prev_rate > 0 AND (d.prev_rate - d.rate) / d.prev_rate > 0.2
	UNION ALL
	SELECT 3, 'zero_watch_sessions', 'warning',
		format('%%s of %%s sessions (%%s%%%%) have no watch time (threshold 15%%%%)',
			g.zero_watch, g.sessions, round((100 * g.zero_watch::float8 / g.sessions)::numeric, 1)),
		g.zero_watch::float8 / g.sessions,
		0.15
	FROM g
	WHERE g.sessions > 0 AND g.zero_watch::float8 / g.sessions > 0.15
	UNION ALL
	SELECT 4, 'negative_watch_time', 'critical',
		format('negative playhead positions: %%s events; negative watch time: %%s sessions',
			g.neg_events, g.neg_sessions),
		(g.neg_events + g.neg_sessions)::float8,
		0
	FROM g
	WHERE g.neg_events + g.neg_sessions > 0
) a
ORDER BY a.n$q$, sch);
	EXECUTE format('CREATE VIEW %s.alerts AS %s', sch, q);
	made := array_append(made, 'alerts');

	-- ---- materialized variant: unique keys for REFRESH ... CONCURRENTLY --
	IF materialized THEN
		EXECUTE format('CREATE UNIQUE INDEX session_metrics_key ON %s.session_metrics (session_id)', sch);
		IF 'user_metrics' = ANY (made) THEN
			EXECUTE format('CREATE UNIQUE INDEX user_metrics_key ON %s.user_metrics (user_id)', sch);
		END IF;
		IF 'video_metrics' = ANY (made) THEN
			EXECUTE format('CREATE UNIQUE INDEX video_metrics_key ON %s.video_metrics (video_id)', sch);
		END IF;
		EXECUTE format('CREATE UNIQUE INDEX daily_metrics_key ON %s.daily_metrics (day)', sch);
	END IF;

	-- ---- documentation, read by BI tools as table and column remarks ---
	FOR rel, dim, q IN SELECT * FROM (VALUES
		('session_metrics', NULL, 'qoe_agg: one row per session key of ' || source::text || ', every metric of SPEC 5; seconds in _s columns, bits per second in _bps columns'),
		('session_metrics', 'session_id', 'session key (session_id, session or view_id column of the source)'),
		('session_metrics', 'user_id', 'user of the session (smallest value seen; NULL when the source has no user_id)'),
		('session_metrics', 'video_id', 'video of the session (smallest value seen; NULL when the source has no video_id)'),
		('session_metrics', 'day', 'UTC calendar date of the first valid event'),
		('session_metrics', 'session_duration_s', 'seconds from the first to the last valid event'),
		('session_metrics', 'video_duration_s', 'video duration from the videos table, seconds (NULL when unknown)'),
		('session_metrics', 'event_count', 'event rows of the session key, valid or not'),
		('session_metrics', 'sessions', 'sessions reconstructed under this key (normally 1; more after an exit or a gap)'),
		('session_metrics', 'watch_time_s', 'seconds playing (= play_time_s)'),
		('session_metrics', 'view_time_s', 'seconds starting + playing + buffering + seeking + in ads'),
		('session_metrics', 'startup_time_s', 'seconds from intent to the first credited play (mean over the sessions of the key that started)'),
		('session_metrics', 'rebuffer_ratio', 'rebuffer_time / (play_time + rebuffer_time), fraction'),
		('session_metrics', 'rebuffer_percentage', 'rebuffer_time / view_time, fraction'),
		('session_metrics', 'rebuffer_frequency_per_min', 'stalls per minute of view time'),
		('session_metrics', 'percent_watched', 'content_watched_s / video_duration_s, fraction (NULL without a duration or positions)'),
		('session_metrics', 'completed', 'an ended event and, when the duration is known, at least 75% of the video watched'),
		('session_metrics', 'negative_position_events', 'event rows with a negative position'),
		('user_metrics', NULL, 'qoe_agg: one row per user, engagement score 0-100 and tier'),
		('user_metrics', 'sessions', 'session keys of the user'),
		('user_metrics', 'total_watch_time_s', 'seconds playing, all sessions'),
		('user_metrics', 'videos_watched', 'distinct videos with watch time > 0'),
		('user_metrics', 'videos_completed', 'distinct videos with a completed session'),
		('user_metrics', 'forward_skips', 'forward seeks and unreported forward skips'),
		('user_metrics', 'engagement_score', '50*min(watch_h/10,1) + 30*completed_sessions/sessions + 20*min(sessions/10,1) - 20*min(forward_skips/sessions,1), clamped to 0-100, 1 decimal'),
		('user_metrics', 'engagement_tier', 'High (score >= 60), Medium (>= 25), Low (>= 10), Minimal (< 10)'),
		('video_metrics', NULL, 'qoe_agg: one row per video'),
		('video_metrics', 'unique_viewers', 'distinct users'),
		('video_metrics', 'completion_rate', 'completed sessions / sessions, fraction'),
		('video_metrics', 'avg_watch_time_s', 'mean watch time per session, seconds'),
		('video_metrics', 'avg_percent_watched', 'mean percent_watched of the sessions that have one, fraction'),
		('video_metrics', 'engagement_score', '60*min(avg_percent_watched (or completion_rate),1) + 40*completion_rate - 20*min(forward_skips/sessions,1), clamped to 0-100, 1 decimal'),
		('daily_metrics', NULL, 'qoe_agg: one row per UTC day of session start'),
		('daily_metrics', 'active_users', 'distinct users with a session starting that day'),
		('daily_metrics', 'watch_hours', 'hours playing'),
		('daily_metrics', 'rebuffer_ratio', 'sum(rebuffer_time) / (sum(watch_time) + sum(rebuffer_time)), fraction'),
		('daily_metrics', 'avg_startup_time_s', 'mean startup time of the sessions that started, seconds'),
		('data_quality', NULL, 'qoe_agg: one row per data-quality check; rate = failing_count / total'),
		('alerts', NULL, 'qoe_agg: one row per firing alert; empty when all is well')
	) AS d(v, c, t) LOOP
		CONTINUE WHEN NOT rel = ANY (made);
		IF dim IS NULL THEN
			EXECUTE format('COMMENT ON %s %s.%I IS %L',
				CASE WHEN materialized AND rel NOT IN ('data_quality', 'alerts') THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
				sch, rel, q);
		ELSE
			EXECUTE format('COMMENT ON COLUMN %s.%I.%I IS %L', sch, rel, dim, q);
		END IF;
	END LOOP;

	RETURN QUERY SELECT format('%s.%I', sch, m) FROM unnest(made) m;
END
$qoe_views$;

COMMENT ON FUNCTION qoe_create_views(regclass, name, regclass, boolean) IS
	'create (or replace) the BI views session_metrics, user_metrics, video_metrics, daily_metrics, data_quality and alerts over an events table';

CREATE FUNCTION qoe_refresh_views(target_schema name DEFAULT 'qoe', concurrently boolean DEFAULT false)
	RETURNS SETOF text
	LANGUAGE plpgsql VOLATILE
AS $qoe_refresh$
DECLARE
	rel text;
	done text[] := '{}';
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = target_schema) THEN
		RAISE EXCEPTION 'qoe_refresh_views: schema % does not exist', quote_ident(target_schema)
			USING ERRCODE = 'invalid_schema_name';
	END IF;
	-- session_metrics first: the others are computed from it
	FOREACH rel IN ARRAY ARRAY['session_metrics', 'user_metrics', 'video_metrics', 'daily_metrics'] LOOP
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
				   WHERE n.nspname = target_schema AND c.relname = rel AND c.relkind = 'm') THEN
			EXECUTE format('REFRESH MATERIALIZED VIEW %s %I.%I',
				CASE WHEN coalesce(qoe_refresh_views.concurrently, false) THEN 'CONCURRENTLY' ELSE '' END, target_schema, rel);
			done := array_append(done, rel);
		END IF;
	END LOOP;
	IF cardinality(done) = 0 THEN
		RAISE NOTICE 'qoe_refresh_views: no materialized qoe views in schema %', quote_ident(target_schema);
	END IF;
	RETURN QUERY SELECT format('%I.%I', target_schema, r) FROM unnest(done) r;
END
$qoe_refresh$;

COMMENT ON FUNCTION qoe_refresh_views(name, boolean) IS
	'refresh the materialized BI views made by qoe_create_views(..., materialized => true), in dependency order';
