/*
 * test_log.c
 *	  Unit tests of the compact event log (the transition state of small
 *	  aggregate groups): a log turned into a buffer equals the buffer the
 *	  same rows build directly, appending logs equals adding their rows,
 *	  and malformed record bytes are refused.
 */
#include "qoe_core.h"
#include "unit.h"
#include "log_flat.h"

#include <stdint.h>

typedef struct Row
{
	bool		ts_isnull;
	int64_t		ts;
	int			kind;
	bool		pos_isnull;
	double		pos;
	bool		val_isnull;
	double		val;
	const char *key;
} Row;

static unsigned char *
ser(const QoeBuffer *b, size_t *len)
{
	unsigned char *out;

	*len = qoe_buffer_serialized_size(b);
	out = malloc(*len);
	qoe_buffer_serialize(b, out);
	return out;
}

/* b (built from rows) and the buffer decoded from log: same bytes */
static int
same_buffer(const QoeBuffer *a, const QoeBuffer *b)
{
	size_t		la,
				lb;
	unsigned char *sa = ser(a, &la);
	unsigned char *sb = ser(b, &lb);
	int			ok = la == lb && memcmp(sa, sb, la) == 0 &&
		a->invalid_events == b->invalid_events &&
		a->unknown_events == b->unknown_events &&
		a->nkeys == b->nkeys && a->canonical == b->canonical;

	free(sa);
	free(sb);
	return ok;
}

static QoeLog *
log_rows(QoeLog *log, const Row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log = qoe_log_add(log, &qoe_malloc_allocator, rows[i].ts_isnull, rows[i].ts,
						  rows[i].kind, rows[i].pos_isnull, rows[i].pos,
						  rows[i].val_isnull, rows[i].val, rows[i].key,
						  rows[i].key ? strlen(rows[i].key) : 0);
	return log;
}

static void
buffer_rows(QoeBuffer *b, const Row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		qoe_buffer_add(b, rows[i].ts_isnull, rows[i].ts, rows[i].kind,
					   rows[i].pos_isnull, rows[i].pos, rows[i].val_isnull,
					   rows[i].val, rows[i].key, rows[i].key ? strlen(rows[i].key) : 0);
}

#define S INT64_C(1000000)
#define T0 (INT64_C(757382400) * S)	/* 2024-01-01 */

static const Row rows1[] = {
	{false, T0, QOE_PLAY, false, 0, true, 0, "s1"},
	{false, T0 + 1 * S, QOE_BITRATE, true, 0, false, 3e6, "s1"},
	{false, T0 + 2 * S, QOE_HEARTBEAT, false, 2.5, true, 0, "s2"},
	{true, 0, QOE_PLAY, false, 1, true, 0, "s1"},	/* NULL ts: invalid */
	{false, QOE_TS_NOEND, QOE_PLAY, true, 0, true, 0, NULL}, /* infinite */
	{false, T0 + 3 * S, QOE_KIND_UNKNOWN, true, 0, true, 0, "s1"},	/* unknown */
	{false, T0 + 4 * S, QOE_HEARTBEAT, false, NAN, true, 0, "s1"},	/* bad pos, kept */
	{false, T0 + 5 * S, QOE_BITRATE, false, -1, false, 0, "s1"},	/* bad pos and value: once */
	{false, T0 - 7 * S, QOE_PAUSE, false, -0.0, false, NAN, NULL},	/* backwards, -0, NaN value */
	{false, T0 + 6 * S, QOE_ENDED, false, 60, false, -0.0, ""},	/* empty key */
	{false, T0 + 6 * S, QOE_ENDED, false, 60, false, 0.0, ""},	/* duplicate */
	{false, INT64_C(-211813488000000000), QOE_EXIT, true, 0, true, 0, "s2"}, /* min ts */
	{false, INT64_C(9223371331199999999), QOE_EXIT, true, 0, true, 0, "s1"}, /* max ts */
	{false, T0, QOE_SEEK, false, 1e300, false, INFINITY, "s1"},
};
#define N1 (sizeof(rows1) / sizeof(rows1[0]))

