/*
 * test_replay.c
 *	  Unit tests of the session state machine and metrics (qoe_replay.c):
 *	  every worked scenario of SPEC 7 and the precise readings of SPEC 8.
 */
#include "qoe_core.h"
#include "qoe_generate.h"
#include "unit.h"
#include "replay_check.h"

#define NUL NAN					/* a NULL position or value */
#define S(sec) ((int64_t) ((sec) * 1000000.0))

typedef struct Ev
{
	double		sec;
	int			kind;
	double		pos;
	double		value;
	const char *key;
} Ev;

typedef struct Rows
{
	int			nep;
	QoeEpisode	ep[16];
	int			niv;
	QoeInterval iv[32];
	int			nrg;
	QoeRange	rg[16];
} Rows;

static void
on_episode(void *arg, const QoeEpisode *e)
{
	Rows	   *r = arg;

	if (r->nep < 16)
		r->ep[r->nep] = *e;
	r->nep++;
}

static void
on_interval(void *arg, const QoeInterval *iv)
{
	Rows	   *r = arg;

	if (r->niv < 32)
		r->iv[r->niv] = *iv;
	r->niv++;
}

static void
on_range(void *arg, const QoeRange *rg)
{
	Rows	   *r = arg;

	if (r->nrg < 16)
		r->rg[r->nrg] = *rg;
	r->nrg++;
}

static Rows rows;

/* replay n events with params p; rows collected into the global "rows" */
static QoeMetrics
run_p(const Ev *ev, int n, const QoeParams *p)
{
	QoeBuffer	b;
	QoeMetrics	m;
	QoeSink		sink;
	int			i;

	memset(&rows, 0, sizeof(rows));
	memset(&sink, 0, sizeof(sink));
	sink.arg = &rows;
	sink.episode = on_episode;
	sink.interval = on_interval;
	sink.range = on_range;

	qoe_buffer_init(&b, &qoe_malloc_allocator);
	/* add in reverse order: the result must not depend on arrival order */
	for (i = n - 1; i >= 0; i--)
		qoe_buffer_add(&b, false, S(ev[i].sec), ev[i].kind,
					   isnan(ev[i].pos), isnan(ev[i].pos) ? 0 : ev[i].pos,
					   isnan(ev[i].value), isnan(ev[i].value) ? 0 : ev[i].value,
					   ev[i].key, ev[i].key ? strlen(ev[i].key) : 0);
	qoe_replay(&b, p, &m, &sink);
	qoe_buffer_free(&b);
	return m;
}

static QoeMetrics
run(const Ev *ev, int n)
{
	return run_p(ev, n, &qoe_default_params);
}

#define RUN(arr) run(arr, (int) (sizeof(arr) / sizeof(arr[0])))

