/*
 * bench/merge.c -- the leader's final step over large partial states, in
 * the pure C core alone (no PostgreSQL, so none of its noise): what a
 * parallel leader does with one big group once the workers' sorted
 * partial states have arrived.  Built and run by bench/run.sh; prints a
 * few lines.
 *
 * The data: SESSIONS sessions of EVENTS events each (play, heartbeats
 * with positions, bitrate changes, buffering, pause/resume, ended; 36-byte
 * keys, or with "keyless" none: one stream, as the forms without a session
 * argument aggregate), split between 3 partial states the way a parallel scan splits a
 * table (runs of rows, each session in all three), each put in canonical
 * form and written in the compact form, as a worker's serialize step does.
 *
 * Two ways to finish, each timed (wall clock: fresh memory costs the
 * machine more than the process is charged for), best of REPS:
 *	 decode + merge: every state decoded into 32-byte events (checked), the
 *					 three merged into a new buffer (qoe_buffer_merge_
 *					 canonical_many), then replayed or written as a
 *					 timeline: what the leader did up to the sixth round;
 *	 merged pieces:  the states read merged, 65,536 events at a time
 *					 (QoeMergeReader, each event checked as it is read),
 *					 into the replay (qoe_replay_merge) or the timeline
 *					 writer (qoe_compact_begin/put/end): the seventh round.
 * Both give the same metrics and the same timeline bytes (checked here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "qoe_core.h"

#define NPARTS 3
#define PIECE 65536

static long sessions = 100000;
static long events = 100;
static int	reps = 5;
static bool keyless = false;	/* no session key: the group is one key */

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Blocks of 32 MB and more mapped with the huge-page hint, as the
 * extension's own allocator does (qoe_pg_alloc_large): fresh memory then
 * costs here what it costs in the server.
 */
#define BIG ((size_t) 32 << 20)

