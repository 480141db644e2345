/*-------------------------------------------------------------------------
 *
 * qoe_aggfuncs.c
 *	  Aggregate support: transition functions (column, row and rollup
 *	  forms), combine, serialize/deserialize and the final functions.
 *
 * The transition state of the row forms is a compact log of the rows
 * (QoeLog, about 13 bytes per event, one allocation in the aggregate
 * context, more blocks past 32 MB), whatever the group's size: appending
 * is a few sequential writes.  rollup() and combined large states are event buffers
 * (QoeAggState); see qoe_pg.h.  A log larger than qoe_agg.partial_log_limit
 * is serialized as a canonical buffer (decoded and sorted in the parallel
 * worker), which the leader merges in one pass.  Final functions decode a
 * log into a temporary buffer, straight into canonical order
 * (qoe_log_to_canonical), and may canonicalise a buffer state in place
 * (this does not change its meaning); either way the state stays usable,
 * so the aggregates work as window functions.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(qoe_agg_trans);
PG_FUNCTION_INFO_V1(qoe_agg_trans_row);
PG_FUNCTION_INFO_V1(qoe_agg_trans_timeline);
PG_FUNCTION_INFO_V1(qoe_agg_combine);
PG_FUNCTION_INFO_V1(qoe_agg_serialize);
PG_FUNCTION_INFO_V1(qoe_agg_deserialize);
PG_FUNCTION_INFO_V1(qoe_agg_final_timeline);
PG_FUNCTION_INFO_V1(qoe_agg_final_stats);

/* ---------------------------------------------------------------------
 * Event name -> kind, with a small cache
 *
 * Most event tables repeat a handful of spellings, so the last few raw
 * names (bytes as given) and their kinds are remembered.  The cache is
 * dropped when qoe_agg.event_aliases changes.
 * ---------------------------------------------------------------------
 */
#define KIND_CACHE_SIZE 64		/* slots; two-way: a name lives in h or h^1 */
#define KIND_CACHE_MAXLEN 48

typedef struct KindCacheEntry
{
	int			len;			/* -1: empty */
	int			kind;
	char		bytes[KIND_CACHE_MAXLEN];
} KindCacheEntry;

typedef struct KindCache
{
	uint64		generation;
	KindCacheEntry entries[KIND_CACHE_SIZE];
} KindCache;

static void
kind_cache_init(KindCache *kc)
{
	int			i;

	kc->generation = qoe_pg_alias_generation;
	for (i = 0; i < KIND_CACHE_SIZE; i++)
		kc->entries[i].len = -1;
}

/* slot of a name: a multiplicative hash of its first and last 8 bytes */
static inline int
kind_cache_slot(const char *name, size_t len)
{
	uint64		a = 0,
				b = 0,
				h;

	if (len >= 8)
	{
		memcpy(&a, name, 8);
		memcpy(&b, name + len - 8, 8);
	}
	else if (len > 0)
		memcpy(&a, name, len);
	h = (a * UINT64CONST(0x9e3779b97f4a7c15)) ^ (b * UINT64CONST(0xc2b2ae3d27d4eb4f)) ^ len;
	h ^= h >> 29;
	h *= UINT64CONST(0xbf58476d1ce4e5b9);
	return (int) (h >> 58);		/* 6 bits: KIND_CACHE_SIZE */
}

/*
 * The kind of a raw event name.  Most event tables repeat a handful of
 * spellings, so names (bytes as given) and their kinds are remembered: a
 * hit costs a hash of two words and a memcmp.  The cache is dropped when
 * qoe_agg.event_aliases changes.
 */
static inline int
lookup_kind_cached(KindCache *kc, const char *name, size_t len)
{
	int			slot;
	int			kind;
	KindCacheEntry *e;

	if (unlikely(kc->generation != qoe_pg_alias_generation))
		kind_cache_init(kc);

	if (unlikely(len > KIND_CACHE_MAXLEN))
		return qoe_lookup_kind(qoe_pg_alias_map, name, len);

	slot = kind_cache_slot(name, len);
	e = &kc->entries[slot];
	if (e->len == (int) len && memcmp(e->bytes, name, len) == 0)
		return e->kind;
	e = &kc->entries[slot ^ 1];
	if (e->len == (int) len && memcmp(e->bytes, name, len) == 0)
		return e->kind;

	kind = qoe_lookup_kind(qoe_pg_alias_map, name, len);
	/* fill an empty way, else replace the second one */
	e = &kc->entries[kc->entries[slot].len < 0 ? slot : slot ^ 1];
	memcpy(e->bytes, name, len);
	e->len = (int) len;
	e->kind = kind;
	return kind;
}

/* ---------------------------------------------------------------------
 * State helpers
 * ---------------------------------------------------------------------
 */
static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggcontext;
}

void
qoe_pg_state_corrupt(const char *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid qoe_agg aggregate state: %s", err)));
}

/*
 * A state kept in the compact form decoded into its buffer: all of it
 * checked (its events had not been), as a state deserialized that way.
 */
