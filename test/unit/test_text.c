/*
 * test_text.c
 *	  Unit tests of the text (JSON) form of a timeline: output format,
 *	  exact round trip, and parse errors.
 */
#include "qoe_core.h"
#include "unit.h"

#include <stdint.h>

#define SEC INT64_C(1000000)
#define T2024 (INT64_C(757382400) * SEC)	/* 2024-01-01 00:00:00 in PG epoch */

static const QoeAllocator *A = &qoe_malloc_allocator;

static void
add(QoeBuffer *b, int64_t ts, int kind, double pos, double val, const char *key)
{
	qoe_buffer_add(b, false, ts, kind, isnan(pos), pos, isnan(val), val,
				   key, key ? strlen(key) : 0);
}

/* canonicalise, print, parse, print again: same text, same bytes */
static int
round_trip(QoeBuffer *b, char **text_out)
{
	char	   *t1,
			   *t2;
	size_t		l1,
				l2;
	QoeBuffer	c;
	char		err[256];
	int			ok;
	size_t		s1,
				s2;
	unsigned char *b1,
			   *b2;

	qoe_buffer_canonicalize(b);
	t1 = qoe_buffer_to_text(b, &l1);
	qoe_buffer_init(&c, A);
	if (!qoe_buffer_from_text(&c, t1, l1, err, sizeof(err)))
	{
		printf("# parse error: %s\n# text: %s\n", err, t1);
		free(t1);
		qoe_buffer_free(&c);
		return 0;
	}
	t2 = qoe_buffer_to_text(&c, &l2);
	ok = l1 == l2 && memcmp(t1, t2, l1) == 0 && strlen(t1) == l1;
	if (!ok)
		printf("# t1: %s\n# t2: %s\n", t1, t2);
	s1 = qoe_buffer_serialized_size(b);
	s2 = qoe_buffer_serialized_size(&c);
	b1 = malloc(s1);
	b2 = malloc(s2);
	qoe_buffer_serialize(b, b1);
	qoe_buffer_serialize(&c, b2);
	if (s1 != s2 || memcmp(b1, b2, s1) != 0)
	{
		printf("# binary forms differ\n");
		ok = 0;
	}
	free(b1);
	free(b2);
	free(t2);
	if (text_out)
		*text_out = t1;
	else
		free(t1);
	qoe_buffer_free(&c);
	return ok;
}

