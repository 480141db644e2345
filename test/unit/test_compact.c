/*
 * test_compact.c
 *	  Unit tests of the compact binary form of a buffer ("QCB1", the form a
 *	  parallel worker sends its leader): a layout worked out by hand, exact
 *	  round trips against the qoe_timeline form, and rejection of damaged
 *	  data.
 */
#include "unit_buffer.h"

#include <stdint.h>

/* the buffer of the hand-worked layout */
static void
small_buffer(QoeBuffer *b)
{
	qoe_buffer_init(b, A);
	add(b, T0, QOE_PLAY, 0, NAN, "s1");
	add(b, T0 + SEC, QOE_BITRATE, NAN, 3000000, "s1");
	add(b, T0 + 2 * SEC, QOE_ENDED, 2.5, NAN, "s1");
	add(b, T0, QOE_PAUSE, 1.5, NAN, NULL);
}

static void
test_layout(void)
{
	QoeBuffer	b,
				d;
	size_t		len,
				l1,
				l2;
	unsigned char *c,
			   *s1,
			   *s2;
	uint64_t	ts2 = (uint64_t) T0 * 2;	/* zigzag of T0 - 0 */
	unsigned char want_ts[8];
	int			i;

	/*
	 * 56-byte header, the key (length 2, "s1"), the NULL-key group (count
	 * 1: pause, tag 3 | micro position 0x20, ts zigzag(T0) in 8 bytes,
	 * position 1.5 s = 1500000 us, zigzag 3000000 in 4 bytes), the group
	 * of "s1" (count 3: play 0x24 with ts difference 0 and position 0;
	 * bitrate 13 | whole value 0xC0, ts + 1 s = varint C0 84 3D, value
	 * 3000000 = C0 8D B7 01; ended 1 | 0x20, ts + 1 s, position 2.5 s:
	 * zigzag(2500000 - 0) = 5000000 = C0 96 B1 02).
	 */
	static const unsigned char tail[] = {
		0x03, 0x24, 0x00, 0x00,
		0xCD, 0xC0, 0x84, 0x3D, 0xC0, 0x8D, 0xB7, 0x01,
		0x21, 0xC0, 0x84, 0x3D, 0xC0, 0x96, 0xB1, 0x02
	};

	small_buffer(&b);
	c = compact_bytes(&b, &len);
	CHECK_INT(len, 56 + 3 + 14 + sizeof(tail));
	CHECK(memcmp(c, "QCB1\0\0\0\0", 8) == 0);
	CHECK_INT(c[8], 4);			/* nevents */
	CHECK_INT(c[16], 1);		/* nkeys */
	CHECK_INT(c[48], 2);		/* keybytes */
	CHECK(memcmp(c + 56, "\002s1", 3) == 0);
	CHECK_INT(c[59], 1);
	CHECK_INT(c[60], 0x23);
	for (i = 0; i < 8; i++)
		want_ts[i] = (unsigned char) (((ts2 >> (7 * i)) & 0x7f) | (i < 7 ? 0x80 : 0));
	CHECK(ts2 >> 56 == 0 && ts2 >> 49 != 0);	/* 8 varint bytes */
	CHECK(memcmp(c + 61, want_ts, 8) == 0);
	CHECK(memcmp(c + 69, "\xC0\x8D\xB7\x01", 4) == 0);	/* 3000000 */
	CHECK(memcmp(c + 73, tail, sizeof(tail)) == 0);

	/* and back: the same buffer as the qoe_timeline form gives */
	qoe_buffer_init(&d, A);
	CHECK(qoe_buffer_deserialize(&d, c, len, true) == NULL);
	CHECK(d.canonical);
	CHECK_INT(d.nevents, 4);
	CHECK(d.events[0].key == QOE_NO_KEY && d.events[0].position == 1.5);
	CHECK(d.events[2].kind == QOE_BITRATE && d.events[2].value == 3000000 &&
		  d.events[2].flags == QOE_EV_HAS_VALUE);
	CHECK(d.events[3].position == 2.5 && d.events[3].ts == T0 + 2 * SEC);
	s1 = serialize(&b, &l1);
	s2 = serialize(&d, &l2);
	CHECK(l1 == l2 && memcmp(s1, s2, l1) == 0);
	CHECK_INT(l1, 56 + 4 * 32 + 4 + 2);
	CHECK(memcmp(s1, "QTL1", 4) == 0);
	free(c);
	free(s1);
	free(s2);
	qoe_buffer_free(&b);
	qoe_buffer_free(&d);
}

