/*-------------------------------------------------------------------------
 *
 * qoe_core.h
 *	  Pure C core of qoe_agg: event vocabulary, event buffers, sorting,
 *	  serialization and the session state machine.
 *
 * Nothing here includes postgres.h.  The PostgreSQL glue (src/qoe_*.c files
 * that include postgres.h) supplies an allocator and an interrupt hook; the
 * unit tests, the fuzz target and the benchmarks supply malloc-based ones.
 *
 * Where things live:
 *	  qoe_vocab.c	 event kinds, name normalisation, aliases      (SPEC 1, 8.1, 8.21)
 *	  qoe_buffer.c	 event buffer: add, merge, sort, dedup, binary format (SPEC 2)
 *	  qoe_text.c	 text form of a timeline (JSON), exact round trip
 *	  qoe_replay.c	 sessions, state machine, crediting, metrics   (SPEC 2-5, 8)
 *
 *-------------------------------------------------------------------------
 */
#ifndef QOE_CORE_H
#define QOE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Event kinds.  The numeric order IS the tie-break rank of SPEC 2 for
 * events with equal timestamps, so sorting by kind sorts by rank.
 */
typedef enum QoeKind
{
	QOE_REQUEST = 0,
	QOE_ENDED,
	QOE_ERROR,
	QOE_PAUSE,
	QOE_PLAY,
	QOE_SEEK_START,
	QOE_SEEK,
	QOE_SEEK_END,
	QOE_BUFFER_START,
	QOE_BUFFER_END,
	QOE_AD_END,
	QOE_AD_START,
	QOE_PLAYING,
	QOE_BITRATE,
	QOE_HEARTBEAT,
	QOE_EXIT,
	QOE_NKINDS
} QoeKind;

#define QOE_KIND_UNKNOWN (-1)

/* Longest normalised alias we keep (longer names can never match). */
#define QOE_MAX_ALIAS_LEN 63

/* Timestamps: int64 microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL). */
#define QOE_TS_NOBEGIN INT64_MIN	/* -infinity */
#define QOE_TS_NOEND INT64_MAX		/* infinity */
#define QOE_USECS_PER_SEC INT64_C(1000000)
/* seconds from 1970-01-01 to 2000-01-01 */
#define QOE_UNIX_EPOCH_OFFSET_SECS INT64_C(946684800)

/* ---------------------------------------------------------------------
 * Allocation and interrupts, supplied by the caller
 * ---------------------------------------------------------------------
 */
typedef struct QoeAllocator
{
	void	   *(*alloc) (void *ctx, size_t size);	/* never returns NULL */
	void	   *(*realloc) (void *ctx, void *ptr, size_t oldsize, size_t newsize);
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;
} QoeAllocator;

/* malloc-based allocator (aborts on out-of-memory); for tests, fuzz, bench */
extern const QoeAllocator qoe_malloc_allocator;

/*
 * A caching allocator in front of another (qoe_cache.c): blocks of
 * QOE_CACHE_MIN to QOE_CACHE_MAX bytes (sizes rounded up to a power of two)
 * freed through it are kept, up to QOE_CACHE_SLOTS blocks and keep_max
 * bytes (the larger blocks first), and handed out again; they come from
 * base.  Other blocks come from and go to pass (NULL: base).  Every block
 * it frees must be one it allocated.  misuse
 * (may longjmp; NULL: abort) is called for a block freed twice, one that
 * is not its own, or a realloc whose old size exceeds the block.  Only a
 * block still kept is known as freed: freeing one twice after it was handed
 * out again, or passed to pass, is not caught.  nout counts the blocks of
 * base handed out and not given back: blocks an error abandoned, if the
 * caller's work was cut short.
 */
#define QOE_CACHE_SLOTS 8
#define QOE_CACHE_MIN ((size_t) 64 * 1024)		/* requests > MIN / 2 */
#define QOE_CACHE_MAX ((size_t) 16 * 1024 * 1024)

