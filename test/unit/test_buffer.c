/*
 * test_buffer.c
 *	  Unit tests of event buffers: row checks (SPEC 1, 8.2-8.5), key
 *	  interning, merge, canonical form (sort, dedup) and the binary format.
 */
#include "unit_buffer.h"

#include <stdint.h>

static void
put_f64(unsigned char *p, double d)
{
	uint64_t	v;

	memcpy(&v, &d, 8);
	put_u64(p, v);
}


/* reference comparator, written independently of the implementation */
static const QoeBuffer *ref_buf;

static int
ref_cmp(const void *pa, const void *pb)
{
	const QoeEvent *a = pa,
			   *b = pb;
	int			c;

	if (a->key != b->key)
	{
		size_t		la,
					lb;
		const char *ka,
				   *kb;

		if (a->key == QOE_NO_KEY)
			return -1;
		if (b->key == QOE_NO_KEY)
			return 1;
		ka = qoe_buffer_key(ref_buf, a->key, &la);
		kb = qoe_buffer_key(ref_buf, b->key, &lb);
		c = memcmp(ka, kb, la < lb ? la : lb);
		if (c)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((a->flags & QOE_EV_HAS_POS) != (b->flags & QOE_EV_HAS_POS))
		return (a->flags & QOE_EV_HAS_POS) ? 1 : -1;
	if ((a->flags & QOE_EV_HAS_POS) && a->position != b->position)
		return a->position < b->position ? -1 : 1;
	if ((a->flags & QOE_EV_HAS_VALUE) != (b->flags & QOE_EV_HAS_VALUE))
		return (a->flags & QOE_EV_HAS_VALUE) ? 1 : -1;
	if (a->flags & QOE_EV_HAS_VALUE)
	{
		if (isnan(a->value) || isnan(b->value))
			return isnan(a->value) - isnan(b->value) ? (isnan(a->value) ? 1 : -1) : 0;
		if (a->value != b->value)
			return a->value < b->value ? -1 : 1;
	}
	return 0;
}

/* is b canonical by the reference definition? */
static int
ref_is_canonical(const QoeBuffer *b)
{
	size_t		i;
	uint32_t	k;

	ref_buf = b;
	for (k = 1; k < b->nkeys; k++)
	{
		size_t		la,
					lb;
		const char *ka = qoe_buffer_key(b, k - 1, &la);
		const char *kb = qoe_buffer_key(b, k, &lb);
		int			c = memcmp(ka, kb, la < lb ? la : lb);

		if (c > 0 || (c == 0 && la >= lb))
			return 0;
	}
	for (i = 1; i < b->nevents; i++)
		if (ref_cmp(&b->events[i - 1], &b->events[i]) >= 0)
			return 0;
	return 1;
}

static void
test_add_checks(void)
{
	QoeBuffer	b;

	qoe_buffer_init(&b, A);
	CHECK(b.canonical);
	CHECK_INT(b.nevents, 0);
	CHECK_INT(b.lastkey, QOE_NO_KEY);

	/* ts NULL or infinite: invalid, nothing else read */
	qoe_buffer_add(&b, true, 0, QOE_PLAY, true, 0, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, QOE_TS_NOBEGIN, QOE_PLAY, true, 0, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, QOE_TS_NOEND, QOE_PLAY, true, 0, true, 0, NULL, 0);
	/* bad ts and bad position and unknown kind: counted once, as invalid */
	qoe_buffer_add(&b, true, 0, QOE_KIND_UNKNOWN, false, NAN, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, QOE_TS_NOEND, QOE_BITRATE, false, -1, false, -5, NULL, 0);
	CHECK_INT(b.invalid_events, 5);
	CHECK_INT(b.unknown_events, 0);
	CHECK_INT(b.nevents, 0);

	/* unknown kind: unknown only, even with a bad position */
	qoe_buffer_add(&b, false, T0, QOE_KIND_UNKNOWN, false, NAN, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0, QOE_NKINDS, false, 1, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0, -7, true, 0, true, 0, "k", 1);
	CHECK_INT(b.invalid_events, 5);
	CHECK_INT(b.unknown_events, 3);
	CHECK_INT(b.nevents, 0);
	CHECK_INT(b.nkeys, 0);

	/* bad positions: counted invalid, kept as NULL */
	qoe_buffer_add(&b, false, T0, QOE_PLAY, false, NAN, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0 + 1, QOE_PLAY, false, INFINITY, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0 + 2, QOE_PLAY, false, -INFINITY, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0 + 3, QOE_PLAY, false, -0.5, true, 0, NULL, 0);
	CHECK_INT(b.invalid_events, 9);
	CHECK_INT(b.nevents, 4);
	CHECK_INT(b.events[0].flags, 0);
	CHECK_INT(b.events[3].flags, 0);
	CHECK(b.events[0].position == 0);
	CHECK(!b.canonical);

	/* good positions, including -0 and 0 */
	qoe_buffer_add(&b, false, T0 + 4, QOE_PLAY, false, -0.0, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0 + 5, QOE_PLAY, false, 12.5, true, 0, NULL, 0);
	CHECK_INT(b.invalid_events, 9);
	CHECK_INT(b.events[4].flags, QOE_EV_HAS_POS);
	CHECK(!signbit(b.events[4].position));
	CHECK_DBL(b.events[5].position, 12.5);

	/* bitrate: value must be finite > 0, else invalid (once) and dropped */
	qoe_buffer_add(&b, false, T0, QOE_BITRATE, true, 0, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0, QOE_BITRATE, true, 0, false, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0, QOE_BITRATE, true, 0, false, -1, NULL, 0);
	qoe_buffer_add(&b, false, T0, QOE_BITRATE, true, 0, false, NAN, NULL, 0);
	qoe_buffer_add(&b, false, T0, QOE_BITRATE, true, 0, false, INFINITY, NULL, 0);
	CHECK_INT(b.invalid_events, 14);
	/* bad position and bad value: one row, counted once */
	qoe_buffer_add(&b, false, T0, QOE_BITRATE, false, -3, false, -1, NULL, 0);
	qoe_buffer_add(&b, false, T0, QOE_BITRATE, false, NAN, true, 0, NULL, 0);
	CHECK_INT(b.invalid_events, 16);
	CHECK_INT(b.nevents, 6);
	/* bitrate with a bad position but a good value: counted, kept */
	qoe_buffer_add(&b, false, T0 + 6, QOE_BITRATE, false, -3, false, 3e6, NULL, 0);
	CHECK_INT(b.invalid_events, 17);
	CHECK_INT(b.nevents, 7);
	CHECK_INT(b.events[6].flags, QOE_EV_HAS_VALUE);
	CHECK_DBL(b.events[6].value, 3e6);

	/* values of other kinds are kept as given, even NaN */
	qoe_buffer_add(&b, false, T0 + 7, QOE_HEARTBEAT, true, 0, false, NAN, NULL, 0);
	qoe_buffer_add(&b, false, T0 + 8, QOE_HEARTBEAT, true, 0, false, -4, NULL, 0);
	qoe_buffer_add(&b, false, T0 + 9, QOE_HEARTBEAT, true, 0, true, 99, NULL, 0);
	CHECK_INT(b.invalid_events, 17);
	CHECK_INT(b.nevents, 10);
	CHECK_INT(b.events[7].flags, QOE_EV_HAS_VALUE);
	CHECK(isnan(b.events[7].value));
	CHECK_DBL(b.events[8].value, -4);
	CHECK_INT(b.events[9].flags, 0);
	CHECK(b.events[9].value == 0);
	CHECK_INT(b.unknown_events, 3);
	CHECK_INT(b.duplicate_events, 0);
	CHECK(qoe_buffer_memory(&b) >= 10 * sizeof(QoeEvent));

	qoe_buffer_free(&b);
	CHECK(b.events == NULL);
	CHECK_INT(b.nevents, 0);
}

static void
test_keys(void)
{
	QoeBuffer	b;
	size_t		len;
	const char *k;
	int			i;
	int			ok = 1;
	char		name[32];

	qoe_buffer_init(&b, A);
	add(&b, T0, QOE_PLAY, NAN, NAN, "a");
	add(&b, T0, QOE_PLAY, NAN, NAN, "b");
	add(&b, T0, QOE_PLAY, NAN, NAN, "a");
	add(&b, T0, QOE_PLAY, NAN, NAN, "a");
	add(&b, T0, QOE_PLAY, NAN, NAN, NULL);
	add(&b, T0, QOE_PLAY, NAN, NAN, "");
	add(&b, T0, QOE_PLAY, NAN, NAN, "b");
	qoe_buffer_add(&b, false, T0, QOE_PLAY, true, 0, true, 0, "abc", 2);
	CHECK_INT(b.nkeys, 4);
	CHECK_INT(b.events[0].key, 0);
	CHECK_INT(b.events[1].key, 1);
	CHECK_INT(b.events[2].key, 0);
	CHECK_INT(b.events[3].key, 0);
	CHECK_INT(b.events[4].key, QOE_NO_KEY);
	CHECK_INT(b.events[5].key, 2);
	CHECK_INT(b.events[6].key, 1);
	CHECK_INT(b.events[7].key, 3);
	k = qoe_buffer_key(&b, 2, &len);
	CHECK_INT(len, 0);
	k = qoe_buffer_key(&b, 3, &len);
	CHECK(len == 2 && memcmp(k, "ab", 2) == 0);

	/* many keys: the hash */
	for (i = 0; i < 5000; i++)
	{
		snprintf(name, sizeof(name), "session-%d", i % 2000);
		add(&b, T0 + i, QOE_HEARTBEAT, NAN, NAN, name);
	}
	CHECK_INT(b.nkeys, 2004);
	CHECK(b.keyhash_cap >= 2 * b.nkeys);
	for (i = 0; i < 5000; i++)
	{
		snprintf(name, sizeof(name), "session-%d", i % 2000);
		k = qoe_buffer_key(&b, b.events[8 + i].key, &len);
		if (len != strlen(name) || memcmp(k, name, len) != 0)
			ok = 0;
	}
	CHECK(ok);
	/* old keys still found through the hash */
	add(&b, T0, QOE_PLAY, NAN, NAN, "b");
	CHECK_INT(b.events[b.nevents - 1].key, 1);
	add(&b, T0, QOE_PLAY, NAN, NAN, "");
	CHECK_INT(b.events[b.nevents - 1].key, 2);
	CHECK_INT(b.nkeys, 2004);

	qoe_buffer_canonicalize(&b);
	CHECK(ref_is_canonical(&b));
	CHECK_INT(b.nkeys, 2004);
	k = qoe_buffer_key(&b, 0, &len);
	CHECK_INT(len, 0);
	k = qoe_buffer_key(&b, 1, &len);
	CHECK(len == 1 && k[0] == 'a');
	k = qoe_buffer_key(&b, 2, &len);
	CHECK(len == 2 && memcmp(k, "ab", 2) == 0);
	/* after canonicalisation the buffer can go on accumulating */
	add(&b, T0, QOE_PLAY, NAN, NAN, "session-7");
	add(&b, T0, QOE_PLAY, NAN, NAN, "zzz");
	CHECK_INT(b.nkeys, 2005);
	qoe_buffer_canonicalize(&b);
	CHECK(ref_is_canonical(&b));
	qoe_buffer_free(&b);
}

/* a random buffer of n events over nk keys (plus NULL) */
static void
random_buffer(QoeBuffer *b, size_t n, int nk, int64_t tsrange, int dupfreq)
{
	size_t		i;
	char		name[32];

	for (i = 0; i < n; i++)
	{
		uint64_t	r = unit_rng();
		int			kind = (int) (r % QOE_NKINDS);
		int			kn = (int) ((r >> 8) % (uint64_t) (nk + 1));
		double		pos = ((r >> 20) % 4) == 0 ? NAN : (double) ((r >> 24) % 50) / 4;
		double		val = ((r >> 30) % 3) == 0 ? NAN : (double) ((r >> 34) % 5 + 1) * 1000;
		int64_t		ts = T0 + (int64_t) ((r >> 40) % (uint64_t) tsrange);

		if (kn < nk)
			snprintf(name, sizeof(name), "k%d", kn);
		add(b, ts, kind, pos, val, kn < nk ? name : NULL);
		if (dupfreq && (r % (uint64_t) dupfreq) == 0)
		{
			add(b, ts, kind, pos, val, kn < nk ? name : NULL);
			if (kind == QOE_BITRATE && isnan(val))
				continue;
		}
		if ((r >> 50) % 50 == 0)
			qoe_buffer_add(b, false, ts, QOE_HEARTBEAT, true, 0, false, NAN,
						   kn < nk ? name : NULL, kn < nk ? strlen(name) : 0);
	}
}

static int
same_bytes(const QoeBuffer *x, const QoeBuffer *y)
{
	size_t		lx,
				ly;
	unsigned char *sx = serialize(x, &lx);
	unsigned char *sy = serialize(y, &ly);
	int			r = lx == ly && memcmp(sx, sy, lx) == 0;

	free(sx);
	free(sy);
	return r;
}

static void
test_merge(void)
{
	QoeBuffer	a,
				b,
				ab,
				ba,
				e;

	qoe_buffer_init(&a, A);
	qoe_buffer_init(&b, A);
	random_buffer(&a, 3000, 20, 200 * SEC, 7);
	random_buffer(&b, 2000, 30, 100 * SEC, 5);
	qoe_buffer_add(&a, true, 0, QOE_PLAY, true, 0, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T0, QOE_KIND_UNKNOWN, true, 0, true, 0, NULL, 0);

	qoe_buffer_init(&ab, A);
	qoe_buffer_merge(&ab, &a);
	qoe_buffer_merge(&ab, &b);
	qoe_buffer_init(&ba, A);
	qoe_buffer_merge(&ba, &b);
	qoe_buffer_merge(&ba, &a);
	CHECK_INT(ab.nevents, a.nevents + b.nevents);
	CHECK_INT(ab.invalid_events, a.invalid_events + b.invalid_events);
	CHECK_INT(ab.unknown_events, 1);
	CHECK(!ab.canonical);
	qoe_buffer_canonicalize(&ab);
	qoe_buffer_canonicalize(&ba);
	CHECK(same_bytes(&ab, &ba));
	CHECK(ref_is_canonical(&ab));
	CHECK(ab.duplicate_events > 0);

	/* canonicalising the parts first gives the same result */
	qoe_buffer_canonicalize(&a);
	qoe_buffer_canonicalize(&b);
	qoe_buffer_free(&ba);
	qoe_buffer_init(&ba, A);
	qoe_buffer_merge(&ba, &b);
	CHECK(ba.canonical);		/* canonical merged into empty stays canonical */
	CHECK(same_bytes(&ba, &b));
	qoe_buffer_merge(&ba, &a);
	CHECK(!ba.canonical);
	qoe_buffer_canonicalize(&ba);
	CHECK(same_bytes(&ab, &ba));

	/* merging an empty buffer: counters only */
	qoe_buffer_init(&e, A);
	e.invalid_events = 3;
	qoe_buffer_merge(&ba, &e);
	CHECK(ba.canonical);
	CHECK_INT(ba.invalid_events, ab.invalid_events + 3);
	qoe_buffer_merge(&e, &ba);
	CHECK_INT(e.nevents, ba.nevents);
	CHECK(e.canonical);			/* e had counters only */

	qoe_buffer_free(&a);
	qoe_buffer_free(&b);
	qoe_buffer_free(&ab);
	qoe_buffer_free(&ba);
	qoe_buffer_free(&e);
}

/*
 * Merging canonical buffers in one pass gives what merging and then
 * canonicalising gives: overlapping and disjoint keys, NULL keys, events
 * both sides hold (kept once, counted), counters, either order, into an
 * empty buffer, and from one with counters only.
 */
static int
same_events(const QoeBuffer *x, const QoeBuffer *y)
{
	if (x->nevents != y->nevents || x->nkeys != y->nkeys ||
		memcmp(x->events, y->events, x->nevents * sizeof(QoeEvent)) != 0)
		return 0;
	for (uint32_t k = 0; k < x->nkeys; k++)
	{
		size_t		lx,
					ly;
		const char *kx = qoe_buffer_key(x, k, &lx);
		const char *ky = qoe_buffer_key(y, k, &ly);

		if (lx != ly || memcmp(kx, ky, lx) != 0)
			return 0;
	}
	return 1;
}

static void
copy_buffer(QoeBuffer *dst, const QoeBuffer *src)
{
	qoe_buffer_init(dst, A);
	qoe_buffer_merge(dst, src);
}

static void
test_merge_canonical(void)
{
	QoeBuffer	a,
				b,
				want,
				got,
				e;
	int			round;

	for (round = 0; round < 4; round++)
	{
		qoe_buffer_init(&a, A);
		qoe_buffer_init(&b, A);
		/* round 1: disjoint ts ranges; round 2: b has no keys at all */
		random_buffer(&a, 2500, 25, 200 * SEC, 6);
		if (round == 2)
			random_buffer(&b, 1500, 0, 150 * SEC, 4);
		else
			random_buffer(&b, 1500, round == 3 ? 400 : 40,
						  round == 1 ? 50 * SEC : 150 * SEC, 4);
		/* events both hold */
		for (size_t i = 0; i < a.nevents; i += 9)
		{
			QoeEvent	ev = a.events[i];
			size_t		kl = 0;
			const char *kp = ev.key == QOE_NO_KEY ? NULL : qoe_buffer_key(&a, ev.key, &kl);

			qoe_buffer_add(&b, false, ev.ts, ev.kind,
						   !(ev.flags & QOE_EV_HAS_POS), ev.position,
						   !(ev.flags & QOE_EV_HAS_VALUE), ev.value, kp, kl);
		}
		b.invalid_events += 2;
		b.unknown_events += 5;

		qoe_buffer_init(&want, A);
		qoe_buffer_merge(&want, &a);
		qoe_buffer_merge(&want, &b);
		qoe_buffer_canonicalize(&want);

		qoe_buffer_canonicalize(&a);
		qoe_buffer_canonicalize(&b);
		CHECK(a.duplicate_events > 0 && b.duplicate_events > 0);

		copy_buffer(&got, &a);
		qoe_buffer_merge_canonical(&got, &b);
		CHECK(got.canonical);
		CHECK(ref_is_canonical(&got));
		CHECK(same_bytes(&got, &want));
		CHECK_INT(got.duplicate_events, want.duplicate_events);
		CHECK_INT(got.invalid_events, want.invalid_events);
		CHECK_INT(got.unknown_events, want.unknown_events);
		qoe_buffer_free(&got);

		copy_buffer(&got, &b);
		qoe_buffer_merge_canonical(&got, &a);
		CHECK(same_bytes(&got, &want));
		CHECK_INT(got.duplicate_events, want.duplicate_events);
		qoe_buffer_free(&got);

		/* into an empty buffer, and a buffer with counters only */
		qoe_buffer_init(&got, A);
		qoe_buffer_merge_canonical(&got, &a);
		CHECK(same_bytes(&got, &a));
		qoe_buffer_init(&e, A);
		e.invalid_events = 7;
		qoe_buffer_merge_canonical(&got, &e);
		CHECK(same_events(&got, &a));
		CHECK_INT(got.invalid_events, a.invalid_events + 7);
		qoe_buffer_merge_canonical(&e, &got);
		CHECK(same_events(&e, &a));
		CHECK_INT(e.invalid_events, a.invalid_events + 14);
		CHECK(e.canonical);

		qoe_buffer_free(&a);
		qoe_buffer_free(&b);
		qoe_buffer_free(&want);
		qoe_buffer_free(&got);
		qoe_buffer_free(&e);
	}
}

/*
 * Several canonical buffers merged at once: the same bytes and counters as
 * merging them all and canonicalising, for 1-6 sources sharing keys and
 * events (an event in three sources is two duplicates), and for 70 sources
 * (merged in turns of 63).
 */
static void
test_merge_canonical_many(void)
{
	static const int counts[] = {1, 2, 3, 6, 70};

	for (size_t r = 0; r < sizeof(counts) / sizeof(counts[0]); r++)
	{
		int			n = counts[r];
		QoeBuffer  *src = malloc(sizeof(QoeBuffer) * (size_t) n);
		const QoeBuffer **ptr = malloc(sizeof(QoeBuffer *) * (size_t) n);
		QoeBuffer	want,
					got,
					base;
		int			i;

		qoe_buffer_init(&base, A);
		random_buffer(&base, n > 10 ? 300 : 2000, 30, 100 * SEC, 5);
		qoe_buffer_init(&want, A);
		qoe_buffer_merge(&want, &base);
		for (i = 0; i < n; i++)
		{
			qoe_buffer_init(&src[i], A);
			/* some sources without keys, one without events */
			if (i % 4 != 3)
				random_buffer(&src[i], n > 10 ? 100 : 1500, i % 3 == 2 ? 0 : 30 + i,
							  100 * SEC, 4);
			/* every source also holds every 7th event of base */
			for (size_t e = 0; e < base.nevents; e += 7)
			{
				QoeEvent	ev = base.events[e];
				size_t		kl = 0;
				const char *kp = ev.key == QOE_NO_KEY ? NULL : qoe_buffer_key(&base, ev.key, &kl);

				qoe_buffer_add(&src[i], false, ev.ts, ev.kind,
							   !(ev.flags & QOE_EV_HAS_POS), ev.position,
							   !(ev.flags & QOE_EV_HAS_VALUE), ev.value, kp, kl);
			}
			src[i].invalid_events += (uint64_t) i;
			qoe_buffer_merge(&want, &src[i]);
			qoe_buffer_canonicalize(&src[i]);
			ptr[i] = &src[i];
		}
		qoe_buffer_canonicalize(&want);
		qoe_buffer_canonicalize(&base);
		copy_buffer(&got, &base);
		qoe_buffer_canonicalize(&got);
		qoe_buffer_merge_canonical_many(&got, ptr, n);
		unit_report(got.canonical && ref_is_canonical(&got) && same_bytes(&got, &want) &&
					got.duplicate_events == want.duplicate_events &&
					got.invalid_events == want.invalid_events &&
					got.duplicate_events >= (uint64_t) n * (base.nevents / 7),
					__FILE__, __LINE__, "merged at once: as merged and canonicalised");
		qoe_buffer_free(&got);
		/* into an empty buffer */
		qoe_buffer_init(&got, A);
		qoe_buffer_merge_canonical_many(&got, ptr, n);
		qoe_buffer_merge_canonical(&got, &base);
		unit_report(same_bytes(&got, &want), __FILE__, __LINE__,
					"merged at once into an empty buffer, then the base");
		qoe_buffer_free(&got);
		for (i = 0; i < n; i++)
			qoe_buffer_free(&src[i]);
		free(src);
		free(ptr);
		qoe_buffer_free(&base);
		qoe_buffer_free(&want);
	}
}

/* ---------------------------------------------------------------------
 * Merging a piece at a time (QoeMergeReader)
 * ---------------------------------------------------------------------
 */

/* how a merge input is given */
enum
{
	FORM_BUFFER,				/* the canonical buffer itself */
	FORM_COMPACT,				/* compact bytes, qoe_serial_open */
	FORM_UNCHECKED,				/* compact bytes, qoe_serial_open_unchecked */
	FORM_TIMELINE,				/* the 32-byte form, qoe_serial_open */
	NFORMS
};

static const char *const form_names[NFORMS] = {
	"buffer", "compact", "compact unchecked", "32-byte form"
};

/* one merge input in one form: the bytes, the reader and its keys */
typedef struct MergeSrc
{
	unsigned char *bytes;
	size_t		len;
	QoeBuffer	keys;			/* the reader's keys and counters */
	QoeSerialReader reader;
} MergeSrc;

/* b as a merge input of the given form; NULL, or what opening said */
static const char *
merge_src_open(MergeSrc *s, QoeBuffer *b, int form, QoeMergeInput *in)
{
	const char *err = NULL;

	memset(s, 0, sizeof(*s));
	qoe_buffer_init(&s->keys, A);
	in->buf = b;
	in->reader = NULL;
	if (form == FORM_BUFFER)
		return NULL;
	if (form == FORM_TIMELINE)
		s->bytes = serialize(b, &s->len);
	else
		s->bytes = compact_bytes(b, &s->len);
	if (form == FORM_UNCHECKED)
		err = qoe_serial_open_unchecked(&s->reader, s->bytes, s->len, &s->keys);
	else
		err = qoe_serial_open(&s->reader, s->bytes, s->len, &s->keys);
	in->buf = &s->keys;
	in->reader = &s->reader;
	return err;
}

static void
merge_src_close(MergeSrc *s)
{
	qoe_buffer_free(&s->keys);
	free(s->bytes);
	s->bytes = NULL;
}

/* what reading a merge to the end gave */
typedef struct MergeRun
{
	const char *err;			/* of qoe_merge_open or qoe_merge_next */
	QoeBuffer	got;			/* out's keys and counters, the pieces' events */
	size_t		total;			/* r.total */
	size_t		npieces;
	bool		pieces_ok;		/* every piece as qoe_merge_next promises */
	bool		has_ts;			/* r.has_ts, first_ts, last_ts at the end */
	int64_t		first_ts;
	int64_t		last_ts;
	unsigned char *compact;		/* the pieces through QoeCompactWriter */
	size_t		clen;
	size_t		bound;			/* qoe_compact_bound(out, r.total) */
} MergeRun;

/*
 * Read the merge of in[0 .. n-1] to the end, want events a piece.  Each
 * piece but the last must hold at least want events (at least one for
 * want 0), a piece must start a key of its own, and end at the first key
 * boundary from its want-th event on; once the end is reached, it stays
 * there.  The pieces are also written with QoeCompactWriter into a buffer
 * of qoe_compact_bound(out, r.total) bytes.
 */
static void
run_merge(MergeRun *run, const QoeMergeInput *in, int n, size_t want)
{
	QoeMergeReader r;
	QoeBuffer	out,
				piece;
	QoeCompactWriter w;
	QoeEvent   *ev = NULL;
	size_t		nev = 0,
				cap = 0;
	size_t		min = want > 0 ? want : 1;
	bool		short_seen = false;
	uint32_t	lastkey = 0;
	const char *err;

	memset(run, 0, sizeof(*run));
	run->pieces_ok = true;
	qoe_buffer_init(&out, A);
	qoe_buffer_init(&piece, A);
	err = qoe_merge_open(&r, in, n, &out);
	if (err == NULL)
	{
		run->total = r.total;
		run->bound = qoe_compact_bound(&out, r.total);
		run->compact = malloc(run->bound);
		qoe_compact_begin(&w, &out, run->compact);
		while (qoe_merge_next(&r, &piece, want, &err))
		{
			size_t		i;

			if (piece.nevents == 0 || short_seen ||
				(run->npieces > 0 && piece.events[0].key == lastkey))
				run->pieces_ok = false;
			if (piece.nevents < min)
				short_seen = true;	/* only the last piece may be short */
			for (i = min; i < piece.nevents; i++)
				if (piece.events[i].key != piece.events[min - 1].key)
					run->pieces_ok = false;
			if (nev + piece.nevents > cap)
			{
				cap = 2 * (nev + piece.nevents);
				ev = realloc(ev, cap * sizeof(QoeEvent));
			}
			if (piece.nevents > 0)
			{
				memcpy(ev + nev, piece.events, piece.nevents * sizeof(QoeEvent));
				lastkey = piece.events[piece.nevents - 1].key;
			}
			nev += piece.nevents;
			run->npieces++;
			qoe_compact_put(&w, &piece);
		}
		if (err == NULL)
		{
			/* the end stays the end */
			if (qoe_merge_next(&r, &piece, want, &err) || err != NULL ||
				piece.nevents != 0)
				run->pieces_ok = false;
			run->clen = qoe_compact_end(&w, &out);
		}
		run->has_ts = r.has_ts;
		run->first_ts = r.first_ts;
		run->last_ts = r.last_ts;
	}
	run->err = err;
	qoe_merge_close(&r);
	qoe_buffer_free(&piece);

	/* out keeps the keys and counters; the events are the pieces' */
	run->got = out;
	run->got.events = ev;
	run->got.nevents = nev;
	run->got.evcap = cap;
	run->got.canonical = true;
}

static void
merge_run_free(MergeRun *run)
{
	qoe_buffer_free(&run->got);
	free(run->compact);
	run->compact = NULL;
}

/* the same bytes in the compact form as b (canonical) */
static bool
same_compact(const MergeRun *run, QoeBuffer *b)
{
	size_t		len;
	unsigned char *c = compact_bytes(b, &len);
	bool		same = run->clen == len && run->clen <= run->bound &&
		memcmp(run->compact, c, len) == 0;

	free(c);
	return same;
}

/* qoe_merge_open's reference: a copy of in[0], then the others at once */
static void
merge_reference(QoeBuffer *ref, QoeBuffer *const *src, int n)
{
	const QoeBuffer **rest = malloc(sizeof(QoeBuffer *) * (size_t) (n > 1 ? n - 1 : 1));
	int			i;

	for (i = 1; i < n; i++)
		rest[i - 1] = src[i];
	copy_buffer(ref, src[0]);
	qoe_buffer_canonicalize(ref);
	qoe_buffer_merge_canonical_many(ref, rest, n - 1);
	free(rest);
}

/* add ev (of buffer from) to b as a row */
static void
add_event_of(QoeBuffer *b, const QoeBuffer *from, const QoeEvent *ev)
{
	size_t		kl = 0;
	const char *kp = ev->key == QOE_NO_KEY ? NULL : qoe_buffer_key(from, ev->key, &kl);

	qoe_buffer_add(b, false, ev->ts, ev->kind,
				   !(ev->flags & QOE_EV_HAS_POS), ev->position,
				   !(ev->flags & QOE_EV_HAS_VALUE), ev->value, kp, kl);
}

/*
 * n canonical inputs for a merge: mostly random events over shared keys
 * and the NULL key, some without keys, input empty (if >= 0) without
 * events (counters only); every 5th event of a base in all of them (a
 * duplicate for each further copy), every 3rd in every other one.
 */
static QoeBuffer *
merge_inputs(int n, int empty)
{
	QoeBuffer  *src = malloc(sizeof(QoeBuffer) * (size_t) n);
	QoeBuffer	base;
	int			i;

	qoe_buffer_init(&base, A);
	random_buffer(&base, 600, 12, 100 * SEC, 5);
	for (i = 0; i < n; i++)
	{
		bool		nokeys = i % 3 == 1;
		char		own[32];

		qoe_buffer_init(&src[i], A);
		if (i == empty)
		{
			src[i].invalid_events = 3;
			src[i].unknown_events = 1;
			continue;
		}
		random_buffer(&src[i], 150 + 40 * (size_t) i, nokeys ? 0 : 10 + i,
					  100 * SEC, 4);
		for (size_t e = 0; e < base.nevents; e++)
		{
			const QoeEvent *ev = &base.events[e];

			if (nokeys && ev->key != QOE_NO_KEY)
				continue;
			if (e % 5 == 0 || (i % 2 == 0 && e % 3 == 0))
				add_event_of(&src[i], &base, ev);
		}
		/* a key no other input has; the empty key, keys of high bytes */
		if (!nokeys)
		{
			snprintf(own, sizeof(own), "own-%d", i);
			add(&src[i], T0 + i, QOE_PLAY, 1, NAN, own);
			if (i % 2 == 0)
				add(&src[i], T0 + 7, QOE_PAUSE, 2, NAN, "");
			add(&src[i], T0 + i % 3, QOE_SEEK, 3, NAN, i % 3 ? "\xff\x01" : "k1\xff");
		}
		/* rows counted, not kept */
		qoe_buffer_add(&src[i], true, 0, QOE_PLAY, true, 0, true, 0, NULL, 0);
		qoe_buffer_add(&src[i], false, T0, QOE_KIND_UNKNOWN, true, 0, true, 0, "x", 1);
		qoe_buffer_canonicalize(&src[i]);
	}
	/* a counter near its cap: the sum saturates (the same either way) */
	if (n == 3)
		src[0].duplicate_events = (uint64_t) INT64_MAX - 2;
	qoe_buffer_free(&base);
	return src;
}

/*
 * qoe_merge_open/qoe_merge_next over 1-16 inputs in every mix of forms,
 * pieces of several sizes: the pieces, one after the other, with out's
 * keys and counters, are byte for byte the buffer
 * qoe_buffer_merge_canonical_many makes; the reader's ts range is the
 * buffer's; written with QoeCompactWriter they are the bytes
 * qoe_buffer_compact_serialize writes of it.
 */
static void
test_merge_reader(void)
{
	static const int counts[] = {1, 2, 3, 6, 16};
	static const int empties[] = {-1, -1, 2, 0, 8};
	static const size_t wants[] = {0, 1, 7, 1000, SIZE_MAX};

	unit_rng_state = 20251201;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
	{
		int			n = counts[c];
		QoeBuffer  *src = merge_inputs(n, empties[c]);
		QoeBuffer **ptr = malloc(sizeof(QoeBuffer *) * (size_t) n);
		QoeBuffer	ref;
		size_t		nin = 0;
		int64_t		first = 0,
					last = 0;
		bool		has_ts;
		int			i;

		for (i = 0; i < n; i++)
		{
			ptr[i] = &src[i];
			nin += src[i].nevents;
		}
		merge_reference(&ref, ptr, n);
		has_ts = qoe_buffer_ts_range(&ref, &first, &last);
		CHECK(ref_is_canonical(&ref));
		/* events several inputs hold are dropped */
		if (n > 1)
			CHECK(ref.nevents < nin && ref.nkeys > 0);
		printf("# %d inputs: %zu events merged into %zu, %u keys, counters %llu/%llu/%llu\n",
			   n, nin, ref.nevents, ref.nkeys,
			   (unsigned long long) ref.invalid_events,
			   (unsigned long long) ref.unknown_events,
			   (unsigned long long) ref.duplicate_events);

		for (int rot = 0; rot < NFORMS; rot++)
		{
			MergeSrc   *ms = malloc(sizeof(MergeSrc) * (size_t) n);
			QoeMergeInput *in = malloc(sizeof(QoeMergeInput) * (size_t) n);
			bool		opened = true;

			for (i = 0; i < n; i++)
				if (merge_src_open(&ms[i], &src[i], (i + rot) % NFORMS, &in[i]) != NULL)
					opened = false;
			CHECK(opened);

			/* the same readers for every piece size: they are not moved */
			for (size_t wi = 0; wi < sizeof(wants) / sizeof(wants[0]); wi++)
			{
				MergeRun	run;
				char		what[160];
				bool		ok;

				run_merge(&run, in, n, wants[wi]);
				if (wants[wi] == SIZE_MAX)
					snprintf(what, sizeof(what),
							 "merge of %d inputs (first %s), one piece: no error",
							 n, form_names[rot]);
				else
					snprintf(what, sizeof(what),
							 "merge of %d inputs (first %s), pieces of %zu: no error, whole keys",
							 n, form_names[rot], wants[wi]);
				ok = run.err == NULL && run.pieces_ok && run.total == nin &&
					(wants[wi] != SIZE_MAX || run.npieces == (ref.nevents > 0 ? 1u : 0u));
				unit_report(ok, __FILE__, __LINE__, what);
				if (!ok)
					printf("#   err %s, pieces_ok %d, total %zu of %zu, %zu pieces\n",
						   run.err ? run.err : "(null)", run.pieces_ok,
						   run.total, nin, run.npieces);
				ok = same_bytes(&run.got, &ref) &&
					run.got.duplicate_events == ref.duplicate_events &&
					run.got.invalid_events == ref.invalid_events &&
					run.got.unknown_events == ref.unknown_events;
				unit_report(ok, __FILE__, __LINE__,
							"pieces with out's keys and counters: the merged buffer, byte for byte");
				if (!ok)
					printf("#   %zu events (want %zu), %u keys (want %u), duplicates %llu (want %llu)\n",
						   run.got.nevents, ref.nevents, run.got.nkeys, ref.nkeys,
						   (unsigned long long) run.got.duplicate_events,
						   (unsigned long long) ref.duplicate_events);
				unit_report(run.has_ts == has_ts &&
							(!has_ts || (run.first_ts == first && run.last_ts == last)),
							__FILE__, __LINE__, "the reader's ts range is the buffer's");
				unit_report(run.err == NULL && same_compact(&run, &ref),
							__FILE__, __LINE__,
							"pieces through QoeCompactWriter: the compact bytes of the buffer");
				merge_run_free(&run);
			}
			for (i = 0; i < n; i++)
				merge_src_close(&ms[i]);
			free(ms);
			free(in);
		}
		for (i = 0; i < n; i++)
			qoe_buffer_free(&src[i]);
		free(src);
		free(ptr);
		qoe_buffer_free(&ref);
	}

	/* no inputs: nothing to read; more than QOE_MERGE_MAX: refused */
	{
		QoeMergeReader r;
		QoeBuffer	out,
					piece;
		QoeMergeInput in[QOE_MERGE_MAX + 1];
		QoeBuffer	e;
		const char *err = "unset";

		qoe_buffer_init(&out, A);
		qoe_buffer_init(&piece, A);
		CHECK(qoe_merge_open(&r, NULL, 0, &out) == NULL);
		CHECK(!qoe_merge_next(&r, &piece, 10, &err));
		CHECK(err == NULL && piece.nevents == 0);
		qoe_merge_close(&r);
		qoe_buffer_init(&e, A);
		for (int i = 0; i < QOE_MERGE_MAX + 1; i++)
		{
			in[i].buf = &e;
			in[i].reader = NULL;
		}
		CHECK_STR(qoe_merge_open(&r, in, QOE_MERGE_MAX + 1, &out),
				  "too many inputs to merge");
		qoe_merge_close(&r);
		qoe_buffer_free(&out);
		qoe_buffer_free(&piece);
		qoe_buffer_free(&e);
	}
}

/*
 * A damaged compact value read by the merge after
 * qoe_serial_open_unchecked: if opening refuses it, so does
 * qoe_buffer_deserialize; otherwise reading the merge to the end (alone,
 * or with another input) either fails, as qoe_buffer_deserialize does
 * (alone: with its message), or gives exactly what the merge of
 * qoe_buffer_deserialize's buffer gives.  *accepted counts what was read
 * without an error; returns whether all of that held.
 */
static bool
unchecked_agrees(const unsigned char *data, size_t len, QoeBuffer *other,
				 size_t want, int *accepted)
{
	QoeBuffer	d,
				keys;
	QoeSerialReader rd;
	const char *derr,
			   *oerr;
	bool		ok = true;

	qoe_buffer_init(&d, A);
	qoe_buffer_init(&keys, A);
	derr = qoe_buffer_deserialize(&d, data, len, true);
	oerr = qoe_serial_open_unchecked(&rd, data, len, &keys);
	if (oerr != NULL)
		ok = derr != NULL;
	else
	{
		QoeMergeInput in[2];
		MergeRun	run;

		in[0].buf = &keys;
		in[0].reader = &rd;
		in[1].buf = other;
		in[1].reader = NULL;

		/* alone */
		run_merge(&run, in, 1, want);
		if (run.err == NULL)
		{
			(*accepted)++;
			ok = derr == NULL && run.pieces_ok && same_bytes(&run.got, &d) &&
				same_compact(&run, &d);
		}
		else
			ok = derr != NULL && strcmp(run.err, derr) == 0;
		if (!ok)
			printf("#   alone: merge says %s, qoe_buffer_deserialize %s\n",
				   run.err ? run.err : "(null)", derr ? derr : "(null)");
		merge_run_free(&run);

		/* with another input (the damaged one first, or second) */
		for (int order = 0; order < 2; order++)
		{
			QoeMergeInput pair[2];
			bool		ok2;

			pair[0] = in[order];
			pair[1] = in[1 - order];
			run_merge(&run, pair, 2, want);
			if (run.err == NULL)
			{
				QoeBuffer	ref;
				QoeBuffer  *parts[2];

				ok2 = derr == NULL && run.pieces_ok;
				if (ok2)
				{
					parts[order] = &d;
					parts[1 - order] = other;
					merge_reference(&ref, parts, 2);
					ok2 = same_bytes(&run.got, &ref) && same_compact(&run, &ref);
					qoe_buffer_free(&ref);
				}
			}
			else
				ok2 = derr != NULL;
			if (!ok2)
				printf("#   with another (order %d): merge says %s, qoe_buffer_deserialize %s\n",
					   order, run.err ? run.err : "(null)", derr ? derr : "(null)");
			ok = ok && ok2;
			merge_run_free(&run);
		}
	}
	qoe_buffer_free(&d);
	qoe_buffer_free(&keys);
	return ok;
}

/* the error the merge of data alone (opened unchecked) ends with */
static const char *
unchecked_merge_error(const unsigned char *data, size_t len)
{
	QoeBuffer	keys;
	QoeSerialReader rd;
	QoeMergeInput in;
	MergeRun	run;
	const char *err;

	qoe_buffer_init(&keys, A);
	err = qoe_serial_open_unchecked(&rd, data, len, &keys);
	if (err == NULL)
	{
		in.buf = &keys;
		in.reader = &rd;
		run_merge(&run, &in, 1, 3);
		err = run.err;
		merge_run_free(&run);
	}
	qoe_buffer_free(&keys);
	return err;
}

/* malloc, counting the growths of the arrays it hands out */
static int	counted_reallocs;

static void *
counting_realloc(void *ctx, void *ptr, size_t oldsize, size_t newsize)
{
	counted_reallocs++;
	return qoe_malloc_allocator.realloc(ctx, ptr, oldsize, newsize);
}

/*
 * A key with far more events than a piece (here a group without session
 * keys: one key) comes as one piece, whose room is taken at once once the
 * piece is past want, not grown by copies event after event: with want
 * 100, 5 growths up to 128 events and one more, where doubling to 30,000
 * events would take 12.
 */
static void
test_merge_reader_long_key(void)
{
	QoeAllocator counting = qoe_malloc_allocator;
	QoeBuffer	part[3],
				want,
				out,
				piece;
	const QoeBuffer *src[2];
	QoeMergeInput in[3];
	QoeMergeReader r;
	const char *err = NULL;
	size_t		npieces = 0,
				nev = 0;
	int			i;

	counting.realloc = counting_realloc;
	for (i = 0; i < 3; i++)
	{
		qoe_buffer_init(&part[i], A);
		for (int e = 0; e < 10000; e++)
			add(&part[i], T0 + (int64_t) (3 * e + i) * SEC, QOE_HEARTBEAT,
				(double) (3 * e + i), NAN, NULL);
		qoe_buffer_canonicalize(&part[i]);
		in[i].buf = &part[i];
		in[i].reader = NULL;
	}
	copy_buffer(&want, &part[0]);
	src[0] = &part[1];
	src[1] = &part[2];
	qoe_buffer_merge_canonical_many(&want, src, 2);

	qoe_buffer_init(&out, A);
	qoe_buffer_init(&piece, &counting);
	CHECK(qoe_merge_open(&r, in, 3, &out) == NULL);
	counted_reallocs = 0;
	while (qoe_merge_next(&r, &piece, 100, &err))
	{
		npieces++;
		nev = piece.nevents;
		CHECK(memcmp(piece.events, want.events, want.nevents * sizeof(QoeEvent)) == 0);
	}
	CHECK(err == NULL);
	CHECK_INT(npieces, 1);
	CHECK_INT(nev, 30000);
	CHECK_INT(want.nevents, 30000);
	CHECK(counted_reallocs <= 5);
	if (counted_reallocs > 5)
		printf("#   %d growths of the piece\n", counted_reallocs);
	qoe_merge_close(&r);
	qoe_buffer_free(&piece);
	qoe_buffer_free(&out);
	qoe_buffer_free(&want);
	for (i = 0; i < 3; i++)
		qoe_buffer_free(&part[i]);
}

/*
 * Damaged values opened with qoe_serial_open_unchecked: cut at every
 * length, every byte after the magic changed several ways, bytes
 * appended, the header's event count changed.  The merge reads them
 * without crashing, and refuses them or agrees with
 * qoe_buffer_deserialize (unchecked_agrees).  Data after the last event
 * and a header counting more events than there are are refused.
 */
static void
test_merge_reader_corrupt(void)
{
	static const unsigned char masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20,
	0x40, 0x80, 0xFF};
	static const size_t wants[] = {1, 5, SIZE_MAX};
	QoeBuffer	b,
				other,
				e;
	unsigned char *s,
			   *t,
			   *es;
	size_t		len,
				elen,
				i,
				k;
	int			accepted = 0,
				tried = 0;
	bool		ok;
	uint64_t	nev;

	/* NULL-key events and three keys; every position and value encoding */
	unit_rng_state = 777;
	qoe_buffer_init(&b, A);
	random_buffer(&b, 36, 3, 20 * SEC, 0);
	add(&b, T0 + 3, QOE_PLAY, 1.0000001234, NAN, "k1");	/* position as a double */
	add(&b, T0 + 4, QOE_HEARTBEAT, 2, 0.125, "k1");	/* value as a double */
	add(&b, T0 + 5, QOE_HEARTBEAT, 3, 0.125, "k1");	/* the same value again */
	add(&b, T0 + 6, QOE_BITRATE, NAN, 3e6, NULL);
	qoe_buffer_canonicalize(&b);
	s = compact_bytes(&b, &len);
	nev = b.nevents;
	t = malloc(len + 16);
	printf("# damaged values: from %zu bytes, %zu events, %u keys\n",
		   len, b.nevents, b.nkeys);

	/* another input, sharing some events (and keys) with b */
	qoe_buffer_init(&other, A);
	random_buffer(&other, 20, 4, 20 * SEC, 0);
	for (i = 0; i < b.nevents; i += 4)
		add_event_of(&other, &b, &b.events[i]);
	qoe_buffer_canonicalize(&other);

	/* undamaged: read as it is */
	ok = unchecked_agrees(s, len, &other, 1, &accepted);
	unit_report(ok && accepted == 1, __FILE__, __LINE__,
				"undamaged: read as qoe_buffer_deserialize reads it");

	/* cut at every length */
	ok = true;
	for (i = 0; i < len; i++)
	{
		ok = unchecked_agrees(s, i, &other, wants[i % 3], &accepted) && ok;
		tried++;
	}
	unit_report(ok, __FILE__, __LINE__,
				"cut short: refused as qoe_buffer_deserialize refuses it");

	/* every byte after the magic changed */
	ok = true;
	for (i = 4; i < len; i++)
		for (k = 0; k < sizeof(masks); k++)
		{
			memcpy(t, s, len);
			t[i] ^= masks[k];
			ok = unchecked_agrees(t, len, &other, wants[(i + k) % 3], &accepted) && ok;
			tried++;
		}
	unit_report(ok, __FILE__, __LINE__,
				"bytes changed: refused, or read as qoe_buffer_deserialize reads them");

	/* bytes appended */
	ok = true;
	for (k = 1; k <= 8; k++)
		for (i = 0; i < 4; i++)
		{
			static const unsigned char fill[] = {0x00, 0x01, 0x80, 0xFF};

			memcpy(t, s, len);
			memset(t + len, fill[i], k);
			ok = unchecked_agrees(t, len + k, &other, wants[(i + k) % 3], &accepted) && ok;
			ok = unchecked_merge_error(t, len + k) != NULL && ok;
			tried++;
		}
	unit_report(ok, __FILE__, __LINE__, "bytes after the last event: refused");
	memcpy(t, s, len);
	t[len] = 0;
	CHECK_STR(unchecked_merge_error(t, len + 1), "unexpected data after the end");

	/* the header's event count changed */
	ok = true;
	{
		const uint64_t counts[] = {0, 1, nev - 2, nev - 1, nev + 1, nev + 2, 2 * nev,
		len / 2, len, UINT64_MAX / 2, UINT64_MAX};

		for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
		{
			memcpy(t, s, len);
			put_u64(t + 8, counts[k]);
			ok = unchecked_agrees(t, len, &other, wants[k % 3], &accepted) && ok;
			ok = unchecked_merge_error(t, len) != NULL && ok;
			tried++;
		}
	}
	unit_report(ok, __FILE__, __LINE__, "a header count that is not the events': refused");
	memcpy(t, s, len);
	put_u64(t + 8, nev + 1);
	CHECK_STR(unchecked_merge_error(t, len), "fewer events than the header says");
	put_u64(t + 8, nev - 1);
	CHECK_STR(unchecked_merge_error(t, len), "more events than the header says");

	/* a value without events, then a byte after it */
	qoe_buffer_init(&e, A);
	e.invalid_events = 2;
	es = compact_bytes(&e, &elen);
	CHECK(unchecked_merge_error(es, elen) == NULL);
	es = realloc(es, elen + 1);
	es[elen] = 0;
	CHECK_STR(unchecked_merge_error(es, elen + 1), "unexpected data after the end");

	printf("# %d of %d damaged values read without an error\n", accepted - 1, tried);
	CHECK(accepted - 1 < tried);
	free(es);
	free(s);
	free(t);
	qoe_buffer_free(&b);
	qoe_buffer_free(&other);
	qoe_buffer_free(&e);
}