static void
state_materialize(QoeAggState *state)
{
	const char *err;

	if (state->compact == NULL)
		return;
	qoe_buffer_free(&state->buf);
	qoe_buffer_init(&state->buf, &state->alloc);
	err = qoe_buffer_deserialize(&state->buf, state->compact,
								 state->compact_len, false);
	if (err != NULL)
		qoe_pg_state_corrupt(err);
	pfree(state->compact);
	state->compact = NULL;
}

/* the events a buffer state holds itself (pending states not counted) */
static size_t
state_own_nevents(const QoeAggState *state)
{
	return state->compact != NULL ? state->reader.nevents : state->buf.nevents;
}

/*
 * Put all of a buffer state's events in its buffer: its own (if kept
 * compact), then its pending partial states merged in.  One k-way pass
 * writes the merged events once (merging them one at a time would write
 * the growing buffer again for each).
 */
static void
state_settle(QoeAggState *state)
{
	const QoeBuffer *src[QOE_MAX_PENDING];
	int			n = state->npending;
	int			i;

	state_materialize(state);
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
	{
		state_materialize(state->pending[i]);
		src[i] = &state->pending[i]->buf;
	}
	qoe_buffer_canonicalize(&state->buf);
	qoe_buffer_merge_canonical_many(&state->buf, src, n);
	state->npending = 0;
	for (i = 0; i < n; i++)
		MemoryContextDelete(state->pending[i]->own_cxt);
}

/*
 * Add one row to a transition state (NULL: none yet) living in cxt; returns
 * the state's new address.  Groups are compact logs (a buffer state, which
 * only combining makes, takes the row as it is).
 */
static void *
state_add(void *st, MemoryContext cxt, bool ts_isnull, int64 ts, int kind,
		  bool pos_isnull, double pos, bool value_isnull, double value,
		  const char *key, size_t keylen)
{
	QoeAllocator a;
	QoeLog	   *log;

	if (st != NULL && *(uint32 *) st == QOE_STATE_BUFFER)
	{
		state_settle((QoeAggState *) st);
		qoe_buffer_add(&((QoeAggState *) st)->buf, ts_isnull, ts, kind,
					   pos_isnull, pos, value_isnull, value, key, keylen);
		return st;
	}
	qoe_pg_allocator_init(&a, cxt);
	if (st == NULL)
	{
		log = qoe_log_create(&a, 0);
		log->tag = QOE_STATE_LOG;
	}
	else
		log = (QoeLog *) st;
	return qoe_log_add(log, &a, ts_isnull, ts, kind, pos_isnull, pos,
					   value_isnull, value, key, keylen);
}

/* a log state turned into a buffer state in cxt (the log is freed) */
static QoeAggState *
log_to_state(QoeLog *log, MemoryContext cxt)
{
	QoeAggState *state = qoe_pg_state_create(cxt);
	QoeAllocator a;

	qoe_log_to_buffer(log, &state->buf);
	qoe_pg_allocator_init(&a, cxt);
	qoe_log_free(log, &a);
	return state;
}

/* any state as a buffer state (a log state is converted and freed) */
static QoeAggState *
state_as_buffer(void *st, MemoryContext cxt)
{
	if (st == NULL)
		return qoe_pg_state_create(cxt);
	if (*(uint32 *) st == QOE_STATE_BUFFER)
	{
		state_settle((QoeAggState *) st);
		return (QoeAggState *) st;
	}
	return log_to_state((QoeLog *) st, cxt);
}

/*
 * Does a final function read this state merged, a piece at a time?  Yes for
 * a buffer state with events kept compact or pending states: the merged
 * buffer is never built (for one large group, a leader that received the
 * workers' states would otherwise hold them decoded, then merged: two
 * copies of all the events at 32 bytes each).
 */
static bool
state_streams(void *st)
{
	QoeAggState *state = (QoeAggState *) st;

	return *(uint32 *) st == QOE_STATE_BUFFER &&
		(state->compact != NULL || state->npending > 0);
}

/*
 * Open a merge of a buffer state's events (its own and its pending
 * states') into mr; out (initialised here with *alloc, a temporary
 * allocator: qoe_pg_temp_allocator_init) receives the merged keys and
 * counters.  The state's own buffer is put in canonical form (the same
 * events); nothing is consumed.
 */
static void
state_merge_open(QoeAggState *state, QoeMergeReader *mr, QoeBuffer *out,
				 QoeAllocator *alloc)
{
	QoeMergeInput in[1 + QOE_MAX_PENDING];
	int			n = 0;
	int			i;
	const char *err;

	StaticAssertStmt(1 + QOE_MAX_PENDING <= QOE_MERGE_MAX,
					 "too many pending states for one merge");
	for (i = -1; i < state->npending; i++)
	{
		QoeAggState *s = i < 0 ? state : state->pending[i];

		/* pending states are canonical (see qoe_agg_combine) */
		if (s->compact == NULL)
			qoe_buffer_canonicalize(&s->buf);
		in[n].buf = &s->buf;
		in[n].reader = s->compact != NULL ? &s->reader : NULL;
		n++;
	}
	qoe_pg_temp_allocator_init(alloc);
	qoe_buffer_init(out, alloc);
	err = qoe_merge_open(mr, in, n, out);
	if (err != NULL)
		qoe_pg_state_corrupt(err);
}

static void
state_merge_close(QoeMergeReader *mr, QoeBuffer *out)
{
	qoe_merge_close(mr);
	qoe_buffer_free(out);
}

