/*-------------------------------------------------------------------------
 *
 * qoe_accessors.c
 *	  Metrics of a qoe_timeline as SQL values: one accessor per metric,
 *	  qoe_stats(t), completed() and percent_watched(), and the helpers
 *	  shared with the aggregate final functions.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(qoe_t_stats);
PG_FUNCTION_INFO_V1(qoe_t_completed);
PG_FUNCTION_INFO_V1(qoe_t_percent_watched);

/* column names of qoe_stats, checked against the catalog's tuple descriptor */
#define QOE_FIELD_NAME(upper, lower, type) #lower,
static const char *const qoe_field_names[QOE_NFIELDS] = {
	QOE_STATS_FIELDS(QOE_FIELD_NAME)
};
#undef QOE_FIELD_NAME

/* and their SQL types */
#define QOE_FIELD_TYPE(upper, lower, type) type,
static const Oid qoe_field_types[QOE_NFIELDS] = {
	QOE_STATS_FIELDS(QOE_FIELD_TYPE)
};
#undef QOE_FIELD_TYPE

static inline Datum
float8_or_null(bool ok, double v, bool *isnull)
{
	*isnull = !ok;
	return ok ? Float8GetDatum(v) : (Datum) 0;
}

/*
 * One metric as a datum.  NULLs per SPEC 8.16: ratios, startup time,
 * positions, bitrates and first/last ts may be NULL; counts and times never.
 */
Datum
qoe_pg_metric_datum(const QoeMetrics *m, QoeField f, bool *isnull)
{
	double		v = 0;

	*isnull = false;
	switch (f)
	{
		case QOE_F_SESSIONS:
			return Int64GetDatum(m->sessions);
		case QOE_F_PLAY_TIME:
		case QOE_F_WATCH_TIME:
			return Float8GetDatum(m->play_time);
		case QOE_F_VIEW_TIME:
			return Float8GetDatum(qoe_view_time(m));
		case QOE_F_STARTING_TIME:
			return Float8GetDatum(m->starting_time);
		case QOE_F_PAUSED_TIME:
			return Float8GetDatum(m->paused_time);
		case QOE_F_BUFFER_TIME:
			return Float8GetDatum(m->buffer_time);
		case QOE_F_SEEK_TIME:
			return Float8GetDatum(m->seek_time);
		case QOE_F_AD_TIME:
			return Float8GetDatum(m->ad_time);
		case QOE_F_REBUFFER_TIME:
			return Float8GetDatum(m->rebuffer_time);
		case QOE_F_REBUFFER_COUNT:
			return Int64GetDatum(m->rebuffer_count);
		case QOE_F_BUFFER_COUNT:
			return Int64GetDatum(m->buffer_count);
		case QOE_F_STARTUP_TIME:
			{
				bool		ok = qoe_startup_time(m, &v);

				return float8_or_null(ok, v, isnull);
			}
		case QOE_F_PAUSE_COUNT:
			return Int64GetDatum(m->pause_count);
		case QOE_F_SEEK_COUNT:
			return Int64GetDatum(m->seek_count);
		case QOE_F_SEEK_FORWARD:
			return Int64GetDatum(m->seek_forward);
		case QOE_F_SEEK_BACKWARD:
			return Int64GetDatum(m->seek_backward);
		case QOE_F_AD_COUNT:
			return Int64GetDatum(m->ad_count);
		case QOE_F_REPLAYS:
			return Int64GetDatum(m->replays);
		case QOE_F_COMPLETIONS:
			return Int64GetDatum(m->completions);
		case QOE_F_ERRORS:
			return Int64GetDatum(m->errors);
		case QOE_F_EXITS_BEFORE_START:
			return Int64GetDatum(m->exits_before_start);
		case QOE_F_START_FAILURES:
			return Int64GetDatum(m->start_failures);
		case QOE_F_PLAYBACK_FAILURES:
			return Int64GetDatum(m->playback_failures);
		case QOE_F_MAX_POSITION:
			return float8_or_null(m->has_position, m->max_position, isnull);
		case QOE_F_CONTENT_WATCHED:
			return float8_or_null(m->has_position, m->content_watched, isnull);
		case QOE_F_AVG_BITRATE:
			{
				bool		ok = qoe_avg_bitrate(m, &v);

				return float8_or_null(ok, v, isnull);
			}
		case QOE_F_MIN_BITRATE:
			return float8_or_null(m->has_bitrate, m->min_bitrate, isnull);
		case QOE_F_MAX_BITRATE:
			return float8_or_null(m->has_bitrate, m->max_bitrate, isnull);
		case QOE_F_UPSHIFTS:
			return Int64GetDatum(m->upshifts);
		case QOE_F_DOWNSHIFTS:
			return Int64GetDatum(m->downshifts);
		case QOE_F_UNMATCHED_BUFFER_ENDS:
			return Int64GetDatum(m->unmatched_buffer_ends);
		case QOE_F_DUPLICATE_EVENTS:
			return Int64GetDatum(m->duplicate_events);
		case QOE_F_UNKNOWN_EVENTS:
			return Int64GetDatum(m->unknown_events);
		case QOE_F_INVALID_EVENTS:
			return Int64GetDatum(m->invalid_events);
		case QOE_F_FIRST_TS:
			*isnull = !m->has_ts;
			return m->has_ts ? TimestampTzGetDatum(m->first_ts) : (Datum) 0;
		case QOE_F_LAST_TS:
			*isnull = !m->has_ts;
			return m->has_ts ? TimestampTzGetDatum(m->last_ts) : (Datum) 0;
		case QOE_F_REBUFFER_RATIO:
			{
				bool		ok = qoe_rebuffer_ratio(m, &v);

				return float8_or_null(ok, v, isnull);
			}
		case QOE_F_REBUFFER_PERCENTAGE:
			{
				bool		ok = qoe_rebuffer_percentage(m, &v);

				return float8_or_null(ok, v, isnull);
			}
		case QOE_F_REBUFFER_FREQUENCY:
			{
				bool		ok = qoe_rebuffer_frequency(m, &v);

				return float8_or_null(ok, v, isnull);
			}
		case QOE_NFIELDS:
			break;
	}
	elog(ERROR, "unknown qoe_stats field %d", (int) f);
	return (Datum) 0;			/* keep compiler quiet */
}