/*
 * The duplicate counter is capped at INT64_MAX (it is reported as bigint)
 * by canonicalising as by merging: two copies of a value whose counter is
 * at the cap give the same counter whichever way they are combined.
 */
static void
test_duplicates_capped(void)
{
	QoeBuffer	x,
				y,
				appended,
				merged;
	size_t		len;
	unsigned char *bin;
	QoeBuffer	back;

	qoe_buffer_init(&x, A);
	add(&x, T0, QOE_PLAY, 0, NAN, "s1");
	x.duplicate_events = (uint64_t) INT64_MAX;
	qoe_buffer_canonicalize(&x);
	copy_buffer(&y, &x);
	qoe_buffer_canonicalize(&y);

	/* appended, then canonicalised (one duplicate dropped there) */
	copy_buffer(&appended, &x);
	qoe_buffer_merge(&appended, &y);
	qoe_buffer_canonicalize(&appended);
	/* merged sorted */
	copy_buffer(&merged, &x);
	qoe_buffer_canonicalize(&merged);
	qoe_buffer_merge_canonical(&merged, &y);

	CHECK_INT(appended.nevents, 1);
	CHECK(appended.duplicate_events == (uint64_t) INT64_MAX);
	CHECK(merged.duplicate_events == (uint64_t) INT64_MAX);
	bin = serialize(&appended, &len);
	qoe_buffer_init(&back, A);
	CHECK(qoe_buffer_deserialize(&back, bin, len, true) == NULL);
	free(bin);
	qoe_buffer_free(&back);
	qoe_buffer_free(&x);
	qoe_buffer_free(&y);
	qoe_buffer_free(&appended);
	qoe_buffer_free(&merged);
}

