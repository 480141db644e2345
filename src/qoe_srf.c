/*-------------------------------------------------------------------------
 *
 * qoe_srf.c
 *	  Set-returning functions on qoe_timeline: buffer_episodes,
 *	  playback_intervals and watched_ranges (SPEC 6).
 *
 * Materialize mode: the timeline is replayed once and the core's sink
 * callbacks append rows to the tuplestore.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(qoe_buffer_episodes);
PG_FUNCTION_INFO_V1(qoe_playback_intervals);
PG_FUNCTION_INFO_V1(qoe_watched_ranges);

typedef struct SrfSink
{
	Tuplestorestate *store;
	TupleDesc	tupdesc;
	const QoeBuffer *buf;		/* for session key bytes */
	MemoryContext rowcxt;		/* reset after each row */
} SrfSink;

/* session key as text, or NULL */
static Datum
key_datum(const SrfSink *s, uint32_t key, bool *isnull)
{
	size_t		len;
	const char *bytes;

	if (key == QOE_NO_KEY || key >= s->buf->nkeys)
	{
		*isnull = true;
		return (Datum) 0;
	}
	bytes = qoe_buffer_key(s->buf, key, &len);
	*isnull = false;
	return PointerGetDatum(cstring_to_text_with_len(bytes, (int) len));
}

static inline double
duration_secs(int64_t started, int64_t ended)
{
	return (double) (ended - started) / 1e6;
}

static void
put_row(SrfSink *s, Datum *values, bool *nulls)
{
	tuplestore_putvalues(s->store, s->tupdesc, values, nulls);
}

static void
episode_row(void *arg, const QoeEpisode *e)
{
	SrfSink    *s = (SrfSink *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(s->rowcxt);
	Datum		values[8];
	bool		nulls[8] = {0};
	const char *cause = qoe_cause_name(e->cause);

	values[0] = key_datum(s, e->key, &nulls[0]);
	values[1] = Int32GetDatum(e->session_no);
	values[2] = TimestampTzGetDatum(e->started_at);
	values[3] = TimestampTzGetDatum(e->ended_at);
	values[4] = Float8GetDatum(duration_secs(e->started_at, e->ended_at));
	if (cause != NULL)
		values[5] = CStringGetTextDatum(cause);
	else
		nulls[5] = true;
	values[6] = Float8GetDatum(e->position);
	nulls[6] = !e->has_position;
	values[7] = BoolGetDatum(e->closed);
	put_row(s, values, nulls);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(s->rowcxt);
}

static void
interval_row(void *arg, const QoeInterval *iv)
{
	SrfSink    *s = (SrfSink *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(s->rowcxt);
	Datum		values[8];
	bool		nulls[8] = {0};
	const char *state = qoe_state_name(iv->state);

	values[0] = key_datum(s, iv->key, &nulls[0]);
	values[1] = Int32GetDatum(iv->session_no);
	if (state != NULL)
		values[2] = CStringGetTextDatum(state);
	else
		nulls[2] = true;
	values[3] = TimestampTzGetDatum(iv->started_at);
	values[4] = TimestampTzGetDatum(iv->ended_at);
	values[5] = Float8GetDatum(duration_secs(iv->started_at, iv->ended_at));
	values[6] = Float8GetDatum(iv->start_position);
	nulls[6] = !iv->has_start_position;
	values[7] = Float8GetDatum(iv->end_position);
	nulls[7] = !iv->has_end_position;
	put_row(s, values, nulls);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(s->rowcxt);
}

static void
range_row(void *arg, const QoeRange *r)
{
	SrfSink    *s = (SrfSink *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(s->rowcxt);
	Datum		values[4];
	bool		nulls[4] = {0};

	values[0] = key_datum(s, r->key, &nulls[0]);
	values[1] = Int32GetDatum(r->session_no);
	values[2] = Float8GetDatum(r->from_position);
	values[3] = Float8GetDatum(r->to_position);
	put_row(s, values, nulls);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(s->rowcxt);
}

/* replay the timeline in argument 0, sending rows to the given callbacks */
static void
run_srf(FunctionCallInfo fcinfo, int expected_natts, QoeSink *sink)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	QoeAllocator alloc;
	QoeBuffer	b;
	QoeParams	p;
	QoeMetrics	m;
	SrfSink		s;

	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != expected_natts)
		elog(ERROR, "return type must be a row type with %d columns", expected_natts);

	qoe_pg_allocator_init(&alloc, CurrentMemoryContext);
	qoe_pg_timeline_decode(PG_GETARG_DATUM(0), &b, &alloc);

	s.store = rsinfo->setResult;
	s.tupdesc = rsinfo->setDesc;
	s.buf = &b;
	s.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "qoe_agg SRF row",
									 ALLOCSET_SMALL_SIZES);
	sink->arg = &s;

	qoe_pg_params(&p);
	qoe_replay(&b, &p, &m, sink);

	MemoryContextDelete(s.rowcxt);
	qoe_buffer_free(&b);
}

Datum
qoe_buffer_episodes(PG_FUNCTION_ARGS)
{
	QoeSink		sink = {0};

	sink.episode = episode_row;
	run_srf(fcinfo, 8, &sink);
	return (Datum) 0;
}

Datum
qoe_playback_intervals(PG_FUNCTION_ARGS)
{
	QoeSink		sink = {0};

	sink.interval = interval_row;
	run_srf(fcinfo, 8, &sink);
	return (Datum) 0;
}

Datum
qoe_watched_ranges(PG_FUNCTION_ARGS)
{
	QoeSink		sink = {0};

	sink.range = range_row;
	run_srf(fcinfo, 4, &sink);
	return (Datum) 0;
}
