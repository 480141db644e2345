/*-------------------------------------------------------------------------
 *
 * fuzz_replay.c
 *	  libFuzzer harness for the pure core of qoe_agg (make fuzz).
 *
 * The first input byte picks a mode:
 *	  byte % 16 == 0	the rest is fed to qoe_buffer_deserialize (both modes);
 *	  byte % 16 == 1	the rest is fed to qoe_buffer_from_text;
 *	  byte % 16 == 14	"QCB1" and the rest: as for 0 (the compact form),
 *						and opened with qoe_serial_open_unchecked and
 *						merged (alone and with another input): refused as
 *						qoe_buffer_deserialize refuses it, or read as
 *						exactly its buffer;
 *	  byte % 16 == 15	the rest is read as the records of a compact log
 *						(qoe_log_records_to_buffer, qoe_log_append_records);
 *	  otherwise			the rest is decoded into rows (below), the way the
 *						aggregate's transition function would see them.
 * Whatever loads is replayed with several parameter sets and checked against
 * invariants that follow from SPEC.md; a violation prints what failed and
 * abort()s, which libFuzzer reports as a crash.
 *
 * Row encoding, 2 bytes per row plus optional payload bytes:
 *	  b0: kind = b0 % 18 (0..15 a QoeKind, 16..17 unknown);
 *		  session key = (b0 / 18) % 8 (7 = NULL)
 *	  b1: bits 0-1 timestamp step: 0 same ts (tie), 1 +u8*100 ms,
 *			 2 +u16 ms, 3 u8 < 128: +25 min + u8 min (gaps around the
 *			 30 min timeout), else -(u8-128)*500 ms (out of order);
 *		  bits 2-3 position: 0 NULL, 1 "play clock" (seconds since the first
 *			 row + i8/10), 2 u16/16 s, 3 invalid (NaN, +-Inf, -1) or -0.0;
 *		  bits 4-5 value: 0 NULL, 1 (u8+1)*100 kbps, 2 invalid (0, <0, NaN,
 *			 Inf), 3 the previous row's value;
 *		  bits 6-7 == 3: the ts is NULL / -infinity / +infinity by the
 *			 step bits (step 3 keeps it valid).
 *
 * Invariants checked (per parameter set):
 *	  - times finite and >= 0, counts >= 0, startup_count <= sessions;
 *	  - credited time (play+starting+paused+buffer+seek+ad) <= the sum over
 *		session keys of (last ts - first ts) of that key's events;
 *	  - rebuffer <= buffer (count and time), seek_forward + seek_backward <=
 *		seek_count, exits_before_start + start_failures + playback_failures
 *		<= sessions, buffer_count <= buffer_start events, ad_count ==
 *		ad_start events (SPEC 8.17), completions/errors/pauses/replays/
 *		unmatched_buffer_ends/shifts bounded by their events;
 *	  - first_ts/last_ts are the min/max event ts; sessions >= distinct keys;
 *	  - invalid/unknown counters equal what the harness expects (SPEC 8.3);
 *	  - intervals: positive, ordered, same-state neighbours merged, summed per
 *		state equal to the credited totals; episodes: count = buffer_count,
 *		stall ones = rebuffer_count, durations sum to buffer_time and
 *		rebuffer_time; ranges: positive, merged, summed = content_watched;
 *	  - bitrates: min <= avg <= max, weight <= play_time;
 *	  - the same rows shuffled, split in two buffers and merged give
 *		identical metrics and an identical serialized timeline; every row
 *		added twice gives identical metrics with duplicates counted;
 *	  - the rows split in 1-4 canonical parts (some rows in two), given as
 *		buffers or values (compact or 32-byte form, opened checked or
 *		unchecked) and merged a piece at a time (QoeMergeReader, a piece
 *		size from the input): pieces of whole keys, at least the size
 *		asked for but the last; together exactly the buffer
 *		qoe_buffer_merge_canonical_many makes (events, keys, counters, ts
 *		range), the same compact bytes through QoeCompactWriter, and
 *		qoe_replay_merge gives qoe_replay's metrics of it;
 *	  - serialize -> deserialize (canonical) -> replay gives identical
 *		metrics; to_text -> from_text -> to_text is byte-identical; the
 *		compact form reads back as the same buffer; whatever the compact
 *		reader accepts is canonical (its 32-byte form loads with
 *		require_canonical, as the same events).  The compact reader also
 *		accepts encodings the writer would not choose (a longer varint, a
 *		double where a whole number would do): every stored value is
 *		written by the writer, so stored bytes are still unique per value.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qoe_core.h"
#include "../unit/log_flat.h"
#include "../unit/replay_check.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXROWS 2048
#define LOG_CHUNK_DEFAULT ((size_t) 32 * 1024 * 1024)	/* qoe_log_chunk_min's */

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_replay: invariant violated at %s:%d: %s (params %d)\n", \
				__FILE__, __LINE__, #cond, cur_param); \
		abort(); \
	} \
} while (0)

/* approximate equality for sums of seconds */
#define NEAR(a, b) (fabs((a) - (b)) <= 1e-6 + 1e-9 * fmax(fabs(a), fabs(b)))
#define LE(a, b) ((a) <= (b) + 1e-6 + 1e-9 * fabs(b))

static int	cur_param = -1;

static const QoeParams *
param_set(int i)
{
	static QoeParams p[3];

	p[0] = qoe_default_params;
	p[1].session_timeout_us = 5 * QOE_USECS_PER_SEC;	/* short timeout */
	p[1].seek_grace_us = 0;
	p[1].jump_tolerance = 0;
	p[2].session_timeout_us = INT64_C(86400) * QOE_USECS_PER_SEC;
	p[2].seek_grace_us = 10 * QOE_USECS_PER_SEC;
	p[2].jump_tolerance = 10;
	return &p[i];
}
#define NPARAMS 3

/* session keys: row key 0..6, 7 = NULL (no zero bytes: SQL text has none) */
#define K(s) {s, sizeof(s) - 1}
static const struct
{
	const char *s;
	size_t		len;
}			keys[7] = {
	K("a"), K("b"), K(""), K("A"), K("s\xc3\xa9" "ance \"1\"\\/"), K("view-0123456789abcdef0123456789abcdef-\xe2\x82\xac"), K("a\tb\x01")
};
#undef K

typedef struct Row
{
	bool		ts_isnull;
	int64_t		ts;
	int			kind;
	bool		pos_isnull;
	double		pos;
	bool		val_isnull;
	double		val;
	int			key;			/* -1 = NULL */
} Row;

/* ---------------------------------------------------------------------
 * Sinks
 * ---------------------------------------------------------------------
 */
typedef struct Collect
{
	QoeEpisode *ep;
	size_t		nep, capep;
	QoeInterval *iv;
	size_t		niv, capiv;
	QoeRange   *rg;
	size_t		nrg, caprg;
	/* raw spans and sessions: totals only */
	double		span_state[6];
	int64_t		span_us;		/* all spans, credited or not */
	int64_t		nsessions;
	int64_t		session_us;		/* sum of last_ts - first_ts */
	bool		pending;		/* spans seen since the last session call */
	uint32_t	pend_key;
	int32_t		pend_session_no;
} Collect;

#define PUSH(arr, n, cap, item) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? 2 * (cap) : 16; \
		(arr) = realloc((arr), (cap) * sizeof(*(arr))); \
		if (!(arr)) abort(); \
	} \
	(arr)[(n)++] = *(item); \
} while (0)

static void
sink_episode(void *arg, const QoeEpisode *e)
{
	Collect    *c = arg;

	PUSH(c->ep, c->nep, c->capep, e);
}

static void
sink_interval(void *arg, const QoeInterval *iv)
{
	Collect    *c = arg;

	PUSH(c->iv, c->niv, c->capiv, iv);
}

static void
sink_range(void *arg, const QoeRange *r)
{
	Collect    *c = arg;

	PUSH(c->rg, c->nrg, c->caprg, r);
}