static void
test_canonical_order(void)
{
	QoeBuffer	b;
	size_t		len;
	const char *k;
	unsigned char *s1,
			   *s2;
	size_t		l1,
				l2;

	qoe_buffer_init(&b, A);
	/* inserted in reverse of the expected order */
	add(&b, T0 + 5, QOE_PLAY, NAN, NAN, "b");		/* 13 */
	add(&b, T0 + 5, QOE_PLAY, NAN, NAN, "ab");		/* 12 */
	add(&b, T0 + 5, QOE_PLAY, NAN, NAN, "\xff");	/* 14 */
	add(&b, T0 + 5, QOE_EXIT, NAN, NAN, "a");		/* 11 */
	add(&b, T0 + 5, QOE_PLAYING, 1, NAN, "a");		/* 10 */
	add(&b, T0 + 5, QOE_AD_START, 1, NAN, "a");	/* 9 */
	add(&b, T0 + 5, QOE_AD_END, 1, NAN, "a");		/* 8 */
	add(&b, T0 + 5, QOE_HEARTBEAT, NAN, NAN, "a");	/* between 10 and 11 */
	add(&b, T0 + 5, QOE_PLAY, 3, NAN, "a");		/* 7 */
	add(&b, T0 + 5, QOE_PLAY, 2, NAN, "a");		/* 6 */
	qoe_buffer_add(&b, false, T0 + 5, QOE_PLAY, false, 2, false, NAN, "a", 1);	/* 5b */
	add(&b, T0 + 5, QOE_PLAY, 2, 7, "a");			/* 5a */
	add(&b, T0 + 5, QOE_PLAY, 2, -7, "a");			/* 5 */
	add(&b, T0 + 5, QOE_PLAY, 2, NAN, "a");		/* dup of 6 */
	add(&b, T0 + 5, QOE_PLAY, NAN, NAN, "a");		/* 4: NULL position first */
	add(&b, T0 + 5, QOE_REQUEST, 9, NAN, "a");		/* 3 */
	add(&b, T0 + 1, QOE_EXIT, NAN, NAN, "a");		/* 2 */
	add(&b, T0 + 9, QOE_REQUEST, NAN, NAN, NULL);	/* 1 */
	add(&b, T0 + 9, QOE_REQUEST, NAN, NAN, NULL);	/* dup */
	add(&b, T0 - 9, QOE_EXIT, NAN, NAN, NULL);		/* 0 */
	qoe_buffer_add(&b, false, T0 + 5, QOE_PLAY, false, 2, false, NAN, "a", 1);	/* dup 5b */
	add(&b, T0 + 5, QOE_PLAY, 0.0, NAN, "b");		/* after 13 */
	add(&b, T0 + 5, QOE_PLAY, -0.0, NAN, "b");		/* dup (-0 == 0) */
	CHECK_INT(b.nevents, 23);
	CHECK_INT(b.nkeys, 4);

	qoe_buffer_canonicalize(&b);
	CHECK(b.canonical);
	CHECK_INT(b.duplicate_events, 4);
	CHECK_INT(b.nevents, 19);
	CHECK_INT(b.nkeys, 4);
	CHECK(ref_is_canonical(&b));
	k = qoe_buffer_key(&b, 0, &len);
	CHECK(len == 1 && k[0] == 'a');
	k = qoe_buffer_key(&b, 1, &len);
	CHECK(len == 2 && memcmp(k, "ab", 2) == 0);
	k = qoe_buffer_key(&b, 2, &len);
	CHECK(len == 1 && k[0] == 'b');
	k = qoe_buffer_key(&b, 3, &len);
	CHECK(len == 1 && k[0] == '\xff');

	CHECK_INT(b.events[0].key, QOE_NO_KEY);
	CHECK_INT(b.events[0].ts, T0 - 9);
	CHECK_INT(b.events[1].key, QOE_NO_KEY);
	CHECK_INT(b.events[1].ts, T0 + 9);
	CHECK_INT(b.events[2].key, 0);
	CHECK_INT(b.events[2].ts, T0 + 1);
	CHECK_INT(b.events[3].kind, QOE_REQUEST);
	CHECK_INT(b.events[4].kind, QOE_PLAY);
	CHECK_INT(b.events[4].flags, 0);
	CHECK_INT(b.events[5].flags, QOE_EV_HAS_POS);
	CHECK_DBL(b.events[5].position, 2);
	CHECK_DBL(b.events[6].value, -7);
	CHECK_DBL(b.events[7].value, 7);
	CHECK(isnan(b.events[8].value));
	CHECK_DBL(b.events[9].position, 3);
	CHECK_INT(b.events[10].kind, QOE_AD_END);
	CHECK_INT(b.events[11].kind, QOE_AD_START);
	CHECK_INT(b.events[12].kind, QOE_PLAYING);
	CHECK_INT(b.events[13].kind, QOE_HEARTBEAT);
	CHECK_INT(b.events[14].kind, QOE_EXIT);
	CHECK_INT(b.events[15].key, 1);
	CHECK_INT(b.events[16].key, 2);
	CHECK_INT(b.events[16].flags, 0);
	CHECK_INT(b.events[17].key, 2);
	CHECK_INT(b.events[17].flags, QOE_EV_HAS_POS);
	CHECK_INT(b.events[18].key, 3);

	/* idempotent, also when forced to run again */
	s1 = serialize(&b, &l1);
	qoe_buffer_canonicalize(&b);
	b.canonical = false;
	qoe_buffer_canonicalize(&b);
	s2 = serialize(&b, &l2);
	CHECK(l1 == l2 && memcmp(s1, s2, l1) == 0);
	CHECK_INT(b.duplicate_events, 4);
	free(s1);
	free(s2);

	/* keys no event references are dropped */
	b.events[18].key = 0;
	b.canonical = false;
	qoe_buffer_canonicalize(&b);
	CHECK_INT(b.nkeys, 3);
	CHECK(ref_is_canonical(&b));
	qoe_buffer_free(&b);

	/* empty and single-event buffers */
	qoe_buffer_init(&b, A);
	qoe_buffer_canonicalize(&b);
	CHECK_INT(b.nevents, 0);
	add(&b, T0, QOE_PLAY, NAN, NAN, "x");
	qoe_buffer_canonicalize(&b);
	CHECK_INT(b.nevents, 1);
	CHECK(b.canonical);
	qoe_buffer_free(&b);
}