/*
 * The events of a state as a buffer, for final functions: a buffer state's
 * own buffer (the caller may canonicalise it in place), or a log decoded
 * into *tmp with *tmpalloc (a temporary allocator, see
 * qoe_pg_temp_allocator_init; the caller frees it).
 */
static QoeBuffer *
state_buffer(void *st, QoeBuffer *tmp, QoeAllocator *tmpalloc)
{
	if (*(uint32 *) st == QOE_STATE_BUFFER)
	{
		state_settle((QoeAggState *) st);
		return &((QoeAggState *) st)->buf;
	}
	qoe_pg_temp_allocator_init(tmpalloc);
	qoe_buffer_init(tmp, tmpalloc);
	/* every caller puts it in canonical form: decode it that way at once */
	qoe_log_to_canonical((const QoeLog *) st, tmp);
	return tmp;
}

/* ---------------------------------------------------------------------
 * qoe_agg_trans(internal, ts, event [, position [, value [, session]]])
 * ---------------------------------------------------------------------
 */
Datum
qoe_agg_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "qoe_agg_trans");
	void	   *state = PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0);
	int			nargs = PG_NARGS();
	bool		ts_isnull;
	int64		ts = 0;
	int			kind = QOE_KIND_UNKNOWN;
	bool		pos_isnull = true;
	double		pos = 0;
	bool		value_isnull = true;
	double		value = 0;
	const char *key = NULL;
	size_t		keylen = 0;
	struct varlena *keyv = NULL;

	ts_isnull = PG_ARGISNULL(1);
	if (!ts_isnull)
		ts = PG_GETARG_TIMESTAMPTZ(1);

	/* a bad ts is checked first; nothing else is read (SPEC 8.3) */
	if (!ts_isnull && !TIMESTAMP_NOT_FINITE(ts) && nargs > 2 && !PG_ARGISNULL(2))
	{
		KindCache  *kc = (KindCache *) fcinfo->flinfo->fn_extra;
		Datum		d = PG_GETARG_DATUM(2);
		struct varlena *ev = PG_DETOAST_DATUM_PACKED(d);

		if (kc == NULL)
		{
			kc = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(KindCache));
			kind_cache_init(kc);
			fcinfo->flinfo->fn_extra = kc;
		}
		kind = lookup_kind_cached(kc, VARDATA_ANY(ev), VARSIZE_ANY_EXHDR(ev));
		if ((Pointer) ev != DatumGetPointer(d))
			pfree(ev);
	}

	if (nargs > 3 && !PG_ARGISNULL(3))
	{
		pos_isnull = false;
		pos = PG_GETARG_FLOAT8(3);
	}
	if (nargs > 4 && !PG_ARGISNULL(4))
	{
		value_isnull = false;
		value = PG_GETARG_FLOAT8(4);
	}
	if (nargs > 5 && !PG_ARGISNULL(5))
	{
		keyv = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(5));
		key = VARDATA_ANY(keyv);
		keylen = VARSIZE_ANY_EXHDR(keyv);
	}

	state = state_add(state, aggcontext, ts_isnull, ts, kind,
					  pos_isnull, pos, value_isnull, value, key, keylen);

	if (keyv != NULL && (Pointer) keyv != DatumGetPointer(PG_GETARG_DATUM(5)))
		pfree(keyv);

	PG_RETURN_POINTER(state);
}

/* ---------------------------------------------------------------------
 * qoe_agg_trans_row(internal, record): columns by name (SPEC 6)
 *
 * For each role the first accepted name that exists wins (names match
 * exactly, as stored in the catalog; dropped columns are ignored).  ts may
 * be timestamptz or timestamp (the same int64, read as UTC).  event and
 * session may be text, varchar, char(n) (trailing blanks dropped), name, or
 * any other type through its output function (enums, uuid, integers...).
 * position and value must be numeric types.  A missing ts or event column,
 * or a column of an unusable type, is an error raised on the first row.
 * The column map is cached in fn_extra per row type.
 * ---------------------------------------------------------------------
 */
static const char *const ts_names[] = {"ts", "event_time", "timestamp", "time", NULL};
static const char *const event_names[] = {"event", "event_type", "event_name", "type", NULL};
static const char *const pos_names[] = {"position", "position_s", "playhead", "current_time", NULL};
static const char *const value_names[] = {"value", "bitrate", "bitrate_bps", NULL};
static const char *const session_names[] = {"session_id", "session", "view_id", NULL};

typedef enum ColKind
{
	COL_ABSENT = 0,
	COL_TIMESTAMP,				/* timestamptz or timestamp: same int64 */
	COL_TEXT,					/* text, varchar, bpchar: varlena bytes */
	COL_NAME,					/* name */
	COL_OUTPUT,					/* anything else, via its output function */
	COL_FLOAT8,
	COL_FLOAT4,
	COL_INT2,
	COL_INT4,
	COL_INT8,
	COL_NUMERIC
} ColKind;

typedef struct RowCol
{
	int			attnum;			/* 1-based; 0 when absent */
	ColKind		kind;
	bool		bpchar;			/* strip trailing blanks (session keys) */
	FmgrInfo	outfn;			/* for COL_OUTPUT */
} RowCol;

