/*-------------------------------------------------------------------------
 *
 * qoe_windows_pg.c
 *	  SQL glue of qoe_windows(t qoe_timeline, bucket interval): one row per
 *	  time bucket (SPEC 6, 8.20).  The sweep itself is in qoe_windows.c.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include "funcapi.h"
#include "datatype/timestamp.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(qoe_windows_srf);

/* events replayed at a time (whole sessions): 2 MB of buffer */
#define WINDOWS_PIECE_EVENTS 65536

typedef struct WindowSink
{
	Tuplestorestate *store;
	TupleDesc	tupdesc;
} WindowSink;

static void
window_row(void *arg, const QoeWindowRow *r)
{
	WindowSink *s = (WindowSink *) arg;
	Datum		values[10];
	bool		nulls[10] = {0};

	values[0] = TimestampTzGetDatum(r->bucket_start);
	values[1] = Int32GetDatum(r->concurrent_peak);
	values[2] = Float8GetDatum(r->concurrent_avg);
	values[3] = Float8GetDatum(r->play_time);
	values[4] = Int64GetDatum(r->buffer_count);
	values[5] = Float8GetDatum(r->buffer_time);
	values[6] = Float8GetDatum(r->avg_bitrate);
	values[7] = Float8GetDatum(r->min_bitrate);
	values[8] = Float8GetDatum(r->max_bitrate);
	nulls[6] = nulls[7] = nulls[8] = !r->has_bitrate;
	values[9] = Int64GetDatum(r->sessions_started);
	tuplestore_putvalues(s->store, s->tupdesc, values, nulls);
}

/* bucket width in microseconds; errors for month-based or non-positive */
static int64
bucket_width(const Interval *iv)
{
	int128		w;

	if (iv->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bucket width must not contain months or years"),
				 errhint("Months have no fixed length; use days, e.g. '30 days'.")));
	w = (int128) iv->day * USECS_PER_DAY + iv->time;
	if (w <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bucket width must be positive"),
				 errhint("Use an interval such as '1 minute'.")));
	if (w > INT64CONST(1000000000000000000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bucket width is too large")));
	return (int64) w;
}

Datum
qoe_windows_srf(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		width = bucket_width(PG_GETARG_INTERVAL_P(1));
	QoeAllocator alloc;
	QoeBuffer	buf;
	QoeSerialReader reader;
	struct varlena *v;
	QoeParams	params;
	WindowSink	sink;
	const char *err;

	InitMaterializedSRF(fcinfo, 0);
	sink.store = rsinfo->setResult;
	sink.tupdesc = rsinfo->setDesc;

	/*
	 * The timeline is checked whole, then replayed a piece at a time: a
	 * timeline of millions of events is never copied into one buffer.
	 */
	qoe_pg_allocator_init(&alloc, CurrentMemoryContext);
	qoe_buffer_init(&buf, &alloc);
	v = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	err = qoe_serial_open(&reader, (const unsigned char *) VARDATA_ANY(v),
						  VARSIZE_ANY_EXHDR(v), &buf);
	if (err != NULL)
		qoe_pg_timeline_corrupt(err);
	qoe_pg_params(&params);
	err = qoe_windows_serial(&reader, &buf, WINDOWS_PIECE_EVENTS, &params,
							 width, window_row, &sink);
	if (err != NULL && strcmp(err, QOE_WINDOWS_ERR_READ) == 0)
		qoe_pg_timeline_corrupt(err);
	if (err != NULL && strcmp(err, QOE_WINDOWS_ERR_TOO_MANY) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("qoe_windows bucket out of range"),
				 errdetail("%s", qoe_pg_sentence(err)),
				 errhint("Use a bucket width that divides a day, or drop events near the start of the timestamp range.")));
	if (err != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("qoe_windows would return more than %d rows",
						(int) QOE_WINDOWS_MAX_BUCKETS),
				 errdetail("%s", qoe_pg_sentence(err)),
				 errhint("Use a wider bucket or a shorter time range.")));
	qoe_buffer_free(&buf);
	if ((Pointer) v != DatumGetPointer(PG_GETARG_DATUM(0)))
		pfree(v);
	return (Datum) 0;
}