static int	interrupts = 0;

static void
count_interrupt(void)
{
	interrupts++;
}

/*
 * sort n random events in several shapes and compare with qsort; shape 4:
 * nruns runs one after the other, each in time order (what combining
 * partial states of a table in time order gives), with ties and exact
 * duplicates across runs
 */
static void
check_sort_runs(const char *what, int shape, size_t n, int nk, size_t nruns)
{
	QoeBuffer	b;
	QoeEvent   *ref;
	size_t		i,
				o;
	int			ok;
	char		name[32];

	qoe_buffer_init(&b, A);
	for (i = 0; i < n; i++)
	{
		uint64_t	r = unit_rng();
		int			kn = (int) (r % (uint64_t) (nk + 1));
		int64_t		ts;
		int			kind = (int) ((r >> 8) % QOE_NKINDS);
		double		pos = ((r >> 12) % 3) ? (double) ((r >> 14) % 7) : NAN;
		double		val = ((r >> 17) % 3) ? (double) ((r >> 19) % 5) + 1 : NAN;

		switch (shape)
		{
			case 0:				/* sorted by time, keys interleaved */
				ts = T0 + (int64_t) i * 1000;
				break;
			case 1:				/* random times over a day */
				ts = T0 + (int64_t) ((r >> 24) % (86400 * SEC));
				break;
			case 2:				/* few distinct times: many ties */
				ts = T0 + (int64_t) ((r >> 24) % 4);
				break;
			case 3:				/* random over the whole range, also negative */
				ts = (int64_t) (r ^ (r << 7)) / 4;
				break;
			default:			/* nruns sorted runs, concatenated */
				{
					size_t		runlen = (n + nruns - 1) / nruns;
					size_t		run = i / runlen;

					ts = T0 + (int64_t) (i % runlen) * 1000 + (int64_t) (run % 3);
					if ((r >> 40) % 5 == 0)
						kind = QOE_HEARTBEAT, pos = 1, val = NAN;	/* duplicates across runs */
					break;
				}
		}
		if (kn < nk)
			snprintf(name, sizeof(name), "key%d", kn);
		if (shape == 0)
			kind = QOE_HEARTBEAT, pos = NAN, val = NAN;
		add(&b, ts, kind, pos, val, kn < nk ? name : NULL);
	}
	/* the reference: sort a copy by the same order, keys sorted first */
	interrupts = 0;
	qoe_interrupt_hook = count_interrupt;
	qoe_buffer_canonicalize(&b);
	qoe_interrupt_hook = NULL;
	ok = ref_is_canonical(&b) &&
		b.nevents + b.duplicate_events + b.invalid_events == n;

	/* and independently: re-sorting the result with qsort changes nothing */
	ref = malloc(b.nevents * sizeof(QoeEvent) + 1);
	memcpy(ref, b.events, b.nevents * sizeof(QoeEvent));
	ref_buf = &b;
	qsort(ref, b.nevents, sizeof(QoeEvent), ref_cmp);
	for (i = 0, o = 0; i < b.nevents; i++)
		if (memcmp(&ref[i], &b.events[i], sizeof(QoeEvent)) != 0)
			o++;
	free(ref);
	unit_report(ok && o == 0, __FILE__, __LINE__, what);
	if (n >= 100000)
		CHECK(interrupts > 0);
	qoe_buffer_free(&b);
}