typedef struct QoeBlockCache
{
	QoeAllocator base;			/* the blocks it keeps */
	QoeAllocator pass;			/* the others */
	size_t		keep_max;		/* bytes kept at most */
	size_t		kept_bytes;
	int			nkept;
	void	   *kept[QOE_CACHE_SLOTS];
	size_t		kept_cap[QOE_CACHE_SLOTS];
	size_t		nout;			/* blocks of a size class handed out, not back */
	uint64_t	reused;			/* requests served by a kept block */
	uint64_t	fresh;			/* blocks of a size class taken from base */
	void		(*misuse) (const char *msg);
} QoeBlockCache;

extern void qoe_cache_init(QoeBlockCache *c, const QoeAllocator *base,
						   const QoeAllocator *pass, size_t keep_max,
						   void (*misuse) (const char *msg));
extern void qoe_cache_allocator_init(QoeAllocator *a, QoeBlockCache *c);
/* give every kept block back to the base */
extern void qoe_cache_release(QoeBlockCache *c);

/*
 * Called every few thousand iterations of every loop whose length depends on
 * the input (sort, merge, replay, serialization).  The PostgreSQL glue sets
 * it to a function running CHECK_FOR_INTERRUPTS().  May longjmp out.
 */
extern void (*qoe_interrupt_hook) (void);

#define QOE_CHECK_INTERRUPTS_EVERY 4096

/* ---------------------------------------------------------------------
 * Vocabulary (qoe_vocab.c)
 * ---------------------------------------------------------------------
 */

/* canonical kind name ("buffer_start"), or NULL when out of range */
extern const char *qoe_kind_name(int kind);

/*
 * Normalise an event name per SPEC 8.1: trim ASCII white space, lower-case
 * ASCII, replace each ' ', '-', '.' by '_'.  Writes at most outcap-1 bytes and
 * a NUL; returns the full normalised length (which may be >= outcap, in which
 * case the name is too long to match anything).
 */
extern size_t qoe_normalize_name(const char *s, size_t len, char *out, size_t outcap);

/*
 * Extra aliases from the qoe_agg.event_aliases GUC.  One malloc'd block, so
 * that PostgreSQL's GUC machinery can free() it as "extra".
 */
typedef struct QoeAliasMap QoeAliasMap;

/*
 * Parse "alias=kind,alias=kind".  Empty entries are ignored; aliases and kind
 * names are normalised; kind names must be canonical kind names.  Returns a
 * malloc'd map (possibly empty) or NULL on error, with a message naming the
 * bad entry in errbuf (e.g. "entry \"foo\" is not of the form alias=kind").
 * Returns NULL with errbuf "out of memory" if malloc fails.
 */
extern QoeAliasMap *qoe_alias_parse(const char *spec, char *errbuf, size_t errlen);

/*
 * Kind of a raw event name (not NUL-terminated): normalise, then look up the
 * extra aliases (they override built-ins), then the built-in table of SPEC 1.
 * extra may be NULL.  Returns QOE_KIND_UNKNOWN when nothing matches.
 */
extern int	qoe_lookup_kind(const QoeAliasMap *extra, const char *name, size_t len);

/* ---------------------------------------------------------------------
 * Events and buffers (qoe_buffer.c)
 * ---------------------------------------------------------------------
 */

#define QOE_EV_HAS_POS		0x01	/* position is valid (finite, >= 0) */
#define QOE_EV_HAS_VALUE	0x02	/* value was given (may be NaN/inf unless bitrate) */

#define QOE_NO_KEY UINT32_MAX	/* NULL session key */

typedef struct QoeEvent
{
	int64_t		ts;				/* microseconds, PostgreSQL epoch; finite */
	double		position;		/* seconds; meaningful iff QOE_EV_HAS_POS */
	double		value;			/* as given; meaningful iff QOE_EV_HAS_VALUE */
	uint32_t	key;			/* session key index, or QOE_NO_KEY */
	uint8_t		kind;			/* QoeKind */
	uint8_t		flags;			/* QOE_EV_* */
	uint16_t	pad;			/* always 0 */
} QoeEvent;						/* 32 bytes */

/*
 * An event buffer: the aggregate transition state, and the decoded form of a
 * qoe_timeline value.  Events are appended in arrival order; session keys are
 * interned (each distinct key stored once).  qoe_buffer_canonicalize() puts
 * it in canonical form: keys sorted bytewise and unique, events sorted by
 * (key rank, ts, kind, position, value) with NULLs first, exact duplicates
 * removed and counted.  Canonicalising is idempotent and does not change
 * what the buffer means, so a final function may do it in place and the
 * aggregate may go on accumulating afterwards (window functions).
 */