static void
test_output(void)
{
	QoeBuffer	b;
	char	   *t;
	size_t		len;

	qoe_buffer_init(&b, A);
	t = qoe_buffer_to_text(&b, &len);
	CHECK_STR(t, "{\"version\":1,\"invalid_events\":0,\"unknown_events\":0,"
			  "\"duplicate_events\":0,\"events\":[]}");
	CHECK_INT(len, strlen(t));
	free(t);

	add(&b, T2024, QOE_PLAY, 0, NAN, "s1");
	add(&b, T2024 + 60 * SEC + 500000, QOE_ENDED, 60.25, NAN, "s1");
	add(&b, T2024 + 1, QOE_BITRATE, NAN, 2500000, NULL);
	add(&b, T2024 + 123450, QOE_HEARTBEAT, 0.1, -1.5, NULL);
	qoe_buffer_add(&b, true, 0, QOE_PLAY, true, 0, true, 0, NULL, 0);
	qoe_buffer_add(&b, false, T2024, QOE_KIND_UNKNOWN, true, 0, true, 0, NULL, 0);
	add(&b, T2024, QOE_PLAY, 0, NAN, "s1");
	qoe_buffer_canonicalize(&b);
	t = qoe_buffer_to_text(&b, &len);
	CHECK_STR(t, "{\"version\":1,\"invalid_events\":1,\"unknown_events\":1,"
			  "\"duplicate_events\":1,\"events\":["
			  "[\"2024-01-01T00:00:00.000001Z\",\"bitrate\",null,2500000,null],"
			  "[\"2024-01-01T00:00:00.12345Z\",\"heartbeat\",0.1,-1.5,null],"
			  "[\"2024-01-01T00:00:00Z\",\"play\",0,null,\"s1\"],"
			  "[\"2024-01-01T00:01:00.5Z\",\"ended\",60.25,null,\"s1\"]]}");
	free(t);
	qoe_buffer_free(&b);

	/* special values, odd doubles */
	qoe_buffer_init(&b, A);
	add(&b, 0, QOE_HEARTBEAT, 0.1, NAN, "a");
	qoe_buffer_add(&b, false, 1, QOE_HEARTBEAT, false, 1e-300, false, NAN, "a", 1);
	add(&b, 2, QOE_HEARTBEAT, 123456.789, INFINITY, "a");
	add(&b, 3, QOE_HEARTBEAT, 1e300, -INFINITY, "a");
	add(&b, 4, QOE_HEARTBEAT, 5e-324, 1e21, "a");
	add(&b, 5, QOE_HEARTBEAT, 0.30000000000000004, -0.0, "a");
	add(&b, 6, QOE_HEARTBEAT, 1.7976931348623157e308, 100, "a");
	add(&b, 7, QOE_HEARTBEAT, 2.5e-7, 1234567890123456789.0, "a");
	qoe_buffer_canonicalize(&b);
	t = qoe_buffer_to_text(&b, &len);
	CHECK(strstr(t, "[\"2000-01-01T00:00:00Z\",\"heartbeat\",0.1,null,\"a\"]") != NULL);
	CHECK(strstr(t, "[\"2000-01-01T00:00:00.000001Z\",\"heartbeat\",1e-300,\"NaN\",\"a\"]") != NULL);
	CHECK(strstr(t, ",123456.789,\"Infinity\",") != NULL);
	CHECK(strstr(t, ",1e+300,\"-Infinity\",") != NULL);
	CHECK(strstr(t, ",5e-324,1e+21,") != NULL);
	CHECK(strstr(t, ",0.30000000000000004,0,") != NULL);
	CHECK(strstr(t, ",1.7976931348623157e+308,100,") != NULL);
	CHECK(strstr(t, ",2.5e-07,1.2345678901234568e+18,") != NULL);
	CHECK(strstr(t, "inf") == NULL && strstr(t, "nan") == NULL);
	free(t);
	CHECK(round_trip(&b, NULL));
	qoe_buffer_free(&b);
}

static void
test_timestamps(void)
{
	QoeBuffer	b;
	char	   *t;
	/* PG epoch microseconds of 0001-01-01 and 9999-12-31 23:59:59.999999 */
	int64_t		y1 = -INT64_C(63082281600) * SEC;
	int64_t		y9999 = INT64_C(252455615999) * SEC + 999999;

	qoe_buffer_init(&b, A);
	add(&b, y1, QOE_PLAY, NAN, NAN, "a");
	add(&b, y1 - 1, QOE_PLAY, NAN, NAN, "b");
	add(&b, y9999, QOE_PLAY, NAN, NAN, "c");
	add(&b, y9999 + 1, QOE_PLAY, NAN, NAN, "d");
	add(&b, -1, QOE_PLAY, NAN, NAN, "e");
	add(&b, INT64_C(-211813488000000000), QOE_PLAY, NAN, NAN, "f");	/* 4714-11-24 BC */
	add(&b, INT64_C(9223371331199999999), QOE_PLAY, NAN, NAN, "g");	/* last PG µs */
	add(&b, INT64_C(5140800) * SEC + 250, QOE_PLAY, NAN, NAN, "h");	/* leap day */
	add(&b, INT64_C(3160857600) * SEC, QOE_PLAY, NAN, NAN, "i");	/* 2100-03-01 */
	CHECK(round_trip(&b, &t));
	CHECK(strstr(t, "[\"0001-01-01T00:00:00Z\",\"play\",null,null,\"a\"]") != NULL);
	/* 0000-12-31T23:59:59.999999: as microseconds since 1970 */
	CHECK(strstr(t, "[-62135596800000001,\"play\",null,null,\"b\"]") != NULL);
	CHECK(strstr(t, "[\"9999-12-31T23:59:59.999999Z\",\"play\",null,null,\"c\"]") != NULL);
	CHECK(strstr(t, "[253402300800000000,\"play\",null,null,\"d\"]") != NULL);
	CHECK(strstr(t, "[\"1999-12-31T23:59:59.999999Z\",\"play\",null,null,\"e\"]") != NULL);
	CHECK(strstr(t, "[-210866803200000000,\"play\",null,null,\"f\"]") != NULL);
	CHECK(strstr(t, "[9224318015999999999,\"play\",null,null,\"g\"]") != NULL);
	CHECK(strstr(t, "[\"2000-02-29T12:00:00.00025Z\",\"play\",null,null,\"h\"]") != NULL);
	CHECK(strstr(t, "[\"2100-03-01T00:00:00Z\",\"play\",null,null,\"i\"]") != NULL);
	free(t);
	qoe_buffer_free(&b);
}