static void
sink_span(void *arg, const QoeSpan *sp)
{
	Collect    *c = arg;

	CHECK(sp->started_at <= sp->ended_at);
	CHECK(sp->state >= -1 && sp->state <= QOE_ST_AD);
	if (c->pending)
		CHECK(sp->key == c->pend_key && sp->session_no == c->pend_session_no);
	c->pending = true;
	c->pend_key = sp->key;
	c->pend_session_no = sp->session_no;
	c->span_us += sp->ended_at - sp->started_at;
	if (sp->state >= 0)
		c->span_state[sp->state] += (double) (sp->ended_at - sp->started_at) / 1e6;
	if (sp->has_bitrate)
		CHECK(isfinite(sp->bitrate) && sp->bitrate > 0);
}

/* called once per session, after its spans */
static void
sink_session(void *arg, uint32_t key, int32_t session_no, int64_t first_ts,
			 int64_t last_ts)
{
	Collect    *c = arg;

	CHECK(first_ts <= last_ts);
	CHECK(session_no >= 1);
	c->nsessions++;
	c->session_us += last_ts - first_ts;
	if (c->pending)
		CHECK(key == c->pend_key && session_no == c->pend_session_no);
	c->pending = false;
}

static void
collect_free(Collect *c)
{
	free(c->ep);
	free(c->iv);
	free(c->rg);
	memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------------------
 * Metric comparison
 * ---------------------------------------------------------------------
 */
/* all fields (metrics_differ.h); the data-quality counters only when dq */
static void
check_same_metrics(const QoeMetrics *a, const QoeMetrics *b, bool dq)
{
	const char *field = metrics_differ(a, b, dq, false);

	if (field != NULL)
		fprintf(stderr, "fuzz_replay: metrics differ in %s\n", field);
	CHECK(field == NULL);
}

/* ---------------------------------------------------------------------
 * Invariants of one replay of a canonical buffer
 * ---------------------------------------------------------------------
 */
static double
state_total(const QoeMetrics *m, int state)
{
	switch (state)
	{
		case QOE_ST_STARTING:
			return m->starting_time;
		case QOE_ST_PLAYING:
			return m->play_time;
		case QOE_ST_PAUSED:
			return m->paused_time;
		case QOE_ST_BUFFERING:
			return m->buffer_time;
		case QOE_ST_SEEKING:
			return m->seek_time;
		case QOE_ST_AD:
			return m->ad_time;
	}
	CHECK(!"unknown interval state");
	return 0;
}

static bool
same_session(uint32_t k1, int32_t s1, uint32_t k2, int32_t s2)
{
	return k1 == k2 && s1 == s2;
}

static void
check_invariants(const QoeBuffer *b, const QoeMetrics *m, const Collect *c)
{
	size_t		nkind[QOE_NKINDS] = {0};
	int64_t		mints = INT64_MAX, maxts = INT64_MIN;
	double		spans = 0, credited;
	int64_t    *kmin, *kmax;
	uint32_t	nk = b->nkeys + 1;	/* slot nkeys = NULL key */
	int64_t		distinct_keys = 0;
	double		per_state[6] = {0};
	double		ep_sum = 0, stall_sum = 0, range_sum = 0;
	int64_t		stalls = 0;

	CHECK(b->canonical);

	/* what the events say */
	kmin = malloc(nk * sizeof(int64_t));
	kmax = malloc(nk * sizeof(int64_t));
	if (!kmin || !kmax)
		abort();
	for (uint32_t k = 0; k < nk; k++)
	{
		kmin[k] = INT64_MAX;
		kmax[k] = INT64_MIN;
	}
	for (size_t i = 0; i < b->nevents; i++)
	{
		const QoeEvent *e = &b->events[i];
		uint32_t	k = e->key == QOE_NO_KEY ? b->nkeys : e->key;

		CHECK(e->kind < QOE_NKINDS);
		CHECK(e->key == QOE_NO_KEY || e->key < b->nkeys);
		CHECK(e->ts != QOE_TS_NOBEGIN && e->ts != QOE_TS_NOEND);
		nkind[e->kind]++;
		if (e->ts < mints)
			mints = e->ts;
		if (e->ts > maxts)
			maxts = e->ts;
		if (e->ts < kmin[k])
			kmin[k] = e->ts;
		if (e->ts > kmax[k])
			kmax[k] = e->ts;
		if (e->flags & QOE_EV_HAS_POS)
			CHECK(isfinite(e->position) && e->position >= 0);
		if (e->kind == QOE_BITRATE)
			CHECK((e->flags & QOE_EV_HAS_VALUE) && isfinite(e->value) && e->value > 0);
	}
	for (uint32_t k = 0; k < nk; k++)
		if (kmin[k] != INT64_MAX)
		{
			distinct_keys++;
			spans += (double) (kmax[k] - kmin[k]) / 1e6;
		}
	free(kmin);
	free(kmax);

	/* plain ranges */
	CHECK(m->sessions >= 0 && m->sessions <= (int64_t) b->nevents);
	CHECK(m->sessions >= distinct_keys);
	CHECK((b->nevents == 0) == (m->sessions == 0));
	CHECK(m->has_ts == (b->nevents > 0));
	if (m->has_ts)
	{
		CHECK(m->first_ts == mints);
		CHECK(m->last_ts == maxts);
	}
	{
		const double t[] = {m->play_time, m->starting_time, m->paused_time,
			m->buffer_time, m->seek_time, m->ad_time, m->rebuffer_time,
		m->startup_time_sum, m->bitrate_weight};

		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			CHECK(isfinite(t[i]) && t[i] >= 0);
	}
	{
		const int64_t n[] = {m->rebuffer_count, m->buffer_count, m->startup_count,
			m->pause_count, m->seek_count, m->seek_forward, m->seek_backward,
			m->ad_count, m->replays, m->completions, m->errors,
			m->exits_before_start, m->start_failures, m->playback_failures,
			m->upshifts, m->downshifts, m->unmatched_buffer_ends,
		m->duplicate_events, m->unknown_events, m->invalid_events};

		for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
			CHECK(n[i] >= 0);
	}
	CHECK(m->duplicate_events == (int64_t) b->duplicate_events);
	CHECK(m->unknown_events == (int64_t) b->unknown_events);
	CHECK(m->invalid_events == (int64_t) b->invalid_events);

	/* time is credited between consecutive events of one key only */
	credited = m->play_time + m->starting_time + m->paused_time +
		m->buffer_time + m->seek_time + m->ad_time;
	CHECK(LE(credited, spans));
	CHECK(NEAR(qoe_view_time(m), m->starting_time + m->play_time +
			   m->buffer_time + m->seek_time + m->ad_time));

	/* counts */
	CHECK(m->rebuffer_count <= m->buffer_count);
	CHECK(LE(m->rebuffer_time, m->buffer_time));
	CHECK(m->seek_forward + m->seek_backward <= m->seek_count);
	CHECK(m->exits_before_start + m->start_failures + m->playback_failures <= m->sessions);
	CHECK(m->startup_count <= m->sessions);
	CHECK(m->buffer_count <= (int64_t) nkind[QOE_BUFFER_START]);
	CHECK(m->unmatched_buffer_ends <= (int64_t) nkind[QOE_BUFFER_END]);
	CHECK(m->ad_count == (int64_t) nkind[QOE_AD_START]);
	CHECK(m->completions <= (int64_t) nkind[QOE_ENDED]);
	CHECK(m->errors <= (int64_t) nkind[QOE_ERROR]);
	CHECK(m->pause_count <= (int64_t) nkind[QOE_PAUSE]);
	CHECK(m->replays <= (int64_t) nkind[QOE_PLAY]);
	CHECK(m->upshifts + m->downshifts <= (int64_t) nkind[QOE_BITRATE]);
	CHECK(m->start_failures + m->playback_failures <= (int64_t) nkind[QOE_ERROR]);

	/* derived */
	{
		double		x;

		if (qoe_startup_time(m, &x))
			CHECK(isfinite(x) && x >= 0);
		if (qoe_rebuffer_ratio(m, &x))
			CHECK(x >= 0 && LE(x, 1.0));
		if (qoe_rebuffer_percentage(m, &x))
			CHECK(x >= 0 && LE(x, 1.0));
		if (qoe_rebuffer_frequency(m, &x))
			CHECK(isfinite(x) && x >= 0);
		if (qoe_avg_bitrate(m, &x))
		{
			CHECK(m->has_bitrate);
			CHECK(isfinite(x) && x > 0);
			CHECK(x >= m->min_bitrate * (1 - 1e-9) && x <= m->max_bitrate * (1 + 1e-9));
		}
	}
	CHECK(LE(m->bitrate_weight, m->play_time));
	if (m->has_bitrate)
		CHECK(m->min_bitrate > 0 && m->min_bitrate <= m->max_bitrate &&
			  isfinite(m->max_bitrate));
	if (m->has_position)
		CHECK(isfinite(m->max_position) && m->max_position >= 0 &&
			  isfinite(m->content_watched) && m->content_watched >= 0);

	if (!c)
		return;

	/* intervals */
	for (size_t i = 0; i < c->niv; i++)
	{
		const QoeInterval *iv = &c->iv[i];

		CHECK(iv->state >= QOE_ST_STARTING && iv->state <= QOE_ST_AD);
		CHECK(iv->session_no >= 1 && iv->session_no <= m->sessions);
		CHECK(iv->started_at < iv->ended_at);
		CHECK(iv->started_at >= mints && iv->ended_at <= maxts);
		per_state[iv->state] += (double) (iv->ended_at - iv->started_at) / 1e6;
		if (i > 0 && same_session(c->iv[i - 1].key, c->iv[i - 1].session_no,
								  iv->key, iv->session_no))
		{
			CHECK(c->iv[i - 1].ended_at <= iv->started_at);
			if (c->iv[i - 1].ended_at == iv->started_at)
				CHECK(c->iv[i - 1].state != iv->state);
		}
		if (i > 0 && c->iv[i - 1].key == iv->key)
			CHECK(c->iv[i - 1].session_no <= iv->session_no);
	}
	for (int s = QOE_ST_STARTING; s <= QOE_ST_AD; s++)
		CHECK(NEAR(per_state[s], state_total(m, s)));

	/* buffering episodes */
	CHECK((int64_t) c->nep == m->buffer_count);
	for (size_t i = 0; i < c->nep; i++)
	{
		const QoeEpisode *e = &c->ep[i];
		double		d = (double) (e->ended_at - e->started_at) / 1e6;

		CHECK(e->cause >= QOE_CAUSE_STARTUP && e->cause <= QOE_CAUSE_STALL);
		CHECK(e->session_no >= 1 && e->session_no <= m->sessions);
		CHECK(e->started_at <= e->ended_at);
		CHECK(e->started_at >= mints && e->ended_at <= maxts);
		if (e->has_position)
			CHECK(isfinite(e->position) && e->position >= 0);
		ep_sum += d;
		if (e->cause == QOE_CAUSE_STALL)
		{
			stalls++;
			stall_sum += d;
		}
		if (i > 0 && same_session(c->ep[i - 1].key, c->ep[i - 1].session_no,
								  e->key, e->session_no))
			CHECK(c->ep[i - 1].ended_at <= e->started_at);
	}
	CHECK(stalls == m->rebuffer_count);
	CHECK(NEAR(ep_sum, m->buffer_time));
	CHECK(NEAR(stall_sum, m->rebuffer_time));

	/* watched ranges */
	for (size_t i = 0; i < c->nrg; i++)
	{
		const QoeRange *r = &c->rg[i];

		CHECK(m->has_position);
		CHECK(r->session_no >= 1 && r->session_no <= m->sessions);
		CHECK(isfinite(r->from_position) && r->from_position >= 0);
		CHECK(r->from_position < r->to_position && isfinite(r->to_position));
		CHECK(LE(r->to_position, m->max_position));
		range_sum += r->to_position - r->from_position;
		if (i > 0 && same_session(c->rg[i - 1].key, c->rg[i - 1].session_no,
								  r->key, r->session_no))
			CHECK(c->rg[i - 1].to_position < r->from_position);
	}
	if (m->has_position)
		CHECK(NEAR(range_sum, m->content_watched));

	/* raw spans tile each session from its first to its last event */
	CHECK(c->nsessions == m->sessions);
	CHECK(c->span_us == c->session_us);
	CHECK(LE(credited, (double) c->session_us / 1e6));
	for (int s = QOE_ST_STARTING; s <= QOE_ST_AD; s++)
		CHECK(NEAR(c->span_state[s], state_total(m, s)));
}

/* ---------------------------------------------------------------------
 * qoe_windows: buckets add up to the totals
 * ---------------------------------------------------------------------
 */
typedef struct WinCheck
{
	int64_t		width;
	int64_t		nrows;
	int64_t		next_start;
	int64_t		first_start;
	double		play, buffer;
	int64_t		buffers, started;
	uint64_t	digest;			/* of every field of every row */
} WinCheck;

static void
digest_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ c[i]) * UINT64_C(0x100000001b3);
}