typedef struct QoeBuffer
{
	const QoeAllocator *alloc;

	QoeEvent   *events;
	size_t		nevents;
	size_t		evcap;

	/* interned session keys: bytes of key i are keydata[keyoff[i] .. +keylen[i]) */
	char	   *keydata;
	size_t		keydata_len;
	size_t		keydata_cap;
	uint64_t   *keyoff;
	uint32_t   *keylen;
	uint32_t	nkeys;
	uint32_t	keycap;

	/* open-addressing hash of keys (slot = key index + 1, 0 = empty); lazily built */
	uint32_t   *keyhash;
	uint32_t	keyhash_cap;	/* power of two, or 0 */
	uint32_t	lastkey;		/* last key added (cache), or QOE_NO_KEY */

	/* data-quality counters (rows) */
	uint64_t	invalid_events;
	uint64_t	unknown_events;
	uint64_t	duplicate_events;

	bool		canonical;		/* true while in canonical form */
} QoeBuffer;

extern void qoe_buffer_init(QoeBuffer *b, const QoeAllocator *alloc);
extern void qoe_buffer_free(QoeBuffer *b);	/* frees the arrays, not b */

/*
 * Add one input row, applying the row checks of SPEC 1 and 8.2-8.5 in order:
 *	 - ts NULL or infinite (QOE_TS_NOBEGIN/QOE_TS_NOEND): invalid_events++, done;
 *	 - kind QOE_KIND_UNKNOWN: unknown_events++, done;
 *	 - position given but NaN, infinite or negative: counted invalid, kept as NULL;
 *	 - bitrate kind with value NULL, not finite or <= 0: counted invalid (once
 *	   per row) and the row is dropped.
 * key == NULL means a NULL session key.
 */
extern void qoe_buffer_add(QoeBuffer *b, bool ts_isnull, int64_t ts, int kind,
						   bool pos_isnull, double position,
						   bool value_isnull, double value,
						   const char *key, size_t keylen);

/* Append all of src (events, keys, counters) to dst.  Order-independent. */
extern void qoe_buffer_merge(QoeBuffer *dst, const QoeBuffer *src);

/* Put b into canonical form (see above).  Checks interrupts. */
extern void qoe_buffer_canonicalize(QoeBuffer *b);

/*
 * dst := canonical form of dst and src together, both already canonical
 * (asserted by the caller): one linear merge of the sorted keys and of the
 * sorted events, dropping and counting the events both hold.  Gives the
 * same buffer as qoe_buffer_merge() followed by qoe_buffer_canonicalize().
 */
extern void qoe_buffer_merge_canonical(QoeBuffer *dst, const QoeBuffer *src);

/*
 * The same with several sources at once (all canonical, like dst, and none
 * of them dst itself): one pass that writes the merged events once, where
 * merging them one after the other writes the growing result again each
 * time.
 */
extern void qoe_buffer_merge_canonical_many(QoeBuffer *dst,
											const QoeBuffer *const *src, int nsrc);

/* key bytes of key index k (k < nkeys) */
static inline const char *
qoe_buffer_key(const QoeBuffer *b, uint32_t k, size_t *len)
{
	*len = b->keylen[k];
	/* keydata stays NULL while every key is empty */
	return b->keydata ? b->keydata + b->keyoff[k] : "";
}

/* Approximate bytes owned by b (for memory reporting). */
extern size_t qoe_buffer_memory(const QoeBuffer *b);

/*
 * The first binary form ("QTL1", 32 bytes per event): how earlier versions
 * stored qoe_timeline values and sent partial states.  It is still read
 * (below); the extension now writes the compact form, and this writer is
 * the tests' reference.  Little-endian, self-describing, fully validated on
 * load.  The serialized form of a canonical buffer is canonical.
 */
extern size_t qoe_buffer_serialized_size(const QoeBuffer *b);
extern void qoe_buffer_serialize(const QoeBuffer *b, unsigned char *out);

