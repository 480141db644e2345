/*-------------------------------------------------------------------------
 *
 * qoe_windows.c
 *	  Per-time-bucket figures over many sessions (SPEC 6 qoe_windows, 8.20):
 *	  concurrent viewers (peak and time-weighted average), play time,
 *	  buffering, bitrate and sessions started.
 *
 * The sessions are reconstructed by qoe_replay(), which reports every raw
 * span between consecutive events of a session.  Play, buffering and bitrate
 * figures are split exactly at bucket edges.  Concurrency is a sweep over the
 * sorted start/end instants of the concurrent runs of every session; the
 * peak is read after all changes at one instant are applied.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_core.h"

#include <string.h>

#define OFFSET_US (QOE_UNIX_EPOCH_OFFSET_SECS * QOE_USECS_PER_SEC)
#define MAX_WIDTH_US INT64_C(1000000000000000000)	/* ~31700 years */

typedef struct Bucket
{
	double		conc_us;		/* sum over time of concurrent viewers, in us */
	int64_t		play_us;
	int64_t		buffer_us;
	int64_t		bitrate_weight_us;
	long double bitrate_weighted;	/* bitrate * seconds (cannot overflow) */
	double		min_bitrate;
	double		max_bitrate;
	int64_t		buffer_count;
	int64_t		sessions_started;
	int32_t		peak;
	bool		has_bitrate;
} Bucket;

typedef struct Change
{
	int64_t		ts;
	int32_t		delta;
} Change;

typedef struct Windows
{
	const QoeAllocator *a;
	int64_t		width;
	int64_t		start0;			/* PostgreSQL ts of the first bucket's start */
	int64_t		nbuckets;
	Bucket	   *bk;

	Change	   *chg;
	size_t		nchg;
	size_t		chgcap;

	/* the concurrent run being extended (merging touching spans) */
	bool		run_open;
	uint32_t	run_key;
	int32_t		run_session;
	int64_t		run_start;
	int64_t		run_end;
	uint64_t	tick;
} Windows;

/* index of the bucket holding ts (ts >= start0) */
static inline int64_t
bucket_of(const Windows *w, int64_t ts)
{
	return (int64_t) (((__int128) ts - w->start0) / w->width);
}

static inline int64_t
bucket_start(const Windows *w, int64_t i)
{
	return (int64_t) ((__int128) w->start0 + (__int128) i * w->width);
}

/* floor((ts + unix offset) / width) * width - unix offset, in 128 bits */
static __int128
aligned_start(int64_t ts, int64_t width)
{
	__int128	u = (__int128) ts + OFFSET_US;
	__int128	q = u / width;

	if (u % width < 0)
		q--;
	return q * width - OFFSET_US;
}

static void
push_change(Windows *w, int64_t ts, int32_t delta)
{
	if (w->nchg == w->chgcap)
	{
		size_t		newcap = w->chgcap ? w->chgcap * 2 : 256;

		w->chg = w->a->realloc(w->a->ctx, w->chg, w->chgcap * sizeof(Change),
							   newcap * sizeof(Change));
		w->chgcap = newcap;
	}
	w->chg[w->nchg].ts = ts;
	w->chg[w->nchg].delta = delta;
	w->nchg++;
}

static void
flush_run(Windows *w)
{
	if (w->run_open)
	{
		push_change(w, w->run_start, 1);
		push_change(w, w->run_end, -1);
	}
	w->run_open = false;
}

static void
on_span(void *arg, const QoeSpan *sp)
{
	Windows    *w = arg;
	int64_t		a = sp->started_at;
	int64_t		b = sp->ended_at;
	int64_t		i;
	int64_t		last;

	if (b <= a)
		return;

	if (sp->concurrent)
	{
		if (w->run_open && w->run_key == sp->key &&
			w->run_session == sp->session_no && w->run_end == a)
			w->run_end = b;
		else
		{
			flush_run(w);
			w->run_open = true;
			w->run_key = sp->key;
			w->run_session = sp->session_no;
			w->run_start = a;
			w->run_end = b;
		}
	}

	if (sp->state != QOE_ST_PLAYING && sp->state != QOE_ST_BUFFERING)
		return;

	last = bucket_of(w, b - 1);
	for (i = bucket_of(w, a); i <= last; i++)
	{
		int64_t		lo = bucket_start(w, i);
		int64_t		hi = lo + w->width;
		int64_t		ov;
		Bucket	   *bk = &w->bk[i];

		if (lo < a)
			lo = a;
		if (hi > b)
			hi = b;
		ov = hi - lo;
		if (sp->state == QOE_ST_BUFFERING)
			bk->buffer_us += ov;
		else
		{
			bk->play_us += ov;
			if (sp->has_bitrate)
			{
				bk->bitrate_weighted += (long double) sp->bitrate * ((double) ov / 1e6);
				bk->bitrate_weight_us += ov;
				if (!bk->has_bitrate || sp->bitrate < bk->min_bitrate)
					bk->min_bitrate = sp->bitrate;
				if (!bk->has_bitrate || sp->bitrate > bk->max_bitrate)
					bk->max_bitrate = sp->bitrate;
				bk->has_bitrate = true;
			}
		}
		if (++w->tick % QOE_CHECK_INTERRUPTS_EVERY == 0 && qoe_interrupt_hook)
			qoe_interrupt_hook();
	}
}

