/*-------------------------------------------------------------------------
 *
 * qoe_replay.c
 *	  Session reconstruction: splitting into sessions, the state machine,
 *	  crediting time and every metric of SPEC sections 2-5 and 8.
 *
 * This is THE place where watch time (play_time), buffering, startup,
 * seeks, coverage and failures are computed.  It reads a canonical event
 * buffer (sorted by session key, ts, kind rank, position, value, without
 * duplicates) and walks it once.
 *
 * Times are accumulated as integer microseconds, so sums are exact and do
 * not depend on summation order; they are turned into seconds at the end.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const QoeParams qoe_default_params = {
	INT64_C(1800000000),		/* 30 min */
	INT64_C(1000000),			/* 1 s */
	2.0
};

/* base states of SPEC 3 */
typedef enum Base
{
	BASE_IDLE = 0,
	BASE_STARTING,
	BASE_PLAYING,
	BASE_PAUSED,
	BASE_ENDED
} Base;

static const char *const cause_names[] = {"startup", "seek", "stall"};
static const char *const state_names[] = {
	"starting", "playing", "paused", "buffering", "seeking", "ad"
};

const char *
qoe_cause_name(int cause)
{
	if (cause < 0 || cause > QOE_CAUSE_STALL)
		return NULL;
	return cause_names[cause];
}

const char *
qoe_state_name(int state)
{
	if (state < 0 || state > QOE_ST_AD)
		return NULL;
	return state_names[state];
}

/* A covered range of content, [from, to]. */
typedef struct Range
{
	double		from;
	double		to;
} Range;

/* Group-level accumulators (times in microseconds). */
typedef __int128 acc_t;			/* cannot overflow for any timestamps */

typedef struct Totals
{
	acc_t		play_us;
	acc_t		starting_us;
	acc_t		paused_us;
	acc_t		buffer_us;
	acc_t		seek_us;
	acc_t		ad_us;
	acc_t		rebuffer_us;
	acc_t		startup_us;
} Totals;

/* Replay context: everything that lives across sessions. */
typedef struct Replay
{
	QoeBuffer  *b;
	const QoeParams *p;
	QoeMetrics *m;
	const QoeSink *sink;
	Totals		t;

	/* covered ranges of the current session */
	Range	   *ranges;
	size_t		nranges;
	size_t		rangecap;

	/* pending (not yet reported) interval, for merging */
	bool		have_pending;
	QoeInterval pending;

	uint64_t	tick;			/* interrupt counter */
} Replay;

/* State of one session (SPEC 3); reset at every session start. */
typedef struct Session
{
	uint32_t	key;
	int32_t		session_no;
	bool		uses_playing;

	Base		base;
	bool		buffering;
	bool		seeking;
	bool		ad;
	bool		ended_by_ended; /* base is ended because of an ended event */

	/* position in force */
	bool		has_pos;
	double		pos;

	/* positions ever known or reached */
	bool		any_pos;
	double		max_pos;

	/* bitrate in force */
	bool		has_bitrate;
	double		bitrate;

	/* intent and startup */
	bool		has_intent;
	int64_t		intent_ts;
	bool		played;			/* credited play time with dt > 0 */

	/* seeks */
	bool		seek_before_known;
	double		seek_before;
	bool		has_seek_end;
	int64_t		last_seek_end;

	/* the open buffering episode */
	int64_t		ep_start;
	int			ep_cause;
	bool		ep_has_pos;
	double		ep_pos;
	bool		has_close;
	int64_t		last_close;		/* ts at which an episode last closed */

	/* failures */
	bool		seen_error;
	bool		error_after_play;
} Session;

static inline void
tick(Replay *r)
{
	if (++r->tick % QOE_CHECK_INTERRUPTS_EVERY == 0 && qoe_interrupt_hook)
		qoe_interrupt_hook();
}

static inline double
acc_to_s(acc_t us)
{
	return (double) us / 1e6;
}