/*
 * Load a serialized buffer into b (which must be freshly initialised).
 * Returns NULL on success, or a static message saying what is wrong
 * ("truncated data", "unknown event kind 42", ...).  On error b holds
 * nothing useful but may be freed.  When require_canonical is true the data
 * must also be in canonical form (used for qoe_timeline values).
 */
extern const char *qoe_buffer_deserialize(QoeBuffer *b, const unsigned char *data,
										  size_t len, bool require_canonical);

/*
 * Compact binary form of a buffer ("QCB1", about a third of the bytes of
 * the form above; see qoe_buffer.c): how qoe_timeline values are stored and
 * what a parallel worker sends for a large group.  Always canonical.
 * qoe_buffer_compact_serialize() puts b in canonical form, writes at most
 * qoe_buffer_compact_bound(b) bytes and returns how many it wrote.
 * qoe_buffer_deserialize() and qoe_serial_open() read both forms.
 */
#define QOE_COMPACT_MAGIC "QCB1"	/* its first four bytes */

extern size_t qoe_buffer_compact_bound(const QoeBuffer *b);
extern size_t qoe_buffer_compact_serialize(QoeBuffer *b, unsigned char *out);

/*
 * The compact form written a piece at a time (qoe_buffer_compact_serialize
 * is begin, one put of the whole buffer, end): keys holds the key table
 * and, by qoe_compact_end, the counters; each put gives the next events, in
 * canonical order, whole session keys (ranks of keys' table).  At most
 * qoe_compact_bound(keys, n) bytes for n events in all.
 */
typedef struct QoeCompactWriter
{
	unsigned char *out;
	unsigned char *p;
	int64_t		prev_ts;
	uint64_t	groups;			/* event groups written, the NULL key's first */
	uint64_t	nevents;
} QoeCompactWriter;

extern size_t qoe_compact_bound(const QoeBuffer *keys, size_t nevents);
extern void qoe_compact_begin(QoeCompactWriter *w, const QoeBuffer *keys,
							  unsigned char *out);
extern void qoe_compact_put(QoeCompactWriter *w, const QoeBuffer *piece);
extern size_t qoe_compact_end(QoeCompactWriter *w, const QoeBuffer *keys);

/* where decoding compact data stands (private to qoe_buffer.c) */
typedef struct QoeCompactCursor
{
	const unsigned char *p;
	const unsigned char *end;
	uint64_t	nevents;		/* from the header */
	uint64_t	nkeys;
	uint64_t	done;			/* events decoded */
	uint64_t	group;			/* groups started */
	uint64_t	left;			/* events left in the current group */
	uint64_t	in_group;		/* events decoded in the current group */
	int64_t		prev_ts;
	uint64_t	prev_m;
	bool		has_prev_value;
	double		prev_value;
	QoeEvent	prev;
} QoeCompactCursor;

/*
 * Reading a large canonical value in pieces, without building its buffer
 * (qoe_windows over a timeline of millions of events).  qoe_serial_open()
 * makes every check qoe_buffer_deserialize(..., true) makes, and loads the
 * keys and counters into b (freshly initialised); each qoe_serial_next()
 * then puts into b the next events: at least want of them (or the rest),
 * up to the end of the last session key's events.  b holds all the keys,
 * events in canonical order, and is marked canonical, so it can be
 * replayed; qoe_serial_next() returns false when no events are left.
 */
typedef struct QoeSerialReader
{
	const unsigned char *events;	/* NULL for the compact form */
	size_t		nevents;
	size_t		next;
	uint64_t	nkeys;
	int64_t		first_ts;		/* ts range (if nevents > 0) */
	int64_t		last_ts;
	QoeCompactCursor compact;	/* the compact form: where decoding stands */
	bool		unchecked;		/* opened by qoe_serial_open_unchecked */
} QoeSerialReader;

extern const char *qoe_serial_open(QoeSerialReader *r, const unsigned char *data,
								   size_t len, QoeBuffer *b);
extern bool qoe_serial_next(QoeSerialReader *r, QoeBuffer *b, size_t want);

/*
 * The same for the compact form only, without checking the events now (no
 * ts range either): each is checked as a QoeMergeReader reads it, and
 * reading stops at the first error.  Decoding large partial states takes
 * one pass less.
 */
extern const char *qoe_serial_open_unchecked(QoeSerialReader *r,
											 const unsigned char *data,
											 size_t len, QoeBuffer *b);