/* ISO strings of known dates, parsed */
static int64_t
parse_ts(const char *tsjson, bool *ok, char *err, size_t errlen)
{
	char		doc[300];
	QoeBuffer	b;
	int64_t		ts = 0;

	snprintf(doc, sizeof(doc), "{\"version\":1,\"events\":[[%s,\"play\",null,null,null]]}", tsjson);
	qoe_buffer_init(&b, A);
	*ok = qoe_buffer_from_text(&b, doc, strlen(doc), err, errlen);
	if (*ok)
		ts = b.events[0].ts;
	qoe_buffer_free(&b);
	return ts;
}

static void
test_timestamp_input(void)
{
	bool		ok;
	char		err[256];
	int64_t		ts;

	ts = parse_ts("\"2000-01-01T00:00:00Z\"", &ok, err, sizeof(err));
	CHECK(ok && ts == 0);
	ts = parse_ts("\"2000-03-01T00:00:00.5Z\"", &ok, err, sizeof(err));
	CHECK(ok && ts == (31 + 29) * 86400 * SEC + 500000);
	ts = parse_ts("\"2024-01-01T00:00:00Z\"", &ok, err, sizeof(err));
	CHECK(ok && ts == T2024);
	ts = parse_ts("\"1970-01-01T00:00:00Z\"", &ok, err, sizeof(err));
	CHECK(ok && ts == -INT64_C(946684800) * SEC);
	ts = parse_ts("0", &ok, err, sizeof(err));
	CHECK(ok && ts == -INT64_C(946684800) * SEC);
	ts = parse_ts("946684800000001", &ok, err, sizeof(err));
	CHECK(ok && ts == 1);
	ts = parse_ts("-1", &ok, err, sizeof(err));
	CHECK(ok && ts == -INT64_C(946684800) * SEC - 1);
	ts = parse_ts("\"1904-02-29T12:34:56.000789Z\"", &ok, err, sizeof(err));
	CHECK(ok);
	ts = parse_ts("\"2100-02-29T00:00:00Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	CHECK_STR(err, "invalid timestamp \"2100-02-29T00:00:00Z\" at character 25");
	parse_ts("\"2024-13-01T00:00:00Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"2024-01-01T24:00:00Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"2024-01-01T00:00:60Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"2024-01-01T00:00:00.1234567Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"2024-01-01T00:00:00.Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"2024-01-01T00:00:00\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"2024-01-01 00:00:00Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"0000-01-01T00:00:00Z\"", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("\"\"", &ok, err, sizeof(err));
	CHECK(!ok);
	CHECK_STR(err, "invalid timestamp \"\" at character 25");
	parse_ts("1.5", &ok, err, sizeof(err));
	CHECK(!ok);
	CHECK_STR(err, "invalid timestamp at character 25");
	parse_ts("9224318016000000000", &ok, err, sizeof(err));
	CHECK(!ok);
	CHECK_STR(err, "timestamp out of range at character 25");
	parse_ts("9224318015999999999", &ok, err, sizeof(err));
	CHECK(ok);
	parse_ts("-210866803200000000", &ok, err, sizeof(err));
	CHECK(ok);
	parse_ts("-210866803200000001", &ok, err, sizeof(err));
	CHECK(!ok);
	parse_ts("99999999999999999999999", &ok, err, sizeof(err));
	CHECK(!ok);
	CHECK_STR(err, "timestamp out of range at character 25");
	parse_ts("null", &ok, err, sizeof(err));
	CHECK(!ok);
}

static void
test_sessions(void)
{
	QoeBuffer	b;
	char	   *t;
	char		err[256];
	size_t		len;
	const char *k;
	const char *doc;

	qoe_buffer_init(&b, A);
	add(&b, 0, QOE_PLAY, NAN, NAN, "quote\"back\\slash");
	add(&b, 0, QOE_PLAY, NAN, NAN, "new\nline\ttab\x01\x1f");
	add(&b, 0, QOE_PLAY, NAN, NAN, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac");
	add(&b, 0, QOE_PLAY, NAN, NAN, "");
	add(&b, 0, QOE_PLAY, NAN, NAN, NULL);
	add(&b, 0, QOE_PLAY, NAN, NAN, "/slash\x7f");
	CHECK(round_trip(&b, &t));
	CHECK(strstr(t, "\"quote\\\"back\\\\slash\"") != NULL);
	CHECK(strstr(t, "\"new\\u000aline\\u0009tab\\u0001\\u001f\"") != NULL);
	CHECK(strstr(t, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac\"") != NULL);
	CHECK(strstr(t, ",null,null,\"\"]") != NULL);
	CHECK(strstr(t, "[\"2000-01-01T00:00:00Z\",\"play\",null,null,null]") != NULL);
	free(t);
	qoe_buffer_free(&b);

	/* escapes on input: surrogate pairs, short escapes, \/ */
	doc = "{\"events\":[[0,\"play\",null,null,\"\\ud83c\\udfac\\u00e9\\n\\/\\b\\f\\r\\t\\\"\\\\\\u20AC\"]],"
		"\"version\":1}";
	qoe_buffer_init(&b, A);
	CHECK(qoe_buffer_from_text(&b, doc, strlen(doc), err, sizeof(err)));
	CHECK_INT(b.nkeys, 1);
	k = qoe_buffer_key(&b, 0, &len);
	CHECK(len == 4 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 3 &&
		  memcmp(k, "\xf0\x9f\x8e\xac\xc3\xa9\n/\b\f\r\t\"\\\xe2\x82\xac", len) == 0);
	qoe_buffer_free(&b);
}

static void
test_round_trip_random(void)
{
	QoeBuffer	b;
	int			i;
	uint64_t	r = 12345;
	char		name[16];

	qoe_buffer_init(&b, A);
	for (i = 0; i < 3000; i++)
	{
		double		pos,
					val;
		int64_t		ts;
		int			kind;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		kind = (int) ((r >> 33) % QOE_NKINDS);
		ts = (int64_t) (r >> 20) - (int64_t) (r >> 22);
		if (ts <= INT64_C(-211813488000000000) || ts >= INT64_C(9223371331200000000))
			ts /= 8;
		pos = (r >> 10) % 3 == 0 ? NAN : (double) (r >> 30) / (double) ((r & 0xffff) + 1);
		if ((r >> 12) % 5 == 0)
		{
			uint64_t	bits = r >> 2;

			memcpy(&val, &bits, 8);	/* any double, even NaN or subnormal */
			if (kind == QOE_BITRATE)
				val = fabs(val) + 1;
		}
		else
			val = (r >> 13) % 3 == 0 ? NAN : (double) (r >> 40) / 7.0;
		snprintf(name, sizeof(name), "s%d", (int) (r % 17));
		add(&b, ts, kind, pos, val, (r >> 7) % 5 ? name : NULL);
	}
	b.invalid_events = (uint64_t) INT64_MAX;	/* the largest count a bigint holds */
	b.unknown_events = 12;
	CHECK(b.nevents > 2500);
	CHECK(round_trip(&b, NULL));
	qoe_buffer_free(&b);
}

static void
expect_error(const char *doc, const char *want)
{
	QoeBuffer	b;
	char		err[256];
	char		name[256];
	bool		ok;
	size_t		i;

	/* the document as the test name, on one line */
	for (i = 0; doc[i] && i < sizeof(name) - 1; i++)
		name[i] = (doc[i] >= 0x20) ? doc[i] : '?';
	name[i] = '\0';
	qoe_buffer_init(&b, A);
	strcpy(err, "untouched");
	ok = qoe_buffer_from_text(&b, doc, strlen(doc), err, sizeof(err));
	unit_report(!ok && strcmp(err, want) == 0, __FILE__, __LINE__, name);
	if (ok || strcmp(err, want) != 0)
		printf("#   got %s \"%s\", want \"%s\"\n", ok ? "success" : "error", err, want);
	qoe_buffer_free(&b);
}

static void
test_parse(void)
{
	QoeBuffer	b;
	char		err[256];
	const char *doc;
	char	   *t;

	/* white space anywhere, keys in any order, counters default to 0 */
	doc = " \n{ \"events\" : [ [ \"2024-01-01T00:00:00Z\" , \"play\" , 1.5e1 , null , \"x\" ] ,\r\n"
		"\t[1704067200000000,\"pause\",0,-0,null] ] , \"version\" : 1 ,"
		"\"duplicate_events\":3 } \n";
	qoe_buffer_init(&b, A);
	CHECK(qoe_buffer_from_text(&b, doc, strlen(doc), err, sizeof(err)));
	CHECK(b.canonical);
	CHECK_INT(b.nevents, 2);
	CHECK_INT(b.duplicate_events, 3);
	CHECK_INT(b.invalid_events, 0);
	CHECK_INT(b.events[0].key, QOE_NO_KEY);
	CHECK_INT(b.events[0].kind, QOE_PAUSE);
	CHECK_INT(b.events[0].ts, T2024);
	CHECK(b.events[0].value == 0 && !signbit(b.events[0].value));
	CHECK_DBL(b.events[1].position, 15);
	t = qoe_buffer_to_text(&b, NULL);
	CHECK_STR(t, "{\"version\":1,\"invalid_events\":0,\"unknown_events\":0,"
			  "\"duplicate_events\":3,\"events\":["
			  "[\"2024-01-01T00:00:00Z\",\"pause\",0,0,null],"
			  "[\"2024-01-01T00:00:00Z\",\"play\",15,null,\"x\"]]}");
	free(t);
	qoe_buffer_free(&b);

	/* duplicates in the text are removed and counted */
	doc = "{\"version\":1,\"duplicate_events\":1,\"events\":[[0,\"play\",null,null,null],"
		"[0,\"play\",null,null,null]]}";
	qoe_buffer_init(&b, A);
	CHECK(qoe_buffer_from_text(&b, doc, strlen(doc), err, sizeof(err)));
	CHECK_INT(b.nevents, 1);
	CHECK_INT(b.duplicate_events, 2);
	qoe_buffer_free(&b);

	/* not NUL-terminated: only len bytes are read */
	doc = "{\"version\":1,\"events\":[]}garbage";
	qoe_buffer_init(&b, A);
	CHECK(qoe_buffer_from_text(&b, doc, 25, err, sizeof(err)));
	qoe_buffer_free(&b);

	expect_error("", "expected \"{\" at end of input");
	expect_error("[]", "expected \"{\" at character 1");
	expect_error("{}", "missing \"version\" at character 2");
	/* counts are bigint: one above INT64_MAX is refused */
	expect_error("{\"version\":1,\"invalid_events\":9223372036854775808,\"events\":[]}",
				 "invalid value for \"invalid_events\" at character 31");
	expect_error("{\"version\":1}", "missing \"events\" at end of input");
	expect_error("{\"events\":[]}", "missing \"version\" at end of input");
	expect_error("{\"version\":2,\"events\":[]}", "unsupported version at character 12");
	expect_error("{\"version\":1.0,\"events\":[]}", "invalid version at character 12");
	expect_error("{\"version\":1,\"version\":1,\"events\":[]}",
				 "duplicate key \"version\" at character 14");
	expect_error("{\"version\":1,\"foo\":1,\"events\":[]}",
				 "unknown key \"foo\" at character 14");
	expect_error("{\"version\":1,\"events\":[]} x", "unexpected data after the end at character 27");
	expect_error("{\"version\":1,\"events\":[]", "expected \",\" or \"}\" at end of input");
	expect_error("{\"version\":1 \"events\":[]}", "expected \",\" or \"}\" at character 14");
	expect_error("{\"version\":1,\"invalid_events\":-1,\"events\":[]}",
				 "invalid value for \"invalid_events\" at character 31");
	expect_error("{\"version\":1,\"invalid_events\":18446744073709551616,\"events\":[]}",
				 "count out of range at character 31");
	expect_error("{\"version\":1,\"unknown_events\":null,\"events\":[]}",
				 "invalid number at character 31");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,null] [0]]}",
				 "expected \",\" or \"]\" at character 50");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null]]}",
				 "expected \",\" at character 43");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,null,1]]}",
				 "expected \"]\" at character 48");
	expect_error("{\"version\":1,\"events\":[[0,\"foo\",null,null,null]]}",
				 "unknown event kind \"foo\" at character 27");
	expect_error("{\"version\":1,\"events\":[[0,\"resume\",null,null,null]]}",
				 "unknown event kind \"resume\" at character 27");
	expect_error("{\"version\":1,\"events\":[[0,\"Play\",null,null,null]]}",
				 "unknown event kind \"Play\" at character 27");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",-1,null,null]]}",
				 "invalid position at character 34");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",\"NaN\",null,null]]}",
				 "expected number or null at character 34");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",1e999,null,null]]}",
				 "number out of range at character 34");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",01,null,null]]}",
				 "expected \",\" at character 35");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",1.,null,null]]}",
				 "invalid number at character 34");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",.5,null,null]]}",
				 "expected number or null at character 34");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,\"nan\",null]]}",
				 "invalid number \"nan\" at character 39");
	expect_error("{\"version\":1,\"events\":[[0,\"bitrate\",null,null,null]]}",
				 "invalid bitrate value at character 42");
	expect_error("{\"version\":1,\"events\":[[0,\"bitrate\",null,0,null]]}",
				 "invalid bitrate value at character 42");
	expect_error("{\"version\":1,\"events\":[[0,\"bitrate\",null,\"Infinity\",null]]}",
				 "invalid bitrate value at character 42");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,\"a\\u0000b\"]]}",
				 "\\u0000 is not allowed at character 46");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,\"\\ud800x\"]]}",
				 "unpaired unicode surrogate at character 45");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,\"\\udc00\"]]}",
				 "unpaired unicode surrogate at character 45");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,\"\\u12g4\"]]}",
				 "invalid unicode escape at character 45");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,\"\\x\"]]}",
				 "invalid escape sequence at character 45");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,\"a\nb\"]]}",
				 "control character in string at character 46");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,\"abc",
				 "unterminated string at character 44");
	expect_error("{\"version\":1,\"events\":[[0,\"play\",null,null,nul]]}",
				 "expected string at character 44");
	expect_error("{\"version\":1,\"events\":[[\"2024-01-01T00:00:00Z\",\"play\",null,null,5]]}",
				 "expected string at character 65");
	expect_error("{\"version\":1,\"events\":{}}", "expected \"[\" at character 23");
}

