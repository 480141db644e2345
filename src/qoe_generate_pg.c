/*-------------------------------------------------------------------------
 *
 * qoe_generate_pg.c
 *	  SQL glue of the telemetry generator (simulation in qoe_generate.c):
 *
 *	  qoe_generate_events(sessions, days, seed, videos, start): one row per
 *		player event, sessions one after the other in delivery order;
 *	  qoe_generate_videos(videos, seed): the catalogue the events refer to.
 *
 * Materialize mode: rows go to a tuplestore (which spills to disk beyond
 * work_mem).
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "qoe_generate.h"

PG_FUNCTION_INFO_V1(qoe_generate_events);
PG_FUNCTION_INFO_V1(qoe_generate_videos);

#define EVENT_COLUMNS 14

static void
check_range(const char *what, int32 v, int32 lo, int32 hi)
{
	if (v < lo || v > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %d and %d, got %d", what, lo, hi, v),
				 errhint("For example qoe_generate_events(100000, 30, 1) generates 100,000 sessions over 30 days.")));
}

static void
video_id_text(char *buf, size_t len, int32 v)
{
	snprintf(buf, len, "v%04d", (int) v);
}

Datum
qoe_generate_events(PG_FUNCTION_ARGS)
{
	int32		sessions = PG_GETARG_INT32(0);
	int32		days = PG_GETARG_INT32(1);
	int32		seed = PG_GETARG_INT32(2);
	int32		videos = PG_GETARG_INT32(3);
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(4);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	QoeGenConfig cfg;
	QoeGenSession *s;
	Datum	   *names;
	MemoryContext sesscxt,
				oldcxt;
	Datum		values[EVENT_COLUMNS];
	bool		nulls[EVENT_COLUMNS];

	check_range("sessions", sessions, 0, QOE_GEN_MAX_SESSIONS);
	check_range("days", days, 1, QOE_GEN_MAX_DAYS);
	check_range("videos", videos, 1, QOE_GEN_MAX_VIDEOS);
	if (TIMESTAMP_NOT_FINITE(start) ||
		!IS_VALID_TIMESTAMP(start + (TimestampTz) (days + 2) * USECS_PER_DAY) ||
		!IS_VALID_TIMESTAMP(start - USECS_PER_DAY))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start must be a finite timestamp within range"),
				 errhint("For example '2024-06-01 00:00+00'.")));

	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != EVENT_COLUMNS)
		elog(ERROR, "qoe_generate_events: expected %d result columns", EVENT_COLUMNS);

	cfg.seed = (uint64_t) (int64_t) seed;
	cfg.sessions = sessions;
	cfg.days = days;
	cfg.videos = videos;
	cfg.start_ts = start;
	cfg.delivery_faults = true;

	s = palloc(sizeof(QoeGenSession));
	names = palloc(sizeof(Datum) * qoe_gen_nnames);
	for (int k = 0; k < qoe_gen_nnames; k++)
		names[k] = CStringGetTextDatum(qoe_gen_event_names[k]);

	sesscxt = AllocSetContextCreate(CurrentMemoryContext, "qoe_generate_events",
									ALLOCSET_DEFAULT_SIZES);
	memset(nulls, 0, sizeof(nulls));

	for (int32 i = 0; i < sessions; i++)
	{
		char		vid[16];

		CHECK_FOR_INTERRUPTS();
		qoe_gen_session(&cfg, (uint64_t) i, s);

		MemoryContextReset(sesscxt);
		oldcxt = MemoryContextSwitchTo(sesscxt);
		video_id_text(vid, sizeof(vid), s->video_id);
		values[4] = CStringGetTextDatum(s->session_id);
		values[5] = Int64GetDatum(s->user_id);
		values[6] = CStringGetTextDatum(vid);
		values[7] = CStringGetTextDatum(s->device_type);
		values[8] = CStringGetTextDatum(s->os_version);
		values[9] = CStringGetTextDatum(s->app_version);
		values[10] = CStringGetTextDatum(s->network_type);
		values[11] = CStringGetTextDatum(s->country_code);
		values[12] = CStringGetTextDatum(s->isp);
		values[13] = CStringGetTextDatum(s->cdn_pop);
		MemoryContextSwitchTo(oldcxt);

		for (int k = 0; k < s->nrows; k++)
		{
			const QoeGenRow *row = &s->rows[k];

			values[0] = TimestampTzGetDatum(row->ts);
			values[1] = names[row->name];
			values[2] = Float8GetDatum(row->position);
			nulls[2] = !row->has_position;
			values[3] = Float8GetDatum(row->bitrate);
			nulls[3] = !row->has_bitrate;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	MemoryContextDelete(sesscxt);
	return (Datum) 0;
}

Datum
qoe_generate_videos(PG_FUNCTION_ARGS)
{
	int32		videos = PG_GETARG_INT32(0);
	int32		seed = PG_GETARG_INT32(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext rowcxt,
				oldcxt;

	check_range("videos", videos, 0, QOE_GEN_MAX_VIDEOS);
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != 4)
		elog(ERROR, "qoe_generate_videos: expected 4 result columns");

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "qoe_generate_videos",
								   ALLOCSET_DEFAULT_SIZES);
	for (int32 v = 1; v <= videos; v++)
	{
		QoeGenVideo video;
		char		vid[16];
		Datum		values[4];
		bool		nulls[4] = {0};

		if ((v & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		qoe_gen_video((uint64_t) (int64_t) seed, v, &video);
		MemoryContextReset(rowcxt);
		oldcxt = MemoryContextSwitchTo(rowcxt);
		video_id_text(vid, sizeof(vid), v);
		values[0] = CStringGetTextDatum(vid);
		values[1] = CStringGetTextDatum(video.title);
		values[2] = Float8GetDatum(video.duration);
		values[3] = CStringGetTextDatum(video.category);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(oldcxt);
	}
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}