typedef struct RowCache
{
	KindCache	kinds;
	Oid			tuptype;
	int32		tuptypmod;
	TupleDesc	tupdesc;		/* copy in fn_mcxt, or NULL */
	RowCol		ts;
	RowCol		event;
	RowCol		pos;
	RowCol		value;
	RowCol		session;
} RowCache;

static char *
names_list(const char *const *names)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	for (i = 0; names[i] != NULL; i++)
	{
		if (i > 0)
			appendStringInfoString(&s, names[i + 1] == NULL ? " or " : ", ");
		appendStringInfo(&s, "\"%s\"", names[i]);
	}
	return s.data;
}

/* the first accepted name that exists in the row type (dropped columns ignored) */
static Form_pg_attribute
find_column(TupleDesc tupdesc, const char *const *names, int *attnum)
{
	int			n,
				i;

	for (n = 0; names[n] != NULL; n++)
	{
		for (i = 0; i < tupdesc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, i);

			if (att->attisdropped)
				continue;
			if (strcmp(NameStr(att->attname), names[n]) == 0)
			{
				*attnum = i + 1;
				return att;
			}
		}
	}
	*attnum = 0;
	return NULL;
}

static void
map_text_column(TupleDesc tupdesc, const char *const *names, RowCol *col,
				MemoryContext mcxt)
{
	Form_pg_attribute att = find_column(tupdesc, names, &col->attnum);
	Oid			typoutput;
	bool		typisvarlena;

	col->bpchar = false;
	if (att == NULL)
	{
		col->kind = COL_ABSENT;
		return;
	}
	switch (getBaseType(att->atttypid))
	{
		case TEXTOID:
		case VARCHAROID:
			col->kind = COL_TEXT;
			break;
		case BPCHAROID:
			col->kind = COL_TEXT;
			col->bpchar = true;
			break;
		case NAMEOID:
			col->kind = COL_NAME;
			break;
		default:
			col->kind = COL_OUTPUT;
			getTypeOutputInfo(att->atttypid, &typoutput, &typisvarlena);
			fmgr_info_cxt(typoutput, &col->outfn, mcxt);
			break;
	}
}

static void
map_number_column(TupleDesc tupdesc, const char *const *names, RowCol *col,
				  const char *role)
{
	Form_pg_attribute att = find_column(tupdesc, names, &col->attnum);

	col->bpchar = false;
	if (att == NULL)
	{
		col->kind = COL_ABSENT;
		return;
	}
	switch (getBaseType(att->atttypid))
	{
		case FLOAT8OID:
			col->kind = COL_FLOAT8;
			break;
		case FLOAT4OID:
			col->kind = COL_FLOAT4;
			break;
		case INT2OID:
			col->kind = COL_INT2;
			break;
		case INT4OID:
			col->kind = COL_INT4;
			break;
		case INT8OID:
			col->kind = COL_INT8;
			break;
		case NUMERICOID:
			col->kind = COL_NUMERIC;
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of the event row has unsupported type %s",
							NameStr(att->attname), format_type_be(att->atttypid)),
					 errdetail("The %s column (the first existing column named %s) must be of type double precision, real, smallint, integer, bigint or numeric.",
							   role, names_list(names)),
					 errhint("Cast the column in a view, or pass the columns explicitly, as in qoe_timeline(ts, event, position, value, session).")));
	}
}

static void
build_row_cache(RowCache *rc, TupleDesc tupdesc, MemoryContext mcxt)
{
	Form_pg_attribute att;

	att = find_column(tupdesc, ts_names, &rc->ts.attnum);
	if (att == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("row has no event timestamp column"),
				 errdetail("The row form reads the event timestamp from the first existing column named %s.",
						   names_list(ts_names)),
				 errhint("Rename the columns in a view, or pass the columns explicitly, as in qoe_timeline(ts, event, position, value, session).")));
	switch (getBaseType(att->atttypid))
	{
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
			rc->ts.kind = COL_TIMESTAMP;
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of the event row has unsupported type %s",
							NameStr(att->attname), format_type_be(att->atttypid)),
					 errdetail("The event timestamp column must be of type timestamp with time zone or timestamp without time zone."),
					 errhint("Cast the column in a view, or pass the columns explicitly, as in qoe_timeline(ts, event, position, value, session).")));
	}

	map_text_column(tupdesc, event_names, &rc->event, mcxt);
	if (rc->event.kind == COL_ABSENT)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("row has no event name column"),
				 errdetail("The row form reads the event name from the first existing column named %s.",
						   names_list(event_names)),
				 errhint("Rename the columns in a view, or pass the columns explicitly, as in qoe_timeline(ts, event, position, value, session).")));

	map_number_column(tupdesc, pos_names, &rc->pos, "position");
	map_number_column(tupdesc, value_names, &rc->value, "value");
	map_text_column(tupdesc, session_names, &rc->session, mcxt);

}