/*
 * later - earlier for earlier <= later.  PostgreSQL timestamps span more
 * than INT64_MAX microseconds, so the difference is taken unsigned.
 */
static inline uint64_t
tdiff(int64_t later, int64_t earlier)
{
	return (uint64_t) later - (uint64_t) earlier;
}

static inline double
tdiff_s(int64_t later, int64_t earlier)
{
	return (double) tdiff(later, earlier) / 1e6;
}

/* ---------------------------------------------------------------------
 * Reporting helpers
 * ---------------------------------------------------------------------
 */
static void
flush_interval(Replay *r)
{
	if (r->have_pending && r->sink && r->sink->interval)
		r->sink->interval(r->sink->arg, &r->pending);
	r->have_pending = false;
}

/* Report a credited interval; zero-length ones dropped, touching ones merged. */
static void
add_interval(Replay *r, const Session *s, int state, int64_t t0, int64_t t1,
			 bool has_p0, double p0, bool has_p1, double p1)
{
	QoeInterval *pi = &r->pending;

	if (t1 <= t0 || r->sink == NULL || r->sink->interval == NULL)
		return;
	if (r->have_pending && pi->state == state && pi->ended_at == t0 &&
		pi->key == s->key && pi->session_no == s->session_no)
	{
		pi->ended_at = t1;
		/* other states end where they started (SPEC 8.18) */
		if (state == QOE_ST_PLAYING)
		{
			pi->has_end_position = has_p1;
			pi->end_position = has_p1 ? p1 : 0;
		}
		return;
	}
	flush_interval(r);
	pi->key = s->key;
	pi->session_no = s->session_no;
	pi->state = state;
	pi->started_at = t0;
	pi->ended_at = t1;
	pi->has_start_position = has_p0;
	pi->start_position = has_p0 ? p0 : 0;
	pi->has_end_position = has_p1;
	pi->end_position = has_p1 ? p1 : 0;
	r->have_pending = true;
}

static void
add_range(Replay *r, double from, double to)
{
	if (r->nranges == r->rangecap)
	{
		size_t		newcap = r->rangecap ? r->rangecap * 2 : 16;

		r->ranges = r->b->alloc->realloc(r->b->alloc->ctx, r->ranges,
										 r->rangecap * sizeof(Range),
										 newcap * sizeof(Range));
		r->rangecap = newcap;
	}
	r->ranges[r->nranges].from = from;
	r->ranges[r->nranges].to = to;
	r->nranges++;
}

static int
range_cmp(const void *a, const void *b)
{
	const Range *x = a;
	const Range *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return 0;
}

/*
 * Merge the session's covered ranges (touching ranges merge), report the
 * non-empty ones and return the length of their union.
 */
static double
merge_ranges(Replay *r, const Session *s)
{
	size_t		i;
	bool		sorted = true;
	double		total = 0;
	Range		cur;

	if (r->nranges == 0)
		return 0;
	for (i = 1; i < r->nranges && sorted; i++)
		if (range_cmp(&r->ranges[i - 1], &r->ranges[i]) > 0)
			sorted = false;
	if (!sorted)
		qsort(r->ranges, r->nranges, sizeof(Range), range_cmp);

	cur = r->ranges[0];
	for (i = 1; i <= r->nranges; i++)
	{
		if (i < r->nranges && r->ranges[i].from <= cur.to)
		{
			if (r->ranges[i].to > cur.to)
				cur.to = r->ranges[i].to;
			continue;
		}
		if (cur.to > cur.from)
		{
			total += cur.to - cur.from;
			if (r->sink && r->sink->range)
			{
				QoeRange	out;

				out.key = s->key;
				out.session_no = s->session_no;
				out.from_position = cur.from;
				out.to_position = cur.to;
				r->sink->range(r->sink->arg, &out);
			}
		}
		if (i < r->nranges)
			cur = r->ranges[i];
		if ((i & 4095) == 0)
			tick(r);
	}
	r->nranges = 0;
	return total;
}