static unsigned char *serialize(const QoeBuffer *b, size_t *len);

static void
win_emit(void *arg, const QoeWindowRow *r)
{
	WinCheck   *w = arg;
	int64_t		unix_us = r->bucket_start + QOE_UNIX_EPOCH_OFFSET_SECS * QOE_USECS_PER_SEC;

	CHECK(((unix_us % w->width) + w->width) % w->width == 0);
	if (w->nrows == 0)
		w->first_start = r->bucket_start;
	else
		CHECK(r->bucket_start == w->next_start);
	w->next_start = r->bucket_start + w->width;
	w->nrows++;
	CHECK(r->concurrent_peak >= 0);
	CHECK(isfinite(r->concurrent_avg) && r->concurrent_avg >= 0);
	CHECK(LE(r->concurrent_avg, (double) r->concurrent_peak));
	CHECK(isfinite(r->play_time) && r->play_time >= 0 && LE(r->play_time, (double) w->width / 1e6 * fmax(1, r->concurrent_peak)));
	CHECK(isfinite(r->buffer_time) && r->buffer_time >= 0);
	CHECK(r->buffer_count >= 0 && r->sessions_started >= 0);
	if (r->has_bitrate)
		CHECK(r->min_bitrate > 0 && r->min_bitrate <= r->max_bitrate &&
			  r->avg_bitrate >= r->min_bitrate * (1 - 1e-9) &&
			  r->avg_bitrate <= r->max_bitrate * (1 + 1e-9));
	w->play += r->play_time;
	w->buffer += r->buffer_time;
	w->buffers += r->buffer_count;
	w->started += r->sessions_started;
	digest_bytes(&w->digest, &r->bucket_start, sizeof(r->bucket_start));
	digest_bytes(&w->digest, &r->concurrent_peak, sizeof(r->concurrent_peak));
	digest_bytes(&w->digest, &r->concurrent_avg, sizeof(r->concurrent_avg));
	digest_bytes(&w->digest, &r->play_time, sizeof(r->play_time));
	digest_bytes(&w->digest, &r->buffer_count, sizeof(r->buffer_count));
	digest_bytes(&w->digest, &r->buffer_time, sizeof(r->buffer_time));
	digest_bytes(&w->digest, &r->has_bitrate, sizeof(r->has_bitrate));
	if (r->has_bitrate)
	{
		digest_bytes(&w->digest, &r->avg_bitrate, sizeof(r->avg_bitrate));
		digest_bytes(&w->digest, &r->min_bitrate, sizeof(r->min_bitrate));
		digest_bytes(&w->digest, &r->max_bitrate, sizeof(r->max_bitrate));
	}
	digest_bytes(&w->digest, &r->sessions_started, sizeof(r->sessions_started));
}