static void
scenarios(void)
{
	QoeMetrics	m;
	double		d;

	/* 1. play@0[0], ended@60[60] */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {60, QOE_ENDED, 60, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.play_time, 60);
		CHECK_DBL(m.content_watched, 60);
		CHECK_INT(m.completions, 1);
		CHECK_INT(m.sessions, 1);
		CHECK(qoe_startup_time(&m, &d) && d == 0);
		CHECK_DBL(qoe_view_time(&m), 60);
		CHECK_DBL(m.max_position, 60);
	}
	/* 2. pause and resume */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_PAUSE, 10, NUL, NULL},
		{20, QOE_PLAY, 10, NUL, NULL}, {70, QOE_ENDED, 60, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.play_time, 60);
		CHECK_DBL(m.paused_time, 10);
		CHECK_INT(m.pause_count, 1);
		CHECK_DBL(m.content_watched, 60);
		CHECK_INT(rows.niv, 3);
	}
	/* 3. pause then nothing */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_PAUSE, 10, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.play_time, 10);
		CHECK_DBL(m.paused_time, 0);
	}
	/* 4. unreported forward skip */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_HEARTBEAT, 10, NUL, NULL},
		{20, QOE_HEARTBEAT, 200, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.play_time, 20);
		CHECK_INT(m.seek_forward, 1);
		CHECK_INT(m.seek_count, 1);
		CHECK_DBL(m.content_watched, 20);
		CHECK_DBL(m.max_position, 200);
		/* two playing intervals touch: merged into one row 0 -> 20, [0 .. 20] */
		CHECK_INT(rows.niv, 1);
		CHECK_DBL(rows.iv[0].start_position, 0);
		CHECK_DBL(rows.iv[0].end_position, 20);
	}
	/* 5. reported backward seek */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {30, QOE_SEEK_START, 30, NUL, NULL},
		{30, QOE_SEEK_END, 15, NUL, NULL}, {75, QOE_ENDED, 60, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.play_time, 75);
		CHECK_INT(m.seek_count, 1);
		CHECK_INT(m.seek_backward, 1);
		CHECK_INT(m.seek_forward, 0);
		CHECK_DBL(m.content_watched, 60);
		CHECK_INT(rows.nrg, 1);
		CHECK_DBL(rows.rg[0].from_position, 0);
		CHECK_DBL(rows.rg[0].to_position, 60);
	}
	/* 6. buffer only */
	{
		Ev			e[] = {{0, QOE_BUFFER_START, NUL, NUL, NULL}, {30, QOE_BUFFER_END, NUL, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.buffer_time, 30);
		CHECK_INT(m.buffer_count, 1);
		CHECK_INT(m.rebuffer_count, 0);
		CHECK_INT(rows.nep, 1);
		CHECK_INT(rows.ep[0].cause, QOE_CAUSE_STARTUP);
		CHECK(rows.ep[0].closed);
		CHECK(!m.has_position);
		CHECK_INT(m.exits_before_start, 0);
	}
	/* 7. heartbeat closes a stall */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {5, QOE_BUFFER_START, 5, NUL, NULL},
		{20, QOE_HEARTBEAT, 6, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.play_time, 5);
		CHECK_DBL(m.rebuffer_time, 15);
		CHECK_INT(m.rebuffer_count, 1);
		CHECK_INT(rows.nep, 1);
		CHECK_INT(rows.ep[0].started_at, S(5));
		CHECK_INT(rows.ep[0].ended_at, S(20));
		CHECK_INT(rows.ep[0].cause, QOE_CAUSE_STALL);
		CHECK(qoe_rebuffer_ratio(&m, &d) && fabs(d - 0.75) < 1e-12);
	}
	/* 8. a long pause splits the session */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_PAUSE, 10, NUL, NULL},
		{4000, QOE_PLAY, 10, NUL, NULL}, {4010, QOE_PAUSE, 20, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.sessions, 2);
		CHECK_DBL(m.play_time, 20);
		CHECK_DBL(m.paused_time, 0);
	}
	/* 9. corroborated gap */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {7200, QOE_ENDED, 7200, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.sessions, 1);
		CHECK_DBL(m.play_time, 7200);
	}
	/* 10. startup with playing events */
	{
		Ev			e[] = {{0, QOE_REQUEST, NUL, NUL, NULL}, {2, QOE_PLAYING, 0, NUL, NULL},
		{12, QOE_ENDED, 10, NUL, NULL}};

		m = RUN(e);
		CHECK(qoe_startup_time(&m, &d) && d == 2);
		CHECK_DBL(m.play_time, 10);
		CHECK_DBL(m.starting_time, 2);
		CHECK_DBL(qoe_view_time(&m), 12);
	}
	/* 11. exit before start */
	{
		Ev			e[] = {{0, QOE_REQUEST, NUL, NUL, NULL}, {5, QOE_EXIT, NUL, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.exits_before_start, 1);
		CHECK(!qoe_startup_time(&m, &d));
		CHECK_DBL(m.starting_time, 5);
	}
	/* 12. unclosed stall */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {1, QOE_BUFFER_START, 1, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.buffer_count, 1);
		CHECK_INT(rows.nep, 1);
		CHECK_INT(rows.ep[0].ended_at - rows.ep[0].started_at, 0);
		CHECK(!rows.ep[0].closed);
	}
}

