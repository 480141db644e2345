/*-------------------------------------------------------------------------
 *
 * qoe_type.c
 *	  The qoe_timeline type: text and binary I/O, and helpers converting
 *	  between qoe_timeline datums and the core's event buffers.
 *
 * The varlena payload of a qoe_timeline IS the core's binary form: the
 * compact one ("QCB1", qoe_buffer_compact_serialize) for every value
 * written now, or the 32-byte-per-event one ("QTL1", qoe_buffer_serialize)
 * for values stored by earlier versions; qoe_buffer_deserialize and
 * qoe_serial_open read both.  The payload starts 4 bytes after the start of
 * the datum (or 1 byte for a short header), so it is never cast to structs:
 * it is read byte by byte.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(qoe_timeline_in);
PG_FUNCTION_INFO_V1(qoe_timeline_out);
PG_FUNCTION_INFO_V1(qoe_timeline_recv);
PG_FUNCTION_INFO_V1(qoe_timeline_send);

/* session keys become text: they must be valid in the database encoding */
static void
verify_keys(const QoeBuffer *b)
{
	uint32_t	k;

	for (k = 0; k < b->nkeys; k++)
	{
		size_t		len;
		const char *key = qoe_buffer_key(b, k, &len);

		/* raises ERRCODE_CHARACTER_NOT_IN_REPERTOIRE (NUL bytes included) */
		(void) pg_verifymbstr(key, (int) len, false);
	}
}

void
qoe_pg_timeline_corrupt(const char *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupt qoe_timeline value"),
			 errdetail("%s", qoe_pg_sentence(err))));
}

void
qoe_pg_timeline_decode(Datum d, QoeBuffer *b, const QoeAllocator *alloc)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
	const char *err;

	qoe_buffer_init(b, alloc);
	err = qoe_buffer_deserialize(b, (const unsigned char *) VARDATA_ANY(v),
								 VARSIZE_ANY_EXHDR(v), true);
	if (err != NULL)
	{
		qoe_buffer_free(b);
		qoe_pg_timeline_corrupt(err);
	}
	if ((Pointer) v != DatumGetPointer(d))
		pfree(v);
}

static void
timeline_too_large(size_t size)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("qoe_timeline value is too large"),
			 errdetail("The timeline would need %zu bytes; the maximum is %zu bytes.",
					   size, (size_t) (MaxAllocSize - VARHDRSZ)),
			 errhint("Aggregate over smaller groups (for example per session or per day), or use the one-step aggregates such as watch_time(), which do not build a qoe_timeline value.")));
}

/*
 * Room for a qoe_timeline value of at most bound bytes of data.  Room for
 * the largest encoding is allocated; only what is written is touched (a
 * large block is mapped, not written, until used) and stored.
 */
static struct varlena *
timeline_alloc(size_t bound)
{
	if (bound > MaxAllocHugeSize - VARHDRSZ)
		timeline_too_large(bound);
	return (struct varlena *) qoe_pg_alloc_large(CurrentMemoryContext, bound + VARHDRSZ);
}

/* the value's length, once its size bytes of data are written */
static struct varlena *
timeline_finish(struct varlena *result, size_t size)
{
	if (size > MaxAllocSize - VARHDRSZ)
		timeline_too_large(size);
	SET_VARSIZE(result, size + VARHDRSZ);
	return result;
}

/* a buffer as a qoe_timeline value, in the compact binary form */
struct varlena *
qoe_pg_timeline_from_buffer(QoeBuffer *b)
{
	struct varlena *result;

	if (!b->canonical)
		qoe_buffer_canonicalize(b);
	result = timeline_alloc(qoe_buffer_compact_bound(b));
	return timeline_finish(result,
						   qoe_buffer_compact_serialize(b, (unsigned char *) VARDATA(result)));
}