static void
check_windows(QoeBuffer *b, const QoeMetrics *m, int p)
{
	WinCheck	w = {0};
	int64_t		span = m->has_ts ? m->last_ts - m->first_ts : 0;
	const char *err;

	/* one minute, or coarser so that there are at most ~1000 buckets */
	w.width = 60 * QOE_USECS_PER_SEC;
	if (span / w.width > 1000)
		w.width = (span / 1000 / QOE_USECS_PER_SEC + 1) * QOE_USECS_PER_SEC;
	err = qoe_windows(b, param_set(p), w.width, win_emit, &w);
	CHECK(err == NULL);

	/* read from the serialized form in pieces: the same rows */
	{
		WinCheck	w2 = {0};
		size_t		len;
		unsigned char *bin = serialize(b, &len);
		QoeSerialReader r;
		QoeBuffer	piece;

		w2.width = w.width;
		qoe_buffer_init(&piece, &qoe_malloc_allocator);
		CHECK(qoe_serial_open(&r, bin, len, &piece) == NULL);
		CHECK(qoe_windows_serial(&r, &piece, (size_t) (1 + p * 3), param_set(p),
								 w2.width, win_emit, &w2) == NULL);
		CHECK(w2.nrows == w.nrows && w2.digest == w.digest);
		qoe_buffer_free(&piece);
		free(bin);
	}
	if (!m->has_ts)
	{
		CHECK(w.nrows == 0);
		return;
	}
	CHECK(w.nrows >= 1);
	CHECK(w.first_start <= m->first_ts && m->first_ts < w.first_start + w.width);
	CHECK(w.next_start - w.width <= m->last_ts && m->last_ts < w.next_start);
	CHECK(NEAR(w.play, m->play_time));
	CHECK(NEAR(w.buffer, m->buffer_time));
	CHECK(w.buffers == m->buffer_count);
	CHECK(w.started == m->sessions);
}

/* ---------------------------------------------------------------------
 * Round trips
 * ---------------------------------------------------------------------
 */
static unsigned char *
serialize(const QoeBuffer *b, size_t *len)
{
	unsigned char *out;

	*len = qoe_buffer_serialized_size(b);
	out = malloc(*len ? *len : 1);
	if (!out)
		abort();
	qoe_buffer_serialize(b, out);
	return out;
}

/*
 * b is canonical and was replayed into ms[] (one per parameter set): check
 * the binary and the text round trips.
 */
static void
check_round_trips(QoeBuffer *b, const QoeMetrics *ms)
{
	size_t		len,
				tlen,
				tlen2;
	unsigned char *bin = serialize(b, &len);
	QoeBuffer	c;
	const char *err;
	char	   *text,
			   *text2;
	char		errbuf[256];
	QoeMetrics	m;

	/* binary */
	qoe_buffer_init(&c, &qoe_malloc_allocator);
	err = qoe_buffer_deserialize(&c, bin, len, true);
	if (err)
		fprintf(stderr, "deserialize: %s\n", err);
	CHECK(err == NULL);
	for (int p = 0; p < NPARAMS; p++)
	{
		cur_param = p;
		qoe_replay(&c, param_set(p), &m, NULL);
		check_same_metrics(&ms[p], &m, true);
	}
	cur_param = -1;
	{
		size_t		len2;
		unsigned char *bin2 = serialize(&c, &len2);

		CHECK(len2 == len && memcmp(bin, bin2, len) == 0);
		free(bin2);
	}
	qoe_buffer_free(&c);

	/* compact form */
	{
		size_t		clen,
					len2;
		unsigned char *cbin = malloc(qoe_buffer_compact_bound(b));
		unsigned char *bin2;

		if (!cbin)
			abort();
		clen = qoe_buffer_compact_serialize(b, cbin);
		CHECK(clen <= qoe_buffer_compact_bound(b));
		qoe_buffer_init(&c, &qoe_malloc_allocator);
		err = qoe_buffer_deserialize(&c, cbin, clen, true);
		if (err)
			fprintf(stderr, "compact deserialize: %s\n", err);
		CHECK(err == NULL);
		bin2 = serialize(&c, &len2);
		CHECK(len2 == len && memcmp(bin, bin2, len) == 0);
		free(bin2);
		free(cbin);
		qoe_buffer_free(&c);
	}
	free(bin);

	/* text */
	text = qoe_buffer_to_text(b, &tlen);
	CHECK(text != NULL && strlen(text) == tlen);
	qoe_buffer_init(&c, &qoe_malloc_allocator);
	if (!qoe_buffer_from_text(&c, text, tlen, errbuf, sizeof(errbuf)))
	{
		fprintf(stderr, "from_text: %s\ntext: %s\n", errbuf, text);
		CHECK(!"to_text output does not read back");
	}
	text2 = qoe_buffer_to_text(&c, &tlen2);
	if (tlen != tlen2 || memcmp(text, text2, tlen) != 0)
	{
		fprintf(stderr, "text 1: %s\ntext 2: %s\n", text, text2);
		CHECK(!"to_text -> from_text -> to_text differs");
	}
	for (int p = 0; p < NPARAMS; p++)
	{
		cur_param = p;
		qoe_replay(&c, param_set(p), &m, NULL);
		check_same_metrics(&ms[p], &m, true);
	}
	cur_param = -1;
	c.alloc->free(c.alloc->ctx, text2);
	b->alloc->free(b->alloc->ctx, text);
	qoe_buffer_free(&c);
}

/* replay b with every parameter set, checking invariants; fills ms[] */
static void
replay_all(QoeBuffer *b, QoeMetrics *ms)
{
	for (int p = 0; p < NPARAMS; p++)
	{
		Collect		c = {0};
		QoeSink		sink = {.arg = &c, .episode = sink_episode,
			.interval = sink_interval, .range = sink_range,
		.span = sink_span, .session = sink_session};
		QoeMetrics	again;

		cur_param = p;
		memset(&ms[p], 0, sizeof(QoeMetrics));
		qoe_replay(b, param_set(p), &ms[p], &sink);
		check_invariants(b, &ms[p], &c);
		check_windows(b, &ms[p], p);
		/* with and without a sink, twice: same answer */
		qoe_replay(b, param_set(p), &again, NULL);
		check_same_metrics(&ms[p], &again, true);
		collect_free(&c);
	}
	cur_param = -1;
}

/* ---------------------------------------------------------------------
 * Merging a piece at a time (QoeMergeReader)
 * ---------------------------------------------------------------------
 */

/* a merge read to the end: out's keys and counters, the pieces' events */
typedef struct MergeRead
{
	const char *err;
	QoeBuffer	out;
	QoeEvent   *ev;
	size_t		nev;
	size_t		total;			/* the reader's r.total */
	bool		has_ts;
	int64_t		first_ts;
	int64_t		last_ts;
	unsigned char *compact;		/* the pieces through QoeCompactWriter */
	size_t		clen;
} MergeRead;

/*
 * Read the merge of in[0 .. k-1] to the end, want events a piece,
 * checking each piece: all but the last hold want events or more (one for
 * want 0), each starts a key of its own and ends at the first key
 * boundary from its want-th event on.  Without an error the pieces are
 * also written with QoeCompactWriter (into qoe_compact_bound bytes).
 */
static void
merge_read(MergeRead *mr, const QoeMergeInput *in, int k, size_t want)
{
	QoeMergeReader r;
	QoeBuffer	piece;
	QoeCompactWriter w;
	size_t		cap = 0,
				npieces = 0,
				min = want > 0 ? want : 1,
				bound = 0;
	bool		short_seen = false;
	const char *err;

	memset(mr, 0, sizeof(*mr));
	qoe_buffer_init(&mr->out, &qoe_malloc_allocator);
	qoe_buffer_init(&piece, &qoe_malloc_allocator);
	err = qoe_merge_open(&r, in, k, &mr->out);
	if (err == NULL)
	{
		mr->total = r.total;
		bound = qoe_compact_bound(&mr->out, r.total);
		mr->compact = malloc(bound);
		if (!mr->compact)
			abort();
		qoe_compact_begin(&w, &mr->out, mr->compact);
		while (qoe_merge_next(&r, &piece, want, &err))
		{
			CHECK(err == NULL && piece.nevents > 0 && !short_seen);
			if (piece.nevents < min)
				short_seen = true;
			if (npieces > 0)
				CHECK(piece.events[0].key != mr->ev[mr->nev - 1].key);
			for (size_t i = min; i < piece.nevents; i++)
				CHECK(piece.events[i].key == piece.events[min - 1].key);
			if (mr->nev + piece.nevents > cap)
			{
				cap = 2 * (mr->nev + piece.nevents);
				mr->ev = realloc(mr->ev, cap * sizeof(QoeEvent));
				if (!mr->ev)
					abort();
			}
			memcpy(mr->ev + mr->nev, piece.events, piece.nevents * sizeof(QoeEvent));
			mr->nev += piece.nevents;
			npieces++;
			qoe_compact_put(&w, &piece);
		}
		if (err == NULL)
		{
			/* the end stays the end */
			CHECK(!qoe_merge_next(&r, &piece, want, &err) && err == NULL);
			mr->clen = qoe_compact_end(&w, &mr->out);
			CHECK(mr->clen <= bound);
		}
		mr->has_ts = r.has_ts;
		mr->first_ts = r.first_ts;
		mr->last_ts = r.last_ts;
	}
	mr->err = err;
	qoe_merge_close(&r);
	qoe_buffer_free(&piece);
}