/* ---------------------------------------------------------------------
 * State machine helpers
 * ---------------------------------------------------------------------
 */
static void
note_position(Session *s, double p)
{
	if (!s->any_pos || p > s->max_pos)
		s->max_pos = p;
	s->any_pos = true;
}

static void
close_buffering(Replay *r, Session *s, int64_t ts, bool closed)
{
	if (!s->buffering)
		return;
	s->buffering = false;
	s->has_close = true;
	s->last_close = ts;
	if (s->ep_cause == QOE_CAUSE_STALL)
		r->t.rebuffer_us += tdiff(ts, s->ep_start);
	if (r->sink && r->sink->episode)
	{
		QoeEpisode	e;

		e.key = s->key;
		e.session_no = s->session_no;
		e.started_at = s->ep_start;
		e.ended_at = ts;
		e.cause = s->ep_cause;
		e.has_position = s->ep_has_pos;
		e.position = s->ep_has_pos ? s->ep_pos : 0;
		e.closed = closed;
		r->sink->episode(r->sink->arg, &e);
	}
}

static void
close_seeking(Session *s, int64_t ts)
{
	if (!s->seeking)
		return;
	s->seeking = false;
	s->has_seek_end = true;
	s->last_seek_end = ts;		/* seek grace starts (SPEC 8.7) */
}

static void
count_direction(QoeMetrics *m, bool before_known, double before,
				const QoeEvent *e)
{
	if (!before_known || !(e->flags & QOE_EV_HAS_POS))
		return;
	if (e->position > before)
		m->seek_forward++;
	else if (e->position < before)
		m->seek_backward++;
}

static void
mark_intent(Session *s, int64_t ts)
{
	if (!s->has_intent)
	{
		s->has_intent = true;
		s->intent_ts = ts;
	}
}

/*
 * Credit the interval between the previous event (at t0) and e (at t1) to
 * the state in force (SPEC 4).
 */