static void
readings(void)
{
	QoeMetrics	m;
	double		d;

	/* 8.6: replay counted by play after ended, not after request */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_ENDED, 10, NUL, NULL},
		{20, QOE_PLAY, 0, NUL, NULL}, {30, QOE_ENDED, 10, NUL, NULL},
		{40, QOE_REQUEST, NUL, NUL, NULL}, {41, QOE_PLAY, 0, NUL, NULL},
		{51, QOE_ENDED, 10, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.replays, 1);
		CHECK_INT(m.completions, 3);
		CHECK_DBL(m.play_time, 30);
		CHECK_DBL(m.starting_time, 1);
		CHECK_DBL(m.content_watched, 10);
	}
	/* no replay after an error */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_ERROR, 10, NUL, NULL},
		{20, QOE_PLAY, 10, NUL, NULL}, {30, QOE_ENDED, 20, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.replays, 0);
		CHECK_INT(m.errors, 1);
		CHECK_INT(m.playback_failures, 1);
		CHECK_DBL(m.play_time, 20);
	}
	/* 8.14: error before the first frame is a start failure */
	{
		Ev			e[] = {{0, QOE_REQUEST, NUL, NUL, NULL}, {3, QOE_ERROR, NUL, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.start_failures, 1);
		CHECK_INT(m.exits_before_start, 0);
		CHECK_INT(m.playback_failures, 0);
	}
	/* uses playing: a resume after a pause plays at once; first play waits */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {1, QOE_PLAYING, 0, NUL, NULL},
		{11, QOE_PAUSE, 10, NUL, NULL}, {15, QOE_PLAY, 10, NUL, NULL},
		{25, QOE_ENDED, 20, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.starting_time, 1);
		CHECK_DBL(m.play_time, 20);
		CHECK_DBL(m.paused_time, 4);
		CHECK(qoe_startup_time(&m, &d) && d == 1);
	}
	/* seek-caused buffering and seek grace (1 s) */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL},
			{10, QOE_SEEK, 100, NUL, NULL},
			{10.5, QOE_BUFFER_START, NUL, NUL, NULL},
			{12, QOE_BUFFER_END, NUL, NUL, NULL},
			{20, QOE_BUFFER_START, NUL, NUL, NULL},
		{23, QOE_BUFFER_END, NUL, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.buffer_count, 2);
		CHECK_INT(m.rebuffer_count, 1);
		CHECK_DBL(m.rebuffer_time, 3);
		CHECK_DBL(m.buffer_time, 4.5);
		CHECK_INT(m.seek_forward, 1);
		CHECK_INT(rows.ep[0].cause, QOE_CAUSE_SEEK);
		CHECK_INT(rows.ep[1].cause, QOE_CAUSE_STALL);
		/* 0-10 play [0,10]; 10-10.5 play from 100; 12-20 play */
		CHECK_DBL(m.play_time, 10 + 0.5 + 8);
		CHECK_DBL(m.content_watched, 10 + 8.5);
	}
	/* raw buffer pairing: repeated start, unmatched end, same-ts close */
	{
		Ev			e[] = {{0, QOE_BUFFER_START, NUL, NUL, NULL},
			{1, QOE_BUFFER_START, NUL, NUL, NULL},
			{4, QOE_BUFFER_END, NUL, NUL, NULL},
			{6, QOE_BUFFER_END, NUL, NUL, NULL},
			{8, QOE_BUFFER_START, NUL, NUL, NULL},
			{9, QOE_PLAY, NUL, NUL, NULL},
		{9, QOE_BUFFER_END, NUL, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.buffer_count, 2);
		CHECK_INT(m.unmatched_buffer_ends, 1);
		CHECK_DBL(m.buffer_time, 5);
	}
	/* 8.10: exit during buffering closes with closed = false */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {5, QOE_BUFFER_START, 5, NUL, NULL},
		{9, QOE_EXIT, NUL, NUL, NULL}, {10, QOE_PLAY, 0, NUL, NULL},
		{12, QOE_ENDED, 2, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.sessions, 2);
		CHECK_INT(rows.nep, 1);
		CHECK(!rows.ep[0].closed);
		CHECK_DBL(m.rebuffer_time, 4);
		CHECK_DBL(m.play_time, 7);
	}
	/* 8.17 ads; ad time has priority over playing */
	{
		Ev			e[] = {{0, QOE_AD_START, NUL, NUL, NULL}, {0, QOE_AD_START, NUL, NUL, NULL},
		{15, QOE_AD_END, NUL, NUL, NULL}, {15, QOE_PLAY, 0, NUL, NULL},
		{45, QOE_ENDED, 30, NUL, NULL}};

		m = RUN(e);
		/* two ad_start at the same ts with same values are duplicates */
		CHECK_INT(m.ad_count, 1);
		CHECK_INT(m.duplicate_events, 1);
		CHECK_DBL(m.ad_time, 15);
		CHECK_DBL(m.play_time, 30);
	}
	/* bitrate weighting; intervals before any bitrate left out */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_BITRATE, NUL, 1000, NULL},
		{20, QOE_BITRATE, NUL, 3000, NULL}, {40, QOE_BITRATE, NUL, 2000, NULL},
		{50, QOE_ENDED, NUL, NUL, NULL}};

		m = RUN(e);
		CHECK(qoe_avg_bitrate(&m, &d) && fabs(d - (1000 * 10 + 3000 * 20 + 2000 * 10) / 40.0) < 1e-9);
		CHECK_DBL(m.min_bitrate, 1000);
		CHECK_DBL(m.max_bitrate, 3000);
		CHECK_INT(m.upshifts, 1);
		CHECK_INT(m.downshifts, 1);
		CHECK_DBL(m.content_watched, 50);
	}
	/* finite bitrates near DBL_MAX average without overflowing */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {0, QOE_BITRATE, NUL, 1.7e308, NULL},
		{10, QOE_BITRATE, NUL, 1.7e308, NULL}, {20, QOE_ENDED, 20, NUL, NULL}};

		m = RUN(e);
		CHECK(qoe_avg_bitrate(&m, &d) && d == 1.7e308);
	}
	/* 8.12: max_position is the end of the covered range */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {61, QOE_ENDED, 60, NUL, NULL}};

		m = RUN(e);
		CHECK_DBL(m.max_position, 60);
		CHECK_DBL(m.content_watched, 60);
	}
	/* keys: events of different keys never share a session */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, "b"}, {10, QOE_ENDED, 10, NUL, "b"},
		{0, QOE_PLAY, 0, NUL, "a"}, {5, QOE_ENDED, 5, NUL, "a"},
		{1, QOE_PLAY, 0, NUL, NULL}, {2, QOE_ENDED, 1, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.sessions, 3);
		CHECK_DBL(m.play_time, 16);
		CHECK_INT(rows.nrg, 3);
		/* NULL key first, then "a", then "b" */
		CHECK(rows.rg[0].key == QOE_NO_KEY);
		CHECK_DBL(rows.rg[1].to_position, 5);
		CHECK_DBL(rows.rg[2].to_position, 10);
	}
	/* session timeout parameter */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_PAUSE, 10, NUL, NULL},
		{100, QOE_PLAY, 10, NUL, NULL}, {110, QOE_PAUSE, 20, NUL, NULL}};
		QoeParams	p = qoe_default_params;

		p.session_timeout_us = S(60);
		m = run_p(e, 4, &p);
		CHECK_INT(m.sessions, 2);
		CHECK_DBL(m.paused_time, 0);
		m = run_p(e, 4, &qoe_default_params);
		CHECK_INT(m.sessions, 1);
		CHECK_DBL(m.paused_time, 90);
	}
	/* backward unreported skip and the continuous tolerance */
	{
		Ev			e[] = {{0, QOE_PLAY, 100, NUL, NULL}, {10, QOE_HEARTBEAT, 111, NUL, NULL},
		{20, QOE_HEARTBEAT, 50, NUL, NULL}, {30, QOE_HEARTBEAT, 60, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(m.seek_backward, 1);
		CHECK_INT(m.seek_forward, 0);
		/* [100,111] + [111,121] + [50,60] */
		CHECK_DBL(m.content_watched, 31);
		CHECK_DBL(m.max_position, 121);
	}
	/* 8.18: a merged paused interval ends where it started */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_PAUSE, 10, NUL, NULL},
		{15, QOE_HEARTBEAT, 30, NUL, NULL}, {20, QOE_PLAY, NUL, NUL, NULL},
		{30, QOE_ENDED, 40, NUL, NULL}};

		m = RUN(e);
		CHECK_INT(rows.niv, 3);
		CHECK_INT(rows.iv[1].state, QOE_ST_PAUSED);
		CHECK_INT(rows.iv[1].started_at, S(10));
		CHECK_INT(rows.iv[1].ended_at, S(20));
		CHECK_DBL(rows.iv[1].start_position, 10);
		CHECK_DBL(rows.iv[1].end_position, 10);
		CHECK_DBL(rows.iv[2].start_position, 30);
		CHECK_DBL(rows.iv[2].end_position, 40);
	}
	/* timestamps at both ends of PostgreSQL's range: no overflow */
	{
		QoeBuffer	b;
		int64_t		lo = INT64_C(-211813488000000000);
		int64_t		hi = INT64_C(9223371331199999999);
		double		span = ((double) hi - (double) lo) / 1e6;

		qoe_buffer_init(&b, &qoe_malloc_allocator);
		qoe_buffer_add(&b, false, lo, QOE_PLAY, false, 0, true, 0, NULL, 0);
		qoe_buffer_add(&b, false, hi, QOE_ENDED, false, span, true, 0, NULL, 0);
		qoe_buffer_add(&b, false, lo, QOE_PLAY, false, 0, true, 0, "k", 1);
		qoe_buffer_add(&b, false, hi, QOE_ENDED, false, span, true, 0, "k", 1);
		qoe_replay(&b, &qoe_default_params, &m, NULL);
		CHECK_INT(m.sessions, 2);
		CHECK(m.play_time > 0);
		CHECK(fabs(m.play_time - 2 * span) < 1e-6 * span);
		qoe_buffer_free(&b);
	}
	/* data-quality counts saturate at INT64_MAX when merged (bigint in SQL) */
	{
		QoeBuffer	a1;
		QoeBuffer	a2;

		qoe_buffer_init(&a1, &qoe_malloc_allocator);
		qoe_buffer_init(&a2, &qoe_malloc_allocator);
		a1.duplicate_events = (uint64_t) INT64_MAX - 1;
		a2.duplicate_events = 5;
		qoe_buffer_merge(&a1, &a2);
		qoe_replay(&a1, &qoe_default_params, &m, NULL);
		CHECK_INT(m.duplicate_events, INT64_MAX);
		qoe_buffer_free(&a1);
		qoe_buffer_free(&a2);
	}
	/* an all-invalid group: zeros and NULLs */
	{
		QoeBuffer	b;

		qoe_buffer_init(&b, &qoe_malloc_allocator);
		qoe_buffer_add(&b, true, 0, QOE_PLAY, true, 0, true, 0, NULL, 0);
		qoe_buffer_add(&b, false, 0, QOE_KIND_UNKNOWN, true, 0, true, 0, NULL, 0);
		qoe_replay(&b, &qoe_default_params, &m, NULL);
		CHECK_INT(m.sessions, 0);
		CHECK_INT(m.invalid_events, 1);
		CHECK_INT(m.unknown_events, 1);
		CHECK(!m.has_ts);
		CHECK(!qoe_rebuffer_ratio(&m, &d));
		qoe_buffer_free(&b);
	}
}

