/*-------------------------------------------------------------------------
 *
 * qoe_text.c
 *	  Text form of a qoe_timeline: a JSON document with an exact round trip.
 *
 *	  {"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,
 *	   "events":[["2024-01-01T00:00:00Z","play",0,null,"s1"], ...]}
 *
 * Timestamps print as ISO 8601 UTC with up to 6 fractional digits for years
 * 0001-9999, otherwise as an integer of microseconds since 1970-01-01.
 * Doubles print in the shortest form that reads back exactly; NaN and
 * infinite values as the strings "NaN", "Infinity", "-Infinity".  Input is
 * a strict parser for exactly this document (keys in any order, any JSON
 * white space); it never reads past len.
 *
 * Pure C: no PostgreSQL headers.
 *
 * IDENTIFICATION
 *	  src/qoe_text.c
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_core.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USECS_PER_DAY INT64_C(86400000000)
/* days from 1970-01-01 to 2000-01-01 */
#define UNIX_EPOCH_OFFSET_DAYS INT64_C(10957)
#define UNIX_EPOCH_OFFSET_USECS (QOE_UNIX_EPOCH_OFFSET_SECS * QOE_USECS_PER_SEC)

/* the valid range of PostgreSQL timestamps: [MIN_TIMESTAMP, END_TIMESTAMP) */
#define QOE_MIN_TIMESTAMP INT64_C(-211813488000000000)
#define QOE_END_TIMESTAMP INT64_C(9223371331200000000)

#define MAX_NUMBER_LEN 400

static inline void
check_interrupts(size_t i)
{
	if ((i & (QOE_CHECK_INTERRUPTS_EVERY - 1)) == 0 && qoe_interrupt_hook)
		qoe_interrupt_hook();
}

/* ---------------------------------------------------------------------
 * civil dates (proleptic Gregorian, H. Hinnant's algorithms)
 * ---------------------------------------------------------------------
 */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* days since 1970-01-01 of y-m-d */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && is_leap(y))
		return 29;
	return dim[m - 1];
}

/* ---------------------------------------------------------------------
 * output
 * ---------------------------------------------------------------------
 */
typedef struct StrBuf
{
	const QoeAllocator *a;
	char	   *data;
	size_t		len;
	size_t		cap;
} StrBuf;

static void
sb_reserve(StrBuf *sb, size_t extra)
{
	size_t		need;
	size_t		nc;

	if (extra > SIZE_MAX - sb->len - 1)
		(void) sb->a->alloc(sb->a->ctx, SIZE_MAX);	/* raises an error */
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	nc = sb->cap ? sb->cap : 256;
	while (nc < need)
		nc = nc > SIZE_MAX / 2 ? need : nc * 2;
	if (sb->data == NULL)
		sb->data = sb->a->alloc(sb->a->ctx, nc);
	else
		sb->data = sb->a->realloc(sb->a->ctx, sb->data, sb->cap, nc);
	sb->cap = nc;
}