static void
test_round_trip(void)
{
	QoeBuffer	a,
				b;
	QoeLog	   *log = qoe_log_create(&qoe_malloc_allocator, 0);
	QoeLog	   *flat;

	CHECK(log->nbytes == 0 && log->cap > 0);
	CHECK(qoe_log_memory(log) <= 64);
	log = log_rows(log, rows1, N1);

	qoe_buffer_init(&a, NULL);
	buffer_rows(&a, rows1, N1);
	qoe_buffer_init(&b, NULL);
	qoe_log_to_buffer(log, &b);
	CHECK_INT(b.invalid_events, 4);
	CHECK_INT(b.unknown_events, 1);
	CHECK_INT(b.nevents, a.nevents);
	/* the log counts its events; the buffer is allocated once, to size */
	CHECK_INT(log->nevents, a.nevents);
	CHECK_INT(b.evcap, a.nevents);
	CHECK(same_buffer(&a, &b));
	qoe_buffer_canonicalize(&a);
	qoe_buffer_canonicalize(&b);
	CHECK(same_buffer(&a, &b));
	CHECK_INT(b.duplicate_events, 1);

	/* the records alone give the same, also appended to a non-empty buffer */
	qoe_buffer_free(&b);
	qoe_buffer_init(&b, NULL);
	flat = log_flat(log);
	CHECK(qoe_log_records_to_buffer(flat->data, flat->nbytes, &b) == NULL);
	qoe_buffer_canonicalize(&b);
	CHECK(same_buffer(&a, &b));

	qoe_buffer_free(&a);
	qoe_buffer_free(&b);
	qoe_log_free(flat, &qoe_malloc_allocator);
	qoe_log_free(log, &qoe_malloc_allocator);
}

/* small sessions: a compact log, well under 32 bytes per event */
static void
test_compact(void)
{
	QoeLog	   *log = qoe_log_create(&qoe_malloc_allocator, 0);
	int			i;

	for (i = 0; i < 10; i++)
		log = qoe_log_add(log, &qoe_malloc_allocator, false, T0 + i * 30 * S + i * 1234,
						  i == 0 ? QOE_PLAY : QOE_HEARTBEAT, false, i * 30.001,
						  true, 0, "sess-0000001", 12);
	CHECK(log->nbytes <= 8 + 12 + 13 + 10 * 13);
	CHECK(qoe_log_memory(log) <= 256);
	free(log);
}

static void
test_append(void)
{
	/* every split point of rows1 into two logs, appended in both orders */
	for (size_t split = 0; split <= N1; split++)
	{
		QoeLog	   *l1 = log_rows(qoe_log_create(&qoe_malloc_allocator, 0), rows1, split);
		QoeLog	   *l2 = log_rows(qoe_log_create(&qoe_malloc_allocator, 0), rows1 + split, N1 - split);
		QoeLog	   *l3 = qoe_log_create(&qoe_malloc_allocator, 0);
		QoeBuffer	a,
					b,
					c;
		const char *err;
		int			ok;

		l3 = qoe_log_append_records(l3, &qoe_malloc_allocator, l2->data, l2->nbytes, &err);
		ok = err == NULL;
		l3 = qoe_log_append_records(l3, &qoe_malloc_allocator, l1->data, l1->nbytes, &err);
		ok = ok && err == NULL;
		l1 = qoe_log_append_records(l1, &qoe_malloc_allocator, l2->data, l2->nbytes, &err);
		ok = ok && err == NULL;

		qoe_buffer_init(&a, NULL);
		buffer_rows(&a, rows1, N1);
		qoe_buffer_init(&b, NULL);
		qoe_log_to_buffer(l1, &b);
		ok = ok && same_buffer(&a, &b);	/* same order: same buffer */
		ok = ok && l1->nevents == a.nevents && l3->nevents == a.nevents &&
			b.evcap == a.nevents;
		qoe_buffer_init(&c, NULL);
		qoe_log_to_buffer(l3, &c);
		qoe_buffer_canonicalize(&a);
		qoe_buffer_canonicalize(&c);
		ok = ok && same_buffer(&a, &c);	/* other order: same canonical form */
		unit_report(ok, __FILE__, __LINE__, "appending logs equals adding their rows");
		qoe_buffer_free(&a);
		qoe_buffer_free(&b);
		qoe_buffer_free(&c);
		free(l1);
		free(l2);
		free(l3);
	}
}

