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

static int
same_row(const QoeWindowRow *x, const QoeWindowRow *y)
{
	return x->bucket_start == y->bucket_start &&
		x->concurrent_peak == y->concurrent_peak &&
		memcmp(&x->concurrent_avg, &y->concurrent_avg, sizeof(double)) == 0 &&
		memcmp(&x->play_time, &y->play_time, sizeof(double)) == 0 &&
		x->buffer_count == y->buffer_count &&
		memcmp(&x->buffer_time, &y->buffer_time, sizeof(double)) == 0 &&
		x->has_bitrate == y->has_bitrate &&
		(!x->has_bitrate ||
		 (memcmp(&x->avg_bitrate, &y->avg_bitrate, sizeof(double)) == 0 &&
		  x->min_bitrate == y->min_bitrate && x->max_bitrate == y->max_bitrate)) &&
		x->sessions_started == y->sessions_started;
}

/*
 * qoe_windows over the serialized form of b, read piece events at a time
 * (qoe_windows_serial): the rows of qoe_windows(b), bit for bit
 */
static int
serial_path_agrees_form(QoeBuffer *b, int64_t width, size_t piece,
						const char *err_whole, bool compact)
{
	QoeWindowRow keep[64];
	int			nkeep = nrows < 64 ? nrows : 64;
	int			nwhole = nrows;
	size_t		len;
	unsigned char *bin;
	QoeSerialReader r;
	QoeBuffer	pb;
	const char *err;
	int			ok;

	memcpy(keep, rows, sizeof(QoeWindowRow) * (size_t) nkeep);
	qoe_buffer_canonicalize(b);
	if (compact)
	{
		bin = malloc(qoe_buffer_compact_bound(b));
		len = qoe_buffer_compact_serialize(b, bin);
	}
	else
	{
		len = qoe_buffer_serialized_size(b);
		bin = malloc(len);
		qoe_buffer_serialize(b, bin);
	}
	qoe_buffer_init(&pb, &qoe_malloc_allocator);
	ok = qoe_serial_open(&r, bin, len, &pb) == NULL;
	/* the buckets are laid out from this range: it must be exact */
	{
		int64_t		first,
					last;

		if (qoe_buffer_ts_range(b, &first, &last))
			ok = ok && r.first_ts == first && r.last_ts == last;
	}
	nrows = 0;
	err = qoe_windows_serial(&r, &pb, piece, &qoe_default_params, width, emit, NULL);
	ok = ok && err == err_whole && nrows == nwhole;
	for (int i = 0; ok && i < nkeep; i++)
		ok = same_row(&keep[i], &rows[i]);
	qoe_buffer_free(&pb);
	free(bin);
	/* leave the rows of the whole-buffer run for the caller */
	memcpy(rows, keep, sizeof(QoeWindowRow) * (size_t) nkeep);
	nrows = nwhole;
	return ok;
}

/* ... in both binary forms: 32 bytes per event, and compact */
static int
serial_path_agrees(QoeBuffer *b, int64_t width, size_t piece, const char *err_whole)
{
	return serial_path_agrees_form(b, width, piece, err_whole, false) &&
		serial_path_agrees_form(b, width, piece, err_whole, true);
}

static const char *
run(const Ev *ev, int n, double width_s)
{
	QoeBuffer	b;
	const char *err;
	int			i;
	int64_t		width = (int64_t) (width_s * 1e6);

	nrows = 0;
	qoe_buffer_init(&b, &qoe_malloc_allocator);
	for (i = 0; i < n; i++)
		qoe_buffer_add(&b, false, S(ev[i].sec), ev[i].kind,
					   isnan(ev[i].pos), isnan(ev[i].pos) ? 0 : ev[i].pos,
					   isnan(ev[i].value), isnan(ev[i].value) ? 0 : ev[i].value,
					   ev[i].key, ev[i].key ? strlen(ev[i].key) : 0);
	err = qoe_windows(&b, &qoe_default_params, width, emit, NULL);
	if (width > 0)
		unit_report(serial_path_agrees(&b, width, 1, err) &&
					serial_path_agrees(&b, width, 3, err),
					__FILE__, __LINE__, "read in pieces: the same rows");
	qoe_buffer_free(&b);
	return err;
}

/*
 * Many interleaved sessions (and NULL keys), read in pieces of several
 * sizes: the same rows as the whole buffer; a value that is not canonical,
 * or is cut short, is refused by qoe_serial_open.
 */
