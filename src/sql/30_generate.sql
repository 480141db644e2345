-- ---------------------------------------------------------------------
-- Realistic telemetry generator (README "Generator"): player events and
-- the video catalogue they refer to.  Deterministic for given arguments.
-- ---------------------------------------------------------------------
CREATE FUNCTION qoe_generate_events(sessions integer, days integer DEFAULT 30,
	seed integer DEFAULT 1, videos integer DEFAULT 1000,
	start timestamptz DEFAULT '2024-06-01 00:00:00+00',
	OUT ts timestamptz, OUT event text, OUT "position" double precision,
	OUT bitrate double precision, OUT session_id text, OUT user_id bigint,
	OUT video_id text, OUT device_type text, OUT os_version text,
	OUT app_version text, OUT network_type text, OUT country_code text,
	OUT isp text, OUT cdn_pop text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'qoe_generate_events' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 100000;

COMMENT ON FUNCTION qoe_generate_events(integer, integer, integer, integer, timestamptz) IS
	'realistic player events: sessions sessions over days days from start, with injected faults';

CREATE FUNCTION qoe_generate_videos(videos integer DEFAULT 1000, seed integer DEFAULT 1,
	OUT video_id text, OUT title text, OUT duration double precision,
	OUT category text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'qoe_generate_videos' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 1000;

COMMENT ON FUNCTION qoe_generate_videos(integer, integer) IS
	'the video catalogue of qoe_generate_events (same videos and seed)';