/* big logs grow past the small sizes and stay exact */
static void
test_large(void)
{
	QoeLog	   *log = qoe_log_create(&qoe_malloc_allocator, 0);
	QoeBuffer	a,
				b;
	char		key[16];
	int			i;

	qoe_buffer_init(&a, NULL);
	for (i = 0; i < 20000; i++)
	{
		int64_t		ts = T0 + (int64_t) ((i * 7919) % 20000) * S / 3;
		double		pos = (i % 11) * 0.1;

		snprintf(key, sizeof(key), "k%d", i % 37);
		log = qoe_log_add(log, &qoe_malloc_allocator, false, ts, i % QOE_NKINDS,
						  i % 5 == 0, pos, false, 1000.0 + i, key, strlen(key));
		qoe_buffer_add(&a, false, ts, i % QOE_NKINDS, i % 5 == 0, pos, false,
					   1000.0 + i, key, strlen(key));
	}
	qoe_buffer_init(&b, NULL);
	qoe_log_to_buffer(log, &b);
	CHECK(same_buffer(&a, &b));
	CHECK(qoe_log_memory(log) >= log->nbytes);
	qoe_buffer_free(&a);
	qoe_buffer_free(&b);
	free(log);
}

static void
test_malformed(void)
{
	QoeLog	   *log = log_rows(qoe_log_create(&qoe_malloc_allocator, 0), rows1, N1);
	QoeBuffer	b;
	const char *err;
	unsigned char bad[4];
	size_t		cut;
	int			ok = 1;

	/* every truncation is refused or is a prefix of whole records */
	for (cut = 0; cut < log->nbytes; cut++)
	{
		qoe_buffer_init(&b, NULL);
		(void) qoe_log_records_to_buffer(log->data, cut, &b);
		qoe_buffer_free(&b);
	}
	qoe_buffer_init(&b, NULL);
	bad[0] = 0xc5;				/* special record 5: unknown */
	err = qoe_log_records_to_buffer(bad, 1, &b);
	ok = ok && err != NULL;
	bad[0] = (unsigned char) (QOE_PLAY | (1 << 6));	/* "same key" before any */
	bad[1] = 0;
	err = qoe_log_records_to_buffer(bad, 2, &b);
	ok = ok && err != NULL;
	bad[0] = (unsigned char) (QOE_BITRATE);	/* bitrate without a value */
	bad[1] = 2;
	err = qoe_log_records_to_buffer(bad, 2, &b);
	ok = ok && err != NULL;
	bad[0] = (unsigned char) (QOE_PLAY | (2 << 6));	/* key longer than the data */
	bad[1] = 2;
	bad[2] = 5;
	bad[3] = 'x';
	err = qoe_log_records_to_buffer(bad, 4, &b);
	ok = ok && err != NULL;
	qoe_buffer_free(&b);
	unit_report(ok, __FILE__, __LINE__, "malformed records are refused");

	{
		QoeLog	   *l = qoe_log_create(&qoe_malloc_allocator, 0);

		bad[0] = 0xc5;
		l = qoe_log_append_records(l, &qoe_malloc_allocator, bad, 1, &err);
		CHECK(err != NULL);
		free(l);
	}
	free(log);
}

/*
 * Keys interned in batches when a log is decoded: interleaved sessions (a
 * new key in every record, more than one batch of distinct keys), runs of
 * one key longer than the events a batch holds, a key repeated within a
 * batch, NULL keys in between, and after a reset record.  The buffer is
 * the one the rows build directly: same keys in the same order, same
 * events.
 */
