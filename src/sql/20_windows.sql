-- ---------------------------------------------------------------------
-- Time buckets over many sessions: concurrent viewers, play, buffering,
-- bitrate (SPEC 6, 8.20)
-- ---------------------------------------------------------------------
CREATE FUNCTION qoe_windows(t qoe_timeline, bucket interval,
	OUT bucket_start timestamptz, OUT concurrent_peak integer,
	OUT concurrent_avg double precision, OUT play_time double precision,
	OUT buffer_count bigint, OUT buffer_time double precision,
	OUT avg_bitrate double precision, OUT min_bitrate double precision,
	OUT max_bitrate double precision, OUT sessions_started bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'qoe_windows_srf' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 60;