static void
credit(Replay *r, Session *s, int64_t t0, const QoeEvent *e)
{
	int64_t		t1 = e->ts;
	uint64_t	dt_us = tdiff(t1, t0);
	QoeMetrics *m = r->m;

	if (r->sink && r->sink->span)
	{
		QoeSpan		sp;

		sp.key = s->key;
		sp.session_no = s->session_no;
		sp.started_at = t0;
		sp.ended_at = t1;
		sp.concurrent = (s->base == BASE_STARTING || s->base == BASE_PLAYING);
		sp.state = s->buffering ? QOE_ST_BUFFERING :
			s->seeking ? QOE_ST_SEEKING :
			s->ad ? QOE_ST_AD :
			s->base == BASE_PLAYING ? QOE_ST_PLAYING :
			s->base == BASE_STARTING ? QOE_ST_STARTING :
			s->base == BASE_PAUSED ? QOE_ST_PAUSED : -1;
		sp.has_bitrate = s->has_bitrate;
		sp.bitrate = s->has_bitrate ? s->bitrate : 0;
		r->sink->span(r->sink->arg, &sp);
	}

	if (s->buffering)
	{
		r->t.buffer_us += dt_us;
		add_interval(r, s, QOE_ST_BUFFERING, t0, t1, s->has_pos, s->pos, s->has_pos, s->pos);
	}
	else if (s->seeking)
	{
		r->t.seek_us += dt_us;
		add_interval(r, s, QOE_ST_SEEKING, t0, t1, s->has_pos, s->pos, s->has_pos, s->pos);
	}
	else if (s->ad)
	{
		r->t.ad_us += dt_us;
		add_interval(r, s, QOE_ST_AD, t0, t1, s->has_pos, s->pos, s->has_pos, s->pos);
	}
	else if (s->base == BASE_PLAYING)
	{
		double		dt = tdiff_s(t1, t0);
		bool		has_p1 = (e->flags & QOE_EV_HAS_POS) &&
			e->kind != QOE_SEEK && e->kind != QOE_SEEK_END;	/* SPEC 8.8 */
		double		p0 = s->pos;
		double		p1 = e->position;
		bool		continuous = false;
		bool		has_end;
		double		end = 0;

		r->t.play_us += dt_us;
		if (dt_us > 0)
		{
			if (!s->played)
			{
				s->played = true;
				if (s->has_intent)
				{
					r->t.startup_us += tdiff(t0, s->intent_ts);
					m->startup_count++;
				}
			}
			if (s->has_bitrate)
			{
				m->bitrate_weighted += (long double) s->bitrate * dt;
				m->bitrate_weight += dt;
				if (!m->has_bitrate || s->bitrate < m->min_bitrate)
					m->min_bitrate = s->bitrate;
				if (!m->has_bitrate || s->bitrate > m->max_bitrate)
					m->max_bitrate = s->bitrate;
				m->has_bitrate = true;
			}
		}

		if (s->has_pos && has_p1)
		{
			double		dp = p1 - p0;
			double		tol = r->p->jump_tolerance + 0.01 * dt;

			if (dp > dt + tol)
			{
				/* unreported forward skip */
				m->seek_count++;
				m->seek_forward++;
				s->has_seek_end = true;
				s->last_seek_end = t1;
			}
			else if (dp < -tol)
			{
				/* unreported backward skip */
				m->seek_count++;
				m->seek_backward++;
				s->has_seek_end = true;
				s->last_seek_end = t1;
			}
			else
				continuous = true;
		}

		if (s->has_pos)
		{
			if (continuous)
			{
				if (p1 >= p0)
					add_range(r, p0, p1);
				else
					add_range(r, p1, p0);
				note_position(s, p1 >= p0 ? p1 : p0);
				end = p1;
			}
			else
			{
				add_range(r, p0, p0 + dt);
				note_position(s, p0 + dt);
				end = p0 + dt;
			}
			has_end = true;
		}
		else
			has_end = false;

		add_interval(r, s, QOE_ST_PLAYING, t0, t1, s->has_pos, p0, has_end, end);

		/* the position in force advances with play time */
		if (s->has_pos)
			s->pos = p0 + dt;
	}
	else if (s->base == BASE_STARTING)
	{
		r->t.starting_us += dt_us;
		add_interval(r, s, QOE_ST_STARTING, t0, t1, s->has_pos, s->pos, s->has_pos, s->pos);
	}
	else if (s->base == BASE_PAUSED)
	{
		r->t.paused_us += dt_us;
		add_interval(r, s, QOE_ST_PAUSED, t0, t1, s->has_pos, s->pos, s->has_pos, s->pos);
	}
	/* idle and ended: nothing */
}

/*
 * Gap exception (SPEC 4): would the interval up to e be continuous playback
 * without heartbeats?
 */
static bool
corroborated_gap(const Replay *r, const Session *s, int64_t t0, const QoeEvent *e)
{
	double		dt;
	double		dp;
	double		tol;

	if (s->buffering || s->seeking || s->ad || s->base != BASE_PLAYING)
		return false;
	if (!s->has_pos || !(e->flags & QOE_EV_HAS_POS) ||
		e->kind == QOE_SEEK || e->kind == QOE_SEEK_END)
		return false;
	dt = tdiff_s(e->ts, t0);
	dp = e->position - s->pos;
	tol = r->p->jump_tolerance + 0.01 * dt;
	return fabs(dp - dt) <= tol;
}

