/*
 * test_alloc.c
 *	  The old size the core passes to its allocator's realloc.
 *
 * The PostgreSQL glue grows a block of 32 MB or more by a new block and a
 * copy of the old size the core passes (qoe_agg.huge_pages, src/qoe_agg.c),
 * so that size must never exceed the block, nor fall short of the bytes in
 * use.  A strict allocator checks both: realloc records an old size larger
 * than the block, copies exactly the old size and poisons everything else.
 * Every path that grows an array (adding rows, logs, concatenation, the
 * sorts that swap arrays, both merges, deserialization, the text parser and
 * writer, replay ranges, windows read whole and in pieces) runs once with
 * malloc and once with the strict allocator; a checksum of every output
 * must be the same.  (Written from the independent review's check of the
 * huge-page change.)
 */
#include "qoe_core.h"
#include "unit.h"

typedef union StrictHeader
{
	size_t		size;
	long double align_ld;
	void	   *align_p;
} StrictHeader;

static long n_reallocs = 0;
static long n_too_large = 0;

static void *
strict_alloc(void *ctx, size_t n)
{
	StrictHeader *h = malloc(sizeof(StrictHeader) + n);

	(void) ctx;
	if (h == NULL)
		abort();
	h->size = n;
	memset(h + 1, 0x5a, n);
	return h + 1;
}

static void
strict_free(void *ctx, void *p)
{
	StrictHeader *h;

	(void) ctx;
	if (p == NULL)
		return;
	h = (StrictHeader *) p - 1;
	memset(p, 0xa5, h->size);
	free(h);
}

static void *
strict_realloc(void *ctx, void *p, size_t oldsize, size_t newsize)
{
	StrictHeader *h;
	void	   *q;
	size_t		n;

	if (p == NULL)
		return strict_alloc(ctx, newsize);
	h = (StrictHeader *) p - 1;
	n_reallocs++;
	if (oldsize > h->size)
	{
		n_too_large++;
		oldsize = h->size;		/* record it, but do not read past the block */
	}
	q = strict_alloc(ctx, newsize);
	n = oldsize < newsize ? oldsize : newsize;
	memcpy(q, p, n);
	strict_free(ctx, p);
	return q;
}

static const QoeAllocator strict = {strict_alloc, strict_realloc, strict_free, NULL};


static void
fill(QoeBuffer *b, QoeLog **log, const QoeAllocator *a, int n, int nkeys, int keylenmax)
{
	char		key[64];
	int			i;

	for (i = 0; i < n; i++)
	{
		int			k = (int) (unit_rng() % (uint64_t) (nkeys + 1));
		int			kl = k == 0 ? 0 : 1 + (k * 7) % keylenmax;
		int			j;
		int64_t		ts;
		int			kind;
		double		pos,
					val;
		bool		nokey,
					pos_null,
					val_null;

		for (j = 0; j < kl; j++)
			key[j] = (char) ('a' + (k * 31 + j) % 26);
		ts = (int64_t) (unit_rng() % 100000) * 1000 + (i % 3 == 0 ? i * INT64_C(1000) : 0);
		kind = (int) (unit_rng() % (QOE_NKINDS + 1));
		if (kind == QOE_NKINDS)
			kind = QOE_KIND_UNKNOWN;
		pos = (double) (unit_rng() % 1000);
		val = (double) (1 + unit_rng() % 5000);
		nokey = k == 0 && (unit_rng() & 1);
		pos_null = (unit_rng() & 3) == 0;
		val_null = (unit_rng() & 1) != 0;
		if (b)
			qoe_buffer_add(b, false, ts, kind, pos_null, pos, val_null, val,
						   nokey ? NULL : key, (size_t) kl);
		if (log)
			*log = qoe_log_add(*log, a, false, ts, kind, pos_null, pos, val_null, val,
							   nokey ? NULL : key, (size_t) kl);
	}
}

static uint64_t hsum;