static void
on_episode(void *arg, const QoeEpisode *e)
{
	Windows    *w = arg;

	w->bk[bucket_of(w, e->started_at)].buffer_count++;
}

static void
on_session(void *arg, uint32_t key, int32_t session_no, int64_t first_ts, int64_t last_ts)
{
	Windows    *w = arg;

	(void) key;
	(void) session_no;
	(void) last_ts;
	w->bk[bucket_of(w, first_ts)].sessions_started++;
}

/* LSD radix sort of the change points by ts (8 passes of 8 bits) */
static void
sort_changes(Windows *w)
{
	size_t		n = w->nchg;
	Change	   *src = w->chg;
	Change	   *dst;
	Change	   *tmp;
	int			pass;
	size_t		i;
	bool		sorted = true;

	for (i = 1; i < n; i++)
		if (src[i].ts < src[i - 1].ts)
		{
			sorted = false;
			break;
		}
	if (sorted)
		return;

	dst = w->a->alloc(w->a->ctx, n * sizeof(Change));
	for (pass = 0; pass < 8; pass++)
	{
		size_t		count[257];
		int			shift = pass * 8;
		bool		trivial;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
		{
			uint64_t	k = (uint64_t) src[i].ts ^ (UINT64_C(1) << 63);

			count[((k >> shift) & 0xFF) + 1]++;
		}
		trivial = false;
		for (i = 0; i < 256; i++)
			if (count[i + 1] == n)
				trivial = true;
		if (trivial)
			continue;
		for (i = 1; i <= 256; i++)
			count[i] += count[i - 1];
		for (i = 0; i < n; i++)
		{
			uint64_t	k = (uint64_t) src[i].ts ^ (UINT64_C(1) << 63);

			dst[count[(k >> shift) & 0xFF]++] = src[i];
			if ((i & 0xFFFF) == 0 && qoe_interrupt_hook)
				qoe_interrupt_hook();
		}
		tmp = src;
		src = dst;
		dst = tmp;
	}
	if (src != w->chg)
	{
		memcpy(w->chg, src, n * sizeof(Change));
		w->a->free(w->a->ctx, src);
	}
	else
		w->a->free(w->a->ctx, dst);
}

/* add c viewers over [from, to) to the buckets; peaks of buckets entered */
static void
account(Windows *w, int64_t from, int64_t to, int32_t c)
{
	int64_t		i;
	int64_t		first;
	int64_t		last;

	if (to <= from)
		return;
	first = bucket_of(w, from);
	last = bucket_of(w, to - 1);
	for (i = first; i <= last; i++)
	{
		int64_t		lo = bucket_start(w, i);
		int64_t		hi = lo + w->width;

		if (i > first && c > w->bk[i].peak)
			w->bk[i].peak = c;	/* in force at the bucket's start */
		if (lo < from)
			lo = from;
		if (hi > to)
			hi = to;
		w->bk[i].conc_us += (double) c * (double) (hi - lo);
		if (++w->tick % QOE_CHECK_INTERRUPTS_EVERY == 0 && qoe_interrupt_hook)
			qoe_interrupt_hook();
	}
}

/* set up w for events from first_ts to last_ts; NULL or an error message */
static const char *
windows_begin(Windows *w, QoeSink *sink, const QoeAllocator *a,
			  int64_t width_us, int64_t first_ts, int64_t last_ts)
{
	__int128	s0;
	__int128	nb;

	s0 = aligned_start(first_ts, width_us);
	nb = (aligned_start(last_ts, width_us) - s0) / width_us + 1;
	if (nb > QOE_WINDOWS_MAX_BUCKETS)
		return QOE_WINDOWS_ERR_TOO_MANY;
	if (s0 < QOE_TS_MIN_VALID)
		return QOE_WINDOWS_ERR_RANGE;

	memset(w, 0, sizeof(*w));
	w->a = a;
	w->width = width_us;
	w->start0 = (int64_t) s0;
	w->nbuckets = (int64_t) nb;
	w->bk = a->alloc(a->ctx, (size_t) w->nbuckets * sizeof(Bucket));
	memset(w->bk, 0, (size_t) w->nbuckets * sizeof(Bucket));

	memset(sink, 0, sizeof(*sink));
	sink->arg = w;
	sink->span = on_span;
	sink->episode = on_episode;
	sink->session = on_session;
	return NULL;
}