/* Apply one event to the session (SPEC 3). */
static void
apply(Replay *r, Session *s, const QoeEvent *e)
{
	QoeMetrics *m = r->m;
	int64_t		ts = e->ts;
	bool		own = (e->flags & QOE_EV_HAS_POS) != 0;
	bool		before_known = s->has_pos;
	double		before = s->pos;

	if (own)
	{
		note_position(s, e->position);
		s->has_pos = true;
		s->pos = e->position;
	}

	switch ((QoeKind) e->kind)
	{
		case QOE_REQUEST:
			if (s->base == BASE_IDLE || s->base == BASE_ENDED)
			{
				s->base = BASE_STARTING;
				s->ended_by_ended = false;
			}
			mark_intent(s, ts);
			break;

		case QOE_PLAY:
			close_buffering(r, s, ts, true);
			close_seeking(s, ts);
			if (s->base == BASE_ENDED && s->ended_by_ended)
				m->replays++;
			if (s->base != BASE_PLAYING)
			{
				if (s->uses_playing && (!s->played || s->base == BASE_ENDED))
					s->base = BASE_STARTING;
				else
					s->base = BASE_PLAYING;
			}
			s->ended_by_ended = false;
			mark_intent(s, ts);
			break;

		case QOE_PLAYING:
			close_buffering(r, s, ts, true);
			close_seeking(s, ts);
			s->base = BASE_PLAYING;
			s->ended_by_ended = false;
			mark_intent(s, ts);
			break;

		case QOE_PAUSE:
			close_buffering(r, s, ts, true);
			close_seeking(s, ts);
			if (s->base == BASE_PLAYING)
			{
				m->pause_count++;
				s->base = BASE_PAUSED;
			}
			else if (s->base == BASE_STARTING)
				s->base = BASE_PAUSED;
			break;

		case QOE_SEEK_START:
			if (!s->seeking)
			{
				s->seeking = true;
				m->seek_count++;
				s->seek_before_known = s->has_pos;
				s->seek_before = s->pos;
			}
			break;

		case QOE_SEEK_END:
			if (s->seeking)
				count_direction(m, s->seek_before_known, s->seek_before, e);
			else
			{
				/* an unpaired seek_end is an instantaneous seek */
				m->seek_count++;
				count_direction(m, before_known, before, e);
			}
			s->seeking = false;
			s->has_seek_end = true;
			s->last_seek_end = ts;
			break;

		case QOE_SEEK:
			m->seek_count++;
			count_direction(m, before_known, before, e);
			s->has_seek_end = true;
			s->last_seek_end = ts;
			break;

		case QOE_BUFFER_START:
			if (!s->buffering)
			{
				s->buffering = true;
				s->ep_start = ts;
				s->ep_has_pos = s->has_pos;
				s->ep_pos = s->pos;
				if (s->seeking ||
					(s->has_seek_end &&
					 tdiff(ts, s->last_seek_end) < (uint64_t) r->p->seek_grace_us))
					s->ep_cause = QOE_CAUSE_SEEK;
				else if (!s->played)
					s->ep_cause = QOE_CAUSE_STARTUP;
				else
				{
					s->ep_cause = QOE_CAUSE_STALL;
					m->rebuffer_count++;
				}
				m->buffer_count++;
			}
			break;

		case QOE_BUFFER_END:
			if (s->buffering)
				close_buffering(r, s, ts, true);
			else if (!(s->has_close && s->last_close == ts))
				m->unmatched_buffer_ends++;
			break;

		case QOE_HEARTBEAT:
			if (s->buffering && own && s->ep_has_pos && e->position != s->ep_pos)
				close_buffering(r, s, ts, true);
			break;

		case QOE_BITRATE:
			if (s->has_bitrate && e->value != s->bitrate)
			{
				if (e->value > s->bitrate)
					m->upshifts++;
				else
					m->downshifts++;
			}
			s->has_bitrate = true;
			s->bitrate = e->value;
			break;

		case QOE_AD_START:
			s->ad = true;
			m->ad_count++;
			break;

		case QOE_AD_END:
			s->ad = false;
			break;

		case QOE_ENDED:
			close_buffering(r, s, ts, true);
			close_seeking(s, ts);
			s->ad = false;
			s->base = BASE_ENDED;
			s->ended_by_ended = true;
			m->completions++;
			break;

		case QOE_ERROR:
			close_buffering(r, s, ts, true);
			close_seeking(s, ts);
			s->ad = false;
			s->base = BASE_ENDED;
			s->ended_by_ended = false;
			m->errors++;
			s->seen_error = true;
			if (s->played)
				s->error_after_play = true;
			break;

		case QOE_EXIT:
			close_buffering(r, s, ts, false);
			close_seeking(s, ts);
			s->ad = false;
			break;

		case QOE_NKINDS:
			break;
	}
}