static void
test_batched_keys(void)
{
	QoeLog	   *log = qoe_log_create(&qoe_malloc_allocator, 0);
	QoeLog	   *tail = qoe_log_create(&qoe_malloc_allocator, 0);
	QoeBuffer	a,
				b;
	char		key[32];
	int			i,
				round;

	qoe_buffer_init(&a, NULL);
	for (round = 0; round < 3; round++)
	{
		for (i = 0; i < 700; i++)
		{
			/* interleaved: key i % 37 + 50 * round, then NULL now and then */
			int			kn = (i * 7) % 37 + 50 * round;
			const char *k = (i % 11 == 5) ? NULL : key;

			snprintf(key, sizeof(key), "sess-%04d", kn);
			log = qoe_log_add(log, &qoe_malloc_allocator, false, T0 + i * S,
							  QOE_HEARTBEAT, false, (double) i, true, 0,
							  k, k ? strlen(k) : 0);
			qoe_buffer_add(&a, false, T0 + i * S, QOE_HEARTBEAT, false,
						   (double) i, true, 0, k, k ? strlen(k) : 0);
		}
		/* one key for 600 records (more than a batch's 256 events) */
		snprintf(key, sizeof(key), "run-%d", round);
		for (i = 0; i < 600; i++)
		{
			log = qoe_log_add(log, &qoe_malloc_allocator, false, T0 + i,
							  QOE_PLAY, true, 0, true, 0, key, strlen(key));
			qoe_buffer_add(&a, false, T0 + i, QOE_PLAY, true, 0, true, 0,
						   key, strlen(key));
		}
	}
	/* after a reset record (concatenation), keys seen before come back */
	for (i = 0; i < 300; i++)
	{
		snprintf(key, sizeof(key), "sess-%04d", (i * 13) % 137);
		tail = qoe_log_add(tail, &qoe_malloc_allocator, false, T0 - i * S,
						   QOE_PAUSE, true, 0, true, 0, key, strlen(key));
		qoe_buffer_add(&a, false, T0 - i * S, QOE_PAUSE, true, 0, true, 0,
					   key, strlen(key));
	}
	log = qoe_log_concat(log, &qoe_malloc_allocator, tail);

	qoe_buffer_init(&b, NULL);
	qoe_log_to_buffer(log, &b);
	CHECK_INT(b.nevents, 3 * 1300 + 300);
	CHECK_INT(b.nkeys, a.nkeys);
	CHECK(same_buffer(&a, &b));
	qoe_buffer_canonicalize(&a);
	qoe_buffer_canonicalize(&b);
	CHECK(same_buffer(&a, &b));
	qoe_buffer_free(&a);
	qoe_buffer_free(&b);
	free(log);
	free(tail);
}

/* many keys (radix sort of key prefixes): canonical order is bytewise */
static void
test_many_keys(void)
{
	QoeBuffer	b;
	char		key[64];
	int			i,
				ok = 1;

	qoe_buffer_init(&b, NULL);
	for (i = 0; i < 5000; i++)
	{
		unsigned	h = (unsigned) i * 2654435761u;

		/* shared prefix, ties within 8 bytes, proper prefixes, high bytes */
		switch (i % 4)
		{
			case 0:
				snprintf(key, sizeof(key), "same-prefix-%u", h % 1000);
				break;
			case 1:
				snprintf(key, sizeof(key), "same-prefix-%u-tail-%u", h % 1000, h % 7);
				break;
			case 2:
				snprintf(key, sizeof(key), "same-prefix-%c%u", (char) (0x80 + h % 64), h % 50);
				break;
			default:
				snprintf(key, sizeof(key), "same-prefix-");
				break;
		}
		qoe_buffer_add(&b, false, T0 + i, QOE_HEARTBEAT, true, 0, true, 0, key, strlen(key));
	}
	qoe_buffer_canonicalize(&b);
	for (uint32_t k = 1; k < b.nkeys; k++)
	{
		size_t		la,
					lb,
					m;
		const char *ka = qoe_buffer_key(&b, k - 1, &la);
		const char *kb = qoe_buffer_key(&b, k, &lb);
		int			c;

		m = la < lb ? la : lb;
		c = memcmp(ka, kb, m);
		if (c > 0 || (c == 0 && la >= lb))
			ok = 0;
	}
	unit_report(ok && b.nkeys > 1000, __FILE__, __LINE__, "many keys sort bytewise");
	for (size_t i2 = 1; i2 < b.nevents; i2++)
		if (b.events[i2 - 1].key > b.events[i2].key)
			ok = 0;
	unit_report(ok, __FILE__, __LINE__, "events follow the key order");
	qoe_buffer_free(&b);
}