/* the qoe_stats composite, every field in declared order */
Datum
qoe_pg_stats_datum(FunctionCallInfo fcinfo, const QoeMetrics *m)
{
	TupleDesc	tupdesc;
	Datum		values[QOE_NFIELDS];
	bool		nulls[QOE_NFIELDS];
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));

	/* the type belongs to the extension; refuse to misplace fields if altered */
	if (tupdesc->natts != QOE_NFIELDS)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("type qoe_stats has %d attributes, expected %d",
						tupdesc->natts, (int) QOE_NFIELDS),
				 errhint("Reinstall the qoe_agg extension.")));
	for (i = 0; i < QOE_NFIELDS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), qoe_field_names[i]) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("attribute %d of type qoe_stats is \"%s\", expected \"%s\"",
							i + 1, NameStr(att->attname), qoe_field_names[i]),
					 errhint("Reinstall the qoe_agg extension.")));
		/* a datum of the wrong type would be misread: refuse, never crash */
		if (att->atttypid != qoe_field_types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("attribute \"%s\" of type qoe_stats has type %s, expected %s",
							NameStr(att->attname), format_type_be(att->atttypid),
							format_type_be(qoe_field_types[i])),
					 errhint("Reinstall the qoe_agg extension.")));
		values[i] = qoe_pg_metric_datum(m, (QoeField) i, &nulls[i]);
	}
	tupdesc = BlessTupleDesc(tupdesc);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

void
qoe_pg_replay_timeline(Datum d, QoeMetrics *m)
{
	QoeAllocator alloc;
	QoeBuffer	b;
	QoeParams	p;

	qoe_pg_temp_allocator_init(&alloc);
	qoe_pg_timeline_decode(d, &b, &alloc);
	qoe_pg_params(&p);
	qoe_replay(&b, &p, m, NULL);
	qoe_buffer_free(&b);
}

Datum
qoe_t_stats(PG_FUNCTION_ARGS)
{
	QoeMetrics	m;

	qoe_pg_replay_timeline(PG_GETARG_DATUM(0), &m);
	return qoe_pg_stats_datum(fcinfo, &m);
}

/* one accessor per metric: qoe_t_<metric>(qoe_timeline) */
#define QOE_ACCESSOR(upper, lower, type) \
PG_FUNCTION_INFO_V1(qoe_t_##lower); \
Datum \
qoe_t_##lower(PG_FUNCTION_ARGS) \
{ \
	QoeMetrics	m; \
	bool		isnull; \
	Datum		result; \
	\
	qoe_pg_replay_timeline(PG_GETARG_DATUM(0), &m); \
	result = qoe_pg_metric_datum(&m, QOE_F_##upper, &isnull); \
	if (isnull) \
		PG_RETURN_NULL(); \
	return result; \
}

QOE_STATS_FIELDS(QOE_ACCESSOR)

/*
 * completed(t, duration DEFAULT NULL, min_fraction DEFAULT 0.75)
 *
 * SPEC 5 and 8.22: at least one completion (ended event); when a duration
 * is given, also content_watched >= min_fraction * duration, and false (not
 * NULL) when content_watched is NULL.  The function is not strict because
 * duration defaults to NULL, meaning "not given".  For the same reason an
 * explicit NULL min_fraction means "not given" and falls back to the
 * default 0.75.  NULL t gives NULL.
 */
#define QOE_DEFAULT_MIN_FRACTION 0.75

Datum
qoe_t_completed(PG_FUNCTION_ARGS)
{
	QoeMetrics	m;
	double		duration;
	double		min_fraction = QOE_DEFAULT_MIN_FRACTION;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	qoe_pg_replay_timeline(PG_GETARG_DATUM(0), &m);

	if (m.completions <= 0)
		PG_RETURN_BOOL(false);
	if (PG_NARGS() < 2 || PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);

	duration = PG_GETARG_FLOAT8(1);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		min_fraction = PG_GETARG_FLOAT8(2);
	if (!m.has_position)
		PG_RETURN_BOOL(false);
	/* a NaN threshold compares false: not completed */
	PG_RETURN_BOOL(m.content_watched >= min_fraction * duration);
}

/*
 * percent_watched(t, duration): content_watched / duration, a fraction
 * (1.0 = the whole duration).  NULL when t, content_watched or duration is
 * NULL, or duration <= 0 or NaN (SPEC 8.22).
 */
Datum
qoe_t_percent_watched(PG_FUNCTION_ARGS)
{
	QoeMetrics	m;
	double		duration;

	if (PG_ARGISNULL(0) || PG_NARGS() < 2 || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	duration = PG_GETARG_FLOAT8(1);
	if (isnan(duration) || duration <= 0)
		PG_RETURN_NULL();

	qoe_pg_replay_timeline(PG_GETARG_DATUM(0), &m);
	if (!m.has_position)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(m.content_watched / duration);
}
