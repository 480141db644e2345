/* qoe_agg install script, version 0.1 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION qoe_agg" to load this file. \quit

-- ---------------------------------------------------------------------
-- The qoe_timeline type: the events of a group, sorted and compact.
-- ---------------------------------------------------------------------
CREATE TYPE qoe_timeline;

CREATE FUNCTION qoe_timeline_in(cstring) RETURNS qoe_timeline
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION qoe_timeline_out(qoe_timeline) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION qoe_timeline_recv(internal) RETURNS qoe_timeline
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION qoe_timeline_send(qoe_timeline) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE qoe_timeline (
	INPUT = qoe_timeline_in,
	OUTPUT = qoe_timeline_out,
	RECEIVE = qoe_timeline_recv,
	SEND = qoe_timeline_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);

COMMENT ON TYPE qoe_timeline IS 'player events of a group, sorted, deduplicated and compact';

-- ---------------------------------------------------------------------
-- The qoe_stats composite type: every metric of SPEC section 5.
-- ---------------------------------------------------------------------
CREATE TYPE qoe_stats AS (
	sessions bigint,
	play_time double precision,
	watch_time double precision,
	view_time double precision,
	starting_time double precision,
	paused_time double precision,
	buffer_time double precision,
	seek_time double precision,
	ad_time double precision,
	rebuffer_time double precision,
	rebuffer_count bigint,
	buffer_count bigint,
	startup_time double precision,
	pause_count bigint,
	seek_count bigint,
	seek_forward bigint,
	seek_backward bigint,
	ad_count bigint,
	replays bigint,
	completions bigint,
	errors bigint,
	exits_before_start bigint,
	start_failures bigint,
	playback_failures bigint,
	max_position double precision,
	content_watched double precision,
	avg_bitrate double precision,
	min_bitrate double precision,
	max_bitrate double precision,
	upshifts bigint,
	downshifts bigint,
	unmatched_buffer_ends bigint,
	duplicate_events bigint,
	unknown_events bigint,
	invalid_events bigint,
	first_ts timestamptz,
	last_ts timestamptz,
	rebuffer_ratio double precision,
	rebuffer_percentage double precision,
	rebuffer_frequency double precision
);

-- ---------------------------------------------------------------------
-- Transition machinery shared by every aggregate.  The state is an
-- internal event buffer; combine appends, the final step sorts & replays.
-- ---------------------------------------------------------------------
CREATE FUNCTION qoe_agg_trans(internal, timestamptz, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_trans(internal, timestamptz, text, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_trans(internal, timestamptz, text, double precision, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_trans(internal, timestamptz, text, double precision, double precision, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_trans' LANGUAGE C STABLE PARALLEL SAFE;
-- row form: reads ts/event/position/value/session columns by name
CREATE FUNCTION qoe_agg_trans_row(internal, record) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_trans_row' LANGUAGE C STABLE PARALLEL SAFE;
-- rollup of stored timelines
CREATE FUNCTION qoe_agg_trans_timeline(internal, qoe_timeline) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_trans_timeline' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION qoe_agg_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'qoe_agg_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION qoe_agg_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'qoe_agg_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- final functions (STABLE: they read the qoe_agg.* settings)
CREATE FUNCTION qoe_agg_final_timeline(internal) RETURNS qoe_timeline
	AS 'MODULE_PATHNAME', 'qoe_agg_final_timeline' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_stats(internal) RETURNS qoe_stats
	AS 'MODULE_PATHNAME', 'qoe_agg_final_stats' LANGUAGE C STABLE PARALLEL SAFE;

-- ---------------------------------------------------------------------
-- Final functions of the one-step aggregates
-- ---------------------------------------------------------------------
CREATE FUNCTION qoe_agg_final_watch_time(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_agg_final_watch_time' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_play_time(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_agg_final_play_time' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_view_time(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_agg_final_view_time' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_buffer_time(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_agg_final_buffer_time' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_buffer_count(internal) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_agg_final_buffer_count' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_rebuffer_time(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_agg_final_rebuffer_time' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_rebuffer_count(internal) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_agg_final_rebuffer_count' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_rebuffer_ratio(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_agg_final_rebuffer_ratio' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION qoe_agg_final_startup_time(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_agg_final_startup_time' LANGUAGE C STABLE PARALLEL SAFE;

-- ---------------------------------------------------------------------
-- Aggregates: qoe_timeline(...), rollup(qoe_timeline), one-step metrics
-- ---------------------------------------------------------------------
CREATE AGGREGATE qoe_timeline(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_timeline,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_timeline(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_timeline,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_timeline(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_timeline,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_timeline(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_timeline,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_timeline(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_timeline,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE qoe_stats(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_stats,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_stats(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_stats,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_stats(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_stats,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_stats(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_stats,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE qoe_stats(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_stats,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE watch_time(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_watch_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE watch_time(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_watch_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE watch_time(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_watch_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE watch_time(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_watch_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE watch_time(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_watch_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE play_time(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_play_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE play_time(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_play_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE play_time(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_play_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE play_time(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_play_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE play_time(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_play_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE view_time(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_view_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE view_time(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_view_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE view_time(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_view_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE view_time(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_view_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE view_time(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_view_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE buffer_time(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_time(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_time(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_time(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_time(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE buffer_count(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_count(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_count(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_count(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE buffer_count(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_buffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE rebuffer_time(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_time(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_time(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_time(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_time(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE rebuffer_count(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_count(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_count(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_count(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_count(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_count,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE rebuffer_ratio(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_ratio,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_ratio(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_ratio,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_ratio(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_ratio,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_ratio(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_ratio,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE rebuffer_ratio(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_rebuffer_ratio,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE startup_time(ts timestamptz, event text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_startup_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE startup_time(ts timestamptz, event text, "position" double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_startup_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE startup_time(ts timestamptz, event text, "position" double precision, value double precision) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_startup_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE startup_time(ts timestamptz, event text, "position" double precision, value double precision, session text) (
	SFUNC = qoe_agg_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_startup_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE startup_time(events record) (
	SFUNC = qoe_agg_trans_row,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_startup_time,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

CREATE AGGREGATE rollup(qoe_timeline) (
	SFUNC = qoe_agg_trans_timeline,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = qoe_agg_final_timeline,
	COMBINEFUNC = qoe_agg_combine,
	SERIALFUNC = qoe_agg_serialize,
	DESERIALFUNC = qoe_agg_deserialize,
	PARALLEL = SAFE
);

-- ---------------------------------------------------------------------
-- Accessors: one per metric, and qoe_stats(t)
-- ---------------------------------------------------------------------
CREATE FUNCTION qoe_stats(t qoe_timeline) RETURNS qoe_stats
	AS 'MODULE_PATHNAME', 'qoe_t_stats' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sessions(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_sessions' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rebuffer_count(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_rebuffer_count' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION buffer_count(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_buffer_count' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pause_count(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_pause_count' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION seek_count(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_seek_count' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION seek_forward(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_seek_forward' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION seek_backward(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_seek_backward' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ad_count(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_ad_count' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION replays(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_replays' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION completions(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_completions' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION errors(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_errors' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION exits_before_start(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_exits_before_start' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION start_failures(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_start_failures' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION playback_failures(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_playback_failures' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION upshifts(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_upshifts' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION downshifts(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_downshifts' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION unmatched_buffer_ends(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_unmatched_buffer_ends' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION duplicate_events(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_duplicate_events' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION unknown_events(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_unknown_events' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION invalid_events(t qoe_timeline) RETURNS bigint
	AS 'MODULE_PATHNAME', 'qoe_t_invalid_events' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION play_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_play_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION watch_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_watch_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION view_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_view_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION starting_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_starting_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION paused_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_paused_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION buffer_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_buffer_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION seek_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_seek_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ad_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_ad_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rebuffer_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_rebuffer_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION startup_time(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_startup_time' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION max_position(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_max_position' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION content_watched(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_content_watched' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION avg_bitrate(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_avg_bitrate' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION min_bitrate(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_min_bitrate' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION max_bitrate(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_max_bitrate' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rebuffer_ratio(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_rebuffer_ratio' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rebuffer_percentage(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_rebuffer_percentage' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rebuffer_frequency(t qoe_timeline) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_rebuffer_frequency' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION first_ts(t qoe_timeline) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'qoe_t_first_ts' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION last_ts(t qoe_timeline) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'qoe_t_last_ts' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION completed(t qoe_timeline, duration double precision DEFAULT NULL,
						  min_fraction double precision DEFAULT 0.75) RETURNS boolean
	AS 'MODULE_PATHNAME', 'qoe_t_completed' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION percent_watched(t qoe_timeline, duration double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'qoe_t_percent_watched' LANGUAGE C STABLE PARALLEL SAFE;

-- ---------------------------------------------------------------------
-- Set-returning functions
-- ---------------------------------------------------------------------
CREATE FUNCTION buffer_episodes(t qoe_timeline,
	OUT session text, OUT session_no integer,
	OUT started_at timestamptz, OUT ended_at timestamptz,
	OUT duration double precision, OUT cause text,
	OUT "position" double precision, OUT closed boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'qoe_buffer_episodes' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

CREATE FUNCTION playback_intervals(t qoe_timeline,
	OUT session text, OUT session_no integer, OUT state text,
	OUT started_at timestamptz, OUT ended_at timestamptz,
	OUT duration double precision,
	OUT start_position double precision, OUT end_position double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'qoe_playback_intervals' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 20;

CREATE FUNCTION watched_ranges(t qoe_timeline,
	OUT session text, OUT session_no integer,
	OUT from_position double precision, OUT to_position double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'qoe_watched_ranges' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 5;