/*
 * qoe_log_concat: every split of rows1 into three logs, concatenated in two
 * orders; then rows added after the concatenation (keys continuing the
 * last log's key, and new ones), and the concatenated records re-appended
 * and validated: always the rows' buffer
 */
static const Row rows_after[] = {
	{false, T0 + 9 * S, QOE_HEARTBEAT, false, 9, true, 0, "s1"},
	{false, T0 + 10 * S, QOE_HEARTBEAT, false, 10, true, 0, "s1"},
	{false, T0 + 11 * S, QOE_PAUSE, false, 11, true, 0, NULL},
	{false, T0 + 12 * S, QOE_PLAYING, false, 11, true, 0, "s2"},
	{false, T0 + 13 * S, QOE_ENDED, false, 12, true, 0, "s2"},
};
#define NAFTER (sizeof(rows_after) / sizeof(rows_after[0]))

static void
test_concat(void)
{
	int			ok = 1;
	int			cases = 0;

	for (size_t s1 = 0; s1 <= N1; s1++)
	{
		for (size_t s2 = s1; s2 <= N1; s2++)
		{
			const QoeAllocator *a = &qoe_malloc_allocator;
			QoeLog	   *l1 = log_rows(qoe_log_create(a, 0), rows1, s1);
			QoeLog	   *l2 = log_rows(qoe_log_create(a, 0), rows1 + s1, s2 - s1);
			QoeLog	   *l3 = log_rows(qoe_log_create(a, 0), rows1 + s2, N1 - s2);
			QoeLog	   *fwd = qoe_log_create(a, 0);
			QoeLog	   *rev = qoe_log_create(a, 0);
			QoeLog	   *re = qoe_log_create(a, 0);
			QoeBuffer	want,
						got;
			const char *err;

			fwd = qoe_log_concat(fwd, a, l1);
			fwd = qoe_log_concat(fwd, a, l2);
			fwd = qoe_log_concat(fwd, a, l3);
			rev = qoe_log_concat(rev, a, l3);
			rev = qoe_log_concat(rev, a, l1);
			rev = qoe_log_concat(rev, a, l2);
			fwd = log_rows(fwd, rows_after, NAFTER);
			rev = log_rows(rev, rows_after, NAFTER);

			/* same order: the same buffer as adding the rows */
			qoe_buffer_init(&want, NULL);
			buffer_rows(&want, rows1, N1);
			buffer_rows(&want, rows_after, NAFTER);
			qoe_buffer_init(&got, NULL);
			qoe_log_to_buffer(fwd, &got);
			ok = ok && same_buffer(&want, &got);
			qoe_buffer_free(&got);

			/* the records checked and copied, then re-encoded one by one */
			{
				QoeLog	   *ff = log_flat(fwd);
				QoeLog	   *fr = log_flat(rev);

				re = qoe_log_append_records(re, a, ff->data, ff->nbytes, &err);
				ok = ok && err == NULL && qoe_log_bytes(re) == qoe_log_bytes(fwd);
				re = qoe_log_append_records(re, a, fr->data, fr->nbytes, &err);
				ok = ok && err == NULL;
				qoe_log_free(ff, a);
				qoe_log_free(fr, a);
			}

			/* other orders: the same canonical form */
			qoe_buffer_canonicalize(&want);
			qoe_buffer_init(&got, NULL);
			qoe_log_to_buffer(rev, &got);
			qoe_buffer_canonicalize(&got);
			ok = ok && same_buffer(&want, &got);
			qoe_buffer_free(&got);

			qoe_buffer_init(&got, NULL);
			qoe_log_to_buffer(re, &got);
			ok = ok && got.nevents == 2 * want.nevents + 2 * want.duplicate_events &&
				got.invalid_events == 2 * want.invalid_events;
			/* every event counted once through concat and append */
			ok = ok && fwd->nevents == got.nevents / 2 && rev->nevents == fwd->nevents &&
				re->nevents == got.nevents;
			qoe_buffer_free(&got);

			qoe_buffer_free(&want);
			qoe_log_free(l1, a);
			qoe_log_free(l2, a);
			qoe_log_free(l3, a);
			qoe_log_free(fwd, a);
			qoe_log_free(rev, a);
			qoe_log_free(re, a);
			cases++;
		}
	}
	unit_report(ok && cases > 100, __FILE__, __LINE__,
				"concatenating logs equals adding their rows");

	/* a reset forgets the key: "same key" right after it is refused */
	{
		unsigned char bad[5];
		QoeBuffer	b;

		bad[0] = (unsigned char) (QOE_PLAY | (2 << 6));	/* new key "k" */
		bad[1] = 0;
		bad[2] = 1;
		bad[3] = 'k';
		bad[4] = 0xc2;			/* reset */
		qoe_buffer_init(&b, NULL);
		CHECK(qoe_log_records_to_buffer(bad, 5, &b) == NULL);
		CHECK_INT(b.nevents, 1);
		qoe_buffer_free(&b);
		{
			unsigned char bad2[7];

			memcpy(bad2, bad, 5);
			bad2[5] = (unsigned char) (QOE_PLAY | (1 << 6));	/* same key */
			bad2[6] = 0;
			qoe_buffer_init(&b, NULL);
			CHECK(qoe_log_records_to_buffer(bad2, 7, &b) != NULL);
			qoe_buffer_free(&b);
		}
	}
}