/* a double chosen to exercise every encoding */
static double
random_double(int for_value)
{
	switch (unit_rng() % 12)
	{
		case 0:
			return 0;
		case 1:
			return (double) (unit_rng() % 100000000) / 1e6;	/* whole us */
		case 2:
			return (double) (unit_rng() % 1000) / 1e3;
		case 3:
			return (double) (unit_rng() % 10000000);	/* whole */
		case 4:
			return 9007199254740992.0;	/* 2^53: the largest whole form */
		case 5:
			return 9007199254740994.0;	/* 2^53 + 2: not */
		case 6:
			return 9007199254.740993;	/* 2^53 us, nearly */
		case 7:
			return 1e300;
		case 8:
			{
				double		d;
				uint64_t	bits = unit_rng() & UINT64_C(0x7fefffffffffffff);

				memcpy(&d, &bits, 8);
				return d;		/* any finite non-negative double */
			}
		case 9:
			return for_value ? -(double) (unit_rng() % 1000) : 3.25;
		case 10:
			return for_value ? NAN : 0.1;
		default:
			return for_value ? (unit_rng() % 2 ? INFINITY : -0.0) : 1e-7;
	}
}

static void
test_round_trips(void)
{
	int			round;
	int			same = 1,
				within = 1;
	size_t		total_compact = 0,
				total_timeline = 0;
	static const char *const keys[] = {"a", "b", "", "sess-0001", "sess-0002", "zz"};

	unit_rng_state = 20261201;
	for (round = 0; round < 300; round++)
	{
		QoeBuffer	b,
					d;
		int			n = (int) (unit_rng() % 200),
					i;
		size_t		lc,
					l1,
					l2;
		unsigned char *c,
				   *s1,
				   *s2;
		double		last_value = 1000;
		const char *err;

		qoe_buffer_init(&b, A);
		for (i = 0; i < n; i++)
		{
			int			kind = (int) (unit_rng() % QOE_NKINDS);
			int64_t		ts = T0 + (int64_t) (unit_rng() % (round % 3 ? 100 : 3)) * SEC +
				(int64_t) (unit_rng() % 2 ? 0 : unit_rng() % SEC);
			double		pos = unit_rng() % 3 ? random_double(0) : NAN;
			double		val = unit_rng() % 2 ? NAN :
				(unit_rng() % 3 == 0 ? last_value : random_double(1));
			int			k = (int) (unit_rng() % 7);

			if (round % 50 == 0)
				ts = (int64_t) (unit_rng() % 2 ? INT64_C(-211813488000000000) :
								INT64_C(9223371331199999999));
			if (!isnan(val))
				last_value = val;
			qoe_buffer_add(&b, false, ts, kind, isnan(pos), pos,
						   isnan(val) && unit_rng() % 4 != 0, val,
						   k < 6 ? keys[k] : NULL, k < 6 ? strlen(keys[k]) : 0);
		}
		c = compact_bytes(&b, &lc);	/* canonicalises b */
		s1 = serialize(&b, &l1);
		qoe_buffer_init(&d, A);
		err = qoe_buffer_deserialize(&d, c, lc, true);
		if (err != NULL)
		{
			printf("# round %d: %s\n", round, err);
			same = 0;
		}
		else
		{
			s2 = serialize(&d, &l2);
			if (l1 != l2 || memcmp(s1, s2, l1) != 0 || !d.canonical)
			{
				printf("# round %d differs\n", round);
				same = 0;
			}
			free(s2);
		}
		if (lc > qoe_buffer_compact_bound(&b))
			within = 0;
		total_compact += lc;
		total_timeline += l1;
		free(c);
		free(s1);
		qoe_buffer_free(&b);
		qoe_buffer_free(&d);
	}
	CHECK(same);
	CHECK(within);
	/* even these awkward doubles take well under the 32 bytes per event */
	CHECK(total_compact * 2 < total_timeline);
	printf("# round trips: %zu compact bytes for %zu in the qoe_timeline form\n",
		   total_compact, total_timeline);
}

/* typical player events: sorted, whole microseconds, repeated bitrates */
static void
test_typical_size(void)
{
	QoeBuffer	b;
	size_t		lc,
				l1;
	unsigned char *c,
			   *s1;
	int			s,
				i;
	char		key[32];

	qoe_buffer_init(&b, A);
	for (s = 0; s < 1000; s++)
	{
		snprintf(key, sizeof(key), "sess-%07d", s);
		for (i = 0; i < 10; i++)
		{
			int64_t		ts = T0 + (int64_t) s * 7 * SEC + (int64_t) i * 10 * SEC + 123457;

			add(&b, ts, i == 9 ? QOE_ENDED : QOE_HEARTBEAT,
				(double) (i * 10 * SEC + 123457) / 1e6, 3000000, key);
		}
	}
	c = compact_bytes(&b, &lc);
	s1 = serialize(&b, &l1);
	/* 10,000 events: 32 bytes each in the qoe_timeline form */
	CHECK_INT(l1, 56 + 10000 * 32 + 1000 * 4 + 1000 * 12);
	/*
	 * Per session: the count (1), the first event (tag, ts difference -83
	 * s from the last event before it and the position 0.123457 s: 1 + 4 +
	 * 3), nine more (tag, ts + 10 s and position + 10 s: 1 + 4 + 4) and
	 * the first bitrate value (4; the others repeat it: 0).  Keys: 13
	 * bytes each; the header and an empty NULL group: 57; the very first
	 * ts difference is 4 bytes longer (from 0).
	 */
	CHECK_INT(lc, 57 + 1000 * 13 + 1000 * (1 + 8 + 9 * 9 + 4) + 4);
	printf("# typical: %zu bytes compact, %zu in the qoe_timeline form (%.1f vs 32 per event)\n",
		   lc, l1, (double) lc / 10000);
	free(c);
	free(s1);
	qoe_buffer_free(&b);
}

