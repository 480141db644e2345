/*
 * unit_buffer.h
 *	  Helpers shared by the unit tests of event buffers and of their binary
 *	  forms (test_buffer.c, test_compact.c).
 */
#ifndef QOE_UNIT_BUFFER_H
#define QOE_UNIT_BUFFER_H

#include "qoe_core.h"
#include "unit.h"

#define SEC INT64_C(1000000)
#define T0 (INT64_C(789004800) * SEC)	/* 2025-01-01 in PG epoch */

static const QoeAllocator *A = &qoe_malloc_allocator;

/* add a valid row; NaN means NULL for the position and the value */
static inline void
add(QoeBuffer *b, int64_t ts, int kind, double pos, double val, const char *key)
{
	qoe_buffer_add(b, false, ts, kind, isnan(pos), pos, isnan(val), val,
				   key, key ? strlen(key) : 0);
}

/* b in the 32-byte binary form (malloc'd) */
static inline unsigned char *
serialize(const QoeBuffer *b, size_t *len)
{
	unsigned char *out;

	*len = qoe_buffer_serialized_size(b);
	out = malloc(*len);
	qoe_buffer_serialize(b, out);
	return out;
}

/* b in the compact binary form (malloc'd); b is put in canonical form */
static inline unsigned char *
compact_bytes(QoeBuffer *b, size_t *len)
{
	size_t		bound = qoe_buffer_compact_bound(b);
	unsigned char *out = malloc(bound);

	*len = qoe_buffer_compact_serialize(b, out);
	if (*len > bound)
	{
		printf("# wrote %zu bytes, bound %zu\n", *len, bound);
		abort();
	}
	return out;
}

static inline void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) v;
	p[1] = (unsigned char) (v >> 8);
	p[2] = (unsigned char) (v >> 16);
	p[3] = (unsigned char) (v >> 24);
}

static inline void
put_u64(unsigned char *p, uint64_t v)
{
	put_u32(p, (uint32_t) v);
	put_u32(p + 4, (uint32_t) (v >> 32));
}

/* loading data (either binary form) fails with the message want (or any) */
static inline void
expect_reject_at(const char *file, int line, const char *what,
				 const unsigned char *data, size_t len, bool canon,
				 const char *want)
{
	QoeBuffer	c;
	const char *err;

	qoe_buffer_init(&c, A);
	err = qoe_buffer_deserialize(&c, data, len, canon);
	unit_report(err != NULL && (want == NULL || strcmp(err, want) == 0),
				file, line, what);
	if (err == NULL || (want && strcmp(err, want) != 0))
		printf("#   got \"%s\", want \"%s\"\n", err ? err : "(null)", want ? want : "(any)");
	qoe_buffer_free(&c);
}

#define expect_reject(what, data, len, canon, want) \
	expect_reject_at(__FILE__, __LINE__, what, data, len, canon, want)

#endif							/* QOE_UNIT_BUFFER_H */