/*
 * Rows for the large-log tests: n events over nkeys keys (and NULL keys
 * when with_null), interleaved; shuffle moves some events out of time
 * order; every 97th row repeats the one before (a duplicate), and a few
 * rows are invalid or unknown.
 */
static QoeLog *
big_rows(QoeLog *log, QoeBuffer *b, int n, int nkeys, bool with_null, int shuffle)
{
	char		key[32];

	for (int i = 0; i < n; i++)
	{
		int			j = i % 97 == 96 ? i - 1 : i;
		int			k = (int) (((unsigned) j * 2654435761u) % (unsigned) nkeys);
		int64_t		ts = T0 + (int64_t) j * 1000;
		bool		nokey = with_null && k % 5 == 0;
		int			kind = j % 13 == 0 ? QOE_KIND_UNKNOWN : j % QOE_NKINDS;
		bool		ts_null = j % 211 == 0;
		double		pos = (j % 17) * 0.25;

		if (shuffle > 0 && j % shuffle == 0)
			ts -= (int64_t) (j % 7) * 100000;
		if (kind == QOE_BITRATE)
			kind = QOE_HEARTBEAT;
		snprintf(key, sizeof(key), "sess-%07d", k * 7919 % 1000003);
		log = qoe_log_add(log, &qoe_malloc_allocator, ts_null, ts, kind, j % 3 == 0, pos,
						  j % 4 != 0, 1000.0 + j % 9, nokey ? NULL : key,
						  nokey ? 0 : strlen(key));
		qoe_buffer_add(b, ts_null, ts, kind, j % 3 == 0, pos, j % 4 != 0,
					   1000.0 + j % 9, nokey ? NULL : key, nokey ? 0 : strlen(key));
	}
	return log;
}

/*
 * qoe_log_to_canonical: the same canonical buffer as decoding then
 * canonicalising, through the direct path (many keys, each in order or
 * not; few keys out of order: sort_events, here the radix sort; one key
 * in three sorted runs: merged; no key) and the fallbacks (few events, a
 * buffer not empty)
 */