/* a text-like column's bytes; returns false for NULL */
static bool
get_text_col(HeapTuple tup, TupleDesc tupdesc, const RowCol *col,
			 const char **bytes, size_t *len)
{
	bool		isnull;
	Datum		d;

	if (col->kind == COL_ABSENT)
		return false;
	d = heap_getattr(tup, col->attnum, tupdesc, &isnull);
	if (isnull)
		return false;
	switch (col->kind)
	{
		case COL_TEXT:
			{
				struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
				const char *p = VARDATA_ANY(v);
				size_t		n = VARSIZE_ANY_EXHDR(v);

				if (col->bpchar)
					while (n > 0 && p[n - 1] == ' ')
						n--;
				*bytes = p;
				*len = n;
				break;
			}
		case COL_NAME:
			*bytes = NameStr(*DatumGetName(d));
			*len = strlen(*bytes);
			break;
		case COL_OUTPUT:
			*bytes = OutputFunctionCall((FmgrInfo *) &col->outfn, d);
			*len = strlen(*bytes);
			break;
		default:
			elog(ERROR, "unexpected column kind %d", (int) col->kind);
	}
	return true;
}

/* a numeric column as float8; returns false for NULL */
static bool
get_number_col(HeapTuple tup, TupleDesc tupdesc, const RowCol *col, double *out)
{
	bool		isnull;
	Datum		d;

	if (col->kind == COL_ABSENT)
		return false;
	d = heap_getattr(tup, col->attnum, tupdesc, &isnull);
	if (isnull)
		return false;
	switch (col->kind)
	{
		case COL_FLOAT8:
			*out = DatumGetFloat8(d);
			break;
		case COL_FLOAT4:
			*out = (double) DatumGetFloat4(d);
			break;
		case COL_INT2:
			*out = (double) DatumGetInt16(d);
			break;
		case COL_INT4:
			*out = (double) DatumGetInt32(d);
			break;
		case COL_INT8:
			*out = (double) DatumGetInt64(d);
			break;
		case COL_NUMERIC:
			*out = DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
			break;
		default:
			elog(ERROR, "unexpected column kind %d", (int) col->kind);
	}
	return true;
}

Datum
qoe_agg_trans_row(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "qoe_agg_trans_row");
	void	   *state = PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0);
	RowCache   *rc = (RowCache *) fcinfo->flinfo->fn_extra;
	HeapTupleHeader td;
	Oid			tuptype;
	int32		tuptypmod;
	TupleDesc	tupdesc;
	HeapTupleData tup;
	bool		ts_isnull = true;
	int64		ts = 0;
	int			kind = QOE_KIND_UNKNOWN;
	bool		pos_isnull;
	double		pos = 0;
	bool		value_isnull;
	double		value = 0;
	const char *key = NULL;
	size_t		keylen = 0;

	if (PG_ARGISNULL(1))
	{
		/* a NULL row: no timestamp, counted invalid */
		state = state_add(state, aggcontext, true, 0, QOE_KIND_UNKNOWN,
						  true, 0, true, 0, NULL, 0);
		PG_RETURN_POINTER(state);
	}

	td = PG_GETARG_HEAPTUPLEHEADER(1);
	tuptype = HeapTupleHeaderGetTypeId(td);
	tuptypmod = HeapTupleHeaderGetTypMod(td);

	if (rc == NULL)
	{
		rc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RowCache));
		kind_cache_init(&rc->kinds);
		fcinfo->flinfo->fn_extra = rc;
	}
	if (rc->tupdesc == NULL || rc->tuptype != tuptype || rc->tuptypmod != tuptypmod)
	{
		TupleDesc	cached = lookup_rowtype_tupdesc(tuptype, tuptypmod);
		TupleDesc	copy;
		MemoryContext oldcxt;

		if (rc->tupdesc != NULL)
		{
			FreeTupleDesc(rc->tupdesc);
			rc->tupdesc = NULL;
		}
		/* a private copy: no per-row type cache lookups */
		oldcxt = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		copy = CreateTupleDescCopy(cached);
		MemoryContextSwitchTo(oldcxt);
		ReleaseTupleDesc(cached);

		build_row_cache(rc, copy, fcinfo->flinfo->fn_mcxt);
		rc->tupdesc = copy;
		rc->tuptype = tuptype;
		rc->tuptypmod = tuptypmod;
	}
	tupdesc = rc->tupdesc;

	tup.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = td;

	{
		bool		isnull;
		Datum		d = heap_getattr(&tup, rc->ts.attnum, tupdesc, &isnull);

		if (!isnull)
		{
			ts_isnull = false;
			ts = DatumGetInt64(d);
		}
	}

	if (!ts_isnull && !TIMESTAMP_NOT_FINITE(ts))
	{
		const char *name;
		size_t		len;

		if (get_text_col(&tup, tupdesc, &rc->event, &name, &len))
			kind = lookup_kind_cached(&rc->kinds, name, len);
	}

	pos_isnull = !get_number_col(&tup, tupdesc, &rc->pos, &pos);
	value_isnull = !get_number_col(&tup, tupdesc, &rc->value, &value);
	if (!get_text_col(&tup, tupdesc, &rc->session, &key, &keylen))
	{
		key = NULL;
		keylen = 0;
	}

	state = state_add(state, aggcontext, ts_isnull, ts, kind,
					  pos_isnull, pos, value_isnull, value, key, keylen);

	PG_RETURN_POINTER(state);
}