static void
merge_read_free(MergeRead *mr)
{
	qoe_buffer_free(&mr->out);
	free(mr->ev);
	free(mr->compact);
}

/*
 * A merge read without an error gave exactly ref (canonical): its events,
 * keys and counters, its ts range, and its compact bytes.
 */
static void
check_merge_read(const MergeRead *mr, QoeBuffer *ref)
{
	int64_t		first = 0,
				last = 0;
	bool		has_ts = qoe_buffer_ts_range(ref, &first, &last);
	size_t		clen;
	unsigned char *c;

	CHECK(mr->err == NULL);
	CHECK(mr->nev == ref->nevents);
	CHECK(mr->nev == 0 || memcmp(mr->ev, ref->events, mr->nev * sizeof(QoeEvent)) == 0);
	CHECK(mr->out.nkeys == ref->nkeys);
	for (uint32_t k = 0; k < ref->nkeys; k++)
	{
		size_t		l1,
					l2;
		const char *k1 = qoe_buffer_key(&mr->out, k, &l1);
		const char *k2 = qoe_buffer_key(ref, k, &l2);

		CHECK(l1 == l2 && (l1 == 0 || memcmp(k1, k2, l1) == 0));
	}
	CHECK(mr->out.invalid_events == ref->invalid_events);
	CHECK(mr->out.unknown_events == ref->unknown_events);
	CHECK(mr->out.duplicate_events == ref->duplicate_events);
	CHECK(mr->has_ts == has_ts);
	if (has_ts)
		CHECK(mr->first_ts == first && mr->last_ts == last);
	c = malloc(qoe_buffer_compact_bound(ref));
	if (!c)
		abort();
	clen = qoe_buffer_compact_serialize(ref, c);
	CHECK(mr->clen == clen && memcmp(mr->compact, c, clen) == 0);
	free(c);
}

/*
 * Raw bytes opened with qoe_serial_open_unchecked and merged, alone and
 * with another input: refused as qoe_buffer_deserialize refuses them
 * (alone: with the same message), or read as exactly its buffer (merged
 * as qoe_buffer_merge_canonical_many merges it), replayed to the same
 * metrics.
 */
static void
fuzz_unchecked(const unsigned char *data, size_t size)
{
	QoeBuffer	d,
				keys,
				other;
	QoeSerialReader rd;
	const char *derr,
			   *oerr;
	size_t		want = size % 9;

	qoe_buffer_init(&d, &qoe_malloc_allocator);
	qoe_buffer_init(&keys, &qoe_malloc_allocator);
	derr = qoe_buffer_deserialize(&d, data, size, true);
	oerr = qoe_serial_open_unchecked(&rd, data, size, &keys);
	if (oerr != NULL)
		CHECK(derr != NULL);
	else
	{
		QoeMergeInput in[2];
		MergeRead	mr;

		/* another input: two keys and the NULL key */
		qoe_buffer_init(&other, &qoe_malloc_allocator);
		qoe_buffer_add(&other, false, 0, QOE_PLAY, false, 0, true, 0, NULL, 0);
		qoe_buffer_add(&other, false, 1000000, QOE_PAUSE, false, 1, true, 0, "a", 1);
		qoe_buffer_add(&other, false, 2000000, QOE_BITRATE, true, 0, false, 5e5, "b", 1);
		qoe_buffer_canonicalize(&other);

		in[0].buf = &keys;
		in[0].reader = &rd;
		merge_read(&mr, in, 1, want);
		if (mr.err != NULL)
		{
			if (derr == NULL || strcmp(mr.err, derr) != 0)
				fprintf(stderr, "merge: %s, deserialize: %s\n", mr.err,
						derr ? derr : "(null)");
			CHECK(derr != NULL && strcmp(mr.err, derr) == 0);
		}
		else
		{
			QoeMetrics	m1,
						m2;

			CHECK(derr == NULL);
			check_merge_read(&mr, &d);
			CHECK(replay_merged(in, 1, want, param_set(0), &m1, NULL) == NULL);
			qoe_replay(&d, param_set(0), &m2, NULL);
			check_same_metrics(&m2, &m1, true);
		}
		merge_read_free(&mr);

		for (int order = 0; order < 2; order++)
		{
			QoeMergeInput pair[2];

			in[1].buf = &other;
			in[1].reader = NULL;
			pair[0] = in[order];
			pair[1] = in[1 - order];
			merge_read(&mr, pair, 2, want + 1);
			if (mr.err != NULL)
				CHECK(derr != NULL);
			else
			{
				QoeBuffer	ref;
				const QoeBuffer *second = order == 0 ? &other : &d;

				CHECK(derr == NULL);
				qoe_buffer_init(&ref, &qoe_malloc_allocator);
				qoe_buffer_merge(&ref, order == 0 ? &d : &other);
				qoe_buffer_merge_canonical_many(&ref, &second, 1);
				check_merge_read(&mr, &ref);
				qoe_buffer_free(&ref);
			}
			merge_read_free(&mr);
		}
		qoe_buffer_free(&other);
	}
	qoe_buffer_free(&d);
	qoe_buffer_free(&keys);
}

/* ---------------------------------------------------------------------
 * Raw modes: the loaders must reject garbage cleanly
 * ---------------------------------------------------------------------
 */
static void
fuzz_loaded(QoeBuffer *b)
{
	QoeMetrics	ms[NPARAMS];

	qoe_buffer_canonicalize(b);
	replay_all(b, ms);
	check_round_trips(b, ms);
}

static void
fuzz_binary(const uint8_t *data, size_t size)
{
	for (int canon = 0; canon <= 1; canon++)
	{
		QoeBuffer	b;
		const char *err;

		qoe_buffer_init(&b, &qoe_malloc_allocator);
		err = qoe_buffer_deserialize(&b, data, size, canon);
		if (canon)
		{
			/* the piecewise reader accepts and refuses the same values */
			QoeBuffer	piece;
			QoeSerialReader r;
			const char *err2;
			size_t		n = 0;

			qoe_buffer_init(&piece, &qoe_malloc_allocator);
			err2 = qoe_serial_open(&r, data, size, &piece);
			CHECK((err == NULL) == (err2 == NULL));
			CHECK(err == NULL || strcmp(err, err2) == 0);
			while (err2 == NULL && qoe_serial_next(&r, &piece, 5))
			{
				CHECK(n + piece.nevents <= b.nevents);
				CHECK(memcmp(piece.events, b.events + n,
							 piece.nevents * sizeof(QoeEvent)) == 0);
				n += piece.nevents;
			}
			CHECK(err2 != NULL || n == b.nevents);
			qoe_buffer_free(&piece);
		}
		if (err == NULL)
			fuzz_loaded(&b);
		qoe_buffer_free(&b);
	}
}