/* ---------------------------------------------------------------------
 * qoe_replay_merge: realistic sessions merged a piece at a time
 * ---------------------------------------------------------------------
 */

/* every row a sink is given, digested in order (fields, not padding) */
typedef struct Digest
{
	uint64_t	h;
	int64_t		rows;
} Digest;

static void
digest(Digest *d, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		d->h = (d->h ^ c[i]) * UINT64_C(0x100000001b3);
}

#define DIGEST(d, x) digest((d), &(x), sizeof(x))

static void
dg_episode(void *arg, const QoeEpisode *e)
{
	Digest	   *d = arg;

	d->rows++;
	DIGEST(d, e->key);
	DIGEST(d, e->session_no);
	DIGEST(d, e->started_at);
	DIGEST(d, e->ended_at);
	DIGEST(d, e->cause);
	DIGEST(d, e->has_position);
	DIGEST(d, e->position);
	DIGEST(d, e->closed);
}

static void
dg_interval(void *arg, const QoeInterval *iv)
{
	Digest	   *d = arg;

	d->rows++;
	DIGEST(d, iv->key);
	DIGEST(d, iv->session_no);
	DIGEST(d, iv->state);
	DIGEST(d, iv->started_at);
	DIGEST(d, iv->ended_at);
	DIGEST(d, iv->has_start_position);
	DIGEST(d, iv->start_position);
	DIGEST(d, iv->has_end_position);
	DIGEST(d, iv->end_position);
}