/*
 * Merging canonical inputs a piece at a time, without building the merged
 * buffer: the final step over large partial states.  An input is a
 * canonical buffer (reader NULL), or a value opened with qoe_serial_open()
 * (buf holds its keys and counters; the events are read from a copy of
 * the reader, which is not moved; opened by qoe_serial_open or
 * qoe_serial_open_unchecked).  qoe_merge_open() merges the key tables
 * into out (freshly initialised) and adds up the counters there; each
 * qoe_merge_next() then puts into piece the next merged events, keys
 * mapped to out's ranks: at least want of them (or the rest), up to the end
 * of a session key, false when none are left (or on an error, *err says
 * which).  A piece holds whole keys: a key with many events (a group
 * without session keys is one key) makes a piece as large (its room is
 * then taken at once, for all the events not yet read).  An event several inputs hold is kept once and counted in
 * out->duplicate_events.  The pieces, one after the other, are the events
 * qoe_buffer_merge_canonical_many() makes of the same inputs.
 */
#define QOE_MERGE_MAX 16

typedef struct QoeMergeInput
{
	const QoeBuffer *buf;
	const QoeSerialReader *reader;
} QoeMergeInput;

typedef struct QoeMergeReader
{
	int			k;
	uint32_t	live;			/* inputs with a head event (bit i) */
	QoeBuffer  *out;
	const QoeEvent *events[QOE_MERGE_MAX];	/* a buffer input's events */
	size_t		nevents[QOE_MERGE_MAX];
	size_t		pos[QOE_MERGE_MAX];
	QoeSerialReader reader[QOE_MERGE_MAX];	/* a value's reader */
	uint32_t   *map[QOE_MERGE_MAX];	/* input key -> out's rank (NULL: no keys) */
	QoeEvent	head[QOE_MERGE_MAX];	/* next event of each, key mapped */
	size_t		total;			/* events of all the inputs */
	size_t		taken;			/* of those, events merged (kept or dropped) */
	bool		has_ts;			/* ts range of the events read so far */
	int64_t		first_ts;
	int64_t		last_ts;
	const char *err;
} QoeMergeReader;

/* on an error from qoe_merge_open too, qoe_merge_close frees what it made */
extern const char *qoe_merge_open(QoeMergeReader *r, const QoeMergeInput *in,
								  int n, QoeBuffer *out);
extern bool qoe_merge_next(QoeMergeReader *r, QoeBuffer *piece, size_t want,
						   const char **err);
extern void qoe_merge_close(QoeMergeReader *r);

/* ---------------------------------------------------------------------
 * Compact event log (qoe_buffer.c)
 *
 * The aggregate transition state (of every size): the rows, checked as
 * qoe_buffer_add checks them, appended as variable-length records (about 13
 * bytes for an event with a position: ts as a varint difference from the
 * previous event, position and value only when present, a session key only
 * when it changes).  One allocation, header included, that moves when it
 * grows (the add functions return the new address), up to
 * qoe_log_chunk_min bytes; past that, a full block is kept as it is and
 * the header moves to a new block for the records that follow (growing by
 * a copy would write every byte again, into fresh memory).  Turning a log
 * into a buffer gives exactly the buffer the rows would have built: the
 * same events in the same order, keys interned in the same order (in
 * prefetched batches, see qoe_log_records_to_buffer).
 * ---------------------------------------------------------------------
 */
typedef struct QoeLog
{
	/* of an older block (see prev) only nbytes, cap and prev mean anything */
	uint32_t	tag;			/* for the caller; never touched by the core */
	uint32_t	last_key_len;
	uint64_t	nbytes;			/* bytes of records in this block's data */
	uint64_t	nevents;		/* event records in the whole log (sizes the
								 * decoded buffer) */
	uint64_t	cap;			/* bytes allocated for data */
	int64_t		last_ts;		/* ts of the last event record (0 if none) */
	uint64_t	last_key_off;	/* offset in data of the last key, or UINT64_MAX */
	struct QoeLog *prev;		/* the block of the records before data's, whose
								 * own prev goes on back (NULL: none) */
	unsigned char data[];
} QoeLog;