static void
test_to_canonical(void)
{
	static const struct
	{
		int			n,
					nkeys;
		bool		with_null;
		int			shuffle;
	}			cases[] = {
		{20000, 3000, true, 0},	/* grouped straight into order */
		{20000, 3000, false, 5},	/* keys out of order: sorted after */
		{30000, 3, true, 4},	/* few long keys out of order: radix sort */
		{30000, 1, false, 0},	/* one key */
		{1000, 100, true, 3},	/* few events: decode, then sort */
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		QoeBuffer	want,
					got;
		QoeLog	   *log;

		qoe_buffer_init(&want, NULL);
		log = big_rows(qoe_log_create(&qoe_malloc_allocator, 0), &want, cases[c].n,
					   cases[c].nkeys, cases[c].with_null, cases[c].shuffle);
		qoe_buffer_canonicalize(&want);
		qoe_buffer_init(&got, NULL);
		qoe_log_to_canonical(log, &got);
		CHECK(got.canonical);
		CHECK(same_buffer(&want, &got));
		CHECK_INT(got.duplicate_events, want.duplicate_events);
		CHECK(want.duplicate_events > 0 && want.invalid_events > 0 && want.unknown_events > 0);
		qoe_buffer_free(&got);

		/* into a buffer that holds events already: the general path */
		qoe_buffer_init(&got, NULL);
		qoe_buffer_add(&got, false, T0, QOE_PLAY, true, 0, true, 0, "zz", 2);
		qoe_log_to_canonical(log, &got);
		CHECK_INT(got.nevents, want.nevents + 1);
		CHECK(got.canonical);
		qoe_buffer_free(&got);
		qoe_buffer_free(&want);
		qoe_log_free(log, &qoe_malloc_allocator);
	}

	/* one key, three logs of it in time order combined: three sorted runs */
	{
		QoeBuffer	want,
					got;
		QoeLog	   *part[3];
		QoeLog	   *log = qoe_log_create(&qoe_malloc_allocator, 0);

		qoe_buffer_init(&want, NULL);
		for (int p = 0; p < 3; p++)
		{
			part[p] = qoe_log_create(&qoe_malloc_allocator, 0);
			for (int i = 0; i < 5000; i++)
			{
				int64_t		ts = T0 + (int64_t) (3 * i + (2 - p)) * 1000;

				part[p] = qoe_log_add(part[p], &qoe_malloc_allocator, false, ts,
									  QOE_HEARTBEAT, false, i * 0.5, true, 0, "one", 3);
				qoe_buffer_add(&want, false, ts, QOE_HEARTBEAT, false, i * 0.5, true, 0, "one", 3);
			}
			log = qoe_log_concat(log, &qoe_malloc_allocator, part[p]);
			qoe_log_free(part[p], &qoe_malloc_allocator);
		}
		qoe_buffer_canonicalize(&want);
		qoe_buffer_init(&got, NULL);
		qoe_log_to_canonical(log, &got);
		CHECK_INT(got.nevents, 15000);
		CHECK(same_buffer(&want, &got));
		qoe_buffer_free(&got);
		qoe_buffer_free(&want);
		qoe_log_free(log, &qoe_malloc_allocator);
	}

	/* no key at all (the direct path, one bucket) */
	{
		QoeBuffer	want,
					got;
		QoeLog	   *log = qoe_log_create(&qoe_malloc_allocator, 0);

		qoe_buffer_init(&want, NULL);
		for (int i = 0; i < 10000; i++)
		{
			int64_t		ts = T0 + (int64_t) ((i * 7919) % 10000) * 1000;

			log = qoe_log_add(log, &qoe_malloc_allocator, false, ts, QOE_HEARTBEAT,
							  false, i * 0.5, true, 0, NULL, 0);
			qoe_buffer_add(&want, false, ts, QOE_HEARTBEAT, false, i * 0.5, true, 0, NULL, 0);
		}
		qoe_buffer_canonicalize(&want);
		qoe_buffer_init(&got, NULL);
		qoe_log_to_canonical(log, &got);
		CHECK(same_buffer(&want, &got));
		qoe_buffer_free(&got);
		qoe_buffer_free(&want);
		qoe_log_free(log, &qoe_malloc_allocator);
	}
}

/*
 * A log past qoe_log_chunk_min goes on in new blocks: read back, counted,
 * concatenated (from and into such logs) and freed as one log
 */