static void
dg_range(void *arg, const QoeRange *rg)
{
	Digest	   *d = arg;

	d->rows++;
	DIGEST(d, rg->key);
	DIGEST(d, rg->session_no);
	DIGEST(d, rg->from_position);
	DIGEST(d, rg->to_position);
}

static void
dg_span(void *arg, const QoeSpan *s)
{
	Digest	   *d = arg;

	d->rows++;
	DIGEST(d, s->key);
	DIGEST(d, s->session_no);
	DIGEST(d, s->started_at);
	DIGEST(d, s->ended_at);
	DIGEST(d, s->concurrent);
	DIGEST(d, s->state);
	DIGEST(d, s->has_bitrate);
	DIGEST(d, s->bitrate);
}

static void
dg_session(void *arg, uint32_t key, int32_t session_no, int64_t first_ts,
		   int64_t last_ts)
{
	Digest	   *d = arg;

	d->rows++;
	DIGEST(d, key);
	DIGEST(d, session_no);
	DIGEST(d, first_ts);
	DIGEST(d, last_ts);
}

static QoeSink
digest_sink(Digest *d)
{
	QoeSink		s;

	memset(d, 0, sizeof(*d));
	d->h = UINT64_C(1469598103934665603);
	s.arg = d;
	s.episode = dg_episode;
	s.interval = dg_interval;
	s.range = dg_range;
	s.span = dg_span;
	s.session = dg_session;
	return s;
}