/* ---------------------------------------------------------------------
 * qoe_agg_trans_timeline(internal, qoe_timeline): rollup
 * ---------------------------------------------------------------------
 */
Datum
qoe_agg_trans_timeline(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "qoe_agg_trans_timeline");
	void	   *st = PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0);
	QoeAggState *state;
	QoeAllocator alloc;
	QoeBuffer	b;

	/* NULL timelines are ignored, like NULLs in sum() */
	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}

	state = state_as_buffer(st, aggcontext);

	qoe_pg_allocator_init(&alloc, CurrentMemoryContext);
	qoe_pg_timeline_decode(PG_GETARG_DATUM(1), &b, &alloc);
	qoe_buffer_merge(&state->buf, &b);
	qoe_buffer_free(&b);

	PG_RETURN_POINTER(state);
}

/* ---------------------------------------------------------------------
 * Combine, serialize, deserialize
 * ---------------------------------------------------------------------
 */
/*
 * Merge src into a buffer state.  A canonical partial state of comparable
 * size is merged in one linear pass that keeps the result canonical (dst is
 * put in canonical form first when it is not: a small log appended
 * earlier).  A much smaller one, or one not canonical, is appended, and the
 * final step sorts: merging a few large states stays linear, and many small
 * ones (partitionwise aggregation over many partitions) do not copy the
 * large state again each time.
 */
static void
merge_buffers(QoeAggState *state1, const QoeBuffer *src)
{
	QoeBuffer  *dst = &state1->buf;

	if (src->canonical && src->nevents > 0 &&
		src->nevents >= dst->nevents / 4)
	{
		qoe_buffer_canonicalize(dst);
		qoe_buffer_merge_canonical(dst, src);
	}
	else
		qoe_buffer_merge(dst, src);
}

Datum
qoe_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "qoe_agg_combine");
	void	   *st1 = PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0);
	void	   *st2 = PG_ARGISNULL(1) ? NULL : PG_GETARG_POINTER(1);
	QoeAggState *state1;

	if (st2 == NULL)
	{
		if (st1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st1);
	}

	/*
	 * st2 may live in a short-lived context (freshly deserialized): what is
	 * kept is copied into the aggregate context, or (a large buffer state)
	 * its own context is moved there, below.
	 */
	if (*(uint32 *) st2 == QOE_STATE_LOG &&
		(st1 == NULL || *(uint32 *) st1 == QOE_STATE_LOG))
	{
		const QoeLog *log2 = (const QoeLog *) st2;
		QoeAllocator a;
		QoeLog	   *log1;

		qoe_pg_allocator_init(&a, aggcontext);
		if (st1 == NULL)
		{
			/* + 1: qoe_log_concat reserves room for a reset record */
			log1 = qoe_log_create(&a, qoe_log_bytes(log2) + 1);
			log1->tag = QOE_STATE_LOG;
		}
		else
			log1 = (QoeLog *) st1;

		/*
		 * log2 is a transition state or a deserialized one (its records
		 * were checked there): a copy of its records, not decoded
		 */
		PG_RETURN_POINTER(qoe_log_concat(log1, &a, log2));
	}

	/*
	 * A deserialized buffer state has a memory context of its own, a child
	 * of the per-tuple context (see qoe_agg_deserialize): the first one is
	 * adopted by moving that context under the aggregate context, and the
	 * others are merged and their context deleted.
	 */
	if (*(uint32 *) st2 == QOE_STATE_BUFFER &&
		((QoeAggState *) st2)->own_cxt != NULL)
	{
		QoeAggState *state2 = (QoeAggState *) st2;
		MemoryContext cxt2 = state2->own_cxt;

		/*
		 * Only a canonical state is adopted: its keys were checked to be
		 * distinct.  Merging any other into an empty state interns its keys
		 * (a forged state may name one key twice).
		 */
		if (st1 == NULL && state2->buf.canonical)
		{
			MemoryContextSetParent(cxt2, aggcontext);
			state2->own_cxt = NULL;
			PG_RETURN_POINTER(state2);
		}

		/*
		 * A canonical state of comparable size joins the pending ones, kept
		 * as it is (its context moved under the aggregate context): they
		 * are merged with the state's buffer all at once, by a final
		 * function reading them merged (state_merge_open), or by the next
		 * step that needs them in the buffer (state_settle).
		 */
		if (st1 != NULL && *(uint32 *) st1 == QOE_STATE_BUFFER &&
			state2->buf.canonical && state_own_nevents(state2) > 0 &&
			state_own_nevents(state2) >= state_own_nevents((QoeAggState *) st1) / 4)
		{
			state1 = (QoeAggState *) st1;
			if (state1->npending == QOE_MAX_PENDING)
				state_settle(state1);
			MemoryContextSetParent(cxt2, aggcontext);
			state1->pending[state1->npending++] = state2;
			PG_RETURN_POINTER(state1);
		}
		state1 = state_as_buffer(st1, aggcontext);
		state_materialize(state2);
		merge_buffers(state1, &state2->buf);
		MemoryContextDelete(cxt2);
		PG_RETURN_POINTER(state1);
	}

	state1 = state_as_buffer(st1, aggcontext);
	if (*(uint32 *) st2 == QOE_STATE_LOG)
		qoe_log_to_buffer((const QoeLog *) st2, &state1->buf);
	else
	{
		/* all of st2, pending states included (none today: it is deserialized) */
		state_settle((QoeAggState *) st2);
		qoe_buffer_merge(&state1->buf, &((QoeAggState *) st2)->buf);
	}
	PG_RETURN_POINTER(state1);
}