static void
fuzz_compact(const uint8_t *data, size_t size)
{
	QoeBuffer	b;
	unsigned char *in = malloc(size + 4);

	if (!in)
		abort();
	memcpy(in, "QCB1", 4);
	if (size > 0)
		memcpy(in + 4, data, size);
	/* both readers, the same way as the other form */
	fuzz_binary(in, size + 4);
	/* opened unchecked and merged: refused, or read as the same buffer */
	fuzz_unchecked(in, size + 4);

	/* what the compact reader accepts is canonical by the 32-byte form's checks */
	qoe_buffer_init(&b, &qoe_malloc_allocator);
	if (qoe_buffer_deserialize(&b, in, size + 4, true) == NULL)
	{
		size_t		len;
		unsigned char *bin;
		QoeBuffer	c;

		CHECK(b.canonical);
		bin = serialize(&b, &len);
		qoe_buffer_init(&c, &qoe_malloc_allocator);
		CHECK(qoe_buffer_deserialize(&c, bin, len, true) == NULL);
		CHECK(c.nevents == b.nevents && c.nkeys == b.nkeys &&
			  (b.nevents == 0 ||
			   memcmp(c.events, b.events, b.nevents * sizeof(QoeEvent)) == 0));
		qoe_buffer_free(&c);
		free(bin);
	}
	qoe_buffer_free(&b);
	free(in);
}

static void
fuzz_text(const uint8_t *data, size_t size)
{
	QoeBuffer	b;
	char		errbuf[256];

	qoe_buffer_init(&b, &qoe_malloc_allocator);
	errbuf[0] = '\0';
	if (qoe_buffer_from_text(&b, (const char *) data, size, errbuf, sizeof(errbuf)))
		fuzz_loaded(&b);
	else
		CHECK(errbuf[0] != '\0' && memchr(errbuf, '\0', sizeof(errbuf)) != NULL);
	qoe_buffer_free(&b);
}

/* ---------------------------------------------------------------------
 * Row mode
 * ---------------------------------------------------------------------
 */
typedef struct Reader
{
	const uint8_t *p;
	size_t		n;
} Reader;

static unsigned
get8(Reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static unsigned
get16(Reader *r)
{
	unsigned	lo = get8(r);

	return lo | (get8(r) << 8);
}

static size_t
decode_rows(const uint8_t *data, size_t size, Row *rows)
{
	Reader		r = {data, size};
	size_t		n = 0;
	/* 2024-01-01 00:00:00 UTC in PostgreSQL microseconds */
	const int64_t t0 = (INT64_C(1704067200) - QOE_UNIX_EPOCH_OFFSET_SECS) * QOE_USECS_PER_SEC;
	int64_t		ts = t0;
	bool		prev_val_isnull = true;
	double		prev_val = 0;

	while (r.n >= 2 && n < MAXROWS)
	{
		unsigned	b0 = get8(&r),
					b1 = get8(&r);
		unsigned	k = b0 % 18;
		unsigned	step = b1 & 3,
					pm = (b1 >> 2) & 3,
					vm = (b1 >> 4) & 3;
		Row		   *row = &rows[n++];

		memset(row, 0, sizeof(*row));
		row->kind = k < QOE_NKINDS ? (int) k : QOE_KIND_UNKNOWN;
		row->key = (int) ((b0 / 18) % 8);
		if (row->key == 7)
			row->key = -1;

		/* timestamp */
		switch (step)
		{
			case 0:
				break;
			case 1:
				ts += (int64_t) get8(&r) * 100000;
				break;
			case 2:
				ts += (int64_t) get16(&r) * 1000;
				break;
			case 3:
				{
					unsigned	u = get8(&r);

					if (u < 128)
						ts += (INT64_C(25) + u) * 60 * QOE_USECS_PER_SEC;
					else
						ts -= (int64_t) (u - 128) * 500000;
				}
				break;
		}
		row->ts = ts;
		if ((b1 >> 6) == 3 && step != 3)
		{
			if (step == 0)
				row->ts_isnull = true;
			else
				row->ts = step == 1 ? QOE_TS_NOBEGIN : QOE_TS_NOEND;
		}

		/* position */
		switch (pm)
		{
			case 0:
				row->pos_isnull = true;
				break;
			case 1:
				row->pos = (double) (ts - t0) / 1e6 + (double) (int8_t) get8(&r) / 10.0;
				break;
			case 2:
				row->pos = get16(&r) / 16.0;
				break;
			case 3:
				{
					static const double bad[5] = {NAN, INFINITY, -INFINITY, -1.0, -0.0};

					row->pos = bad[get8(&r) % 5];
				}
				break;
		}

		/* value */
		switch (vm)
		{
			case 0:
				row->val_isnull = true;
				break;
			case 1:
				row->val = (get8(&r) + 1) * 100000.0;
				break;
			case 2:
				{
					static const double bad[4] = {0.0, -500000.0, NAN, INFINITY};

					row->val = bad[get8(&r) % 4];
				}
				break;
			case 3:
				row->val_isnull = prev_val_isnull;
				row->val = prev_val;
				break;
		}
		prev_val_isnull = row->val_isnull;
		prev_val = row->val;
	}
	return n;
}

static void
add_row(QoeBuffer *b, const Row *r)
{
	qoe_buffer_add(b, r->ts_isnull, r->ts, r->kind,
				   r->pos_isnull, r->pos, r->val_isnull, r->val,
				   r->key < 0 ? NULL : keys[r->key].s,
				   r->key < 0 ? 0 : keys[r->key].len);
}

/* SPEC 8.3: which rows count invalid / unknown, and which are kept */
static void
expected_counts(const Row *rows, size_t n, int64_t *invalid, int64_t *unknown,
				int64_t *kept)
{
	*invalid = *unknown = *kept = 0;
	for (size_t i = 0; i < n; i++)
	{
		const Row  *r = &rows[i];
		bool		bad_pos;

		if (r->ts_isnull || r->ts == QOE_TS_NOBEGIN || r->ts == QOE_TS_NOEND)
		{
			(*invalid)++;
			continue;
		}
		if (r->kind == QOE_KIND_UNKNOWN)
		{
			(*unknown)++;
			continue;
		}
		bad_pos = !r->pos_isnull && (!isfinite(r->pos) || r->pos < 0);
		if (r->kind == QOE_BITRATE &&
			(r->val_isnull || !isfinite(r->val) || r->val <= 0))
		{
			(*invalid)++;
			continue;
		}
		if (bad_pos)
			(*invalid)++;
		(*kept)++;
	}
}

/* QOE_FUZZ_DEBUG=1 build/fuzz/fuzz_replay crash-file: show what was decoded */
static bool
debug_enabled(void)
{
	static int	on = -1;

	if (on < 0)
		on = getenv("QOE_FUZZ_DEBUG") != NULL;
	return on;
}

static void
debug_dump(const Row *rows, size_t n, QoeBuffer *b, const QoeMetrics *m)
{
	size_t		len;
	char	   *text;

	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "row %zu: ts=%s%lld kind=%s pos=%s%g value=%s%g key=%d\n", i,
				rows[i].ts_isnull ? "NULL:" : "", (long long) rows[i].ts,
				rows[i].kind >= 0 ? qoe_kind_name(rows[i].kind) : "(unknown)",
				rows[i].pos_isnull ? "NULL:" : "", rows[i].pos,
				rows[i].val_isnull ? "NULL:" : "", rows[i].val, rows[i].key);
	text = qoe_buffer_to_text(b, &len);
	fprintf(stderr, "timeline: %s\n", text);
	b->alloc->free(b->alloc->ctx, text);
	for (int p = 0; p < NPARAMS; p++)
		fprintf(stderr, "params %d: sessions=%lld play=%g starting=%g paused=%g buffer=%g "
				"seek=%g ad=%g rebuffer=%g/%lld buffers=%lld seeks=%lld(+%lld,-%lld) "
				"content_watched=%g max_position=%g completions=%lld errors=%lld "
				"invalid=%lld unknown=%lld duplicate=%lld\n", p,
				(long long) m[p].sessions, m[p].play_time, m[p].starting_time,
				m[p].paused_time, m[p].buffer_time, m[p].seek_time, m[p].ad_time,
				m[p].rebuffer_time, (long long) m[p].rebuffer_count,
				(long long) m[p].buffer_count, (long long) m[p].seek_count,
				(long long) m[p].seek_forward, (long long) m[p].seek_backward,
				m[p].has_position ? m[p].content_watched : NAN,
				m[p].has_position ? m[p].max_position : NAN,
				(long long) m[p].completions, (long long) m[p].errors,
				(long long) m[p].invalid_events, (long long) m[p].unknown_events,
				(long long) m[p].duplicate_events);
}

