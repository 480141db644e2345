/*-------------------------------------------------------------------------
 *
 * qoe_aggfuncs.c
 *	  Aggregate support: transition functions (column, row and rollup
 *	  forms), combine, serialize/deserialize and the final functions.
 *
 * The transition state (QoeAggState) is an event buffer allocated in the
 * aggregate context on the first row.  Final functions may canonicalise it
 * in place (this does not change its meaning) and leave it usable, so the
 * aggregates work as window functions.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
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
#define KIND_CACHE_SIZE 8
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
	int			next;			/* round-robin victim */
	KindCacheEntry entries[KIND_CACHE_SIZE];
} KindCache;

static void
kind_cache_init(KindCache *kc)
{
	int			i;

	kc->generation = qoe_pg_alias_generation;
	kc->next = 0;
	for (i = 0; i < KIND_CACHE_SIZE; i++)
		kc->entries[i].len = -1;
}

static int
lookup_kind_cached(KindCache *kc, const char *name, size_t len)
{
	int			i;
	int			kind;
	KindCacheEntry *e;

	if (kc->generation != qoe_pg_alias_generation)
		kind_cache_init(kc);

	if (len > KIND_CACHE_MAXLEN)
		return qoe_lookup_kind(qoe_pg_alias_map, name, len);

	for (i = 0; i < KIND_CACHE_SIZE; i++)
	{
		e = &kc->entries[i];
		if (e->len == (int) len && memcmp(e->bytes, name, len) == 0)
			return e->kind;
	}

	kind = qoe_lookup_kind(qoe_pg_alias_map, name, len);
	e = &kc->entries[kc->next];
	kc->next = (kc->next + 1) % KIND_CACHE_SIZE;
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

static QoeAggState *
get_state(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext = agg_context(fcinfo, fname);

	if (PG_ARGISNULL(0))
		return qoe_pg_state_create(aggcontext);
	return (QoeAggState *) PG_GETARG_POINTER(0);
}

/* ---------------------------------------------------------------------
 * qoe_agg_trans(internal, ts, event [, position [, value [, session]]])
 * ---------------------------------------------------------------------
 */
Datum
qoe_agg_trans(PG_FUNCTION_ARGS)
{
	QoeAggState *state = get_state(fcinfo, "qoe_agg_trans");
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

	qoe_buffer_add(&state->buf, ts_isnull, ts, kind,
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
	QoeAggState *state = get_state(fcinfo, "qoe_agg_trans_row");
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
		qoe_buffer_add(&state->buf, true, 0, QOE_KIND_UNKNOWN,
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

	qoe_buffer_add(&state->buf, ts_isnull, ts, kind,
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
	QoeAggState *state = PG_ARGISNULL(0) ? NULL : (QoeAggState *) PG_GETARG_POINTER(0);
	QoeAllocator alloc;
	QoeBuffer	b;

	/* NULL timelines are ignored, like NULLs in sum() */
	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}

	if (state == NULL)
		state = qoe_pg_state_create(aggcontext);

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
Datum
qoe_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = agg_context(fcinfo, "qoe_agg_combine");
	QoeAggState *state1 = PG_ARGISNULL(0) ? NULL : (QoeAggState *) PG_GETARG_POINTER(0);
	QoeAggState *state2 = PG_ARGISNULL(1) ? NULL : (QoeAggState *) PG_GETARG_POINTER(1);

	if (state2 == NULL)
	{
		if (state1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state1);
	}

	/*
	 * state2 may live in a short-lived context (e.g. freshly deserialized),
	 * so never adopt it: copy it into a new state in the aggregate context.
	 */
	if (state1 == NULL)
		state1 = qoe_pg_state_create(aggcontext);

	qoe_buffer_merge(&state1->buf, &state2->buf);
	PG_RETURN_POINTER(state1);
}

Datum
qoe_agg_serialize(PG_FUNCTION_ARGS)
{
	QoeAggState *state;
	size_t		size;
	bytea	   *result;

	(void) agg_context(fcinfo, "qoe_agg_serialize");
	state = (QoeAggState *) PG_GETARG_POINTER(0);

	size = qoe_buffer_serialized_size(&state->buf);
	if (size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("qoe_agg aggregate state is too large to serialize"),
				 errdetail("The state would need %zu bytes; the maximum is %zu bytes.",
						   size, (size_t) (MaxAllocSize - VARHDRSZ)),
				 errhint("Aggregate over smaller groups, or disable parallel aggregation with SET max_parallel_workers_per_gather = 0.")));
	result = (bytea *) palloc(size + VARHDRSZ);
	SET_VARSIZE(result, size + VARHDRSZ);
	qoe_buffer_serialize(&state->buf, (unsigned char *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}

Datum
qoe_agg_deserialize(PG_FUNCTION_ARGS)
{
	struct varlena *v;
	QoeAggState *state;
	const char *err;

	(void) agg_context(fcinfo, "qoe_agg_deserialize");
	v = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));

	/* in the current (per-tuple) context; combine copies what it keeps */
	state = qoe_pg_state_create(CurrentMemoryContext);
	err = qoe_buffer_deserialize(&state->buf, (const unsigned char *) VARDATA_ANY(v),
								 VARSIZE_ANY_EXHDR(v), false);
	if (err != NULL)
	{
		qoe_buffer_free(&state->buf);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid qoe_agg aggregate state: %s", err)));
	}
	PG_RETURN_POINTER(state);
}

/* ---------------------------------------------------------------------
 * Final functions
 * ---------------------------------------------------------------------
 */
Datum
qoe_agg_final_timeline(PG_FUNCTION_ARGS)
{
	QoeAggState *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (QoeAggState *) PG_GETARG_POINTER(0);

	/* canonicalises the state in place (allowed: same meaning) */
	PG_RETURN_POINTER(qoe_pg_timeline_from_buffer(&state->buf));
}

static void
replay_state(QoeAggState *state, QoeMetrics *m)
{
	QoeParams	p;

	qoe_pg_params(&p);
	qoe_replay(&state->buf, &p, m, NULL);
}

Datum
qoe_agg_final_stats(PG_FUNCTION_ARGS)
{
	QoeMetrics	m;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	replay_state((QoeAggState *) PG_GETARG_POINTER(0), &m);
	return qoe_pg_stats_datum(fcinfo, &m);
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
	replay_state((QoeAggState *) PG_GETARG_POINTER(0), &m); \
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
