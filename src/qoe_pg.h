/*-------------------------------------------------------------------------
 *
 * qoe_pg.h
 *	  Declarations shared by the PostgreSQL glue of qoe_agg.
 *
 * The glue is thin: it converts SQL values to and from the pure core
 * (qoe_core.h) and supplies the core with a palloc-based allocator and an
 * interrupt hook.  All computation happens in the core.
 *
 *	  qoe_agg.c			module magic, GUCs, parameters, allocator
 *	  qoe_type.c		the qoe_timeline type: in/out/recv/send, datum helpers
 *	  qoe_aggfuncs.c	transition, combine, serial and final functions
 *	  qoe_accessors.c	metric accessors and the qoe_stats tuple builder
 *	  qoe_srf.c			buffer_episodes, playback_intervals, watched_ranges
 *
 *-------------------------------------------------------------------------
 */
#ifndef QOE_PG_H
#define QOE_PG_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/memutils.h"

#include "qoe_core.h"

/* ---------------------------------------------------------------------
 * qoe_agg.c: settings, allocator, interrupts
 * ---------------------------------------------------------------------
 */

/* current qoe_agg.event_aliases map (owned by the GUC machinery), or NULL */
extern const QoeAliasMap *qoe_pg_alias_map;

/* bumped whenever qoe_agg.event_aliases is assigned; invalidates caches */
extern uint64 qoe_pg_alias_generation;

/* a core message ("truncated data") as an errdetail sentence, palloc'd */
extern char *qoe_pg_sentence(const char *msg);

/* replay parameters from the current qoe_agg.* settings */
extern void qoe_pg_params(QoeParams *p);

/* qoe_agg.partial_log_limit, in bytes */
extern size_t qoe_pg_partial_log_limit(void);

/* a QoeAllocator that allocates in cxt (huge allocations allowed) */
extern void qoe_pg_allocator_init(QoeAllocator *a, MemoryContext cxt);

/* palloc of a possibly large block, with a huge-page hint past 32 MB */
extern void *qoe_pg_alloc_large(MemoryContext cxt, size_t size);

/*
 * A QoeAllocator for a function's temporary buffers, freed before it
 * returns (a group's events decoded and sorted by a final or serial
 * function, a timeline decoded by an accessor).  Their blocks of 64 kB to
 * 16 MB are reused from one group or row to the next: one block cache per
 * backend (qoe_cache.c), which keeps up to 8 freed blocks and 32 MB until
 * the end of the transaction.  Freed to PostgreSQL, a block of more than
 * 128 kB goes back to the kernel (glibc), and each group's blocks were
 * fresh memory again: page faults that cost a per-video query about a
 * second in its final step alone.  Other blocks are allocated in the
 * current memory context.
 */
extern void qoe_pg_temp_allocator_init(QoeAllocator *a);

/*
 * Aggregate transition states come in two forms, told apart by their first
 * 32-bit word:
 *	 - QOE_STATE_LOG: a QoeLog (compact records, one allocation that moves
 *	   as it grows, then more blocks past 32 MB; freed with qoe_log_free):
 *	   the state of the row forms, at any size; serialized as a copy of its
 *	   records up to qoe_agg.partial_log_limit, and as a canonical buffer
 *	   above;
 *	 - QOE_STATE_BUFFER: a QoeAggState, an event buffer and the allocator it
 *	   uses: rollup(), and large partial states once deserialized (kept in
 *	   their compact form until a step needs their events in a buffer; the
 *	   final functions read them merged, a piece at a time).
 * Both live in one memory context: the aggregate context, or for a freshly
 * deserialized log state the context it was deserialized in (a deserialized
 * buffer state has a context of its own, own_cxt, for combine to adopt).  In a
 * QoeAggState buf.alloc points at alloc, so that struct must not be moved.
 */
#define QOE_STATE_LOG		0x31474f4cU /* "LOG1" */
#define QOE_STATE_BUFFER	0x31465542U /* "BUF1" */

#define QOE_MAX_PENDING 8

typedef struct QoeAggState
{
	uint32		tag;			/* QOE_STATE_BUFFER */
	MemoryContext own_cxt;		/* made by qoe_agg_deserialize: the context
								 * holding this state and nothing else, until
								 * qoe_agg_combine adopts the state whole */
	QoeAllocator alloc;
	QoeBuffer	buf;

	/*
	 * A deserialized partial state in the compact form: its bytes (header
	 * and keys checked), and a reader at their first event; buf holds its
	 * keys and counters, no events.  NULL once decoded into buf
	 * (state_materialize).
	 */
	unsigned char *compact;
	size_t		compact_len;
	QoeSerialReader reader;

	/*
	 * Canonical partial states combined into this one but not yet merged
	 * into buf (each still in its own_cxt, moved under the aggregate
	 * context): they are merged all at once, in one pass, when the state is
	 * next used (state_settle in qoe_aggfuncs.c).
	 */
	int			npending;
	struct QoeAggState *pending[QOE_MAX_PENDING];
} QoeAggState;

extern QoeAggState *qoe_pg_state_create(MemoryContext cxt);

/* the ERROR for a partial aggregate state that fails its checks (err says why) */
extern void qoe_pg_state_corrupt(const char *err) pg_attribute_noreturn();

/* ---------------------------------------------------------------------
 * qoe_type.c: qoe_timeline values
 * ---------------------------------------------------------------------
 */