static uint64_t
rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t	z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/*
 * M: the rows in 1-4 canonical parts (one row in eight in two of them),
 * each given as the buffer or as a value (compact or 32-byte form, opened
 * checked or unchecked), merged a piece at a time with a fuzz-chosen
 * piece size: exactly the buffer qoe_buffer_merge_canonical_many makes of
 * the parts (events, keys, counters, ts range, compact bytes), whose
 * events are A's; qoe_replay_merge gives qoe_replay's metrics of it.
 */
static void
check_merge_parts(const Row *rows, size_t n, uint64_t *seed, const QoeBuffer *a,
				  const QoeMetrics *ma)
{
	int			k = 1 + (int) (rng_next(seed) % 4);
	uint64_t	mode = rng_next(seed);
	size_t		want;
	QoeBuffer	parts[4],
				keys[4],
				ref;
	const QoeBuffer *rest[3];
	QoeSerialReader rd[4];
	QoeMergeInput in[4];
	unsigned char *bytes[4] = {NULL};
	MergeRead	mr;

	switch (mode % 4)
	{
		case 0:
			want = 0;
			break;
		case 1:
			want = 1;
			break;
		case 2:
			want = SIZE_MAX;
			break;
		default:
			want = 2 + (size_t) (mode >> 2) % 40;
			break;
	}
	for (int i = 0; i < k; i++)
		qoe_buffer_init(&parts[i], &qoe_malloc_allocator);
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	r = rng_next(seed);
		int			p = (int) (r % (uint64_t) k);

		add_row(&parts[p], &rows[i]);
		if (k > 1 && (r >> 8) % 8 == 0)
			add_row(&parts[(p + 1) % k], &rows[i]);
	}
	for (int i = 0; i < k; i++)
	{
		qoe_buffer_canonicalize(&parts[i]);
		if (i > 0)
			rest[i - 1] = &parts[i];
	}
	qoe_buffer_init(&ref, &qoe_malloc_allocator);
	qoe_buffer_merge(&ref, &parts[0]);
	qoe_buffer_merge_canonical_many(&ref, rest, k - 1);
	CHECK(ref.canonical && ref.nevents == a->nevents && ref.nkeys == a->nkeys &&
		  (a->nevents == 0 ||
		   memcmp(ref.events, a->events, a->nevents * sizeof(QoeEvent)) == 0));

	/* the inputs: forms chosen by the fuzz input */
	for (int i = 0; i < k; i++)
	{
		int			form = (int) ((mode >> (8 + 2 * i)) % 4);
		size_t		len;
		const char *err;

		qoe_buffer_init(&keys[i], &qoe_malloc_allocator);
		in[i].buf = &parts[i];
		in[i].reader = NULL;
		if (form == 0)
			continue;
		if (form == 3)
			bytes[i] = serialize(&parts[i], &len);
		else
		{
			bytes[i] = malloc(qoe_buffer_compact_bound(&parts[i]));
			if (!bytes[i])
				abort();
			len = qoe_buffer_compact_serialize(&parts[i], bytes[i]);
		}
		if (form == 2)
			err = qoe_serial_open_unchecked(&rd[i], bytes[i], len, &keys[i]);
		else
			err = qoe_serial_open(&rd[i], bytes[i], len, &keys[i]);
		CHECK(err == NULL);
		in[i].buf = &keys[i];
		in[i].reader = &rd[i];
	}

	merge_read(&mr, in, k, want);
	check_merge_read(&mr, &ref);
	merge_read_free(&mr);

	/* replayed a piece at a time: the same metrics as the merged buffer */
	for (int p = 0; p < NPARAMS; p++)
	{
		QoeMetrics	mref,
					mm;

		cur_param = p;
		qoe_replay(&ref, param_set(p), &mref, NULL);
		check_same_metrics(&ma[p], &mref, false);
		CHECK(replay_merged(in, k, want, param_set(p), &mm, NULL) == NULL);
		check_same_metrics(&mref, &mm, true);
	}
	cur_param = -1;

	for (int i = 0; i < k; i++)
	{
		qoe_buffer_free(&parts[i]);
		qoe_buffer_free(&keys[i]);
		free(bytes[i]);
	}
	qoe_buffer_free(&ref);
}

