/*
 * test_generate.c
 *	  Unit tests of the telemetry generator (src/qoe_generate.c): determinism
 *	  per session index, invariants of the simulated events, the delivery
 *	  faults, the video catalogue, and the simulation speed (reported as a
 *	  TAP comment: events per second on one core).
 */
#include "qoe_core.h"
#include "qoe_generate.h"
#include "unit.h"

#include <time.h>

static QoeGenSession sa,
			sb;

static QoeGenConfig
config(uint64_t seed, bool faults)
{
	QoeGenConfig c;

	c.seed = seed;
	c.sessions = 5000;
	c.days = 30;
	c.videos = 1000;
	c.start_ts = INT64_C(770428800) * 1000000;	/* 2024-06-01 00:00 UTC */
	c.delivery_faults = faults;
	return c;
}

static bool
same_session(const QoeGenSession *a, const QoeGenSession *b)
{
	if (a->nrows != b->nrows || strcmp(a->session_id, b->session_id) != 0 ||
		a->user_id != b->user_id || a->video_id != b->video_id ||
		strcmp(a->device_type, b->device_type) != 0 ||
		strcmp(a->app_version, b->app_version) != 0 ||
		strcmp(a->cdn_pop, b->cdn_pop) != 0)
		return false;
	for (int k = 0; k < a->nrows; k++)
	{
		const QoeGenRow *x = &a->rows[k],
				   *y = &b->rows[k];

		if (x->ts != y->ts || x->name != y->name || x->has_position != y->has_position ||
			x->has_bitrate != y->has_bitrate ||
			(x->has_position && x->position != y->position) ||
			(x->has_bitrate && x->bitrate != y->bitrate))
			return false;
	}
	return true;
}

static int
kind_of(const QoeGenRow *row)
{
	const char *name = qoe_gen_event_names[row->name];

	return qoe_lookup_kind(NULL, name, strlen(name));
}

static void
test_determinism(void)
{
	QoeGenConfig c = config(7, true);
	QoeGenConfig c2 = config(8, true);
	bool		same = true,
				differs = false;

	/* session 123 is the same whether generated first or after others */
	qoe_gen_session(&c, 123, &sa);
	for (uint64_t i = 0; i < 50; i++)
		qoe_gen_session(&c, i, &sb);
	qoe_gen_session(&c, 123, &sb);
	CHECK(same_session(&sa, &sb));

	for (uint64_t i = 0; i < 200; i++)
	{
		qoe_gen_session(&c, i, &sa);
		qoe_gen_session(&c, i, &sb);
		same = same && same_session(&sa, &sb);
		qoe_gen_session(&c2, i, &sb);
		differs = differs || !same_session(&sa, &sb);
	}
	CHECK(same);
	CHECK(differs);

	/* session ids are distinct */
	{
		char		first[20];
		bool		distinct = true;

		qoe_gen_session(&c, 0, &sa);
		strcpy(first, sa.session_id);
		for (uint64_t i = 1; i < 1000; i++)
		{
			qoe_gen_session(&c, i, &sb);
			distinct = distinct && strcmp(first, sb.session_id) != 0;
		}
		CHECK(distinct);
		CHECK_INT(strlen(first), 16);
	}

	/* faults off: same simulated events, only delivery differs */
	{
		QoeGenConfig clean = config(7, false);
		int			nclean = 0,
					nfault = 0;

		for (uint64_t i = 0; i < 500; i++)
		{
			qoe_gen_session(&clean, i, &sa);
			qoe_gen_session(&c, i, &sb);
			nclean += sa.nrows;
			nfault += sb.nrows;
		}
		CHECK(nclean > 5000);
		CHECK(abs(nfault - nclean) < nclean / 20);
	}
}