static QoeGenSession gen;

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/*
 * The rows of nsessions generated sessions (play, pause, seeks, stalls,
 * bitrate shifts, ads; duplicated, reordered and unknown rows) spread
 * over n partial states, as parallel workers would see them: each row in
 * one part, one in ten in another one too (delivered twice).  Most
 * sessions are keyed by their id, some by their user (several sessions a
 * key), some have a NULL key.  With n >= 3, part 1 gets no rows (only a
 * counter).  Every row also goes to all (the reference of the
 * reference).  The parts are canonical.
 */
static void
realistic_parts(QoeBuffer *parts, int n, QoeBuffer *all, int nsessions)
{
	QoeGenConfig cfg;
	char		user[32];

	cfg.seed = 4242;
	cfg.sessions = nsessions;
	cfg.days = 1;
	cfg.videos = 40;
	cfg.start_ts = INT64_C(770428800) * 1000000;	/* 2024-06-01 00:00 UTC */
	cfg.delivery_faults = true;
	for (int i = 0; i < n; i++)
		qoe_buffer_init(&parts[i], &qoe_malloc_allocator);
	qoe_buffer_init(all, &qoe_malloc_allocator);
	if (n >= 3)
		parts[1].invalid_events = 1;
	for (int s = 0; s < nsessions; s++)
	{
		const char *key = gen.session_id;

		qoe_gen_session(&cfg, (uint64_t) s, &gen);
		if (s % 11 == 0)
			key = NULL;
		else if (s % 7 == 3)
		{
			snprintf(user, sizeof(user), "user-%lld", (long long) (gen.user_id % 5));
			key = user;
		}
		for (int r = 0; r < gen.nrows; r++)
		{
			const QoeGenRow *row = &gen.rows[r];
			const char *name = qoe_gen_event_names[row->name];
			int			kind = qoe_lookup_kind(NULL, name, strlen(name));
			uint64_t	h = mix64((uint64_t) s * 100003 + (uint64_t) r);
			int			p = (int) (h % (uint64_t) n);
			int			copies = n > 1 && (h >> 32) % 10 == 0 ? 2 : 1;

			if (n >= 3 && p == 1)
				p = 0;
			for (int c = 0; c < copies; c++)
			{
				QoeBuffer  *b = c == 0 ? &parts[p] : &parts[(p + 1 + (n >= 3 && p == 0)) % n];

				qoe_buffer_add(b, false, row->ts, kind,
							   !row->has_position, row->position,
							   !row->has_bitrate, row->bitrate,
							   key, key ? strlen(key) : 0);
				qoe_buffer_add(all, false, row->ts, kind,
							   !row->has_position, row->position,
							   !row->has_bitrate, row->bitrate,
							   key, key ? strlen(key) : 0);
			}
		}
	}
	for (int i = 0; i < n; i++)
		qoe_buffer_canonicalize(&parts[i]);
	if (n >= 3)
		all->invalid_events++;
	qoe_buffer_canonicalize(all);
}