/*
 * Allocation size (header included) past which a log grows by a new block
 * instead of a copy: 32 MB, so that every further block is one PostgreSQL's
 * glue backs with huge pages (blocks grow by half each time: a log of
 * 250 MB has four).  The tests set it low.
 */
extern size_t qoe_log_chunk_min;

/* a new empty log with room for at least cap bytes of records */
extern QoeLog *qoe_log_create(const QoeAllocator *a, size_t cap);

/* qoe_buffer_add for a log; returns the log's (possibly new) address */
extern QoeLog *qoe_log_add(QoeLog *log, const QoeAllocator *a, bool ts_isnull,
						   int64_t ts, int kind, bool pos_isnull, double position,
						   bool value_isnull, double value,
						   const char *key, size_t keylen);

/* bytes allocated for the log; bytes of its records */
extern size_t qoe_log_memory(const QoeLog *log);
extern size_t qoe_log_bytes(const QoeLog *log);

/* copy the records of every block, in order, to out (qoe_log_bytes bytes);
 * returns that number */
extern size_t qoe_log_copy_records(const QoeLog *log, unsigned char *out);

/* free every block of the log */
extern void qoe_log_free(QoeLog *log, const QoeAllocator *a);

/* add every row of the log to b (freshly initialised or not) */
extern void qoe_log_to_buffer(const QoeLog *log, QoeBuffer *b);

/*
 * qoe_log_to_buffer, then qoe_buffer_canonicalize; a large log (at least
 * qoe_log_group_min events) into an empty b goes straight into canonical
 * order, writing its events once instead of twice.
 */
extern void qoe_log_to_canonical(const QoeLog *log, QoeBuffer *b);

/* events below which qoe_log_to_canonical decodes, then sorts (4096; the
 * tests set it low) */
extern size_t qoe_log_group_min;

/*
 * The same from a log's record bytes (as qoe_log_copy_records writes them)
 * received from elsewhere: checked record by record; returns NULL or a static message
 * ("truncated event log"), in which case b holds part of the rows.
 */
extern const char *qoe_log_records_to_buffer(const unsigned char *data, size_t len,
											 QoeBuffer *b);

/*
 * Append the records (data, len) of another log, checked; returns the log's
 * (possibly new) address, with *err NULL or a static message.
 */
extern QoeLog *qoe_log_append_records(QoeLog *log, const QoeAllocator *a,
									  const unsigned char *data, size_t len,
									  const char **err);

/*
 * Append another log (trusted: made by qoe_log_add, qoe_log_concat or
 * qoe_log_append_records) as a copy of its records after a reset record;
 * returns the log's (possibly new) address.  Same meaning as appending its
 * records, without decoding them.
 */
extern QoeLog *qoe_log_concat(QoeLog *log, const QoeAllocator *a,
							  const QoeLog *other);

/* ---------------------------------------------------------------------
 * Text form (qoe_text.c)
 * ---------------------------------------------------------------------
 *
 * A JSON document, so that t::text::jsonb works:
 *	{"version":1,"invalid_events":0,"unknown_events":0,"duplicate_events":0,
 *	 "events":[["2024-01-01T00:00:00Z","play",0,null,"s1"], ...]}
 * Each event is [ts, kind, position, value, session]; ts is an ISO 8601 UTC
 * string with up to 6 fractional digits (years 0001-9999) or else an integer
 * of microseconds since 1970-01-01; numbers print in the shortest form that
 * reads back exactly; a value that is NaN or infinite prints as the string
 * "NaN", "Infinity" or "-Infinity".  Input accepts any JSON white space.
 */

/* canonical b -> NUL-terminated text allocated with b->alloc */
extern char *qoe_buffer_to_text(const QoeBuffer *b, size_t *len);

/*
 * Parse text into b (freshly initialised), then canonicalise.  Returns true
 * on success; on failure false with a message in errbuf naming what is wrong
 * and where ("expected ',' or ']' at character 57").
 */
extern bool qoe_buffer_from_text(QoeBuffer *b, const char *text, size_t len,
								 char *errbuf, size_t errlen);

/* ---------------------------------------------------------------------
 * Replay: sessions, state machine, crediting, metrics (qoe_replay.c)
 * ---------------------------------------------------------------------
 */