static inline void
sb_append(StrBuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static inline void
sb_puts(StrBuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

static inline void
sb_putc(StrBuf *sb, char c)
{
	sb_reserve(sb, 1);
	sb->data[sb->len++] = c;
	sb->data[sb->len] = '\0';
}

/*
 * Shortest "%.Ng" that reads back to exactly d (d finite).  "%g" switches to
 * an exponent when the exponent is >= N, i.e. for integers with trailing
 * zeros such as 2500000 ("2.5e+06"); below 1e17 print those in full.
 */
static void
format_double(char *buf, size_t buflen, double d)
{
	int			prec;

	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(buf, buflen, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (strchr(buf, 'e') != NULL && fabs(d) >= 1 && fabs(d) < 1e17)
	{
		char		fixed[64];

		snprintf(fixed, sizeof(fixed), "%.0f", d);
		if (strtod(fixed, NULL) == d && strlen(fixed) < buflen)
			strcpy(buf, fixed);
	}
}

static void
put_double(StrBuf *sb, double d)
{
	char		buf[64];

	if (isnan(d))
		sb_puts(sb, "\"NaN\"");
	else if (isinf(d))
		sb_puts(sb, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
	{
		format_double(buf, sizeof(buf), d);
		sb_puts(sb, buf);
	}
}

static void
put_timestamp(StrBuf *sb, int64_t ts)
{
	char		buf[64];
	int64_t		days = floor_div(ts, USECS_PER_DAY);
	int64_t		rem = ts - days * USECS_PER_DAY;
	int64_t		y;
	int			m,
				d;

	civil_from_days(days + UNIX_EPOCH_OFFSET_DAYS, &y, &m, &d);
	if (y >= 1 && y <= 9999)
	{
		int64_t		secs = rem / QOE_USECS_PER_SEC;
		int64_t		frac = rem % QOE_USECS_PER_SEC;
		int			n;

		n = snprintf(buf, sizeof(buf), "\"%04d-%02d-%02dT%02d:%02d:%02d",
					 (int) y, m, d, (int) (secs / 3600), (int) (secs / 60 % 60),
					 (int) (secs % 60));
		if (frac != 0)
		{
			int			digits = 6;

			while (frac % 10 == 0)
			{
				frac /= 10;
				digits--;
			}
			n += snprintf(buf + n, sizeof(buf) - n, ".%0*d", digits, (int) frac);
		}
		snprintf(buf + n, sizeof(buf) - n, "Z\"");
	}
	else if (ts >= 0)
		snprintf(buf, sizeof(buf), "%" PRIu64,
				 (uint64_t) ts + (uint64_t) UNIX_EPOCH_OFFSET_USECS);
	else
		snprintf(buf, sizeof(buf), "%" PRId64, ts + UNIX_EPOCH_OFFSET_USECS);
	sb_puts(sb, buf);
}

static void
put_string(StrBuf *sb, const char *s, size_t len)
{
	size_t		i;
	size_t		start = 0;

	sb_reserve(sb, len + 2);
	sb_putc(sb, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\' || c < 0x20)
		{
			char		esc[8];

			sb_append(sb, s + start, i - start);
			if (c == '"')
				sb_puts(sb, "\\\"");
			else if (c == '\\')
				sb_puts(sb, "\\\\");
			else
			{
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				sb_puts(sb, esc);
			}
			start = i + 1;
		}
	}
	sb_append(sb, s + start, len - start);
	sb_putc(sb, '"');
}

char *
qoe_buffer_to_text(const QoeBuffer *b, size_t *len)
{
	StrBuf		sb;
	char		buf[160];
	size_t		i;

	sb.a = b->alloc;
	sb.data = NULL;
	sb.len = 0;
	sb.cap = 0;
	sb_reserve(&sb, 128 + b->nevents * 48);

	snprintf(buf, sizeof(buf),
			 "{\"version\":1,\"invalid_events\":%" PRIu64
			 ",\"unknown_events\":%" PRIu64
			 ",\"duplicate_events\":%" PRIu64 ",\"events\":[",
			 b->invalid_events, b->unknown_events, b->duplicate_events);
	sb_puts(&sb, buf);

	for (i = 0; i < b->nevents; i++)
	{
		const QoeEvent *ev = &b->events[i];
		const char *kname = qoe_kind_name(ev->kind);

		check_interrupts(i);
		if (i > 0)
			sb_putc(&sb, ',');
		sb_putc(&sb, '[');
		put_timestamp(&sb, ev->ts);
		sb_puts(&sb, ",\"");
		sb_puts(&sb, kname ? kname : "unknown");
		sb_puts(&sb, "\",");
		if (ev->flags & QOE_EV_HAS_POS)
			put_double(&sb, ev->position);
		else
			sb_puts(&sb, "null");
		sb_putc(&sb, ',');
		if (ev->flags & QOE_EV_HAS_VALUE)
			put_double(&sb, ev->value);
		else
			sb_puts(&sb, "null");
		sb_putc(&sb, ',');
		if (ev->key == QOE_NO_KEY)
			sb_puts(&sb, "null");
		else
		{
			size_t		klen;
			const char *k = qoe_buffer_key(b, ev->key, &klen);

			put_string(&sb, k, klen);
		}
		sb_putc(&sb, ']');
	}
	sb_puts(&sb, "]}");
	if (len)
		*len = sb.len;
	return sb.data;
}

/* ---------------------------------------------------------------------
 * input
 * ---------------------------------------------------------------------
 */
typedef struct Parser
{
	const char *s;
	size_t		len;
	size_t		pos;
	char	   *errbuf;
	size_t		errlen;
	bool		failed;
	const QoeAllocator *a;
	/* decoded string */
	char	   *str;
	size_t		slen;
	size_t		strcap;
} Parser;

#if defined(__GNUC__) || defined(__clang__)
#define QOE_PRINTF_ATTR(f, a) __attribute__((format(printf, f, a)))
#else
#define QOE_PRINTF_ATTR(f, a)
#endif

static bool perror_at(Parser *p, size_t at, const char *fmt,...) QOE_PRINTF_ATTR(3, 4);

/* record the first error, with its position ("at character N", 1-based) */
static bool
perror_at(Parser *p, size_t at, const char *fmt,...)
{
	va_list		ap;
	size_t		n;

	if (p->failed)
		return false;
	p->failed = true;
	if (p->errbuf == NULL || p->errlen == 0)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->errbuf, p->errlen, fmt, ap);
	va_end(ap);
	n = strlen(p->errbuf);
	if (n < p->errlen)
	{
		if (at >= p->len)
			snprintf(p->errbuf + n, p->errlen - n, " at end of input");
		else
			snprintf(p->errbuf + n, p->errlen - n, " at character %zu", at + 1);
	}
	return false;
}

/* a short quoted excerpt of the current decoded string, for messages */
static int
str_excerpt_len(const Parser *p)
{
	return p->slen > 100 ? 100 : (int) p->slen;
}

static inline void
skip_ws(Parser *p)
{
	while (p->pos < p->len)
	{
		char		c = p->s[p->pos];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			p->pos++;
		else
			break;
	}
}

static inline bool
peek(Parser *p, char c)
{
	return p->pos < p->len && p->s[p->pos] == c;
}

static bool
expect_char(Parser *p, char c)
{
	skip_ws(p);
	if (!peek(p, c))
		return perror_at(p, p->pos, "expected \"%c\"", c);
	p->pos++;
	return true;
}

static bool
match_literal(Parser *p, const char *lit)
{
	size_t		n = strlen(lit);

	if (p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0)
	{
		p->pos += n;
		return true;
	}
	return false;
}

static void
str_putc(Parser *p, char c)
{
	if (p->slen + 1 >= p->strcap)
	{
		size_t		nc = p->strcap ? p->strcap * 2 : 64;

		if (p->str == NULL)
			p->str = p->a->alloc(p->a->ctx, nc);
		else
			p->str = p->a->realloc(p->a->ctx, p->str, p->strcap, nc);
		p->strcap = nc;
	}
	p->str[p->slen++] = c;
	p->str[p->slen] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* four hex digits at p->pos; -1 if not */
static long
read_hex4(Parser *p)
{
	long		v = 0;
	int			i;

	if (p->len - p->pos < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		int			h = hex_value(p->s[p->pos + i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	p->pos += 4;
	return v;
}

/* parse a JSON string at p->pos into p->str/p->slen */
static bool
parse_string(Parser *p)
{
	size_t		start = p->pos;

	skip_ws(p);
	if (!peek(p, '"'))
		return perror_at(p, p->pos, "expected string");
	p->pos++;
	p->slen = 0;
	str_putc(p, '\0');
	p->slen = 0;
	for (;;)
	{
		unsigned char c;

		if (p->pos >= p->len)
			return perror_at(p, start, "unterminated string");
		c = (unsigned char) p->s[p->pos];
		if (c == '"')
		{
			p->pos++;
			return true;
		}
		if (c < 0x20)
			return perror_at(p, p->pos, "control character in string");
		if (c != '\\')
		{
			str_putc(p, (char) c);
			p->pos++;
			continue;
		}
		/* escape */
		{
			size_t		esc_at = p->pos;
			char		e;
			long		cp;

			p->pos++;
			if (p->pos >= p->len)
				return perror_at(p, start, "unterminated string");
			e = p->s[p->pos++];
			switch (e)
			{
				case '"':
				case '\\':
				case '/':
					str_putc(p, e);
					continue;
				case 'b':
					str_putc(p, '\b');
					continue;
				case 'f':
					str_putc(p, '\f');
					continue;
				case 'n':
					str_putc(p, '\n');
					continue;
				case 'r':
					str_putc(p, '\r');
					continue;
				case 't':
					str_putc(p, '\t');
					continue;
				case 'u':
					break;
				default:
					return perror_at(p, esc_at, "invalid escape sequence");
			}
			cp = read_hex4(p);
			if (cp < 0)
				return perror_at(p, esc_at, "invalid unicode escape");
			if (cp >= 0xD800 && cp <= 0xDBFF)
			{
				long		lo;

				if (!(p->len - p->pos >= 2 && p->s[p->pos] == '\\' &&
					  p->s[p->pos + 1] == 'u'))
					return perror_at(p, esc_at, "unpaired unicode surrogate");
				p->pos += 2;
				lo = read_hex4(p);
				if (lo < 0xDC00 || lo > 0xDFFF)
					return perror_at(p, esc_at, "unpaired unicode surrogate");
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			else if (cp >= 0xDC00 && cp <= 0xDFFF)
				return perror_at(p, esc_at, "unpaired unicode surrogate");
			if (cp == 0)
				return perror_at(p, esc_at, "\\u0000 is not allowed");
			if (cp < 0x80)
				str_putc(p, (char) cp);
			else if (cp < 0x800)
			{
				str_putc(p, (char) (0xC0 | (cp >> 6)));
				str_putc(p, (char) (0x80 | (cp & 0x3F)));
			}
			else if (cp < 0x10000)
			{
				str_putc(p, (char) (0xE0 | (cp >> 12)));
				str_putc(p, (char) (0x80 | ((cp >> 6) & 0x3F)));
				str_putc(p, (char) (0x80 | (cp & 0x3F)));
			}
			else
			{
				str_putc(p, (char) (0xF0 | (cp >> 18)));
				str_putc(p, (char) (0x80 | ((cp >> 12) & 0x3F)));
				str_putc(p, (char) (0x80 | ((cp >> 6) & 0x3F)));
				str_putc(p, (char) (0x80 | (cp & 0x3F)));
			}
		}
	}
}

/*
 * Scan a JSON number at p->pos (already past white space): sets *start,
 * *end and whether it is an integer (no fraction, no exponent).
 */
static bool
scan_number(Parser *p, size_t *start, size_t *end, bool *is_integer)
{
	size_t		i = p->pos;
	const char *s = p->s;
	size_t		len = p->len;

	*start = i;
	*is_integer = true;
	if (i < len && s[i] == '-')
		i++;
	if (i >= len || !(s[i] >= '0' && s[i] <= '9'))
		return perror_at(p, *start, "invalid number");
	if (s[i] == '0')
		i++;
	else
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i < len && s[i] == '.')
	{
		*is_integer = false;
		i++;
		if (i >= len || !(s[i] >= '0' && s[i] <= '9'))
			return perror_at(p, *start, "invalid number");
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		*is_integer = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !(s[i] >= '0' && s[i] <= '9'))
			return perror_at(p, *start, "invalid number");
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	*end = i;
	p->pos = i;
	return true;
}

/* a JSON number as a finite double */
static bool
parse_double(Parser *p, double *out)
{
	size_t		start,
				end;
	bool		is_integer;
	char		buf[MAX_NUMBER_LEN + 1];
	double		d;

	if (!scan_number(p, &start, &end, &is_integer))
		return false;
	if (end - start > MAX_NUMBER_LEN)
		return perror_at(p, start, "number too long");
	memcpy(buf, p->s + start, end - start);
	buf[end - start] = '\0';
	d = strtod(buf, NULL);
	if (!isfinite(d))
		return perror_at(p, start, "number out of range");
	*out = d;
	return true;
}

/* an unsigned JSON integer; sets *neg and the magnitude */
static bool
parse_integer(Parser *p, bool *neg, uint64_t *mag, const char *what)
{
	size_t		start,
				end;
	bool		is_integer;
	size_t		i;
	uint64_t	v = 0;

	if (!scan_number(p, &start, &end, &is_integer))
		return false;
	if (!is_integer)
		return perror_at(p, start, "invalid %s", what);
	i = start;
	*neg = false;
	if (p->s[i] == '-')
	{
		*neg = true;
		i++;
	}
	for (; i < end; i++)
	{
		unsigned	dgt = (unsigned) (p->s[i] - '0');

		if (v > (UINT64_MAX - dgt) / 10)
			return perror_at(p, start, "%s out of range", what);
		v = v * 10 + dgt;
	}
	*mag = v;
	return true;
}

static bool
parse_counter(Parser *p, uint64_t *out, const char *key)
{
	bool		neg;
	size_t		start;

	skip_ws(p);
	start = p->pos;
	if (!parse_integer(p, &neg, out, "count"))
		return false;
	if ((neg && *out != 0) || *out > (uint64_t) INT64_MAX)
		return perror_at(p, start, "invalid value for \"%s\"", key);
	return true;
}

/* ISO "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z" (the decoded string) to ts */
static bool
iso_to_ts(const char *s, size_t len, int64_t *ts)
{
	int			v[6];
	static const int pos[6] = {0, 5, 8, 11, 14, 17};
	static const int width[6] = {4, 2, 2, 2, 2, 2};
	int			i,
				j;
	int64_t		frac = 0;
	int			fdigits = 0;
	size_t		k;
	int64_t		days;

	if (len < 20)
		return false;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return false;
	for (i = 0; i < 6; i++)
	{
		v[i] = 0;
		for (j = 0; j < width[i]; j++)
		{
			char		c = s[pos[i] + j];

			if (c < '0' || c > '9')
				return false;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	k = 19;
	if (s[k] == '.')
	{
		k++;
		while (k < len && s[k] >= '0' && s[k] <= '9')
		{
			if (fdigits == 6)
				return false;
			frac = frac * 10 + (s[k] - '0');
			fdigits++;
			k++;
		}
		if (fdigits == 0)
			return false;
		while (fdigits < 6)
		{
			frac *= 10;
			fdigits++;
		}
	}
	if (k + 1 != len || s[k] != 'Z')
		return false;
	if (v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
		v[2] > days_in_month(v[0], v[1]) || v[3] > 23 || v[4] > 59 || v[5] > 59)
		return false;
	days = days_from_civil(v[0], v[1], v[2]) - UNIX_EPOCH_OFFSET_DAYS;
	*ts = days * USECS_PER_DAY +
		((int64_t) v[3] * 3600 + v[4] * 60 + v[5]) * QOE_USECS_PER_SEC + frac;
	return true;
}

static bool
parse_timestamp(Parser *p, int64_t *ts)
{
	size_t		start;

	skip_ws(p);
	start = p->pos;
	if (peek(p, '"'))
	{
		if (!parse_string(p))
			return false;
		if (!iso_to_ts(p->str, p->slen, ts))
			return perror_at(p, start, "invalid timestamp \"%.*s\"",
							 str_excerpt_len(p), p->str);
		return true;
	}
	else
	{
		bool		neg;
		uint64_t	mag;

		if (!parse_integer(p, &neg, &mag, "timestamp"))
			return false;
		/* microseconds since 1970 -> since 2000, within PostgreSQL's range */
		if (neg)
		{
			if (mag > (uint64_t) -(QOE_MIN_TIMESTAMP + UNIX_EPOCH_OFFSET_USECS))
				return perror_at(p, start, "timestamp out of range");
			*ts = -(int64_t) mag - UNIX_EPOCH_OFFSET_USECS;
		}
		else
		{
			if (mag >= (uint64_t) QOE_END_TIMESTAMP + (uint64_t) UNIX_EPOCH_OFFSET_USECS)
				return perror_at(p, start, "timestamp out of range");
			if (mag >= (uint64_t) UNIX_EPOCH_OFFSET_USECS)
				*ts = (int64_t) (mag - (uint64_t) UNIX_EPOCH_OFFSET_USECS);
			else
				*ts = -(int64_t) ((uint64_t) UNIX_EPOCH_OFFSET_USECS - mag);
		}
		return true;
	}
}

/* null or a finite double; a string NaN/Infinity/-Infinity when allow_special */
static bool
parse_nullable_double(Parser *p, bool *isnull, double *d, bool allow_special)
{
	skip_ws(p);
	*isnull = false;
	if (match_literal(p, "null"))
	{
		*isnull = true;
		return true;
	}
	if (peek(p, '"'))
	{
		size_t		start = p->pos;

		if (!allow_special)
			return perror_at(p, start, "expected number or null");
		if (!parse_string(p))
			return false;
		if (p->slen == 3 && memcmp(p->str, "NaN", 3) == 0)
			*d = NAN;
		else if (p->slen == 8 && memcmp(p->str, "Infinity", 8) == 0)
			*d = HUGE_VAL;
		else if (p->slen == 9 && memcmp(p->str, "-Infinity", 9) == 0)
			*d = -HUGE_VAL;
		else
			return perror_at(p, start, "invalid number \"%.*s\"",
							 str_excerpt_len(p), p->str);
		return true;
	}
	if (p->pos < p->len && (p->s[p->pos] == '-' ||
							(p->s[p->pos] >= '0' && p->s[p->pos] <= '9')))
		return parse_double(p, d);
	return perror_at(p, p->pos, "expected number or null");
}

static bool
expect_comma(Parser *p)
{
	skip_ws(p);
	if (peek(p, ','))
	{
		p->pos++;
		return true;
	}
	return perror_at(p, p->pos, "expected \",\"");
}

static bool
parse_event(Parser *p, QoeBuffer *b)
{
	int64_t		ts = 0;
	int			kind = QOE_KIND_UNKNOWN;
	bool		pos_isnull,
				val_isnull;
	double		pos = 0,
				val = 0;
	size_t		at;
	int			k;
	const char *key = NULL;
	size_t		keylen = 0;

	if (!expect_char(p, '['))
		return false;
	if (!parse_timestamp(p, &ts))
		return false;
	if (!expect_comma(p))
		return false;

	skip_ws(p);
	at = p->pos;
	if (!parse_string(p))
		return false;
	for (k = 0; k < QOE_NKINDS; k++)
	{
		const char *name = qoe_kind_name(k);

		if (strlen(name) == p->slen && memcmp(name, p->str, p->slen) == 0)
		{
			kind = k;
			break;
		}
	}
	if (kind == QOE_KIND_UNKNOWN)
		return perror_at(p, at, "unknown event kind \"%.*s\"",
						 str_excerpt_len(p), p->str);
	if (!expect_comma(p))
		return false;

	skip_ws(p);
	at = p->pos;
	if (!parse_nullable_double(p, &pos_isnull, &pos, false))
		return false;
	if (!pos_isnull && !(pos >= 0))
		return perror_at(p, at, "invalid position");
	if (!expect_comma(p))
		return false;

	skip_ws(p);
	at = p->pos;
	if (!parse_nullable_double(p, &val_isnull, &val, true))
		return false;
	if (kind == QOE_BITRATE && (val_isnull || !isfinite(val) || !(val > 0)))
		return perror_at(p, at, "invalid bitrate value");
	if (!expect_comma(p))
		return false;

	skip_ws(p);
	if (match_literal(p, "null"))
		key = NULL;
	else
	{
		if (!parse_string(p))
			return false;
		key = p->str;
		keylen = p->slen;
	}
	skip_ws(p);
	if (!peek(p, ']'))
		return perror_at(p, p->pos, "expected \"]\"");
	p->pos++;

	qoe_buffer_add(b, false, ts, kind, pos_isnull, pos, val_isnull, val,
				   key, keylen);
	return true;
}

static bool
parse_events(Parser *p, QoeBuffer *b)
{
	size_t		n = 0;

	if (!expect_char(p, '['))
		return false;
	skip_ws(p);
	if (peek(p, ']'))
	{
		p->pos++;
		return true;
	}
	for (;;)
	{
		check_interrupts(n++);
		if (!parse_event(p, b))
			return false;
		skip_ws(p);
		if (peek(p, ','))
		{
			p->pos++;
			continue;
		}
		if (peek(p, ']'))
		{
			p->pos++;
			return true;
		}
		return perror_at(p, p->pos, "expected \",\" or \"]\"");
	}
}

enum
{
	KEY_VERSION = 0,
	KEY_INVALID,
	KEY_UNKNOWN,
	KEY_DUPLICATE,
	KEY_EVENTS,
	NUM_KEYS
};

static const char *const doc_keys[NUM_KEYS] = {
	"version", "invalid_events", "unknown_events", "duplicate_events", "events"
};

static bool
parse_document(Parser *p, QoeBuffer *b, uint64_t *counters)
{
	bool		seen[NUM_KEYS] = {false, false, false, false, false};

	if (!expect_char(p, '{'))
		return false;
	skip_ws(p);
	if (peek(p, '}'))
		return perror_at(p, p->pos, "missing \"version\"");
	for (;;)
	{
		size_t		at;
		int			k;

		skip_ws(p);
		at = p->pos;
		if (!parse_string(p))
			return false;
		for (k = 0; k < NUM_KEYS; k++)
		{
			if (strlen(doc_keys[k]) == p->slen &&
				memcmp(doc_keys[k], p->str, p->slen) == 0)
				break;
		}
		if (k == NUM_KEYS)
			return perror_at(p, at, "unknown key \"%.*s\"",
							 str_excerpt_len(p), p->str);
		if (seen[k])
			return perror_at(p, at, "duplicate key \"%s\"", doc_keys[k]);
		seen[k] = true;
		if (!expect_char(p, ':'))
			return false;
		skip_ws(p);
		at = p->pos;
		if (k == KEY_VERSION)
		{
			bool		neg;
			uint64_t	v;

			if (!parse_integer(p, &neg, &v, "version"))
				return false;
			if (neg || v != 1)
				return perror_at(p, at, "unsupported version");
		}
		else if (k == KEY_EVENTS)
		{
			if (!parse_events(p, b))
				return false;
		}
		else if (!parse_counter(p, &counters[k], doc_keys[k]))
			return false;

		skip_ws(p);
		if (peek(p, ','))
		{
			p->pos++;
			continue;
		}
		if (peek(p, '}'))
		{
			p->pos++;
			break;
		}
		return perror_at(p, p->pos, "expected \",\" or \"}\"");
	}
	skip_ws(p);
	if (p->pos < p->len)
		return perror_at(p, p->pos, "unexpected data after the end");
	if (!seen[KEY_VERSION])
		return perror_at(p, p->len, "missing \"version\"");
	if (!seen[KEY_EVENTS])
		return perror_at(p, p->len, "missing \"events\"");
	return true;
}

bool
qoe_buffer_from_text(QoeBuffer *b, const char *text, size_t len,
					 char *errbuf, size_t errlen)
{
	Parser		p;
	uint64_t	counters[NUM_KEYS] = {0, 0, 0, 0, 0};
	bool		ok;

	memset(&p, 0, sizeof(p));
	p.s = text ? text : "";
	p.len = text ? len : 0;
	p.errbuf = errbuf;
	p.errlen = errlen;
	p.a = b->alloc;
	if (errbuf && errlen > 0)
		errbuf[0] = '\0';

	ok = parse_document(&p, b, counters);
	if (p.str)
		p.a->free(p.a->ctx, p.str);
	if (!ok)
		return false;

	b->invalid_events = counters[KEY_INVALID];
	b->unknown_events = counters[KEY_UNKNOWN];
	b->duplicate_events = counters[KEY_DUPLICATE];
	qoe_buffer_canonicalize(b);
	return true;
}