static void
check_sort_shape(const char *what, int shape, size_t n, int nk)
{
	check_sort_runs(what, shape, n, nk, 1);
}

static void
test_sort_shapes(void)
{
	check_sort_shape("sorted in time, 50 keys interleaved", 0, 200000, 50);
	check_sort_shape("random times, 1000 keys", 1, 200000, 1000);
	check_sort_shape("random times, NULL keys only", 1, 200000, 0);
	check_sort_shape("many ties", 2, 50000, 3);
	check_sort_shape("full range timestamps", 3, 100000, 300);
	check_sort_shape("small", 1, 10, 2);
	check_sort_shape("medium", 1, 100, 2);
	check_sort_shape("ties small", 2, 20, 1);
	check_sort_runs("3 sorted runs", 4, 300000, 0, 3);
	check_sort_runs("2 sorted runs", 4, 1000, 0, 2);
	check_sort_runs("64 sorted runs", 4, 64000, 0, 64);
	check_sort_runs("65 sorted runs (too many to merge)", 4, 65000, 0, 65);
	check_sort_runs("17 runs of 1 event", 4, 17, 0, 17);
}

static void
test_serialize(void)
{
	QoeBuffer	b,
				c;
	unsigned char *s,
			   *s2;
	size_t		len,
				len2;
	const char *err;

	/* non-canonical round trip keeps order and flags */
	qoe_buffer_init(&b, A);
	random_buffer(&b, 500, 10, 60 * SEC, 9);
	b.invalid_events = 7;
	b.unknown_events = 8;
	b.duplicate_events = 9;
	s = serialize(&b, &len);
	CHECK_INT(len, 56 + 32 * b.nevents + 4 * b.nkeys + b.keydata_len);
	CHECK(memcmp(s, "QTL1", 4) == 0);
	qoe_buffer_init(&c, A);
	err = qoe_buffer_deserialize(&c, s, len, false);
	CHECK(err == NULL);
	CHECK(!c.canonical);
	CHECK_INT(c.nevents, b.nevents);
	CHECK_INT(c.nkeys, b.nkeys);
	CHECK_INT(c.invalid_events, 7);
	CHECK_INT(c.unknown_events, 8);
	CHECK_INT(c.duplicate_events, 9);
	CHECK(memcmp(c.events, b.events, b.nevents * sizeof(QoeEvent)) == 0);
	CHECK(same_bytes(&b, &c));
	qoe_buffer_free(&c);

	/* non-canonical data is not a timeline */
	qoe_buffer_init(&c, A);
	err = qoe_buffer_deserialize(&c, s, len, true);
	CHECK_STR(err, "data is not in canonical form");
	qoe_buffer_free(&c);
	free(s);

	/* canonical */
	qoe_buffer_canonicalize(&b);
	s = serialize(&b, &len);
	qoe_buffer_init(&c, A);
	err = qoe_buffer_deserialize(&c, s, len, true);
	CHECK(err == NULL);
	CHECK(c.canonical);
	s2 = serialize(&c, &len2);
	CHECK(len == len2 && memcmp(s, s2, len) == 0);
	free(s2);
	/* a deserialized buffer accumulates and merges like any other */
	add(&c, T0, QOE_PLAY, NAN, NAN, "k3");
	add(&c, T0, QOE_PLAY, NAN, NAN, "new");
	CHECK_INT(c.nkeys, b.nkeys + 1);
	qoe_buffer_canonicalize(&c);
	CHECK(ref_is_canonical(&c));
	qoe_buffer_free(&c);
	free(s);
	qoe_buffer_free(&b);

	/* empty */
	qoe_buffer_init(&b, A);
	s = serialize(&b, &len);
	CHECK_INT(len, 56);
	qoe_buffer_init(&c, A);
	CHECK(qoe_buffer_deserialize(&c, s, len, true) == NULL);
	CHECK_INT(c.nevents, 0);
	CHECK(c.canonical);
	qoe_buffer_free(&c);
	free(s);
	qoe_buffer_free(&b);
}