static void
test_pieces(void)
{
	QoeBuffer	b;
	uint64_t	x = 12345;
	char		key[16];
	static const size_t pieces[] = {1, 2, 7, 100, 65536};
	size_t		len;
	unsigned char *bin;
	QoeSerialReader r;
	QoeBuffer	pb;

	qoe_buffer_init(&b, &qoe_malloc_allocator);
	for (int i = 0; i < 6000; i++)
	{
		int			kn,
					kind;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		kn = (int) ((x >> 33) % 120);
		kind = (int) ((x >> 20) % QOE_NKINDS);
		snprintf(key, sizeof(key), "s%03d", kn);
		qoe_buffer_add(&b, false, S((double) ((x >> 40) % 7200)), kind,
					   (x >> 13) % 3 == 0, (double) ((x >> 45) % 600), kind != QOE_BITRATE && (x >> 9) % 2,
					   (double) (1 + (x >> 50) % 5) * 1e6, kn < 110 ? key : NULL,
					   kn < 110 ? strlen(key) : 0);
	}
	nrows = 0;
	CHECK(qoe_windows(&b, &qoe_default_params, INT64_C(60000000), emit, NULL) == NULL);
	CHECK_INT(nrows, 120);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		unit_report(serial_path_agrees(&b, INT64_C(60000000), pieces[i], NULL),
					__FILE__, __LINE__, "many sessions read in pieces: the same rows");

	len = qoe_buffer_serialized_size(&b);
	bin = malloc(len);
	qoe_buffer_serialize(&b, bin);
	bin[4] = 0;					/* not flagged canonical */
	qoe_buffer_init(&pb, &qoe_malloc_allocator);
	CHECK_STR(qoe_serial_open(&r, bin, len, &pb), "data is not in canonical form");
	qoe_buffer_free(&pb);
	bin[4] = 1;
	qoe_buffer_init(&pb, &qoe_malloc_allocator);
	CHECK_STR(qoe_serial_open(&r, bin, len - 1, &pb), "truncated data");
	qoe_buffer_free(&pb);
	/* the first two events swapped */
	{
		unsigned char t[32];

		memcpy(t, bin + 56, 32);
		memcpy(bin + 56, bin + 88, 32);
		memcpy(bin + 88, t, 32);
	}
	qoe_buffer_init(&pb, &qoe_malloc_allocator);
	CHECK_STR(qoe_serial_open(&r, bin, len, &pb), "events are not in canonical order");
	qoe_buffer_free(&pb);
	free(bin);

	/* the compact form: checked whole before the first piece */
	bin = malloc(qoe_buffer_compact_bound(&b) + 1);
	len = qoe_buffer_compact_serialize(&b, bin);
	CHECK(len < b.nevents * 12);
	qoe_buffer_init(&pb, &qoe_malloc_allocator);
	CHECK_STR(qoe_serial_open(&r, bin, len - 1, &pb), "truncated data");
	qoe_buffer_free(&pb);
	bin[len] = 0;
	qoe_buffer_init(&pb, &qoe_malloc_allocator);
	CHECK_STR(qoe_serial_open(&r, bin, len + 1, &pb), "unexpected data after the end");
	qoe_buffer_free(&pb);
	qoe_buffer_init(&pb, &qoe_malloc_allocator);
	CHECK(qoe_serial_open(&r, bin, len, &pb) == NULL);
	CHECK_INT(r.nevents, b.nevents);
	CHECK_INT(pb.nkeys, b.nkeys);
	/* the NULL key's events first (about 500), whole; then whole keys */
	CHECK(qoe_serial_next(&r, &pb, 100));
	CHECK(pb.nevents >= 100 && pb.events[pb.nevents - 1].key == QOE_NO_KEY);
	CHECK(b.events[pb.nevents].key == 0);
	CHECK(memcmp(pb.events, b.events, pb.nevents * sizeof(QoeEvent)) == 0);
	len = pb.nevents;
	CHECK(qoe_serial_next(&r, &pb, 1));
	CHECK(pb.nevents > 1 && pb.events[pb.nevents - 1].key == 0);
	CHECK(b.events[len + pb.nevents].key == 1);
	CHECK(memcmp(pb.events, b.events + len, pb.nevents * sizeof(QoeEvent)) == 0);
	qoe_buffer_free(&pb);
	free(bin);
	qoe_buffer_free(&b);
}

#define RUN(arr, w) run(arr, (int) (sizeof(arr) / sizeof(arr[0])), w)

int
main(void)
{
	test_pieces();
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
