/*
 * test_windows.c
 *	  Unit tests of the per-bucket sweep (qoe_windows.c), hand-worked.
 */
#include "qoe_core.h"
#include "unit.h"

#define NUL NAN
/* 2024-01-01 00:00:00 UTC as a PostgreSQL timestamp: aligned to 1 h */
#define T0 (INT64_C(757382400) * 1000000)
#define S(sec) (T0 + (int64_t) ((sec) * 1000000.0))

typedef struct Ev
{
	double		sec;
	int			kind;
	double		pos;
	double		value;
	const char *key;
} Ev;

static QoeWindowRow rows[64];
static int	nrows;

static void
emit(void *arg, const QoeWindowRow *r)
{
	(void) arg;
	if (nrows < 64)
		rows[nrows] = *r;
	nrows++;
}

static const char *
run(const Ev *ev, int n, double width_s)
{
	QoeBuffer	b;
	const char *err;
	int			i;

	nrows = 0;
	qoe_buffer_init(&b, &qoe_malloc_allocator);
	for (i = 0; i < n; i++)
		qoe_buffer_add(&b, false, S(ev[i].sec), ev[i].kind,
					   isnan(ev[i].pos), isnan(ev[i].pos) ? 0 : ev[i].pos,
					   isnan(ev[i].value), isnan(ev[i].value) ? 0 : ev[i].value,
					   ev[i].key, ev[i].key ? strlen(ev[i].key) : 0);
	err = qoe_windows(&b, &qoe_default_params, (int64_t) (width_s * 1e6), emit, NULL);
	qoe_buffer_free(&b);
	return err;
}

#define RUN(arr, w) run(arr, (int) (sizeof(arr) / sizeof(arr[0])), w)

int
main(void)
{
	/* one viewer leaves as another joins: peak 1, not 2 */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, "a"}, {60, QOE_ENDED, 60, NUL, "a"},
		{60, QOE_PLAY, 0, NUL, "b"}, {120, QOE_ENDED, 60, NUL, "b"}};

		CHECK(RUN(e, 120) == NULL);
		CHECK_INT(nrows, 2);
		CHECK_INT(rows[0].bucket_start, S(0));
		CHECK_INT(rows[0].concurrent_peak, 1);
		CHECK_DBL(rows[0].concurrent_avg, 1);
		CHECK_DBL(rows[0].play_time, 120);
		CHECK_INT(rows[0].sessions_started, 2);
		/* bucket [120, 240) holds b's last event only */
		CHECK_INT(rows[1].concurrent_peak, 0);
		CHECK_DBL(rows[1].play_time, 0);
	}
	/* time-weighted average over the whole bucket; misaligned start */
	{
		Ev			e[] = {{15, QOE_PLAY, 0, NUL, NULL}, {45, QOE_ENDED, 30, NUL, NULL}};

		CHECK(RUN(e, 60) == NULL);
		CHECK_INT(nrows, 1);
		CHECK_INT(rows[0].bucket_start, S(0));
		CHECK_DBL(rows[0].concurrent_avg, 0.5);
		CHECK_INT(rows[0].concurrent_peak, 1);
	}
	/* empty buckets in the middle */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, "a"}, {10, QOE_ENDED, 10, NUL, "a"},
		{200, QOE_PLAY, 0, NUL, "b"}, {210, QOE_ENDED, 10, NUL, "b"}};

		CHECK(RUN(e, 60) == NULL);
		CHECK_INT(nrows, 4);
		CHECK_INT(rows[1].bucket_start, S(60));
		CHECK_INT(rows[1].concurrent_peak, 0);
		CHECK_DBL(rows[2].concurrent_avg, 0);
		CHECK_INT(rows[3].bucket_start, S(180));
		CHECK_INT(rows[3].sessions_started, 1);
		CHECK_DBL(rows[3].play_time, 10);
		CHECK_DBL(rows[3].concurrent_avg, 10.0 / 60);
	}
	/* a stall and a playing interval split across buckets */
	{
		Ev			e[] = {{50, QOE_PLAY, 50, NUL, NULL}, {55, QOE_BUFFER_START, NUL, NUL, NULL},
		{70, QOE_BUFFER_END, NUL, NUL, NULL}, {130, QOE_ENDED, NUL, NUL, NULL}};

		CHECK(RUN(e, 60) == NULL);
		CHECK_INT(nrows, 3);
		CHECK_DBL(rows[0].play_time, 5);
		CHECK_DBL(rows[0].buffer_time, 5);
		CHECK_INT(rows[0].buffer_count, 1);
		CHECK_DBL(rows[1].buffer_time, 10);
		CHECK_INT(rows[1].buffer_count, 0);
		CHECK_DBL(rows[1].play_time, 50);
		CHECK_DBL(rows[1].concurrent_avg, 1);
		CHECK_DBL(rows[2].play_time, 10);
		CHECK_DBL(rows[0].concurrent_avg, 10.0 / 60);
	}
	/* bitrate carried in from an earlier bucket */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {10, QOE_BITRATE, NUL, 1000, NULL},
		{70, QOE_HEARTBEAT, 70, NUL, NULL}, {90, QOE_BITRATE, NUL, 2000, NULL},
		{120, QOE_ENDED, 120, NUL, NULL}};

		CHECK(RUN(e, 60) == NULL);
		CHECK_INT(nrows, 3);
		CHECK(rows[0].has_bitrate);
		CHECK_DBL(rows[0].avg_bitrate, 1000);
		CHECK_DBL(rows[1].avg_bitrate, 1500);
		CHECK_DBL(rows[1].min_bitrate, 1000);
		CHECK_DBL(rows[1].max_bitrate, 2000);
		CHECK(!rows[2].has_bitrate);
	}
	/* paused viewers are not concurrent, buffering ones are */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, "a"}, {10, QOE_PAUSE, 10, NUL, "a"},
			{40, QOE_PLAY, 10, NUL, "a"}, {59, QOE_ENDED, 29, NUL, "a"},
			{0, QOE_PLAY, 0, NUL, "b"}, {10, QOE_BUFFER_START, 10, NUL, "b"},
		{40, QOE_BUFFER_END, 10, NUL, "b"}, {59, QOE_ENDED, 29, NUL, "b"}};

		CHECK(RUN(e, 60) == NULL);
		CHECK_INT(nrows, 1);
		CHECK_DBL(rows[0].concurrent_avg, (10 + 19 + 59) / 60.0);
		CHECK_INT(rows[0].concurrent_peak, 2);
		CHECK_DBL(rows[0].buffer_time, 30);
		CHECK_DBL(rows[0].play_time, 58);
	}
	/* refusals */
	{
		Ev			e[] = {{0, QOE_PLAY, 0, NUL, NULL}, {100000, QOE_HEARTBEAT, NUL, NUL, NULL}};

		CHECK(RUN(e, 0.001) != NULL);
		CHECK_INT(nrows, 0);
		CHECK(RUN(e, 0) != NULL);
		/* 100000 s / 0.01 s = 10,000,000 widths: 10,000,001 buckets, refused */
		CHECK(RUN(e, 0.01) != NULL);
		CHECK(RUN(e, 1) == NULL);
		CHECK_INT(nrows, 100001);
	}
	return unit_done();
}