/* arbitrary bytes and every prefix of a valid document: no crash */
static void
test_robustness(void)
{
	QoeBuffer	b;
	char		err[128];
	char	   *t;
	size_t		len,
				i;
	int			failures = 0;
	uint64_t	r = 99;
	char	   *copy;

	qoe_buffer_init(&b, A);
	add(&b, T2024, QOE_PLAY, 0, NAN, "s\"1");
	add(&b, T2024 + 5, QOE_BITRATE, 3.5, 1e6, "s\xc3\xa9");
	add(&b, T2024 + 7, QOE_HEARTBEAT, NAN, NAN, NULL);
	qoe_buffer_canonicalize(&b);
	t = qoe_buffer_to_text(&b, &len);
	qoe_buffer_free(&b);

	for (i = 0; i < len; i++)
	{
		/* exact-size heap copies, so ASan catches any overread */
		copy = malloc(i ? i : 1);
		memcpy(copy, t, i);
		qoe_buffer_init(&b, A);
		if (qoe_buffer_from_text(&b, copy, i, err, sizeof(err)))
			failures++;
		qoe_buffer_free(&b);
		free(copy);
	}
	CHECK_INT(failures, 0);

	/* random byte mutations */
	copy = malloc(len);
	for (i = 0; i < 20000; i++)
	{
		int			j;

		memcpy(copy, t, len);
		for (j = 0; j < 3; j++)
		{
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			copy[(r >> 33) % len] = (char) (r >> 20);
		}
		qoe_buffer_init(&b, A);
		if (qoe_buffer_from_text(&b, copy, len, err, sizeof(err)))
		{
			char	   *t2 = qoe_buffer_to_text(&b, NULL);

			free(t2);
		}
		qoe_buffer_free(&b);
	}
	free(copy);
	CHECK(1);
	free(t);

	/* NULL errbuf */
	qoe_buffer_init(&b, A);
	CHECK(!qoe_buffer_from_text(&b, "x", 1, NULL, 0));
	qoe_buffer_free(&b);
}

int
main(void)
{
	test_output();
	test_timestamps();
	test_timestamp_input();
	test_sessions();
	test_round_trip_random();
	test_parse();
	test_robustness();
	return unit_done();
}