/* an input of a merge in one of four forms: 0 the buffer, 1 compact
 * (checked), 2 compact (unchecked), 3 the 32-byte form (checked) */
typedef struct Part
{
	unsigned char *bytes;
	size_t		len;
	QoeBuffer	keys;
	QoeSerialReader reader;
} Part;

static bool
part_open(Part *pt, QoeBuffer *b, int form, QoeMergeInput *in)
{
	const char *err;

	memset(pt, 0, sizeof(*pt));
	in->buf = b;
	in->reader = NULL;
	if (form == 0)
		return true;
	qoe_buffer_init(&pt->keys, &qoe_malloc_allocator);
	if (form == 3)
	{
		pt->len = qoe_buffer_serialized_size(b);
		pt->bytes = malloc(pt->len);
		qoe_buffer_serialize(b, pt->bytes);
	}
	else
	{
		pt->bytes = malloc(qoe_buffer_compact_bound(b));
		pt->len = qoe_buffer_compact_serialize(b, pt->bytes);
	}
	if (form == 2)
		err = qoe_serial_open_unchecked(&pt->reader, pt->bytes, pt->len, &pt->keys);
	else
		err = qoe_serial_open(&pt->reader, pt->bytes, pt->len, &pt->keys);
	in->buf = &pt->keys;
	in->reader = &pt->reader;
	return err == NULL;
}

static void
part_close(Part *pt)
{
	if (pt->bytes != NULL)
		qoe_buffer_free(&pt->keys);
	free(pt->bytes);
}

/*
 * qoe_replay_merge over 1-16 partial states of realistic sessions, in
 * every mix of forms, read in pieces of several sizes, with two parameter
 * sets: every metric, bit for bit, and every row the sink is given, in
 * order, as qoe_replay over the buffer qoe_buffer_merge_canonical_many
 * makes of the same parts.  A damaged unchecked part is reported.
 */