/* the buckets and the concurrency changes */
static void
windows_free(Windows *w)
{
	if (w->chg)
		w->a->free(w->a->ctx, w->chg);
	w->a->free(w->a->ctx, w->bk);
}

/* the concurrency sweep, then one row per bucket */
static void
windows_end(Windows *w, void (*emit) (void *arg, const QoeWindowRow *row),
			void *arg)
{
	size_t		i;
	int64_t		k;
	int32_t		c;

	flush_run(w);
	sort_changes(w);
	c = 0;
	for (i = 0; i < w->nchg;)
	{
		int64_t		t = w->chg[i].ts;
		Bucket	   *bk;

		if (i > 0)
			account(w, w->chg[i - 1].ts, t, c);
		while (i < w->nchg && w->chg[i].ts == t)
			c += w->chg[i++].delta;
		bk = &w->bk[bucket_of(w, t)];
		if (c > bk->peak)
			bk->peak = c;
	}

	for (k = 0; k < w->nbuckets; k++)
	{
		Bucket	   *bk = &w->bk[k];
		QoeWindowRow row;

		row.bucket_start = bucket_start(w, k);
		row.concurrent_peak = bk->peak;
		row.concurrent_avg = bk->conc_us / (double) w->width;
		row.play_time = (double) bk->play_us / 1e6;
		row.buffer_count = bk->buffer_count;
		row.buffer_time = (double) bk->buffer_us / 1e6;
		row.has_bitrate = bk->bitrate_weight_us > 0;
		row.avg_bitrate = row.has_bitrate ?
			(double) (bk->bitrate_weighted / ((double) bk->bitrate_weight_us / 1e6)) : 0;
		row.min_bitrate = bk->min_bitrate;
		row.max_bitrate = bk->max_bitrate;
		row.sessions_started = bk->sessions_started;
		emit(arg, &row);
		if ((k & 4095) == 0 && qoe_interrupt_hook)
			qoe_interrupt_hook();
	}

	windows_free(w);
}

const char *
qoe_windows(QoeBuffer *b, const QoeParams *p, int64_t width_us,
			void (*emit) (void *arg, const QoeWindowRow *row), void *arg)
{
	Windows		w;
	QoeSink		sink;
	QoeMetrics	m;
	int64_t		first_ts;
	int64_t		last_ts;
	const char *err;

	if (width_us <= 0 || width_us > MAX_WIDTH_US)
		return "bucket width out of range";

	qoe_buffer_canonicalize(b);
	if (!qoe_buffer_ts_range(b, &first_ts, &last_ts))
		return NULL;
	err = windows_begin(&w, &sink, b->alloc, width_us, first_ts, last_ts);
	if (err != NULL)
		return err;
	qoe_replay(b, p, &m, &sink);
	windows_end(&w, emit, arg);
	return NULL;
}

/*
 * The same over a value read in pieces: sessions are replayed a piece at a
 * time (whole session keys, in key order, as qoe_replay takes them), so the
 * figures are those of qoe_windows over the whole buffer, bit for bit, and
 * only one piece of events is ever in memory.
 */
const char *
qoe_windows_serial(QoeSerialReader *r, QoeBuffer *piece, size_t piece_events,
				   const QoeParams *p, int64_t width_us,
				   void (*emit) (void *arg, const QoeWindowRow *row), void *arg)
{
	Windows		w;
	QoeSink		sink;
	QoeMetrics	m;
	const char *err;

	if (width_us <= 0 || width_us > MAX_WIDTH_US)
		return "bucket width out of range";
	if (r->nevents == 0)
		return NULL;
	err = windows_begin(&w, &sink, piece->alloc, width_us, r->first_ts, r->last_ts);
	if (err != NULL)
		return err;
	while (qoe_serial_next(r, piece, piece_events))
	{
		size_t		i;

		/*
		 * The buckets span the range qoe_serial_open found; a piece decodes
		 * the same events again, but an event outside that range would
		 * index past the buckets, so it is refused rather than trusted.
		 */
		for (i = 0; i < piece->nevents; i++)
			if (piece->events[i].ts < r->first_ts || piece->events[i].ts > r->last_ts)
			{
				windows_free(&w);
				return QOE_WINDOWS_ERR_READ;
			}
		qoe_replay(piece, p, &m, &sink);
	}
	windows_end(&w, emit, arg);
	return NULL;
}