/*
 * Decode a qoe_timeline datum into b, which is initialised here with alloc
 * (the allocator must outlive b).  Raises ERROR on a corrupt value.
 */
extern void qoe_pg_timeline_decode(Datum d, QoeBuffer *b, const QoeAllocator *alloc);

/* the ERROR for a qoe_timeline value that fails its checks (err says why) */
extern void qoe_pg_timeline_corrupt(const char *err) pg_attribute_noreturn();

/*
 * Canonicalise b if needed and build a qoe_timeline value from it, palloc'd
 * in the current memory context.  Raises ERROR if it would be too large.
 */
extern struct varlena *qoe_pg_timeline_from_buffer(QoeBuffer *b);

/*
 * The same from merged inputs (an opened QoeMergeReader), written a piece
 * at a time: the value qoe_pg_timeline_from_buffer makes of the merged
 * buffer, without building that buffer.
 */
extern struct varlena *qoe_pg_timeline_from_merge(QoeMergeReader *mr);

/* events read merged at a time by the final functions (whole keys) */
#define QOE_PG_MERGE_PIECE 65536

/* ---------------------------------------------------------------------
 * qoe_accessors.c: metrics as SQL values
 * ---------------------------------------------------------------------
 */

/*
 * Every column of the qoe_stats composite type, in declared order.  This
 * list is the only place the fields are enumerated; the tuple builder, the
 * accessors and the one-step final functions all use it.  The third column
 * is the SQL type (a pg_type OID macro: include catalog/pg_type.h to use it).
 */
#define QOE_STATS_FIELDS(X) \
	X(SESSIONS, sessions, INT8OID) \
	X(PLAY_TIME, play_time, FLOAT8OID) \
	X(WATCH_TIME, watch_time, FLOAT8OID) \
	X(VIEW_TIME, view_time, FLOAT8OID) \
	X(STARTING_TIME, starting_time, FLOAT8OID) \
	X(PAUSED_TIME, paused_time, FLOAT8OID) \
	X(BUFFER_TIME, buffer_time, FLOAT8OID) \
	X(SEEK_TIME, seek_time, FLOAT8OID) \
	X(AD_TIME, ad_time, FLOAT8OID) \
	X(REBUFFER_TIME, rebuffer_time, FLOAT8OID) \
	X(REBUFFER_COUNT, rebuffer_count, INT8OID) \
	X(BUFFER_COUNT, buffer_count, INT8OID) \
	X(STARTUP_TIME, startup_time, FLOAT8OID) \
	X(PAUSE_COUNT, pause_count, INT8OID) \
	X(SEEK_COUNT, seek_count, INT8OID) \
	X(SEEK_FORWARD, seek_forward, INT8OID) \
	X(SEEK_BACKWARD, seek_backward, INT8OID) \
	X(AD_COUNT, ad_count, INT8OID) \
	X(REPLAYS, replays, INT8OID) \
	X(COMPLETIONS, completions, INT8OID) \
	X(ERRORS, errors, INT8OID) \
	X(EXITS_BEFORE_START, exits_before_start, INT8OID) \
	X(START_FAILURES, start_failures, INT8OID) \
	X(PLAYBACK_FAILURES, playback_failures, INT8OID) \
	X(MAX_POSITION, max_position, FLOAT8OID) \
	X(CONTENT_WATCHED, content_watched, FLOAT8OID) \
	X(AVG_BITRATE, avg_bitrate, FLOAT8OID) \
	X(MIN_BITRATE, min_bitrate, FLOAT8OID) \
	X(MAX_BITRATE, max_bitrate, FLOAT8OID) \
	X(UPSHIFTS, upshifts, INT8OID) \
	X(DOWNSHIFTS, downshifts, INT8OID) \
	X(UNMATCHED_BUFFER_ENDS, unmatched_buffer_ends, INT8OID) \
	X(DUPLICATE_EVENTS, duplicate_events, INT8OID) \
	X(UNKNOWN_EVENTS, unknown_events, INT8OID) \
	X(INVALID_EVENTS, invalid_events, INT8OID) \
	X(FIRST_TS, first_ts, TIMESTAMPTZOID) \
	X(LAST_TS, last_ts, TIMESTAMPTZOID) \
	X(REBUFFER_RATIO, rebuffer_ratio, FLOAT8OID) \
	X(REBUFFER_PERCENTAGE, rebuffer_percentage, FLOAT8OID) \
	X(REBUFFER_FREQUENCY, rebuffer_frequency, FLOAT8OID)

#define QOE_FIELD_ENUM(upper, lower, type) QOE_F_##upper,
typedef enum QoeField
{
	QOE_STATS_FIELDS(QOE_FIELD_ENUM)
	QOE_NFIELDS
} QoeField;
#undef QOE_FIELD_ENUM

/* one metric as a datum (int8, float8 or timestamptz); *isnull per SPEC 8.16 */
extern Datum qoe_pg_metric_datum(const QoeMetrics *m, QoeField f, bool *isnull);

/* the whole qoe_stats composite for the function being called */
extern Datum qoe_pg_stats_datum(FunctionCallInfo fcinfo, const QoeMetrics *m);

/* replay a qoe_timeline datum with the current settings */
extern void qoe_pg_replay_timeline(Datum d, QoeMetrics *m);

#endif							/* QOE_PG_H */