static void
test_replay_merge(void)
{
	static const int counts[] = {1, 2, 3, 6, 16};
	static const size_t wants[] = {1, 7, 1000, SIZE_MAX};
	QoeParams	params[2];

	params[0] = qoe_default_params;
	params[1].session_timeout_us = S(60);
	params[1].seek_grace_us = 0;
	params[1].jump_tolerance = 0.5;

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
	{
		int			n = counts[c];
		QoeBuffer  *parts = malloc(sizeof(QoeBuffer) * (size_t) n);
		const QoeBuffer **rest = malloc(sizeof(QoeBuffer *) * (size_t) n);
		Part	   *pt = malloc(sizeof(Part) * (size_t) n);
		QoeMergeInput *in = malloc(sizeof(QoeMergeInput) * (size_t) n);
		QoeBuffer	ref,
					all;
		size_t		nin = 0;

		realistic_parts(parts, n, &all, 240);
		for (int i = 0; i < n; i++)
		{
			rest[i] = &parts[i];
			nin += parts[i].nevents;
		}
		qoe_buffer_init(&ref, &qoe_malloc_allocator);
		qoe_buffer_merge(&ref, &parts[0]);
		qoe_buffer_merge_canonical_many(&ref, rest + 1, n - 1);
		printf("# %d parts: %zu events merged into %zu, %u keys, %llu duplicates\n",
			   n, nin, ref.nevents, ref.nkeys, (unsigned long long) ref.duplicate_events);

		for (int pi = 0; pi < 2; pi++)
		{
			QoeMetrics	want,
						whole;
			Digest		dref;
			QoeSink		sref = digest_sink(&dref);
			const char *diff;

			qoe_replay(&ref, &params[pi], &want, &sref);
			/* the reference agrees with all the rows in one buffer */
			qoe_replay(&all, &params[pi], &whole, NULL);
			diff = metrics_differ(&want, &whole, true, true);
			unit_report(diff == NULL, __FILE__, __LINE__,
						"the merged parts replay as all the rows in one buffer");
			if (diff)
				printf("#   %s differs\n", diff);
			/* realistic: every kind of figure is there to get wrong */
			if (n == 6)
			{
				CHECK(want.sessions > 200 && want.play_time > 1000);
				CHECK(want.pause_count > 0 && want.paused_time > 0);
				CHECK(want.buffer_count > 0 && want.rebuffer_count > 0 &&
					  want.rebuffer_time > 0);
				CHECK(want.seek_count > 0 && want.seek_forward > 0);
				CHECK(want.startup_count > 0 && want.completions > 0);
				CHECK(want.has_bitrate && want.upshifts + want.downshifts > 0);
				CHECK(want.has_position && want.content_watched > 0);
				CHECK(want.duplicate_events > 0 && want.unknown_events > 0);
			}

			for (int rot = 0; rot < 4; rot++)
			{
				bool		opened = true;

				for (int i = 0; i < n; i++)
					opened = part_open(&pt[i], &parts[i], (i + rot) % 4, &in[i]) && opened;
				CHECK(opened);
				for (size_t wi = 0; wi < sizeof(wants) / sizeof(wants[0]); wi++)
				{
					QoeMetrics	got;
					Digest		dgot;
					QoeSink		sgot = digest_sink(&dgot);
					const char *err;
					bool		ok;

					memset(&got, 0x55, sizeof(got));
					err = replay_merged(in, n, wants[wi], &params[pi], &got, &sgot);
					diff = metrics_differ(&got, &want, true, true);
					ok = err == NULL && diff == NULL && dgot.rows == dref.rows &&
						dgot.h == dref.h;
					unit_report(ok, __FILE__, __LINE__,
								"qoe_replay_merge: qoe_replay's metrics and rows, bit for bit");
					if (!ok)
						printf("#   %d parts, forms from %d, pieces of %zu, params %d: "
							   "err %s, %s differs, %lld rows (want %lld)\n",
							   n, rot, wants[wi], pi, err ? err : "(null)",
							   diff ? diff : "no field", (long long) dgot.rows,
							   (long long) dref.rows);
				}
				for (int i = 0; i < n; i++)
					part_close(&pt[i]);
			}
		}

		/* a damaged unchecked part: its error, not metrics */
		{
			size_t		len = qoe_buffer_compact_bound(&parts[0]) + 1;
			unsigned char *bytes = malloc(len);
			QoeBuffer	keys;
			QoeSerialReader rd;
			QoeMetrics	m;

			len = qoe_buffer_compact_serialize(&parts[0], bytes);
			bytes[len] = 0;
			qoe_buffer_init(&keys, &qoe_malloc_allocator);
			CHECK(qoe_serial_open_unchecked(&rd, bytes, len + 1, &keys) == NULL);
			in[0].buf = &keys;
			in[0].reader = &rd;
			for (int i = 1; i < n; i++)
			{
				in[i].buf = &parts[i];
				in[i].reader = NULL;
			}
			CHECK_STR(replay_merged(in, n, 100, &params[0], &m, NULL),
					  "unexpected data after the end");
			qoe_buffer_free(&keys);
			free(bytes);
		}

		for (int i = 0; i < n; i++)
			qoe_buffer_free(&parts[i]);
		qoe_buffer_free(&ref);
		qoe_buffer_free(&all);
		free(parts);
		free(rest);
		free(pt);
		free(in);
	}
}

int
main(void)
{
	scenarios();
	readings();
	test_replay_merge();
	return unit_done();
}