struct varlena *
qoe_pg_timeline_from_merge(QoeMergeReader *mr)
{
	struct varlena *result;
	QoeCompactWriter w;
	QoeBuffer	piece;
	const char *err = NULL;

	result = timeline_alloc(qoe_compact_bound(mr->out, mr->total));
	qoe_buffer_init(&piece, mr->out->alloc);
	qoe_compact_begin(&w, mr->out, (unsigned char *) VARDATA(result));
	while (qoe_merge_next(mr, &piece, QOE_PG_MERGE_PIECE, &err))
		qoe_compact_put(&w, &piece);
	qoe_buffer_free(&piece);
	if (err != NULL)
		qoe_pg_state_corrupt(err);
	return timeline_finish(result, qoe_compact_end(&w, mr->out));
}

Datum
qoe_timeline_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	QoeAllocator alloc;
	QoeBuffer	b;
	char		errbuf[256];
	struct varlena *result;

	qoe_pg_allocator_init(&alloc, CurrentMemoryContext);
	qoe_buffer_init(&b, &alloc);
	errbuf[0] = '\0';
	if (!qoe_buffer_from_text(&b, str, strlen(str), errbuf, sizeof(errbuf)))
	{
		qoe_buffer_free(&b);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", "qoe_timeline"),
				 errdetail("%s", qoe_pg_sentence(errbuf[0] ? errbuf : "unknown error"))));
	}
	/* JSON escapes can produce bytes that are not valid text */
	verify_keys(&b);
	result = qoe_pg_timeline_from_buffer(&b);
	qoe_buffer_free(&b);
	PG_RETURN_POINTER(result);
}

static void
text_too_large(size_t size)
{
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("qoe_timeline value is too large to print as text"),
				 errdetail("Its text form would need more than %zu bytes.",
						   (size_t) MaxAllocSize),
				 errhint("Use the binary form (COPY ... WITH (FORMAT binary)), or build timelines over smaller groups.")));
}

static void *
text_alloc(void *ctx, size_t size)
{
	text_too_large(size);
	return palloc(size);
}

static void *
text_realloc(void *ctx, void *ptr, size_t oldsize, size_t newsize)
{
	text_too_large(newsize);
	return ptr ? repalloc_huge(ptr, newsize) : palloc(newsize);
}

static void
text_free(void *ctx, void *ptr)
{
	if (ptr)
		pfree(ptr);
}

static const QoeAllocator text_allocator = {text_alloc, text_realloc, text_free, NULL};

Datum
qoe_timeline_out(PG_FUNCTION_ARGS)
{
	QoeAllocator alloc;
	QoeBuffer	b;
	char	   *text;
	size_t		len;

	qoe_pg_allocator_init(&alloc, CurrentMemoryContext);
	qoe_pg_timeline_decode(PG_GETARG_DATUM(0), &b, &alloc);
	/* the text is a cstring: it must stay under 1 GB; say so clearly */
	b.alloc = &text_allocator;
	text = qoe_buffer_to_text(&b, &len);
	b.alloc = &alloc;
	qoe_buffer_free(&b);
	PG_RETURN_CSTRING(text);
}

Datum
qoe_timeline_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	QoeAllocator alloc;
	QoeBuffer	b;
	const char *err;
	struct varlena *result;

	qoe_pg_allocator_init(&alloc, CurrentMemoryContext);
	qoe_buffer_init(&b, &alloc);
	err = qoe_buffer_deserialize(&b,
								 (const unsigned char *) buf->data + buf->cursor,
								 (size_t) (buf->len - buf->cursor), true);
	if (err != NULL)
	{
		qoe_buffer_free(&b);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external qoe_timeline value"),
				 errdetail("%s", qoe_pg_sentence(err))));
	}
	verify_keys(&b);
	buf->cursor = buf->len;

	/* re-serialize: the stored bytes are always our own */
	result = qoe_pg_timeline_from_buffer(&b);
	qoe_buffer_free(&b);
	PG_RETURN_POINTER(result);
}

Datum
qoe_timeline_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	size_t		len = VARSIZE_ANY_EXHDR(v);
	bytea	   *result;

	result = (bytea *) palloc(len + VARHDRSZ);
	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), VARDATA_ANY(v), len);
	PG_RETURN_BYTEA_P(result);
}