typedef struct QoeParams
{
	int64_t		session_timeout_us; /* > 0; default 30 min */
	int64_t		seek_grace_us;	/* >= 0; default 1 s */
	double		jump_tolerance;	/* seconds, >= 0; default 2 */
} QoeParams;

extern const QoeParams qoe_default_params;

typedef enum QoeCause
{
	QOE_CAUSE_STARTUP = 0,
	QOE_CAUSE_SEEK,
	QOE_CAUSE_STALL
} QoeCause;

extern const char *qoe_cause_name(int cause);	/* "startup", "seek", "stall" */

/* states of playback_intervals (SPEC 6) */
typedef enum QoeState
{
	QOE_ST_STARTING = 0,
	QOE_ST_PLAYING,
	QOE_ST_PAUSED,
	QOE_ST_BUFFERING,
	QOE_ST_SEEKING,
	QOE_ST_AD
} QoeState;

extern const char *qoe_state_name(int state);

typedef struct QoeMetrics
{
	int64_t		sessions;
	double		play_time;
	double		starting_time;
	double		paused_time;
	double		buffer_time;
	double		seek_time;
	double		ad_time;
	double		rebuffer_time;
	int64_t		rebuffer_count;
	int64_t		buffer_count;
	double		startup_time_sum;	/* startup_time = sum / count, NULL if count 0 */
	int64_t		startup_count;
	int64_t		pause_count;
	int64_t		seek_count;
	int64_t		seek_forward;
	int64_t		seek_backward;
	int64_t		ad_count;
	int64_t		replays;
	int64_t		completions;
	int64_t		errors;
	int64_t		exits_before_start;
	int64_t		start_failures;
	int64_t		playback_failures;
	bool		has_position;	/* max_position, content_watched non-NULL */
	double		max_position;
	double		content_watched;
	long double bitrate_weighted;	/* sum(bitrate * play seconds); long double so
									 * that finite bitrates near DBL_MAX cannot overflow */
	double		bitrate_weight; /* play seconds with a known bitrate */
	bool		has_bitrate;	/* min/max_bitrate non-NULL */
	double		min_bitrate;
	double		max_bitrate;
	int64_t		upshifts;
	int64_t		downshifts;
	int64_t		unmatched_buffer_ends;
	int64_t		duplicate_events;
	int64_t		unknown_events;
	int64_t		invalid_events;
	bool		has_ts;			/* first_ts, last_ts non-NULL */
	int64_t		first_ts;
	int64_t		last_ts;
} QoeMetrics;

/* Derived metrics; each returns false for NULL. */
extern double qoe_view_time(const QoeMetrics *m);
extern bool qoe_startup_time(const QoeMetrics *m, double *out);
extern bool qoe_avg_bitrate(const QoeMetrics *m, double *out);
extern bool qoe_rebuffer_ratio(const QoeMetrics *m, double *out);
extern bool qoe_rebuffer_percentage(const QoeMetrics *m, double *out);
extern bool qoe_rebuffer_frequency(const QoeMetrics *m, double *out);

/* Rows for the set-returning functions; times are in microseconds. */
typedef struct QoeEpisode
{
	uint32_t	key;			/* QOE_NO_KEY for NULL */
	int32_t		session_no;		/* 1, 2, ... within the key */
	int64_t		started_at;
	int64_t		ended_at;
	int			cause;			/* QoeCause */
	bool		has_position;
	double		position;		/* position in force when it opened */
	bool		closed;
} QoeEpisode;

typedef struct QoeInterval
{
	uint32_t	key;
	int32_t		session_no;
	int			state;			/* QoeState */
	int64_t		started_at;
	int64_t		ended_at;
	bool		has_start_position;
	double		start_position;
	bool		has_end_position;
	double		end_position;
} QoeInterval;

typedef struct QoeRange
{
	uint32_t	key;
	int32_t		session_no;
	double		from_position;
	double		to_position;
} QoeRange;

/*
 * A raw span between two consecutive events of a session, [started_at,
 * ended_at), unmerged, zero-length ones included (for qoe_windows).
 */
typedef struct QoeSpan
{
	uint32_t	key;
	int32_t		session_no;
	int64_t		started_at;
	int64_t		ended_at;
	bool		concurrent;		/* base starting or playing after the earlier event */
	int			state;			/* QoeState credited, or -1 (idle/ended: nothing) */
	bool		has_bitrate;	/* bitrate in force after the earlier event */
	double		bitrate;
} QoeSpan;