static void
test_blocks(void)
{
	size_t		save = qoe_log_chunk_min;
	QoeBuffer	want,
				got,
				both;
	QoeLog	   *log,
			   *flat,
			   *cat;
	const QoeLog *blk;
	size_t		nblocks = 0,
				bytes = 0;
	const char *err;

	qoe_log_chunk_min = 1024;
	qoe_buffer_init(&want, NULL);
	log = big_rows(qoe_log_create(&qoe_malloc_allocator, 0), &want, 6000, 700, true, 5);
	for (blk = log; blk != NULL; blk = blk->prev)
	{
		nblocks++;
		bytes += blk->nbytes;
		CHECK(blk->nbytes <= blk->cap);
		/* each new block at least half as large again as the one before */
		if (blk->prev != NULL)
			CHECK(blk->cap + 56 >= (blk->prev->cap + 56) * 3 / 2);
	}
	CHECK(nblocks > 5 && nblocks < 20);
	CHECK_INT(qoe_log_bytes(log), bytes);
	CHECK(qoe_log_memory(log) >= bytes + nblocks * 56);
	CHECK_INT(log->nevents, want.nevents);

	/* read back: as the rows, and straight into canonical order */
	qoe_buffer_init(&got, NULL);
	qoe_log_to_buffer(log, &got);
	CHECK(same_buffer(&want, &got));
	qoe_buffer_free(&got);
	qoe_buffer_init(&got, NULL);
	qoe_log_to_canonical(log, &got);
	qoe_buffer_canonicalize(&want);
	CHECK(same_buffer(&want, &got));
	qoe_buffer_free(&got);

	/* the same records as one block, and as checked external records */
	flat = log_flat(log);
	CHECK(flat->prev == NULL);
	CHECK_INT(flat->nbytes, bytes);
	CHECK_INT(flat->nevents, log->nevents);
	qoe_buffer_init(&got, NULL);
	CHECK(qoe_log_records_to_buffer(flat->data, flat->nbytes, &got) == NULL);
	qoe_buffer_canonicalize(&got);
	CHECK(same_buffer(&want, &got));
	qoe_buffer_free(&got);

	/* concatenated twice into a log of blocks, then rows after: all of them */
	cat = log_rows(qoe_log_create(&qoe_malloc_allocator, 0), rows1, N1);
	cat = qoe_log_concat(cat, &qoe_malloc_allocator, log);
	cat = qoe_log_concat(cat, &qoe_malloc_allocator, flat);
	cat = log_rows(cat, rows_after, NAFTER);
	CHECK(cat->prev != NULL);
	qoe_buffer_init(&both, NULL);
	buffer_rows(&both, rows1, N1);
	qoe_buffer_free(&want);
	qoe_buffer_init(&want, NULL);
	qoe_log_free(big_rows(qoe_log_create(&qoe_malloc_allocator, 0), &want, 6000, 700, true, 5),
				 &qoe_malloc_allocator);
	qoe_buffer_merge(&both, &want);
	qoe_buffer_merge(&both, &want);
	buffer_rows(&both, rows_after, NAFTER);
	CHECK_INT(cat->nevents, both.nevents);
	qoe_buffer_init(&got, NULL);
	qoe_log_to_buffer(cat, &got);
	CHECK(same_buffer(&both, &got));
	qoe_buffer_free(&got);

	/* the concatenation's records pass the checks of received records */
	{
		QoeLog	   *fc = log_flat(cat);
		QoeLog	   *re = qoe_log_append_records(qoe_log_create(&qoe_malloc_allocator, 0),
												&qoe_malloc_allocator, fc->data,
												fc->nbytes, &err);

		CHECK(err == NULL);
		CHECK_INT(re->nevents, cat->nevents);
		qoe_log_free(re, &qoe_malloc_allocator);
		qoe_log_free(fc, &qoe_malloc_allocator);
	}

	qoe_buffer_free(&both);
	qoe_buffer_free(&want);
	qoe_log_free(cat, &qoe_malloc_allocator);
	qoe_log_free(flat, &qoe_malloc_allocator);
	qoe_log_free(log, &qoe_malloc_allocator);
	qoe_log_chunk_min = save;
}

int
main(void)
{
	test_many_keys();
	test_batched_keys();
	test_round_trip();
	test_compact();
	test_append();
	test_concat();
	test_large();
	test_malformed();
	test_to_canonical();
	test_blocks();
	/* the concatenation cases again, with logs of many small blocks */
	qoe_log_chunk_min = 64;
	test_round_trip();
	test_concat();
	qoe_log_chunk_min = (size_t) 32 * 1024 * 1024;
	return unit_done();
}