static void
mix(const void *p, size_t len)
{
	const unsigned char *q = p;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		hsum ^= q[i];
		hsum *= UINT64_C(1099511628211);
	}
}

/* serialize b (malloc'd bytes) and mix them into the checksum */
static unsigned char *
ser(QoeBuffer *b, size_t *len)
{
	unsigned char *o;

	*len = qoe_buffer_serialized_size(b);
	o = malloc(*len);
	qoe_buffer_serialize(b, o);
	mix(o, *len);
	return o;
}

static int	rows;
static double acc;

static void
on_row(void *arg, const QoeWindowRow *r)
{
	(void) arg;
	rows++;
	acc += r->play_time + r->concurrent_avg;
}

static void
on_range(void *arg, const QoeRange *r)
{
	(void) arg;
	acc += r->to_position - r->from_position;
}

/* every growing path with allocator a; returns a checksum of the outputs */
static uint64_t
scenario(const QoeAllocator *a, uint64_t seed, int n1, int n2, int nkeys)
{
	QoeBuffer	b1,
				b2,
				b3,
				b4,
				b5,
				m,
				bt,
				piece;
	QoeLog	   *l1 = qoe_log_create(a, 0);
	QoeLog	   *l2 = qoe_log_create(a, 0);
	QoeLog	   *l3 = qoe_log_create(a, 0);
	QoeLog	   *l4 = qoe_log_create(a, 0);
	const char *err = NULL;
	unsigned char *o,
			   *o2;
	size_t		len,
				len2,
				tl;
	char	   *t;
	char		eb[200];
	QoeMetrics	mm;
	QoeSink		sink = {0};
	QoeSerialReader r;
	int			ok = 1;

	hsum = UINT64_C(1469598103934665603);
	unit_rng_state = seed;
	qoe_buffer_init(&b1, a);
	qoe_buffer_init(&b2, a);
	fill(&b1, &l1, a, n1, nkeys, 40);
	fill(&b2, &l2, a, n2, nkeys * 2, 60);

	/* logs: concatenated, appended record by record, decoded */
	l3 = qoe_log_concat(l3, a, l1);
	l3 = qoe_log_concat(l3, a, l2);
	for (int w = 0; w < 2; w++)
	{
		/* the records of every block, as received bytes */
		const QoeLog *src = w == 0 ? l1 : l2;
		unsigned char *rec = malloc(qoe_log_bytes(src) + 1);
		size_t		nrec = qoe_log_copy_records(src, rec);

		l4 = qoe_log_append_records(l4, a, rec, nrec, &err);
		ok &= err == NULL;
		free(rec);
	}
	qoe_buffer_init(&b3, a);
	qoe_log_to_canonical(l3, &b3);
	free(ser(&b3, &len));
	qoe_buffer_init(&b4, a);
	qoe_log_to_buffer(l4, &b4);
	qoe_buffer_canonicalize(&b4);
	o = ser(&b4, &len);

	/* deserialized, then grown */
	qoe_buffer_init(&b5, a);
	ok &= qoe_buffer_deserialize(&b5, o, len, true) == NULL;
	free(o);
	fill(&b5, NULL, a, n2 / 3 + 1, nkeys * 3, 50);
	qoe_buffer_canonicalize(&b5);
	free(ser(&b5, &len));

	/* both merges, rows added after each */
	qoe_buffer_init(&m, a);
	qoe_buffer_merge(&m, &b1);
	qoe_buffer_merge(&m, &b2);
	qoe_buffer_canonicalize(&m);
	fill(&m, NULL, a, n1 / 2 + 1, nkeys * 4, 30);
	qoe_buffer_canonicalize(&m);
	qoe_buffer_canonicalize(&b1);
	qoe_buffer_canonicalize(&b2);
	qoe_buffer_merge_canonical(&b1, &b2);
	fill(&b1, NULL, a, n1 / 2 + 1, nkeys * 5, 33);
	qoe_buffer_canonicalize(&b1);
	qoe_buffer_merge_canonical(&b1, &b5);
	fill(&b1, NULL, a, 100, nkeys * 6, 20);
	qoe_buffer_canonicalize(&b1);
	free(ser(&m, &len));
	o = ser(&b1, &len);

	/* the text form, both ways */
	t = qoe_buffer_to_text(&b1, &tl);
	mix(t, tl);
	qoe_buffer_init(&bt, a);
	ok &= qoe_buffer_from_text(&bt, t, tl, eb, sizeof(eb));
	a->free(a->ctx, t);
	o2 = ser(&bt, &len2);
	ok &= len2 == len && memcmp(o, o2, len) == 0;
	free(o2);

	/* replay with ranges, windows whole and read in pieces */
	sink.range = on_range;
	rows = 0;
	acc = 0;
	qoe_replay(&b1, &qoe_default_params, &mm, &sink);
	qoe_windows(&b1, &qoe_default_params, INT64_C(60000000), on_row, NULL);
	qoe_buffer_init(&piece, a);
	ok &= qoe_serial_open(&r, o, len, &piece) == NULL;
	qoe_windows_serial(&r, &piece, 1000, &qoe_default_params, INT64_C(60000000), on_row, NULL);
	free(o);
	mix(&rows, sizeof(rows));
	mix(&acc, sizeof(acc));
	mix(&mm.play_time, sizeof(mm.play_time));
	mix(&ok, sizeof(ok));

	qoe_buffer_free(&piece);
	qoe_buffer_free(&bt);
	qoe_buffer_free(&b1);
	qoe_buffer_free(&b2);
	qoe_buffer_free(&b3);
	qoe_buffer_free(&b4);
	qoe_buffer_free(&b5);
	qoe_buffer_free(&m);
	qoe_log_free(l1, a);
	qoe_log_free(l2, a);
	qoe_log_free(l3, a);
	qoe_log_free(l4, a);
	return ok ? hsum : 0;
}