/*
 * The serialized state: a log state as "QLG1" and its records (a plain
 * copy), a buffer state in the compact binary form of a qoe_timeline value
 * ("QCB1").  Deserialize also takes the older 32-byte-per-event form
 * ("QTL1"), as qoe_timeline values do.
 */
#define QOE_LOG_SERIAL_MAGIC "QLG1"

static void
serial_too_large(size_t size)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("qoe_agg aggregate state is too large to serialize"),
			 errdetail("The state would need %zu bytes; the maximum is %zu bytes.",
					   size, (size_t) (MaxAllocSize - VARHDRSZ)),
			 errhint("Aggregate over smaller groups, or disable parallel aggregation with SET max_parallel_workers_per_gather = 0.")));
}

/*
 * A buffer, put in canonical form, in the compact binary form (about a
 * third of the bytes of the 32-byte-per-event form: every copy on the way
 * to the leader is that much shorter).  The bound is allocated; only what
 * is written is touched and sent.
 */
static bytea *
serialize_buffer(QoeBuffer *b)
{
	size_t		bound,
				size;
	bytea	   *result;

	qoe_buffer_canonicalize(b);
	bound = qoe_buffer_compact_bound(b);
	if (bound > MaxAllocHugeSize - VARHDRSZ)
		serial_too_large(bound);
	result = (bytea *) qoe_pg_alloc_large(CurrentMemoryContext, bound + VARHDRSZ);
	size = qoe_buffer_compact_serialize(b, (unsigned char *) VARDATA(result));
	if (size > MaxAllocSize - VARHDRSZ)
		serial_too_large(size);
	SET_VARSIZE(result, size + VARHDRSZ);
	return result;
}

Datum
qoe_agg_serialize(PG_FUNCTION_ARGS)
{
	void	   *st;
	size_t		size;
	bytea	   *result;
	QoeAllocator alloc;
	QoeBuffer	tmp;
	QoeBuffer  *b;

	(void) agg_context(fcinfo, "qoe_agg_serialize");
	st = PG_GETARG_POINTER(0);

	/*
	 * A log up to qoe_agg.partial_log_limit is sent as a copy of its
	 * records.  A larger one is sent as a canonical buffer, like a buffer
	 * state: decoding and sorting it here runs in each parallel worker, and
	 * lets the leader merge the partial states in one pass
	 * (qoe_buffer_merge_canonical).
	 */
	if (*(uint32 *) st == QOE_STATE_LOG &&
		4 + qoe_log_bytes((const QoeLog *) st) <= qoe_pg_partial_log_limit())
	{
		const QoeLog *log = (const QoeLog *) st;

		size = 4 + qoe_log_bytes(log);
		if (size > MaxAllocSize - VARHDRSZ)
			serial_too_large(size);
		result = (bytea *) qoe_pg_alloc_large(CurrentMemoryContext, size + VARHDRSZ);
		SET_VARSIZE(result, size + VARHDRSZ);
		memcpy(VARDATA(result), QOE_LOG_SERIAL_MAGIC, 4);
		(void) qoe_log_copy_records(log, (unsigned char *) VARDATA(result) + 4);
		PG_RETURN_BYTEA_P(result);
	}

	/* a buffer state's canonical form means the same events */
	b = state_buffer(st, &tmp, &alloc);
	result = serialize_buffer(b);
	if (b == &tmp)
		qoe_buffer_free(&tmp);
	PG_RETURN_BYTEA_P(result);
}

Datum
qoe_agg_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	struct varlena *v;
	QoeAggState *state;
	const char *err;
	const unsigned char *data;
	size_t		len;

	(void) agg_context(fcinfo, "qoe_agg_deserialize");
	v = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	data = (const unsigned char *) VARDATA_ANY(v);
	len = VARSIZE_ANY_EXHDR(v);

	/* in the current (per-tuple) context; combine copies what it keeps */
	if (len >= 4 && memcmp(data, QOE_LOG_SERIAL_MAGIC, 4) == 0)
	{
		QoeAllocator a;
		QoeLog	   *log;

		qoe_pg_allocator_init(&a, CurrentMemoryContext);
		log = qoe_log_create(&a, len - 4);
		log->tag = QOE_STATE_LOG;
		log = qoe_log_append_records(log, &a, data + 4, len - 4, &err);
		if (err != NULL)
			qoe_pg_state_corrupt(err);
		PG_RETURN_POINTER(log);
	}

	/*
	 * A buffer state can be large.  It gets a memory context of its own, a
	 * child of the current (per-tuple) context: qoe_agg_combine adopts it
	 * by moving that context under the aggregate context, instead of
	 * copying it, or deletes it once merged; and a state combine never
	 * sees (a spilling hash aggregate deserializes rows of groups it does
	 * not hold) goes with the per-tuple context.
	 */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "qoe_agg partial state",
								ALLOCSET_DEFAULT_SIZES);
	state = qoe_pg_state_create(cxt);

	/*
	 * The compact form is kept as it is (a third of the bytes of decoded
	 * events): the final functions read it merged with the other partial
	 * states, a piece at a time, checking each event as they read it (any
	 * other use decodes and checks it all, state_materialize).  Its header
	 * and keys are checked now.
	 */
	if (len >= 4 && memcmp(data, QOE_COMPACT_MAGIC, 4) == 0)
	{
		state->compact = (unsigned char *) qoe_pg_alloc_large(cxt, len);
		state->compact_len = len;
		memcpy(state->compact, data, len);
		err = qoe_serial_open_unchecked(&state->reader, state->compact, len,
										&state->buf);
	}
	else
		err = qoe_buffer_deserialize(&state->buf, data, len, false);
	if (err != NULL)
	{
		MemoryContextDelete(cxt);
		qoe_pg_state_corrupt(err);
	}
	state->own_cxt = cxt;
	PG_RETURN_POINTER(state);
}