/* a small canonical buffer: 3 events, 2 keys */
static unsigned char *
small_serialized(size_t *len)
{
	QoeBuffer	b;
	unsigned char *s;

	qoe_buffer_init(&b, A);
	add(&b, T0, QOE_PLAY, 0, NAN, "s1");
	add(&b, T0 + SEC, QOE_BITRATE, 1, 2e6, "s1");
	add(&b, T0 + 2 * SEC, QOE_PAUSE, NAN, 5, "s2");
	qoe_buffer_canonicalize(&b);
	s = serialize(&b, len);
	qoe_buffer_free(&b);
	return s;
}

#define EV(i) (56 + 32 * (i))

static void
test_deserialize_rejects(void)
{
	size_t		len;
	unsigned char *s = small_serialized(&len);
	unsigned char *t = malloc(len + 8);
	size_t		i;
	int			bit;
	int			prefix_ok = 1;
	int			accepted = 0;
	QoeBuffer	c;

	CHECK_INT(len, 56 + 3 * 32 + 2 * 4 + 4);
	qoe_buffer_init(&c, A);
	CHECK(qoe_buffer_deserialize(&c, s, len, true) == NULL);
	qoe_buffer_free(&c);

	/* every proper prefix, and extra bytes */
	for (i = 0; i < len; i++)
	{
		qoe_buffer_init(&c, A);
		if (qoe_buffer_deserialize(&c, s, i, false) == NULL)
			prefix_ok = 0;
		qoe_buffer_free(&c);
	}
	CHECK(prefix_ok);
	expect_reject("truncated", s, 10, false, "truncated data");
	expect_reject("truncated keys", s, len - 1, false, "truncated data");
	memcpy(t, s, len);
	t[len] = 'x';
	expect_reject("extra byte", t, len + 1, false, "unexpected data after the end");

#define RESET() memcpy(t, s, len)
	RESET();
	t[0] = 'X';
	expect_reject("magic", t, len, false, "bad magic number");
	RESET();
	t[4] = 2;
	expect_reject("flags", t, len, false, "unknown flag bits");
	RESET();
	put_u64(t + 8, UINT64_MAX);
	expect_reject("huge nevents", t, len, false, "truncated data");
	RESET();
	put_u64(t + 8, UINT64_C(1) << 59);
	expect_reject("overflowing nevents", t, len, false, "truncated data");
	RESET();
	put_u64(t + 16, UINT64_MAX / 2);
	expect_reject("huge nkeys", t, len, false, "truncated data");
	RESET();
	put_u64(t + 48, UINT64_MAX);
	expect_reject("huge keybytes", t, len, false, "truncated data");
	RESET();
	t[EV(1) + 28] = QOE_NKINDS;
	expect_reject("kind", t, len, false, "unknown event kind");
	RESET();
	t[EV(0) + 29] = 0x04;
	expect_reject("event flags", t, len, false, "unknown event flag bits");
	RESET();
	t[EV(0) + 31] = 1;
	expect_reject("pad", t, len, false, "nonzero padding in an event");
	RESET();
	put_u64(t + EV(0), (uint64_t) QOE_TS_NOEND);
	expect_reject("ts infinity", t, len, false, "event with an infinite timestamp");
	RESET();
	put_u64(t + EV(2), (uint64_t) QOE_TS_NOBEGIN);
	expect_reject("ts -infinity", t, len, false, "event with an infinite timestamp");
	RESET();
	put_u64(t + EV(2), (uint64_t) INT64_C(9223371331200000000));
	expect_reject("ts out of range", t, len, false, "event timestamp out of range");
	RESET();
	put_f64(t + EV(0) + 8, NAN);
	expect_reject("NaN position", t, len, false, "event with an invalid position");
	RESET();
	put_f64(t + EV(0) + 8, -1);
	expect_reject("negative position", t, len, false, "event with an invalid position");
	RESET();
	put_f64(t + EV(0) + 8, INFINITY);
	expect_reject("infinite position", t, len, false, "event with an invalid position");
	RESET();
	put_f64(t + EV(2) + 8, 1);
	expect_reject("unflagged position", t, len, false, "event with an invalid position");
	RESET();
	put_f64(t + EV(0) + 16, 1);
	expect_reject("unflagged value", t, len, false, "event with an invalid value");
	RESET();
	put_f64(t + EV(1) + 16, -1);
	expect_reject("bitrate value", t, len, false, "bitrate event with an invalid value");
	RESET();
	put_f64(t + EV(1) + 16, NAN);
	expect_reject("bitrate NaN", t, len, false, "bitrate event with an invalid value");
	RESET();
	t[EV(1) + 29] = QOE_EV_HAS_POS;
	put_f64(t + EV(1) + 16, 0);
	expect_reject("bitrate NULL", t, len, false, "bitrate event with an invalid value");
	RESET();
	put_u32(t + EV(1) + 24, 2);
	expect_reject("key index", t, len, false, "event with an invalid session key index");
	RESET();
	put_u32(t + EV(2) + 24, 0);
	put_u64(t + EV(2), (uint64_t) T0);
	expect_reject("events order", t, len, true, "events are not in canonical order");
	RESET();
	put_u32(t + EV(2) + 24, 0);
	expect_reject("unreferenced key", t, len, true, "session key not referenced by any event");
	RESET();
	memcpy(t + EV(1), t + EV(0), 32);
	expect_reject("duplicate", t, len, true, "events are not in canonical order");
	RESET();
	t[len - 1] = '1';			/* keys "s1" "s1" */
	expect_reject("keys equal", t, len, true, "session keys are not in canonical order");
	RESET();
	t[len - 1] = '0';			/* keys "s1" "s0" */
	expect_reject("keys order", t, len, true, "session keys are not in canonical order");
	RESET();
	t[len - 1] = '\0';
	expect_reject("NUL in key", t, len, false, "session key contains a zero byte");
	RESET();
	put_u32(t + EV(3), 3);
	expect_reject("key lengths", t, len, false, "session key lengths do not match the key data");
	RESET();
	put_u32(t + EV(3), UINT32_MAX);
	expect_reject("key length huge", t, len, false, "session key lengths do not match the key data");
	/* not canonical but flagged as such */
	RESET();
	put_u64(t + EV(0), (uint64_t) (T0 + 5 * SEC));
	expect_reject("flagged canonical, unsorted", t, len, false, "events are not in canonical order");
	/* ... and accepted when not flagged and not required */
	t[4] = 0;
	qoe_buffer_init(&c, A);
	CHECK(qoe_buffer_deserialize(&c, t, len, false) == NULL);
	CHECK(!c.canonical);
	qoe_buffer_canonicalize(&c);
	CHECK(ref_is_canonical(&c));
	qoe_buffer_free(&c);
	expect_reject("NULL data", NULL, 0, false, "truncated data");

	/* flip every bit of every byte: never crashes, valid results stay usable */
	for (i = 0; i < len; i++)
	{
		for (bit = 0; bit < 8; bit++)
		{
			const char *err;

			RESET();
			t[i] ^= (unsigned char) (1 << bit);
			qoe_buffer_init(&c, A);
			err = qoe_buffer_deserialize(&c, t, len, (bit & 1) != 0);
			if (err == NULL)
			{
				size_t		l2;
				unsigned char *s2;

				accepted++;
				qoe_buffer_canonicalize(&c);
				s2 = serialize(&c, &l2);
				free(s2);
			}
			qoe_buffer_free(&c);
		}
	}
	CHECK(accepted < (int) (len * 8));
	printf("# %d of %d bit flips accepted\n", accepted, (int) (len * 8));
	free(t);
	free(s);
}