static void
test_invariants(void)
{
	QoeGenConfig c = config(1, false);
	bool		monotone = true,
				in_range = true,
				known = true,
				ended_at_end = true,
				first_is_request = true,
				bitrate_ok = true,
				dims = true;
	int			sessions_started = 0,
				completions = 0,
				errors = 0,
				stalls = 0,
				seeks = 0,
				pauses = 0;
	int64_t		lo = c.start_ts,
				hi = c.start_ts + (int64_t) c.days * 86400 * 1000000;

	for (uint64_t i = 0; i < 3000; i++)
	{
		qoe_gen_session(&c, i, &sa);
		if (sa.nrows < 1 || kind_of(&sa.rows[0]) != QOE_REQUEST)
			first_is_request = false;
		if (sa.nrows >= 1 && (sa.rows[0].ts < lo || sa.rows[0].ts >= hi))
			in_range = false;
		if (sa.user_id < 1 || sa.user_id > 1000 || sa.video_id < 1 || sa.video_id > 1000 ||
			!sa.device_type || !sa.os_version || !sa.app_version || !sa.network_type ||
			!sa.country_code || !sa.isp || !sa.cdn_pop)
			dims = false;
		for (int k = 0; k < sa.nrows; k++)
		{
			const QoeGenRow *row = &sa.rows[k];
			int			kind = kind_of(row);

			if (k > 0 && row->ts < sa.rows[k - 1].ts)
				monotone = false;
			if (row->has_position &&
				(row->position < 0 || row->position > sa.video_duration))
				in_range = false;
			if (kind == QOE_KIND_UNKNOWN)
				known = false;
			if (kind == QOE_ENDED && (!row->has_position || row->position != sa.video_duration))
				ended_at_end = false;
			if ((kind == QOE_BITRATE) != row->has_bitrate ||
				(row->has_bitrate && (row->bitrate < 200e3 || row->bitrate > 20e6)))
				bitrate_ok = false;
			completions += kind == QOE_ENDED;
			errors += kind == QOE_ERROR;
			stalls += kind == QOE_BUFFER_START;
			seeks += kind == QOE_SEEK_START || kind == QOE_SEEK;
			pauses += kind == QOE_PAUSE;
			sessions_started += kind == QOE_PLAYING && k <= 1;
		}
	}
	CHECK(monotone);
	CHECK(in_range);
	CHECK(known);
	CHECK(ended_at_end);
	CHECK(first_is_request);
	CHECK(bitrate_ok);
	CHECK(dims);
	CHECK(sessions_started > 2400 && sessions_started < 2950);
	CHECK(completions > 600);
	CHECK(errors > 10);
	CHECK(stalls > 300);
	CHECK(seeks > 300);
	CHECK(pauses > 300);
}

static void
test_faults(void)
{
	QoeGenConfig c = config(1, true);
	int			unknown = 0,
				dup = 0,
				swapped = 0;

	for (uint64_t i = 0; i < 3000; i++)
	{
		qoe_gen_session(&c, i, &sa);
		for (int k = 0; k < sa.nrows; k++)
		{
			const QoeGenRow *row = &sa.rows[k];

			if (kind_of(row) == QOE_KIND_UNKNOWN)
				unknown++;
			if (k > 0 && row->ts < sa.rows[k - 1].ts)
				swapped++;
			if (k > 0 && row->ts == sa.rows[k - 1].ts && row->name == sa.rows[k - 1].name &&
				row->has_position == sa.rows[k - 1].has_position &&
				row->position == sa.rows[k - 1].position)
				dup++;
		}
	}
	CHECK(unknown > 20);
	CHECK(dup > 20);
	CHECK(swapped > 50);
}

/* a session replays through the core as expected */
static void
test_replay(void)
{
	QoeGenConfig c = config(3, false);
	int64_t		sessions = 0,
				completions = 0,
				ended_rows = 0;
	double		play = 0;

	for (uint64_t i = 0; i < 300; i++)
	{
		QoeBuffer	b;
		QoeMetrics	m;

		qoe_gen_session(&c, i, &sa);
		qoe_buffer_init(&b, &qoe_malloc_allocator);
		for (int k = 0; k < sa.nrows; k++)
		{
			const QoeGenRow *row = &sa.rows[k];
			int			kind = kind_of(row);

			ended_rows += kind == QOE_ENDED;
			qoe_buffer_add(&b, false, row->ts, kind, !row->has_position, row->position,
						   !row->has_bitrate, row->bitrate, sa.session_id,
						   strlen(sa.session_id));
		}
		qoe_replay(&b, &qoe_default_params, &m, NULL);
		sessions += m.sessions;
		completions += m.completions;
		play += m.play_time;
		qoe_buffer_free(&b);
	}
	CHECK_INT(sessions, 300);
	CHECK_INT(completions, ended_rows);
	CHECK(play > 300 * 60.0);
}

static void
test_videos(void)
{
	QoeGenVideo v,
				w;
	bool		ok = true;
	double		minlen = 1e9,
				maxlen = 0;

	for (int32_t i = 1; i <= 1000; i++)
	{
		qoe_gen_video(1, i, &v);
		qoe_gen_video(1, i, &w);
		if (v.id != i || v.duration != w.duration || strcmp(v.title, w.title) != 0 ||
			v.duration < 30 || v.duration > 7801 || v.title[0] == '\0')
			ok = false;
		minlen = v.duration < minlen ? v.duration : minlen;
		maxlen = v.duration > maxlen ? v.duration : maxlen;
	}
	CHECK(ok);
	CHECK(minlen < 60);
	CHECK(maxlen > 7000);
}

static void
test_speed(void)
{
	QoeGenConfig c = config(1, true);
	struct timespec t0,
				t1;
	int64_t		events = 0;
	double		secs;

	c.sessions = 100000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < 20000; i++)
	{
		qoe_gen_session(&c, i, &sa);
		events += sa.nrows;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# generator: %lld events from 20000 sessions in %.3f s = %.1f M events/s on one core\n",
		   (long long) events, secs, (double) events / secs / 1e6);
	CHECK(events > 20000 * 10);
}

int
main(void)
{
	test_determinism();
	test_invariants();
	test_faults();
	test_replay();
	test_videos();
	test_speed();
	return unit_done();
}