int
main(void)
{
	/* rows of the first and second buffer, session keys */
	static const int cases[][3] = {
		{10, 5, 2}, {300, 200, 50}, {5000, 3000, 400}, {20000, 15000, 1500},
		{20000, 100, 1}, {100, 20000, 9000}, {30000, 10, 0}
	};
	unsigned	c;
	uint64_t	s;
	int			same = 1;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (s = 1; s <= 2; s++)
		{
			uint64_t	x = scenario(&qoe_malloc_allocator, s * 7919 + c,
									 cases[c][0], cases[c][1], cases[c][2]);
			uint64_t	y = scenario(&strict, s * 7919 + c,
									 cases[c][0], cases[c][1], cases[c][2]);

			if (x == 0 || x != y)
			{
				printf("# case %u seed %llu: malloc %llx, strict %llx\n", c,
					   (unsigned long long) s, (unsigned long long) x,
					   (unsigned long long) y);
				same = 0;
			}
		}
	CHECK(same);

	/*
	 * Logs of many small blocks, every log decoded straight into canonical
	 * order: the same results as with the defaults, under both allocators
	 */
	same = 1;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		uint64_t	x,
					y,
					z;

		x = scenario(&qoe_malloc_allocator, 7919 + c, cases[c][0], cases[c][1], cases[c][2]);
		qoe_log_chunk_min = 256;
		qoe_log_group_min = 0;
		y = scenario(&qoe_malloc_allocator, 7919 + c, cases[c][0], cases[c][1], cases[c][2]);
		z = scenario(&strict, 7919 + c, cases[c][0], cases[c][1], cases[c][2]);
		qoe_log_chunk_min = (size_t) 32 * 1024 * 1024;
		qoe_log_group_min = 4096;
		if (x == 0 || x != y || x != z)
			same = 0;
	}
	CHECK(same);
	CHECK(n_reallocs > 1000);
	CHECK_INT(n_too_large, 0);
	printf("# %ld reallocs checked\n", n_reallocs);
	return unit_done();
}