/*
 * A non-canonical serialized state may name the same key twice (a forged
 * state, or a future writer): merging it into an empty buffer still merges
 * the two, and the canonical form has the key once.
 */
static void
test_merge_duplicate_keys(void)
{
	QoeBuffer	b,
				d,
				e;
	size_t		len;
	unsigned char *bin;
	const char *err;

	qoe_buffer_init(&b, A);
	add(&b, T0, QOE_PLAY, 0, NAN, "ka");
	add(&b, T0 + SEC, QOE_ENDED, 1, NAN, "kb");
	bin = serialize(&b, &len);
	CHECK(memcmp(bin + len - 4, "kakb", 4) == 0);
	bin[len - 1] = 'a';			/* the second key is "ka" too */
	qoe_buffer_init(&d, A);
	err = qoe_buffer_deserialize(&d, bin, len, false);
	CHECK(err == NULL);
	qoe_buffer_init(&e, A);
	qoe_buffer_merge(&e, &d);
	qoe_buffer_canonicalize(&e);
	CHECK_INT(e.nkeys, 1);
	CHECK_INT(e.nevents, 2);
	CHECK(ref_is_canonical(&e));
	free(bin);
	qoe_buffer_free(&b);
	qoe_buffer_free(&d);
	qoe_buffer_free(&e);
}

int
main(void)
{
	test_add_checks();
	test_keys();
	test_merge();
	test_merge_canonical();
	test_merge_canonical_many();
	test_merge_reader();
	test_merge_reader_long_key();
	test_merge_reader_corrupt();
	test_duplicates_capped();
	test_merge_duplicate_keys();
	test_canonical_order();
	test_sort_shapes();
	test_serialize();
	test_deserialize_rejects();
	return unit_done();
}
