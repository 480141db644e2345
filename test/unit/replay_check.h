/*
 * replay_check.h
 *	  For the unit tests and the fuzz target: the first field in which two
 *	  replays' metrics differ (doubles compared bit for bit), and the
 *	  replay of merged inputs read a piece at a time.
 */
#ifndef REPLAY_CHECK_H
#define REPLAY_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "qoe_core.h"

/*
 * The name of the first field in which a and b differ, or NULL.  Fields
 * that a flag says are NULL (max_position without has_position, ...) are
 * compared only when all; the data-quality counters only when dq.
 */
static inline const char *
metrics_differ(const QoeMetrics *a, const QoeMetrics *b, bool dq, bool all)
{
#define SAME_I(f) do { if (a->f != b->f) return #f; } while (0)
#define SAME_D(f) do { if (memcmp(&a->f, &b->f, sizeof(double)) != 0) return #f; } while (0)
	SAME_I(sessions);
	SAME_D(play_time);
	SAME_D(starting_time);
	SAME_D(paused_time);
	SAME_D(buffer_time);
	SAME_D(seek_time);
	SAME_D(ad_time);
	SAME_D(rebuffer_time);
	SAME_I(rebuffer_count);
	SAME_I(buffer_count);
	SAME_D(startup_time_sum);
	SAME_I(startup_count);
	SAME_I(pause_count);
	SAME_I(seek_count);
	SAME_I(seek_forward);
	SAME_I(seek_backward);
	SAME_I(ad_count);
	SAME_I(replays);
	SAME_I(completions);
	SAME_I(errors);
	SAME_I(exits_before_start);
	SAME_I(start_failures);
	SAME_I(playback_failures);
	SAME_I(has_position);
	if (a->has_position || all)
	{
		SAME_D(max_position);
		SAME_D(content_watched);
	}
	/* long double: its padding bytes are not part of the value */
	if (a->bitrate_weighted != b->bitrate_weighted ||
		signbit(a->bitrate_weighted) != signbit(b->bitrate_weighted))
		return "bitrate_weighted";
	SAME_D(bitrate_weight);
	SAME_I(has_bitrate);
	if (a->has_bitrate || all)
	{
		SAME_D(min_bitrate);
		SAME_D(max_bitrate);
	}
	SAME_I(upshifts);
	SAME_I(downshifts);
	SAME_I(unmatched_buffer_ends);
	SAME_I(has_ts);
	if (a->has_ts || all)
	{
		SAME_I(first_ts);
		SAME_I(last_ts);
	}
	if (dq)
	{
		SAME_I(duplicate_events);
		SAME_I(unknown_events);
		SAME_I(invalid_events);
	}
#undef SAME_I
#undef SAME_D
	return NULL;
}

/* qoe_replay_merge of in[0 .. n-1], want events a piece */
static inline const char *
replay_merged(const QoeMergeInput *in, int n, size_t want, const QoeParams *p,
			  QoeMetrics *m, const QoeSink *sink)
{
	QoeMergeReader mr;
	QoeBuffer	out,
				piece;
	const char *err;

	qoe_buffer_init(&out, &qoe_malloc_allocator);
	qoe_buffer_init(&piece, &qoe_malloc_allocator);
	err = qoe_merge_open(&mr, in, n, &out);
	if (err == NULL)
		err = qoe_replay_merge(&mr, &piece, want, p, m, sink);
	qoe_merge_close(&mr);
	qoe_buffer_free(&piece);
	qoe_buffer_free(&out);
	return err;
}

#endif							/* REPLAY_CHECK_H */