static void *
big_alloc(void *ctx, size_t n)
{
	size_t	   *p;

	(void) ctx;
	if (n + 64 < BIG)
	{
		p = malloc(n + 64);
		if (p == NULL)
			abort();
		p[0] = 0;
		return (char *) p + 64;
	}
	p = mmap(NULL, n + 64, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
#ifdef MADV_HUGEPAGE
	(void) madvise(p, n + 64, MADV_HUGEPAGE);
#endif
	p[0] = n + 64;
	return (char *) p + 64;
}

static void
big_free(void *ctx, void *ptr)
{
	size_t	   *p;

	(void) ctx;
	if (ptr == NULL)
		return;
	p = (size_t *) ((char *) ptr - 64);
	if (p[0] == 0)
		free(p);
	else
		munmap(p, p[0]);
}

static void *
big_realloc(void *ctx, void *ptr, size_t oldsize, size_t newsize)
{
	void	   *q = big_alloc(ctx, newsize);

	if (ptr != NULL)
	{
		memcpy(q, ptr, oldsize < newsize ? oldsize : newsize);
		big_free(ctx, ptr);
	}
	return q;
}

static const QoeAllocator big_allocator = {big_alloc, big_realloc, big_free, NULL};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* session s's event j: a plausible player's, deterministic */
static void
add_event(QoeBuffer *b, long s, long j)
{
	static const int cycle[] = {QOE_HEARTBEAT, QOE_HEARTBEAT, QOE_BITRATE,
		QOE_HEARTBEAT, QOE_BUFFER_START, QOE_BUFFER_END, QOE_PAUSE,
	QOE_PLAY, QOE_HEARTBEAT, QOE_HEARTBEAT};
	char		key[48];
	uint64_t	h = mix((uint64_t) s);
	int64_t		ts = INT64_C(789004800000000) + (int64_t) (h % 600000000) +
		(int64_t) j * 35000000;
	double		pos = (double) j * 30.0;
	int			kind;
	double		value = 0;
	bool		no_value = true;

	snprintf(key, sizeof(key), "%08lx-%04lx-4000-8000-%012lx",
			 (unsigned long) (h >> 32), (unsigned long) (h & 0xffff),
			 (unsigned long) s & 0xffffffffffffUL);
	if (j == 0)
		kind = QOE_PLAY;
	else if (j == events - 1)
		kind = QOE_ENDED;
	else
		kind = cycle[j % 10];
	if (kind == QOE_BITRATE)
	{
		value = 1000000.0 * (double) (1 + (mix((uint64_t) (s * 131 + j)) % 6));
		no_value = false;
	}
	if (keyless)
	{
		/* one stream: sessions one after the other, 42 min apart */
		ts = INT64_C(789004800000000) + (int64_t) s * INT64_C(6000000000) +
			(int64_t) j * 35000000;
		qoe_buffer_add(b, false, ts, kind, false, pos, no_value, value, NULL, 0);
	}
	else
		qoe_buffer_add(b, false, ts, kind, false, pos, no_value, value, key, strlen(key));
}

static bool
same_metrics(const QoeMetrics *a, const QoeMetrics *b)
{
	return a->sessions == b->sessions &&
		memcmp(&a->play_time, &b->play_time, sizeof(double)) == 0 &&
		memcmp(&a->buffer_time, &b->buffer_time, sizeof(double)) == 0 &&
		memcmp(&a->paused_time, &b->paused_time, sizeof(double)) == 0 &&
		memcmp(&a->content_watched, &b->content_watched, sizeof(double)) == 0 &&
		a->buffer_count == b->buffer_count && a->completions == b->completions &&
		a->duplicate_events == b->duplicate_events &&
		a->first_ts == b->first_ts && a->last_ts == b->last_ts;
}

int
main(int argc, char **argv)
{
	const QoeAllocator *A = &big_allocator;
	unsigned char *part[NPARTS];
	size_t		partlen[NPARTS];
	QoeMetrics	m_old,
				m_new;
	unsigned char *tl_old = NULL,
			   *tl_new = NULL;
	size_t		tl_old_len = 0,
				tl_new_len = 0;
	double		best[4] = {1e9, 1e9, 1e9, 1e9};
	size_t		total = 0;
	long		s,
				j;
	int			i,
				r;

	if (argc > 1)
		sessions = atol(argv[1]);
	if (argc > 2)
		events = atol(argv[2]);
	if (argc > 3)
		reps = atoi(argv[3]);
	if (argc > 4)
		keyless = strcmp(argv[4], "keyless") == 0;
	if (sessions < 1 || events < 2 || reps < 1)
	{
		fprintf(stderr, "usage: merge [sessions [events [reps [keyless]]]]\n");
		return 2;
	}

	/* the workers' partial states: rows split in runs of 34, like blocks */
	{
		QoeBuffer	b[NPARTS];

		for (i = 0; i < NPARTS; i++)
			qoe_buffer_init(&b[i], A);
		for (s = 0; s < sessions; s++)
			for (j = 0; j < events; j++)
				add_event(&b[(s * events + j) / 34 % NPARTS], s, j);
		for (i = 0; i < NPARTS; i++)
		{
			qoe_buffer_canonicalize(&b[i]);
			part[i] = malloc(qoe_buffer_compact_bound(&b[i]));
			partlen[i] = qoe_buffer_compact_serialize(&b[i], part[i]);
			total += partlen[i];
			qoe_buffer_free(&b[i]);
		}
	}

	for (r = 0; r < reps; r++)
	{
		int			what;

		/* 0, 1: decode + merge (replay, timeline); 2, 3: merged pieces */
		for (what = 0; what < 4; what++)
		{
			QoeBuffer	buf[NPARTS];
			const QoeBuffer *src[NPARTS - 1];
			double		t0 = wall_now(),
						t;

			if (what < 2)
			{
				for (i = 0; i < NPARTS; i++)
				{
					qoe_buffer_init(&buf[i], A);
					if (qoe_buffer_deserialize(&buf[i], part[i], partlen[i], false) != NULL)
						return 1;
					if (i > 0)
						src[i - 1] = &buf[i];
				}
				qoe_buffer_merge_canonical_many(&buf[0], src, NPARTS - 1);
				if (what == 0)
					qoe_replay(&buf[0], &qoe_default_params, &m_old, NULL);
				else
				{
					big_free(NULL, tl_old);
					tl_old = big_alloc(NULL, qoe_buffer_compact_bound(&buf[0]));
					tl_old_len = qoe_buffer_compact_serialize(&buf[0], tl_old);
				}
				for (i = 0; i < NPARTS; i++)
					qoe_buffer_free(&buf[i]);
			}
			else
			{
				QoeSerialReader rd[NPARTS];
				QoeMergeInput in[NPARTS];
				QoeMergeReader mr;
				QoeBuffer	out,
							piece;
				const char *err = NULL;

				for (i = 0; i < NPARTS; i++)
				{
					qoe_buffer_init(&buf[i], A);
					if (qoe_serial_open_unchecked(&rd[i], part[i], partlen[i], &buf[i]) != NULL)
						return 1;
					in[i].buf = &buf[i];
					in[i].reader = &rd[i];
				}
				qoe_buffer_init(&out, A);
				qoe_buffer_init(&piece, A);
				if (qoe_merge_open(&mr, in, NPARTS, &out) != NULL)
					return 1;
				if (what == 2)
					err = qoe_replay_merge(&mr, &piece, PIECE, &qoe_default_params,
										   &m_new, NULL);
				else
				{
					QoeCompactWriter w;

					big_free(NULL, tl_new);
					tl_new = big_alloc(NULL, qoe_compact_bound(&out, mr.total));
					qoe_compact_begin(&w, &out, tl_new);
					while (qoe_merge_next(&mr, &piece, PIECE, &err))
						qoe_compact_put(&w, &piece);
					tl_new_len = qoe_compact_end(&w, &out);
				}
				if (err != NULL)
					return 1;
				qoe_merge_close(&mr);
				qoe_buffer_free(&piece);
				qoe_buffer_free(&out);
				for (i = 0; i < NPARTS; i++)
					qoe_buffer_free(&buf[i]);
			}
			t = wall_now() - t0;
			if (t < best[what])
				best[what] = t;
		}
	}

	if (!same_metrics(&m_old, &m_new) || tl_old_len != tl_new_len ||
		memcmp(tl_old, tl_new, tl_old_len) != 0)
	{
		printf("core merge: the two ways DIFFER\n");
		return 1;
	}
	printf("core merge: %ld sessions x %ld events%s in %d compact partial states (%.1f MB), seconds, best of %d:\n",
		   sessions, events, keyless ? " without session keys" : "", NPARTS,
		   (double) total / 1e6, reps);
	printf("  final replay (qoe_stats):   decode + merge %.3f  merged pieces %.3f  ratio %.2f\n",
		   best[0], best[2], best[0] / best[2]);
	printf("  final timeline (windows):   decode + merge %.3f  merged pieces %.3f  ratio %.2f\n",
		   best[1], best[3], best[1] / best[3]);
	printf("  same metrics and timeline bytes (%.1f MB) both ways\n", (double) tl_new_len / 1e6);
	big_free(NULL, tl_old);
	big_free(NULL, tl_new);
	for (i = 0; i < NPARTS; i++)
		free(part[i]);
	return 0;
}