/*
 * Does the session starting at events[from] use playing events?  A playing
 * event must occur before the first raw gap, the first exit or the end of
 * the key's events (SPEC 3).
 */
static bool
session_uses_playing(const Replay *r, size_t from, size_t end)
{
	const QoeEvent *ev = r->b->events;
	size_t		j;

	for (j = from; j < end; j++)
	{
		if (ev[j].kind == QOE_PLAYING)
			return true;
		if (ev[j].kind == QOE_EXIT)
			return false;
		if (j + 1 < end &&
			tdiff(ev[j + 1].ts, ev[j].ts) > (uint64_t) r->p->session_timeout_us)
			return false;
	}
	return false;
}

/*
 * Replay one session starting at events[from] (events of one key end at
 * "end").  Returns the index of the first event after the session.
 */
static size_t
replay_session(Replay *r, size_t from, size_t end, int32_t session_no)
{
	const QoeEvent *ev = r->b->events;
	QoeMetrics *m = r->m;
	Session		s;
	size_t		j;
	size_t		next;

	memset(&s, 0, sizeof(s));
	s.key = ev[from].key;
	s.session_no = session_no;
	s.base = BASE_IDLE;
	s.uses_playing = session_uses_playing(r, from, end);

	apply(r, &s, &ev[from]);
	next = from + 1;
	if (ev[from].kind != QOE_EXIT)
	{
		for (j = from + 1; j < end; j++)
		{
			int64_t		t0 = ev[j - 1].ts;

			tick(r);
			if (tdiff(ev[j].ts, t0) > (uint64_t) r->p->session_timeout_us &&
				!corroborated_gap(r, &s, t0, &ev[j]))
				break;			/* gap: the session ends at ev[j-1] */
			credit(r, &s, t0, &ev[j]);
			apply(r, &s, &ev[j]);
			if (ev[j].kind == QOE_EXIT)
			{
				j++;
				break;
			}
		}
		next = j;
	}

	/* the session ends at its last event */
	close_buffering(r, &s, ev[next - 1].ts, false);
	if (r->sink && r->sink->session)
		r->sink->session(r->sink->arg, s.key, s.session_no,
						 ev[from].ts, ev[next - 1].ts);

	m->sessions++;
	if (s.played)
	{
		if (s.error_after_play)
			m->playback_failures++;
	}
	else if (s.seen_error)
		m->start_failures++;
	else if (s.has_intent)
		m->exits_before_start++;

	if (s.any_pos)
	{
		double		watched = merge_ranges(r, &s);

		if (!m->has_position)
		{
			m->has_position = true;
			m->max_position = s.max_pos;
			m->content_watched = watched;
		}
		else
		{
			if (s.max_pos > m->max_position)
				m->max_position = s.max_pos;
			m->content_watched += watched;
		}
	}
	else
		r->nranges = 0;
	flush_interval(r);
	return next;
}

bool
qoe_buffer_ts_range(const QoeBuffer *b, int64_t *first, int64_t *last)
{
	size_t		i;

	if (b->nevents == 0)
		return false;
	*first = *last = b->events[0].ts;
	for (i = 1; i < b->nevents; i++)
	{
		if (b->events[i].ts < *first)
			*first = b->events[i].ts;
		if (b->events[i].ts > *last)
			*last = b->events[i].ts;
	}
	return true;
}

static void
replay_begin(Replay *r, const QoeParams *p, QoeMetrics *m, const QoeSink *sink)
{
	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->m = m;
	r->sink = sink;
}