/*
 * Per-row callbacks; any may be NULL.  Intervals are reported merged and
 * without zero-length ones (SPEC 8.18); ranges merged (SPEC 8.19).  Within
 * a session rows come in time (resp. position) order; sessions come in
 * (key, session_no) order.
 */
typedef struct QoeSink
{
	void	   *arg;
	void		(*episode) (void *arg, const QoeEpisode *e);
	void		(*interval) (void *arg, const QoeInterval *iv);
	void		(*range) (void *arg, const QoeRange *r);
	/* raw spans, and one call per session with its first and last event */
	void		(*span) (void *arg, const QoeSpan *s);
	void		(*session) (void *arg, uint32_t key, int32_t session_no,
							int64_t first_ts, int64_t last_ts);
} QoeSink;

/*
 * Replay a buffer: canonicalises b first if needed (so b is not const), then
 * reconstructs every session and fills m.  sink may be NULL.
 */
extern void qoe_replay(QoeBuffer *b, const QoeParams *p, QoeMetrics *m,
					   const QoeSink *sink);

/*
 * qoe_replay over merged inputs, read piece_events events at a time into
 * piece (see QoeMergeReader; whole session keys): the same metrics, bit
 * for bit, as qoe_replay over the merged buffer, with one piece in memory.
 * NULL, or what was wrong with an input.
 */
extern const char *qoe_replay_merge(QoeMergeReader *mr, QoeBuffer *piece,
									size_t piece_events, const QoeParams *p,
									QoeMetrics *m, const QoeSink *sink);

/* earliest and latest event of b; false when b holds no event */
extern bool qoe_buffer_ts_range(const QoeBuffer *b, int64_t *first, int64_t *last);

/* ---------------------------------------------------------------------
 * Time buckets: concurrent viewers, play, buffering, bitrate (qoe_windows.c)
 * ---------------------------------------------------------------------
 */
#define QOE_WINDOWS_MAX_BUCKETS INT64_C(10000000)
/* the messages qoe_windows returns (compare the pointers) */
#define QOE_WINDOWS_ERR_TOO_MANY "too many buckets"
#define QOE_WINDOWS_ERR_READ "a piece of the timeline read differently from its check"
#define QOE_WINDOWS_ERR_RANGE "the first bucket would start before the earliest valid timestamp"
/* PostgreSQL's earliest valid timestamp (4714-11-24 00:00 UTC BC) */
#define QOE_TS_MIN_VALID INT64_C(-211813488000000000)

typedef struct QoeWindowRow
{
	int64_t		bucket_start;	/* PostgreSQL timestamp, aligned to the Unix epoch */
	int32_t		concurrent_peak;
	double		concurrent_avg;
	double		play_time;
	int64_t		buffer_count;
	double		buffer_time;
	bool		has_bitrate;	/* avg/min/max_bitrate non-NULL */
	double		avg_bitrate;
	double		min_bitrate;
	double		max_bitrate;
	int64_t		sessions_started;
} QoeWindowRow;

/*
 * One row per bucket of width_us microseconds (> 0), from the bucket of the
 * first event to that of the last (SPEC 6, 8.20), passed to emit in time
 * order.  Returns NULL, or a static message when the request is refused
 * (more than QOE_WINDOWS_MAX_BUCKETS buckets); nothing is emitted then.
 * No rows for a buffer without valid events.
 */
extern const char *qoe_windows(QoeBuffer *b, const QoeParams *p, int64_t width_us,
							   void (*emit) (void *arg, const QoeWindowRow *row),
							   void *arg);

/*
 * qoe_windows over a value opened with qoe_serial_open(), replayed
 * piece_events events at a time (whole session keys) in piece: the same
 * rows as qoe_windows over the whole buffer, with one piece in memory.
 */
extern const char *qoe_windows_serial(QoeSerialReader *r, QoeBuffer *piece,
									  size_t piece_events, const QoeParams *p,
									  int64_t width_us,
									  void (*emit) (void *arg, const QoeWindowRow *row),
									  void *arg);

#endif							/* QOE_CORE_H */