static void
fuzz_rows(const uint8_t *data, size_t size)
{
	Row		   *rows = malloc(MAXROWS * sizeof(Row));
	size_t	   *perm = malloc(2 * MAXROWS * sizeof(size_t));
	size_t		n;
	uint64_t	seed = 1469598103934665603ULL;
	int64_t		exp_invalid, exp_unknown, kept;
	QoeBuffer	a, b1, b2, d;
	QoeMetrics	ma[NPARAMS], mb[NPARAMS], md[NPARAMS];
	size_t		split, lena, lenb;
	unsigned char *bina, *binb;

	if (!rows || !perm)
		abort();
	n = decode_rows(data, size, rows);
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 1099511628211ULL;

	/* A: rows in input order */
	qoe_buffer_init(&a, &qoe_malloc_allocator);
	for (size_t i = 0; i < n; i++)
		add_row(&a, &rows[i]);
	expected_counts(rows, n, &exp_invalid, &exp_unknown, &kept);
	CHECK((int64_t) a.invalid_events == exp_invalid);
	CHECK((int64_t) a.unknown_events == exp_unknown);
	CHECK((int64_t) a.nevents == kept);
	replay_all(&a, ma);
	if (debug_enabled())
		debug_dump(rows, n, &a, ma);
	CHECK((int64_t) (a.nevents + a.duplicate_events) == kept);
	check_round_trips(&a, ma);

	/*
	 * L: the compact log of the same rows (the aggregate's transition state
	 * of small groups), decoded, and two logs of a split appended: the same
	 * canonical timeline and counters as A.
	 */
	{
		QoeLog	   *l1 = qoe_log_create(&qoe_malloc_allocator, 0);
		QoeLog	   *l2 = qoe_log_create(&qoe_malloc_allocator, 0);
		QoeLog	   *l1f;
		size_t		lsplit = n ? rng_next(&seed) % (n + 1) : 0;
		const char *lerr;
		QoeBuffer	e;
		size_t		lene;
		unsigned char *bine;
		uint64_t	lmode = rng_next(&seed);

		/* logs of many small blocks; the direct canonical decoding at any size */
		qoe_log_chunk_min = (lmode & 1) ? 64 + (size_t) (lmode >> 8) % 512 : LOG_CHUNK_DEFAULT;
		qoe_log_group_min = (lmode & 2) ? 0 : 4096;

		for (size_t i = 0; i < n; i++)
		{
			const Row  *r = &rows[i];

			if (i < lsplit)
				l1 = qoe_log_add(l1, &qoe_malloc_allocator, r->ts_isnull, r->ts, r->kind,
								 r->pos_isnull, r->pos, r->val_isnull, r->val,
								 r->key < 0 ? NULL : keys[r->key].s,
								 r->key < 0 ? 0 : keys[r->key].len);
			else
				l2 = qoe_log_add(l2, &qoe_malloc_allocator, r->ts_isnull, r->ts, r->kind,
								 r->pos_isnull, r->pos, r->val_isnull, r->val,
								 r->key < 0 ? NULL : keys[r->key].s,
								 r->key < 0 ? 0 : keys[r->key].len);
		}
		/*
		 * the combine function's copy (reset records between the logs),
		 * checked and re-encoded: the same as appending the records
		 */
		{
			QoeLog	   *lc = qoe_log_create(&qoe_malloc_allocator, 0);
			QoeLog	   *lv = qoe_log_create(&qoe_malloc_allocator, 0);
			QoeBuffer	c1,
						c2;

			QoeLog	   *lcf;

			lc = qoe_log_concat(lc, &qoe_malloc_allocator, l2);
			lc = qoe_log_concat(lc, &qoe_malloc_allocator, l1);
			lcf = log_flat(lc);
			CHECK(lcf->nbytes == qoe_log_bytes(lc) && lcf->nevents == lc->nevents);
			lv = qoe_log_append_records(lv, &qoe_malloc_allocator, lcf->data, lcf->nbytes, &lerr);
			CHECK(lerr == NULL && qoe_log_bytes(lv) == lcf->nbytes);
			qoe_log_free(lcf, &qoe_malloc_allocator);
			l1f = log_flat(l1);
			qoe_buffer_init(&c1, &qoe_malloc_allocator);
			qoe_buffer_init(&c2, &qoe_malloc_allocator);
			qoe_log_to_buffer(lv, &c1);
			qoe_log_to_buffer(l2, &c2);
			CHECK(qoe_log_records_to_buffer(l1f->data, l1f->nbytes, &c2) == NULL);
			CHECK(c1.nevents == c2.nevents && c1.invalid_events == c2.invalid_events &&
				  c1.unknown_events == c2.unknown_events);
			qoe_buffer_canonicalize(&c1);
			qoe_buffer_canonicalize(&c2);
			{
				size_t		l1n,
							l2n;
				unsigned char *s1 = serialize(&c1, &l1n);
				unsigned char *s2 = serialize(&c2, &l2n);

				CHECK(l1n == l2n && memcmp(s1, s2, l1n) == 0);
				free(s1);
				free(s2);
			}
			qoe_buffer_free(&c1);
			qoe_buffer_free(&c2);
			qoe_log_free(lc, &qoe_malloc_allocator);
			qoe_log_free(lv, &qoe_malloc_allocator);
		}

		/* the second half first: another order */
		l2 = qoe_log_append_records(l2, &qoe_malloc_allocator, l1f->data, l1f->nbytes, &lerr);
		CHECK(lerr == NULL);
		qoe_log_free(l1f, &qoe_malloc_allocator);
		qoe_buffer_init(&e, &qoe_malloc_allocator);
		qoe_log_to_buffer(l2, &e);
		CHECK((int64_t) e.invalid_events == exp_invalid);
		CHECK((int64_t) e.unknown_events == exp_unknown);
		CHECK((int64_t) e.nevents == kept);
		qoe_buffer_canonicalize(&e);
		bine = serialize(&e, &lene);
		bina = serialize(&a, &lena);
		CHECK(lena == lene && memcmp(bina, bine, lena) == 0);
		free(bine);
		qoe_buffer_free(&e);
		/* decoded straight into canonical order: the same */
		qoe_buffer_init(&e, &qoe_malloc_allocator);
		qoe_log_to_canonical(l2, &e);
		CHECK(e.canonical);
		bine = serialize(&e, &lene);
		CHECK(lena == lene && memcmp(bina, bine, lena) == 0);
		free(bina);
		free(bine);
		qoe_buffer_free(&e);
		qoe_log_free(l1, &qoe_malloc_allocator);
		qoe_log_free(l2, &qoe_malloc_allocator);
		qoe_log_chunk_min = LOG_CHUNK_DEFAULT;
		qoe_log_group_min = 4096;
	}

	/* B: shuffled, split in two partial states, merged (a parallel plan) */
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--)
	{
		size_t		j = rng_next(&seed) % i,
					t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	split = n ? rng_next(&seed) % (n + 1) : 0;
	qoe_buffer_init(&b1, &qoe_malloc_allocator);
	qoe_buffer_init(&b2, &qoe_malloc_allocator);
	for (size_t i = 0; i < n; i++)
		add_row(i < split ? &b1 : &b2, &rows[perm[i]]);
	switch (rng_next(&seed) % 3)
	{
		case 0:
			/* two canonical partial states, merged in one pass */
			qoe_buffer_canonicalize(&b1);
			qoe_buffer_canonicalize(&b2);
			qoe_buffer_merge_canonical(&b1, &b2);
			CHECK(b1.canonical);
			break;
		case 1:
			qoe_buffer_canonicalize(&b2);	/* merging a finalised state */
			/* FALLTHROUGH */
		default:
			qoe_buffer_merge(&b1, &b2);
			break;
	}
	qoe_buffer_free(&b2);
	replay_all(&b1, mb);
	for (int p = 0; p < NPARAMS; p++)
	{
		cur_param = p;
		check_same_metrics(&ma[p], &mb[p], true);
	}
	cur_param = -1;
	bina = serialize(&a, &lena);
	binb = serialize(&b1, &lenb);
	CHECK(lena == lenb && memcmp(bina, binb, lena) == 0);
	free(bina);
	free(binb);
	qoe_buffer_free(&b1);

	/* M: parts merged a piece at a time */
	check_merge_parts(rows, n, &seed, &a, ma);

	/* D: every row twice, shuffled (at-least-once delivery) */
	for (size_t i = 0; i < 2 * n; i++)
		perm[i] = i % (n ? n : 1);
	for (size_t i = 2 * n; i > 1; i--)
	{
		size_t		j = rng_next(&seed) % i,
					t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	qoe_buffer_init(&d, &qoe_malloc_allocator);
	for (size_t i = 0; i < 2 * n; i++)
		add_row(&d, &rows[perm[i]]);
	replay_all(&d, md);
	for (int p = 0; p < NPARAMS; p++)
	{
		cur_param = p;
		check_same_metrics(&ma[p], &md[p], false);
		CHECK(md[p].invalid_events == 2 * ma[p].invalid_events);
		CHECK(md[p].unknown_events == 2 * ma[p].unknown_events);
		CHECK(md[p].duplicate_events ==
			  2 * ma[p].duplicate_events + (int64_t) a.nevents);
	}
	cur_param = -1;
	CHECK(d.nevents == a.nevents);

	qoe_buffer_free(&d);
	qoe_buffer_free(&a);
	free(rows);
	free(perm);
}

/* arbitrary bytes as the records of a compact log: refused or loaded */
static void
fuzz_log(const uint8_t *data, size_t size)
{
	QoeBuffer	b;
	QoeLog	   *log = qoe_log_create(&qoe_malloc_allocator, 0);
	const char *err;
	const char *err2;

	qoe_buffer_init(&b, &qoe_malloc_allocator);
	err = qoe_log_records_to_buffer(data, size, &b);
	log = qoe_log_append_records(log, &qoe_malloc_allocator, data, size, &err2);
	CHECK((err == NULL) == (err2 == NULL));
	if (err == NULL)
	{
		QoeBuffer	c;
		size_t		lb,
					lc;
		unsigned char *sb,
				   *sc;

		/* appending to a non-empty log re-encodes: same rows */
		log = qoe_log_append_records(log, &qoe_malloc_allocator, data, size, &err2);
		CHECK(err2 == NULL);
		qoe_buffer_init(&c, &qoe_malloc_allocator);
		qoe_log_to_buffer(log, &c);
		CHECK(c.nevents == 2 * b.nevents);
		CHECK(c.invalid_events == 2 * b.invalid_events);
		CHECK(qoe_log_records_to_buffer(data, size, &b) == NULL);
		qoe_buffer_canonicalize(&b);
		qoe_buffer_canonicalize(&c);
		sb = serialize(&b, &lb);
		sc = serialize(&c, &lc);
		CHECK(lb == lc && memcmp(sb, sc, lb) == 0);
		free(sb);
		free(sc);
		qoe_buffer_free(&c);
	}
	qoe_buffer_free(&b);
	free(log);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 16)
	{
		case 0:
			fuzz_binary(data + 1, size - 1);
			break;
		case 1:
			fuzz_text(data + 1, size - 1);
			break;
		case 14:
			fuzz_compact(data + 1, size - 1);
			break;
		case 15:
			fuzz_log(data + 1, size - 1);
			break;
		default:
			fuzz_rows(data + 1, size - 1);
			break;
	}
	return 0;
}