static void
test_rejects(void)
{
	QoeBuffer	b,
				c;
	size_t		len,
				i;
	unsigned char *s,
			   *t;
	int			bit,
				prefix_ok = 1,
				accepted = 0,
				usable = 1;

	small_buffer(&b);
	s = compact_bytes(&b, &len);
	t = malloc(len + 8);

	for (i = 0; i < len; i++)
	{
		qoe_buffer_init(&c, A);
		if (qoe_buffer_deserialize(&c, s, i, true) == NULL)
			prefix_ok = 0;
		qoe_buffer_free(&c);
	}
	CHECK(prefix_ok);
	expect_reject("truncated header", s, 10, true, "truncated data");
	expect_reject("truncated event", s, len - 1, true, "truncated data");
	expect_reject("NULL data", NULL, 0, true, "truncated data");
	memcpy(t, s, len);
	t[len] = 0;
	expect_reject("extra byte", t, len + 1, true, "unexpected data after the end");

#define RESET() memcpy(t, s, len)
	RESET();
	t[0] = 'X';
	expect_reject("magic", t, len, true, "bad magic number");
	RESET();
	t[4] = 1;
	expect_reject("flags", t, len, true, "unknown flag bits");
	RESET();
	put_u64(t + 8, UINT64_MAX);
	expect_reject("huge nevents", t, len, true, "truncated data");
	RESET();
	put_u64(t + 8, 3);
	expect_reject("fewer events", t, len, true, "more events than the header says");
	RESET();
	put_u64(t + 8, 5);
	expect_reject("more events", t, len, true, "fewer events than the header says");
	RESET();
	put_u64(t + 16, UINT64_MAX / 2);
	expect_reject("huge nkeys", t, len, true, "too many session keys");
	RESET();
	put_u64(t + 16, 100);
	expect_reject("more keys than bytes", t, len, true, "truncated data");
	RESET();
	put_u64(t + 48, UINT64_MAX);
	expect_reject("huge keybytes", t, len, true, "truncated data");
	RESET();
	put_u64(t + 48, 3);
	expect_reject("keybytes", t, len, true, "session key lengths do not match the key data");
	RESET();
	put_u64(t + 24, UINT64_MAX);
	expect_reject("counter", t, len, true, "event count out of range");
	RESET();
	t[58] = '\0';
	expect_reject("NUL in key", t, len, true, "session key contains a zero byte");
	RESET();
	t[56] = 1;
	expect_reject("key length", t, len, true, "session key lengths do not match the key data");
	RESET();
	t[73] = 0;
	expect_reject("unreferenced key", t, len, true, "session key not referenced by any event");
	RESET();
	t[60] = 0x33;				/* position encoding 3 */
	expect_reject("position encoding", t, len, true, "unknown position encoding");
	RESET();
	t[74] = 0xA4;				/* play repeats a value: none before it */
	expect_reject("repeated value", t, len, true, "event repeats a value that is not there");
	RESET();
	t[77] = 0x0D;				/* bitrate without its value */
	expect_reject("bitrate value", t, len, true, "bitrate event with an invalid value");
	RESET();
	t[81] = 0;					/* bitrate 0 */
	t[82] = 0;
	t[83] = 0;
	t[84] = 0;
	expect_reject("bitrate zero", t, len, true, "bitrate event with an invalid value");
	RESET();
	t[75] = 0x7F;				/* play at T0 - 64 us (zigzag 127): fine */
	qoe_buffer_init(&c, A);
	CHECK(qoe_buffer_deserialize(&c, t, len, true) == NULL);
	CHECK_INT(c.events[1].ts, T0 - 64);
	qoe_buffer_free(&c);
	RESET();
	t[78] = 0x80;				/* bitrate 0 us after play (a longer varint) */
	t[79] = 0x80;
	t[80] = 0x00;
	qoe_buffer_init(&c, A);
	CHECK(qoe_buffer_deserialize(&c, t, len, true) == NULL);	/* play ranks first */
	CHECK(c.events[2].ts == T0 && c.events[2].kind == QOE_BITRATE);
	qoe_buffer_free(&c);
	t[77] = 0xC1;				/* ended, not bitrate, at play's ts: ranks first */
	expect_reject("kind order", t, len, true, "events are not in canonical order");
	RESET();
	t[85] = 0x24;				/* ended becomes a play */
	t[86] = 0x80;				/* 0 us after the bitrate: ranks before it */
	t[87] = 0x80;
	t[88] = 0x00;
	expect_reject("ts order", t, len, true, "events are not in canonical order");

	/* flip every bit: never crashes, what is accepted is canonical */
	for (i = 0; i < len; i++)
	{
		for (bit = 0; bit < 8; bit++)
		{
			RESET();
			t[i] ^= (unsigned char) (1 << bit);
			qoe_buffer_init(&c, A);
			if (qoe_buffer_deserialize(&c, t, len, true) == NULL)
			{
				QoeBuffer	e;
				size_t		l2;
				unsigned char *s2;

				accepted++;
				/* canonicalising changes nothing */
				qoe_buffer_init(&e, A);
				qoe_buffer_merge(&e, &c);
				qoe_buffer_canonicalize(&e);
				if (e.nevents != c.nevents || e.nkeys != c.nkeys ||
					(c.nevents > 0 &&
					 memcmp(e.events, c.events, c.nevents * sizeof(QoeEvent)) != 0))
					usable = 0;
				s2 = compact_bytes(&c, &l2);
				free(s2);
				qoe_buffer_free(&e);
			}
			qoe_buffer_free(&c);
		}
	}
	CHECK(usable);
	CHECK(accepted < (int) (len * 8));	/* the header's flips, at least, are refused */
	printf("# %d of %d bit flips accepted\n", accepted, (int) (len * 8));
	free(t);
	free(s);
	qoe_buffer_free(&b);
}