/* the sessions of b's events: canonical, whole session keys */
static void
replay_events(Replay *r, QoeBuffer *b)
{
	const QoeEvent *ev = b->events;
	size_t		i = 0;

	r->b = b;
	while (i < b->nevents)
	{
		size_t		end = i;
		int32_t		session_no = 0;

		/* the events of one session key */
		while (end < b->nevents && ev[end].key == ev[i].key)
			end++;
		while (i < end)
			i = replay_session(r, i, end, ++session_no);
	}
}

/* the group's totals into m; the counters are those of totals */
static void
replay_end(Replay *r, const QoeBuffer *totals, const QoeAllocator *a)
{
	QoeMetrics *m = r->m;

	m->play_time = acc_to_s(r->t.play_us);
	m->starting_time = acc_to_s(r->t.starting_us);
	m->paused_time = acc_to_s(r->t.paused_us);
	m->buffer_time = acc_to_s(r->t.buffer_us);
	m->seek_time = acc_to_s(r->t.seek_us);
	m->ad_time = acc_to_s(r->t.ad_us);
	m->rebuffer_time = acc_to_s(r->t.rebuffer_us);
	m->startup_time_sum = acc_to_s(r->t.startup_us);

	m->duplicate_events = (int64_t) totals->duplicate_events;
	m->unknown_events = (int64_t) totals->unknown_events;
	m->invalid_events = (int64_t) totals->invalid_events;

	if (r->ranges)
		a->free(a->ctx, r->ranges);
}

void
qoe_replay(QoeBuffer *b, const QoeParams *p, QoeMetrics *m, const QoeSink *sink)
{
	Replay		r;

	qoe_buffer_canonicalize(b);
	replay_begin(&r, p, m, sink);
	replay_events(&r, b);
	m->has_ts = qoe_buffer_ts_range(b, &m->first_ts, &m->last_ts);
	replay_end(&r, b, b->alloc);
}

/*
 * The same over merged inputs read a piece at a time: the pieces follow one
 * another in canonical order and hold whole session keys, so every session
 * is replayed as over the merged buffer, in the same order, and the
 * accumulators (kept across pieces) give the same figures bit for bit.
 */
const char *
qoe_replay_merge(QoeMergeReader *mr, QoeBuffer *piece, size_t piece_events,
				 const QoeParams *p, QoeMetrics *m, const QoeSink *sink)
{
	Replay		r;
	const char *err = NULL;

	replay_begin(&r, p, m, sink);
	while (qoe_merge_next(mr, piece, piece_events, &err))
		replay_events(&r, piece);
	m->has_ts = mr->has_ts;
	m->first_ts = mr->first_ts;
	m->last_ts = mr->last_ts;
	replay_end(&r, mr->out, piece->alloc);
	return err;
}

/* ---------------------------------------------------------------------
 * Derived metrics
 * ---------------------------------------------------------------------
 */
double
qoe_view_time(const QoeMetrics *m)
{
	return m->starting_time + m->play_time + m->buffer_time +
		m->seek_time + m->ad_time;
}

bool
qoe_startup_time(const QoeMetrics *m, double *out)
{
	if (m->startup_count == 0)
		return false;
	*out = m->startup_time_sum / (double) m->startup_count;
	return true;
}

bool
qoe_avg_bitrate(const QoeMetrics *m, double *out)
{
	if (!(m->bitrate_weight > 0))
		return false;
	*out = (double) (m->bitrate_weighted / m->bitrate_weight);
	return true;
}

bool
qoe_rebuffer_ratio(const QoeMetrics *m, double *out)
{
	double		denom = m->play_time + m->rebuffer_time;

	if (denom == 0)
		return false;
	*out = m->rebuffer_time / denom;
	return true;
}

bool
qoe_rebuffer_percentage(const QoeMetrics *m, double *out)
{
	double		vt = qoe_view_time(m);

	if (vt == 0)
		return false;
	*out = m->rebuffer_time / vt;
	return true;
}

bool
qoe_rebuffer_frequency(const QoeMetrics *m, double *out)
{
	double		vt = qoe_view_time(m);

	if (vt == 0)
		return false;
	*out = (double) m->rebuffer_count / (vt / 60.0);
	return true;
}