/* ---------------------------------------------------------------------
 * Final functions
 * ---------------------------------------------------------------------
 */
Datum
qoe_agg_final_timeline(PG_FUNCTION_ARGS)
{
	QoeAllocator alloc;
	QoeBuffer	tmp;
	QoeBuffer  *b;
	struct varlena *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (state_streams(PG_GETARG_POINTER(0)))
	{
		QoeMergeReader mr;

		state_merge_open((QoeAggState *) PG_GETARG_POINTER(0), &mr, &tmp, &alloc);
		result = qoe_pg_timeline_from_merge(&mr);
		state_merge_close(&mr, &tmp);
		PG_RETURN_POINTER(result);
	}
	b = state_buffer(PG_GETARG_POINTER(0), &tmp, &alloc);

	/* canonicalises a buffer state in place (allowed: same meaning) */
	result = qoe_pg_timeline_from_buffer(b);
	if (b == &tmp)
		qoe_buffer_free(&tmp);
	PG_RETURN_POINTER(result);
}

static void
replay_state(void *st, QoeMetrics *m)
{
	QoeParams	p;
	QoeAllocator alloc;
	QoeBuffer	tmp;
	QoeBuffer  *b;

	qoe_pg_params(&p);
	if (state_streams(st))
	{
		QoeMergeReader mr;
		QoeBuffer	piece;
		const char *err;

		state_merge_open((QoeAggState *) st, &mr, &tmp, &alloc);
		qoe_buffer_init(&piece, &alloc);
		err = qoe_replay_merge(&mr, &piece, QOE_PG_MERGE_PIECE, &p, m, NULL);
		qoe_buffer_free(&piece);
		state_merge_close(&mr, &tmp);
		if (err != NULL)
			qoe_pg_state_corrupt(err);
		return;
	}
	b = state_buffer(st, &tmp, &alloc);
	qoe_replay(b, &p, m, NULL);
	if (b == &tmp)
		qoe_buffer_free(&tmp);
}

/*
 * qoe_stats(...): the first call checks the result type and builds the
 * composite (qoe_pg_stats_datum); the blessed tuple descriptor is then kept
 * in fn_extra, so that the other groups only fill and form the tuple.
 */
Datum
qoe_agg_final_stats(PG_FUNCTION_ARGS)
{
	QoeMetrics	m;
	TupleDesc	tupdesc;
	Datum		values[QOE_NFIELDS];
	bool		nulls[QOE_NFIELDS];
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	replay_state(PG_GETARG_POINTER(0), &m);

	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (tupdesc == NULL)
	{
		Datum		result = qoe_pg_stats_datum(fcinfo, &m);	/* checks the type */
		MemoryContext oldcxt;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		oldcxt = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(oldcxt);
		fcinfo->flinfo->fn_extra = tupdesc;
		return result;
	}
	for (i = 0; i < QOE_NFIELDS; i++)
		values[i] = qoe_pg_metric_datum(&m, (QoeField) i, &nulls[i]);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* one-step aggregates: one final function per metric of the SQL script */
#define QOE_FINAL(lower, upper) \
PG_FUNCTION_INFO_V1(qoe_agg_final_##lower); \
Datum \
qoe_agg_final_##lower(PG_FUNCTION_ARGS) \
{ \
	QoeMetrics	m; \
	bool		isnull; \
	Datum		result; \
	\
	if (PG_ARGISNULL(0)) \
		PG_RETURN_NULL(); \
	replay_state(PG_GETARG_POINTER(0), &m); \
	result = qoe_pg_metric_datum(&m, QOE_F_##upper, &isnull); \
	if (isnull) \
		PG_RETURN_NULL(); \
	return result; \
}

QOE_FINAL(watch_time, WATCH_TIME)
QOE_FINAL(play_time, PLAY_TIME)
QOE_FINAL(view_time, VIEW_TIME)
QOE_FINAL(buffer_time, BUFFER_TIME)
QOE_FINAL(buffer_count, BUFFER_COUNT)
QOE_FINAL(rebuffer_time, REBUFFER_TIME)
QOE_FINAL(rebuffer_count, REBUFFER_COUNT)
QOE_FINAL(rebuffer_ratio, REBUFFER_RATIO)
QOE_FINAL(startup_time, STARTUP_TIME)