/*
 * Two events without a key or position, at T0 and ts difference d, of kinds
 * k1 and k2: an exact duplicate, or a wrong order, is refused.
 */
static const char *
two_events(int k1, int k2, unsigned d)
{
	unsigned char data[80];
	unsigned char *p = data;
	uint64_t	z = (uint64_t) T0 * 2;	/* zigzag(T0) */
	QoeBuffer	c;
	const char *err;

	memset(data, 0, sizeof(data));
	memcpy(p, "QCB1", 4);
	put_u64(p + 8, 2);			/* nevents; no keys, counters 0 */
	p += 56;
	*p++ = 2;					/* the NULL key's group: 2 events */
	*p++ = (unsigned char) k1;
	while (z >= 0x80)
	{
		*p++ = (unsigned char) (z | 0x80);
		z >>= 7;
	}
	*p++ = (unsigned char) z;
	*p++ = (unsigned char) k2;
	*p++ = (unsigned char) d;	/* d < 128 */
	qoe_buffer_init(&c, A);
	err = qoe_buffer_deserialize(&c, data, (size_t) (p - data), true);
	if (err == NULL && !(c.nevents == 2 && c.events[1].ts == T0 + d))
		err = "decoded wrongly";
	qoe_buffer_free(&c);
	return err;
}

static void
test_order(void)
{
	CHECK(two_events(QOE_PLAY, QOE_PLAY, 1) == NULL);
	CHECK(two_events(QOE_PLAY, QOE_BITRATE + 1, 0) == NULL);	/* heartbeat ranks after */
	CHECK_STR(two_events(QOE_PLAY, QOE_PLAY, 0), "events are not in canonical order");
	CHECK_STR(two_events(QOE_PLAY, QOE_PAUSE, 0), "events are not in canonical order");
}

/* an empty buffer, and one with only counters */
static void
test_empty(void)
{
	QoeBuffer	b,
				d;
	size_t		len;
	unsigned char *c;

	qoe_buffer_init(&b, A);
	qoe_buffer_add(&b, true, 0, QOE_PLAY, true, 0, true, 0, NULL, 0);
	c = compact_bytes(&b, &len);
	CHECK_INT(len, 57);			/* header and the empty NULL group */
	qoe_buffer_init(&d, A);
	CHECK(qoe_buffer_deserialize(&d, c, len, true) == NULL);
	CHECK_INT(d.nevents, 0);
	CHECK_INT(d.invalid_events, 1);
	free(c);
	qoe_buffer_free(&b);
	qoe_buffer_free(&d);
}

int
main(void)
{
	test_layout();
	test_round_trips();
	test_typical_size();
	test_rejects();
	test_order();
	test_empty();
	return unit_done();
}
