/*-------------------------------------------------------------------------
 *
 * qoe_buffer.c
 *	  Event buffers of qoe_agg: adding rows with the checks of SPEC 1 and
 *	  8.2-8.5, interning session keys, merging, putting a buffer in
 *	  canonical form (sort, dedup) and the binary format.
 *
 * Pure C: no PostgreSQL headers.  Memory comes from the buffer's allocator;
 * long loops call qoe_interrupt_hook every QOE_CHECK_INTERRUPTS_EVERY
 * iterations.
 *
 * IDENTIFICATION
 *	  src/qoe_buffer.c
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the only global mutable state of the core */
void		(*qoe_interrupt_hook) (void) = NULL;

/* ---------------------------------------------------------------------
 * malloc allocator
 * ---------------------------------------------------------------------
 */
static void
qoe_malloc_oom(size_t size)
{
	fprintf(stderr, "qoe_agg: out of memory (%zu bytes requested)\n", size);
	abort();
}

static void *
qoe_malloc_alloc(void *ctx, size_t size)
{
	void	   *p = malloc(size ? size : 1);

	(void) ctx;
	if (p == NULL)
		qoe_malloc_oom(size);
	return p;
}

static void *
qoe_malloc_realloc(void *ctx, void *ptr, size_t oldsize, size_t newsize)
{
	void	   *p = realloc(ptr, newsize ? newsize : 1);

	(void) ctx;
	(void) oldsize;
	if (p == NULL)
		qoe_malloc_oom(newsize);
	return p;
}

static void
qoe_malloc_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

const QoeAllocator qoe_malloc_allocator = {
	qoe_malloc_alloc,
	qoe_malloc_realloc,
	qoe_malloc_free,
	NULL
};

/* ---------------------------------------------------------------------
 * small helpers
 * ---------------------------------------------------------------------
 */
#define QOE_SERIAL_MAGIC "QTL1"
#define QOE_SERIAL_HEADER 56
#define QOE_SERIAL_EVENT 32
#define QOE_SERIAL_FLAG_CANONICAL 0x01

static const char *compact_deserialize(QoeBuffer *b, const unsigned char *data,
									   size_t len);
static const char *compact_open(QoeCompactCursor *cc, QoeBuffer *b,
								const unsigned char *data, size_t len);
static int	compact_next(QoeCompactCursor *cc, QoeEvent *ev, const char **err);
static const char *compact_check(const QoeCompactCursor *from, int64_t *first,
								 int64_t *last);

/* the valid range of PostgreSQL timestamps: [MIN_TIMESTAMP, END_TIMESTAMP) */
#define QOE_MIN_TIMESTAMP INT64_C(-211813488000000000)
#define QOE_END_TIMESTAMP INT64_C(9223371331200000000)

#define QOE_CANONICAL_NAN_BITS UINT64_C(0x7ff8000000000000)

static inline void
check_interrupts(size_t i)
{
	if ((i & (QOE_CHECK_INTERRUPTS_EVERY - 1)) == 0 && qoe_interrupt_hook)
		qoe_interrupt_hook();
}

/*
 * A size computation overflowed: ask the allocator for an impossible amount,
 * so that the PostgreSQL allocator raises its usual error; abort otherwise.
 */
static void
size_overflow(const QoeAllocator *a)
{
	(void) a->alloc(a->ctx, SIZE_MAX);
	abort();
}

static inline size_t
mul_size(const QoeAllocator *a, size_t x, size_t y)
{
	if (y != 0 && x > SIZE_MAX / y)
		size_overflow(a);
	return x * y;
}

static inline size_t
add_size(const QoeAllocator *a, size_t x, size_t y)
{
	if (x > SIZE_MAX - y)
		size_overflow(a);
	return x + y;
}

static inline void *
qalloc(const QoeAllocator *a, size_t n)
{
	return a->alloc(a->ctx, n ? n : 1);
}

static inline void
qfree(const QoeAllocator *a, void *p)
{
	if (p != NULL)
		a->free(a->ctx, p);
}

/*
 * Grow an array of elsize-byte elements from *cap to at least need
 * elements: x2 while small, x1.5 when large.
 */
static void *
grow_array(const QoeAllocator *a, void *ptr, size_t elsize, size_t *cap,
		   size_t need, size_t mincap)
{
	size_t		oldcap = *cap;
	size_t		nc = oldcap ? oldcap : mincap;

	while (nc < need)
	{
		size_t		inc = nc < ((size_t) 1 << 20) ? nc : nc / 2;

		nc = add_size(a, nc, inc);
	}
	if (ptr == NULL)
		ptr = qalloc(a, mul_size(a, nc, elsize));
	else
		ptr = a->realloc(a->ctx, ptr, oldcap * elsize, mul_size(a, nc, elsize));
	*cap = nc;
	return ptr;
}

/* -0.0 becomes 0.0 and every NaN the same NaN, so equal means bitwise equal */
static inline double
normalize_double(double d)
{
	if (isnan(d))
	{
		uint64_t	bits = QOE_CANONICAL_NAN_BITS;

		memcpy(&d, &bits, sizeof(d));
		return d;
	}
	return d + 0.0;
}

/* doubles: NaN equals NaN and sorts last, like PostgreSQL float8 */
static inline int
dbl_cmp(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : 1;
	if (isnan(b))
		return -1;
	return (a > b) - (a < b);
}

/* the canonical event order: key rank (NULL first), ts, kind, position, value */
static inline int
ev_cmp(const QoeEvent *a, const QoeEvent *b)
{
	uint32_t	ka = a->key + 1;	/* QOE_NO_KEY wraps to 0: NULL first */
	uint32_t	kb = b->key + 1;
	int			pa,
				pb;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	pa = a->flags & QOE_EV_HAS_POS;
	pb = b->flags & QOE_EV_HAS_POS;
	if (pa != pb)
		return pa ? 1 : -1;
	if (pa && a->position != b->position)
		return a->position < b->position ? -1 : 1;
	pa = a->flags & QOE_EV_HAS_VALUE;
	pb = b->flags & QOE_EV_HAS_VALUE;
	if (pa != pb)
		return pa ? 1 : -1;
	if (pa)
		return dbl_cmp(a->value, b->value);
	return 0;
}

static inline int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		m = alen < blen ? alen : blen;
	int			c = m ? memcmp(a, b, m) : 0;

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static inline uint64_t
hash_bytes(const char *p, size_t len)
{
	uint64_t	h = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t) len;
	uint64_t	w;

	while (len >= 8)
	{
		memcpy(&w, p, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
		p += 8;
		len -= 8;
	}
	w = 0;
	if (len > 0)
		memcpy(&w, p, len);
	h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 29;
	h *= UINT64_C(0x94d049bb133111eb);
	h ^= h >> 32;
	return h;
}

/* ---------------------------------------------------------------------
 * init, free, memory
 * ---------------------------------------------------------------------
 */
void
qoe_buffer_init(QoeBuffer *b, const QoeAllocator *alloc)
{
	memset(b, 0, sizeof(*b));
	b->alloc = alloc ? alloc : &qoe_malloc_allocator;
	b->lastkey = QOE_NO_KEY;
	b->canonical = true;
}

void
qoe_buffer_free(QoeBuffer *b)
{
	const QoeAllocator *a = b->alloc;

	qfree(a, b->events);
	qfree(a, b->keydata);
	qfree(a, b->keyoff);
	qfree(a, b->keylen);
	qfree(a, b->keyhash);
	qoe_buffer_init(b, a);
}

size_t
qoe_buffer_memory(const QoeBuffer *b)
{
	return sizeof(QoeBuffer) +
		b->evcap * sizeof(QoeEvent) +
		b->keydata_cap +
		(size_t) b->keycap * (sizeof(uint64_t) + sizeof(uint32_t)) +
		(size_t) b->keyhash_cap * sizeof(uint32_t);
}

/* ---------------------------------------------------------------------
 * key interning
 * ---------------------------------------------------------------------
 */
static void
free_keyhash(QoeBuffer *b)
{
	qfree(b->alloc, b->keyhash);
	b->keyhash = NULL;
	b->keyhash_cap = 0;
}

static void
hash_insert(QoeBuffer *b, uint32_t k, uint64_t h)
{
	uint32_t	mask = b->keyhash_cap - 1;
	uint32_t	slot = (uint32_t) h & mask;

	while (b->keyhash[slot] != 0)
		slot = (slot + 1) & mask;
	b->keyhash[slot] = k + 1;
}

/* (re)build the hash with room for at least `need' keys at <= 50% load */
static void
build_keyhash(QoeBuffer *b, size_t need)
{
	size_t		cap = 16;
	uint32_t	k;

	while (cap < need * 2)
	{
		if (cap > ((size_t) UINT32_MAX + 1) / 4)
			size_overflow(b->alloc);
		cap *= 2;
	}
	free_keyhash(b);
	b->keyhash = qalloc(b->alloc, mul_size(b->alloc, cap, sizeof(uint32_t)));
	memset(b->keyhash, 0, cap * sizeof(uint32_t));
	b->keyhash_cap = (uint32_t) cap;
	for (k = 0; k < b->nkeys; k++)
	{
		size_t		len;
		const char *kp = qoe_buffer_key(b, k, &len);

		hash_insert(b, k, hash_bytes(kp, len));
		check_interrupts(k);
	}
}

#define QOE_LINEAR_KEYS 8

/* is key k equal to (key, len)?  keydata may be NULL while all keys are empty */
static inline bool
key_equals(const QoeBuffer *b, uint32_t k, const char *key, size_t len)
{
	return b->keylen[k] == len &&
		(len == 0 || memcmp(b->keydata + b->keyoff[k], key, len) == 0);
}

/* index of key (interned if new); hash: its hash_bytes() if known, or NULL */
static uint32_t
intern_key_hashed(QoeBuffer *b, const char *key, size_t len, const uint64_t *hash)
{
	uint32_t	k;
	uint64_t	h = 0;
	size_t		cap;

	if (b->lastkey != QOE_NO_KEY && key_equals(b, b->lastkey, key, len))
		return b->lastkey;

	if (b->keyhash_cap == 0 && b->nkeys <= QOE_LINEAR_KEYS)
	{
		for (k = 0; k < b->nkeys; k++)
		{
			if (key_equals(b, k, key, len))
			{
				b->lastkey = k;
				return k;
			}
		}
	}
	else
	{
		uint32_t	mask;
		uint32_t	slot;

		if (b->keyhash_cap == 0)
			build_keyhash(b, (size_t) b->nkeys + 1);
		h = hash ? *hash : hash_bytes(key, len);
		mask = b->keyhash_cap - 1;
		slot = (uint32_t) h & mask;
		while (b->keyhash[slot] != 0)
		{
			k = b->keyhash[slot] - 1;
			if (key_equals(b, k, key, len))
			{
				b->lastkey = k;
				return k;
			}
			slot = (slot + 1) & mask;
		}
	}

	/* append a new key */
	if (b->nkeys >= UINT32_MAX - 1 || len > UINT32_MAX)
		size_overflow(b->alloc);
	if (b->nkeys >= b->keycap)
	{
		size_t		oldcap = b->keycap;

		cap = oldcap;
		b->keyoff = grow_array(b->alloc, b->keyoff, sizeof(uint64_t), &cap,
							   (size_t) b->nkeys + 1, 8);
		if (cap > UINT32_MAX - 1)
			cap = UINT32_MAX - 1;
		b->keycap = (uint32_t) cap;
		if (b->keylen == NULL)
			b->keylen = qalloc(b->alloc, cap * sizeof(uint32_t));
		else
			b->keylen = b->alloc->realloc(b->alloc->ctx, b->keylen,
										  oldcap * sizeof(uint32_t),
										  cap * sizeof(uint32_t));
	}
	if (add_size(b->alloc, b->keydata_len, len) > b->keydata_cap)
	{
		cap = b->keydata_cap;
		b->keydata = grow_array(b->alloc, b->keydata, 1, &cap,
								b->keydata_len + len, 64);
		b->keydata_cap = cap;
	}
	k = b->nkeys;
	if (len > 0)
		memcpy(b->keydata + b->keydata_len, key, len);
	b->keyoff[k] = b->keydata_len;
	b->keylen[k] = (uint32_t) len;
	b->keydata_len += len;
	b->nkeys++;

	if (b->keyhash_cap != 0)
	{
		if ((size_t) b->nkeys * 2 > b->keyhash_cap)
			build_keyhash(b, b->nkeys);
		else
			hash_insert(b, k, h);
	}
	b->lastkey = k;
	return k;
}

static inline uint32_t
intern_key(QoeBuffer *b, const char *key, size_t len)
{
	return intern_key_hashed(b, key, len, NULL);
}

static inline void
reserve_events(QoeBuffer *b, size_t need)
{
	if (need > b->evcap)
		b->events = grow_array(b->alloc, b->events, sizeof(QoeEvent),
							   &b->evcap, need, 8);
}

/* ---------------------------------------------------------------------
 * add, merge
 * ---------------------------------------------------------------------
 */
/* append one row that passed the checks of qoe_buffer_add */
static inline void
append_event(QoeBuffer *b, int64_t ts, int kind, uint8_t flags,
			 double position, double value, const char *key, size_t keylen)
{
	QoeEvent   *ev;

	reserve_events(b, b->nevents + 1);
	ev = &b->events[b->nevents];
	ev->ts = ts;
	ev->position = (flags & QOE_EV_HAS_POS) ? normalize_double(position) : 0.0;
	ev->value = (flags & QOE_EV_HAS_VALUE) ? normalize_double(value) : 0.0;
	ev->key = key ? intern_key(b, key, keylen) : QOE_NO_KEY;
	ev->kind = (uint8_t) kind;
	ev->flags = flags;
	ev->pad = 0;
	b->nevents++;
	b->canonical = false;
}

/*
 * The row checks of SPEC 1 and 8.2-8.5 (see qoe_buffer_add): returns 0 when
 * the row is kept (with *flags set), 1 when it is dropped as invalid, 2
 * when it is dropped as unknown; *counted_invalid tells whether a kept row
 * also counts in invalid_events.
 */
static inline int
check_row(bool ts_isnull, int64_t ts, int kind, bool pos_isnull, double position,
		  bool value_isnull, double value, uint8_t *flags, bool *counted_invalid)
{
	bool		counted = false;
	uint8_t		f = 0;

	*counted_invalid = false;
	if (ts_isnull || ts == QOE_TS_NOBEGIN || ts == QOE_TS_NOEND)
		return 1;
	if (kind < 0 || kind >= QOE_NKINDS)
		return 2;
	if (!pos_isnull)
	{
		if (isfinite(position) && position >= 0)
			f |= QOE_EV_HAS_POS;
		else
			counted = true;
	}
	if (kind == QOE_BITRATE &&
		(value_isnull || !isfinite(value) || !(value > 0)))
		return 1;				/* counted once, even with a bad position */
	if (!value_isnull)
		f |= QOE_EV_HAS_VALUE;
	*flags = f;
	*counted_invalid = counted;
	return 0;
}

void
qoe_buffer_add(QoeBuffer *b, bool ts_isnull, int64_t ts, int kind,
			   bool pos_isnull, double position,
			   bool value_isnull, double value,
			   const char *key, size_t keylen)
{
	uint8_t		flags = 0;
	bool		counted;

	switch (check_row(ts_isnull, ts, kind, pos_isnull, position,
					  value_isnull, value, &flags, &counted))
	{
		case 1:
			b->invalid_events++;
			return;
		case 2:
			b->unknown_events++;
			return;
		default:
			break;
	}
	if (counted)
		b->invalid_events++;
	append_event(b, ts, kind, flags, position, value, key, keylen);
}

/* a data-quality count plus another, saturating at INT64_MAX (reported as bigint) */
static inline uint64_t
add_count(uint64_t a, uint64_t b)
{
	return (a > (uint64_t) INT64_MAX - b || b > (uint64_t) INT64_MAX) ?
		(uint64_t) INT64_MAX : a + b;
}

/* dst's data-quality counters plus src's */
static void
add_counters(QoeBuffer *dst, const QoeBuffer *src)
{
	dst->invalid_events = add_count(dst->invalid_events, src->invalid_events);
	dst->unknown_events = add_count(dst->unknown_events, src->unknown_events);
	dst->duplicate_events = add_count(dst->duplicate_events, src->duplicate_events);
}

void
qoe_buffer_merge(QoeBuffer *dst, const QoeBuffer *src)
{
	bool		was_empty = (dst->nevents == 0 && dst->nkeys == 0);
	bool		src_canonical = src->canonical;
	size_t		n = src->nevents;
	uint32_t   *map = NULL;
	size_t		i;

	add_counters(dst, src);
	if (n == 0)
		return;

	if (src->nkeys > 0)
	{
		map = qalloc(dst->alloc, mul_size(dst->alloc, src->nkeys, sizeof(uint32_t)));
		memset(map, 0xff, (size_t) src->nkeys * sizeof(uint32_t));	/* QOE_NO_KEY */
	}
	reserve_events(dst, add_size(dst->alloc, dst->nevents, n));
	for (i = 0; i < n; i++)
	{
		QoeEvent	ev = src->events[i];

		check_interrupts(i);
		if (ev.key != QOE_NO_KEY)
		{
			uint32_t	m = map[ev.key];

			if (m == QOE_NO_KEY)
			{
				size_t		len;
				const char *kp = qoe_buffer_key(src, ev.key, &len);

				m = intern_key(dst, kp, len);
				map[ev.key] = m;
			}
			ev.key = m;
		}
		dst->events[dst->nevents++] = ev;
	}
	qfree(dst->alloc, map);

	/*
	 * Merging a canonical buffer into an empty one interns the keys in
	 * sorted order (each key is first referenced in rank order), so the
	 * result is canonical as well.
	 */
	dst->canonical = was_empty && src_canonical;
}

/* ---------------------------------------------------------------------
 * canonical form
 * ---------------------------------------------------------------------
 */

/* bottom-up merge sort of key indexes by key bytes */
static void
sort_key_indexes(const QoeBuffer *b, uint32_t *idx, size_t n)
{
	uint32_t   *tmp;
	uint32_t   *src = idx;
	uint32_t   *dst;
	size_t		width;
	size_t		iter = 0;

	if (n < 2)
		return;
	tmp = qalloc(b->alloc, mul_size(b->alloc, n, sizeof(uint32_t)));
	dst = tmp;
	for (width = 1; width < n; width *= 2)
	{
		size_t		lo;

		for (lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n;
			size_t		hi = mid + width < n ? mid + width : n;
			size_t		i = lo,
						j = mid,
						o = lo;

			while (i < mid && j < hi)
			{
				size_t		la,
							lb;
				const char *ka = qoe_buffer_key(b, src[i], &la);
				const char *kb = qoe_buffer_key(b, src[j], &lb);

				check_interrupts(++iter);
				if (key_cmp(kb, lb, ka, la) < 0)
					dst[o++] = src[j++];
				else
					dst[o++] = src[i++];
			}
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi)
				dst[o++] = src[j++];
		}
		{
			uint32_t   *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != idx)
		memcpy(idx, src, n * sizeof(uint32_t));
	qfree(b->alloc, tmp);
}

typedef struct KeySortItem
{
	uint64_t	prefix;			/* 8 bytes after the common prefix, big-endian */
	uint32_t	idx;
	uint32_t	pad;
} KeySortItem;

#define QOE_KEY_RADIX_MIN 256

/*
 * Many keys: LSD radix sort on the 8 bytes that follow the prefix all keys
 * share (zero-padded, so the order agrees with key_cmp), then the runs of
 * equal prefixes by full comparison.  Session keys usually differ within
 * those 8 bytes ("sess-0012345", uuids), so most work is on integers.
 */
static void
sort_key_indexes_radix(const QoeBuffer *b, uint32_t *idx, size_t n)
{
	const QoeAllocator *a = b->alloc;
	KeySortItem *src,
			   *dst,
			   *t;
	size_t		common,
				len0,
				i;
	const char *k0;
	int			d;

	k0 = qoe_buffer_key(b, idx[0], &len0);
	common = len0;
	for (i = 1; i < n && common > 0; i++)
	{
		size_t		len,
					j = 0;
		const char *kp = qoe_buffer_key(b, idx[i], &len);
		size_t		m = len < common ? len : common;

		while (j < m && kp[j] == k0[j])
			j++;
		common = j;
		check_interrupts(i);
	}

	src = qalloc(a, mul_size(a, n, sizeof(KeySortItem)));
	dst = qalloc(a, mul_size(a, n, sizeof(KeySortItem)));
	for (i = 0; i < n; i++)
	{
		size_t		len,
					j;
		const char *kp = qoe_buffer_key(b, idx[i], &len);
		uint64_t	pfx = 0;

		for (j = 0; j < 8; j++)
			pfx = (pfx << 8) | (common + j < len ? (unsigned char) kp[common + j] : 0);
		src[i].prefix = pfx;
		src[i].idx = idx[i];
		src[i].pad = 0;
		check_interrupts(i);
	}
	for (d = 0; d < 8; d++)
	{
		size_t		count[256];
		size_t		sum = 0;
		int			shift = 8 * d;
		unsigned	c;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i].prefix >> shift) & 0xff]++;
		if (count[(src[0].prefix >> shift) & 0xff] == n)
			continue;			/* the same byte everywhere */
		for (c = 0; c < 256; c++)
		{
			size_t		k = count[c];

			count[c] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
		{
			check_interrupts(i);
			dst[count[(src[i].prefix >> shift) & 0xff]++] = src[i];
		}
		t = src;
		src = dst;
		dst = t;
	}
	for (i = 0; i < n; i++)
		idx[i] = src[i].idx;
	/* ties on the prefix: full comparison */
	i = 0;
	while (i < n)
	{
		size_t		j = i + 1;

		while (j < n && src[j].prefix == src[i].prefix)
			j++;
		if (j - i > 1)
			sort_key_indexes(b, idx + i, j - i);
		check_interrupts(i);
		i = j;
	}
	qfree(a, src);
	qfree(a, dst);
}

/*
 * Give b a new key table (n keys in arrays of cap entries, len bytes of key
 * data), freeing the old one and its hash; the events already refer to it.
 */
static void
replace_keys(QoeBuffer *b, char *data, size_t len, uint64_t *off,
			 uint32_t *lens, uint32_t n, uint32_t cap)
{
	const QoeAllocator *a = b->alloc;

	qfree(a, b->keydata);
	qfree(a, b->keyoff);
	qfree(a, b->keylen);
	free_keyhash(b);
	b->keydata = data;
	b->keydata_len = len;
	b->keydata_cap = len ? len : 1;
	b->keyoff = off;
	b->keylen = lens;
	b->nkeys = n;
	b->keycap = cap;
	b->lastkey = QOE_NO_KEY;
}

/*
 * Sort the keys of b that rank[] marks (nonzero) and keep only those, in
 * byte order; rank[k] becomes key k's new index (for marked keys).  Returns
 * false when that changes nothing: every key marked and already in order
 * (rank[k] is then k).
 */
static bool
rank_keys(QoeBuffer *b, uint32_t *rank)
{
	const QoeAllocator *a = b->alloc;
	uint32_t   *order;
	uint32_t	m = 0;
	uint32_t	k;
	bool		sorted = true;
	char	   *newdata;
	uint64_t   *newoff;
	uint32_t   *newlen;
	size_t		total = 0;

	order = qalloc(a, mul_size(a, b->nkeys, sizeof(uint32_t)));
	for (k = 0; k < b->nkeys; k++)
	{
		if (rank[k])
		{
			if (m > 0)
			{
				size_t		la,
							lb;
				const char *ka = qoe_buffer_key(b, order[m - 1], &la);
				const char *kb = qoe_buffer_key(b, k, &lb);

				if (key_cmp(ka, la, kb, lb) >= 0)
					sorted = false;
			}
			order[m++] = k;
		}
		check_interrupts(k);
	}

	if (sorted && m == b->nkeys)
	{
		/* already canonical */
		for (k = 0; k < m; k++)
			rank[k] = k;
		qfree(a, order);
		return false;
	}

	if (m >= QOE_KEY_RADIX_MIN)
		sort_key_indexes_radix(b, order, m);
	else
		sort_key_indexes(b, order, m);

	for (k = 0; k < m; k++)
	{
		rank[order[k]] = k;
		total += b->keylen[order[k]];
	}

	newdata = qalloc(a, total);
	newoff = qalloc(a, mul_size(a, m ? m : 1, sizeof(uint64_t)));
	newlen = qalloc(a, mul_size(a, m ? m : 1, sizeof(uint32_t)));
	total = 0;
	for (k = 0; k < m; k++)
	{
		size_t		len;
		const char *kp = qoe_buffer_key(b, order[k], &len);

		if (len > 0)
			memcpy(newdata + total, kp, len);
		newoff[k] = total;
		newlen[k] = (uint32_t) len;
		total += len;
		check_interrupts(k);
	}
	replace_keys(b, newdata, total, newoff, newlen, m, m ? m : 1);
	qfree(a, order);
	return true;
}

/*
 * Sort the keys, drop the ones no event references, and renumber the
 * events' keys to the sorted rank.
 */
static void
canonicalize_keys(QoeBuffer *b)
{
	const QoeAllocator *a = b->alloc;
	uint32_t   *rank;
	size_t		i;

	if (b->nkeys == 0)
		return;

	rank = qalloc(a, mul_size(a, b->nkeys, sizeof(uint32_t)));
	memset(rank, 0, (size_t) b->nkeys * sizeof(uint32_t));
	for (i = 0; i < b->nevents; i++)
	{
		check_interrupts(i);
		if (b->events[i].key != QOE_NO_KEY)
			rank[b->events[i].key] = 1;
	}
	if (rank_keys(b, rank))
	{
		for (i = 0; i < b->nevents; i++)
		{
			check_interrupts(i);
			if (b->events[i].key != QOE_NO_KEY)
				b->events[i].key = rank[b->events[i].key];
		}
	}
	qfree(a, rank);
}

static void
insertion_sort_events(QoeEvent *ev, size_t n)
{
	size_t		i;

	for (i = 1; i < n; i++)
	{
		QoeEvent	tmp;
		size_t		j = i;

		if (ev_cmp(&ev[i - 1], &ev[i]) <= 0)
			continue;
		tmp = ev[i];
		while (j > 0 && ev_cmp(&ev[j - 1], &tmp) > 0)
		{
			ev[j] = ev[j - 1];
			j--;
		}
		ev[j] = tmp;
		check_interrupts(i);
	}
}

/*
 * Merge the sorted ranges src[lo, mid) and src[mid, hi) into dst[lo, hi);
 * equal events (identical bytes) keep the left one first
 */
static void
merge_ranges(const QoeEvent *src, QoeEvent *dst, size_t lo, size_t mid,
			 size_t hi, size_t *iter)
{
	size_t		i = lo,
				j = mid,
				o = lo;

	while (i < mid && j < hi)
	{
		check_interrupts(++*iter);
		if (ev_cmp(&src[j], &src[i]) < 0)
			dst[o++] = src[j++];
		else
			dst[o++] = src[i++];
	}
	if (i < mid)
		memcpy(dst + o, src + i, (mid - i) * sizeof(QoeEvent));
	else if (j < hi)
		memcpy(dst + o, src + j, (hi - j) * sizeof(QoeEvent));
}

#define QOE_INSERTION_SORT_MAX 16

/* stable bottom-up merge sort of events with a scratch buffer */
static void
merge_sort_events(const QoeAllocator *a, QoeEvent *ev, size_t n)
{
	QoeEvent   *tmp;
	QoeEvent   *src = ev;
	QoeEvent   *dst;
	size_t		width;
	size_t		lo;
	size_t		iter = 0;

	if (n <= QOE_INSERTION_SORT_MAX)
	{
		insertion_sort_events(ev, n);
		return;
	}
	for (lo = 0; lo < n; lo += QOE_INSERTION_SORT_MAX)
	{
		size_t		len = n - lo < QOE_INSERTION_SORT_MAX ? n - lo : QOE_INSERTION_SORT_MAX;

		insertion_sort_events(ev + lo, len);
		check_interrupts(++iter);
	}
	tmp = qalloc(a, mul_size(a, n, sizeof(QoeEvent)));
	dst = tmp;
	for (width = QOE_INSERTION_SORT_MAX; width < n; width *= 2)
	{
		for (lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n;
			size_t		hi = mid + width < n ? mid + width : n;

			if (mid < hi && ev_cmp(&src[mid - 1], &src[mid]) <= 0)
			{
				/* already in order */
				memcpy(dst + lo, src + lo, (hi - lo) * sizeof(QoeEvent));
				continue;
			}
			merge_ranges(src, dst, lo, mid, hi, &iter);
		}
		{
			QoeEvent   *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != ev)
		memcpy(ev, src, n * sizeof(QoeEvent));
	qfree(a, tmp);
}

static inline unsigned
event_digit(const QoeEvent *ev, int d)
{
	if (d < 8)
		return (unsigned) (((uint64_t) ev->ts ^ UINT64_C(0x8000000000000000)) >> (8 * d)) & 0xff;
	return (unsigned) ((uint32_t) (ev->key + 1) >> (8 * (d - 8))) & 0xff;
}

#define QOE_RADIX_DIGITS 12		/* 8 bytes of ts, then 4 bytes of key rank + 1 */

/*
 * Sort the events of b by (key, ts) with an LSD radix sort (bytes of the
 * ts with its sign bit flipped, then of the key rank + 1 so that NULL comes
 * first), skipping digits that are the same in every event; then finish
 * runs of equal (key, ts) with a comparison sort.  Sorting the events
 * themselves needs one scratch array and no gather step.
 */
static void
radix_sort_events(QoeBuffer *b)
{
	const QoeAllocator *a = b->alloc;
	size_t		n = b->nevents;
	QoeEvent   *src = b->events;
	QoeEvent   *dst;
	QoeEvent   *ev;
	size_t	   *hist;
	size_t		i;
	int			d;

	hist = qalloc(a, QOE_RADIX_DIGITS * 256 * sizeof(size_t));
	memset(hist, 0, QOE_RADIX_DIGITS * 256 * sizeof(size_t));
	for (i = 0; i < n; i++)
	{
		uint64_t	ts = (uint64_t) src[i].ts ^ UINT64_C(0x8000000000000000);
		uint32_t	kp = src[i].key + 1;

		check_interrupts(i);
		hist[0 * 256 + (ts & 0xff)]++;
		hist[1 * 256 + ((ts >> 8) & 0xff)]++;
		hist[2 * 256 + ((ts >> 16) & 0xff)]++;
		hist[3 * 256 + ((ts >> 24) & 0xff)]++;
		hist[4 * 256 + ((ts >> 32) & 0xff)]++;
		hist[5 * 256 + ((ts >> 40) & 0xff)]++;
		hist[6 * 256 + ((ts >> 48) & 0xff)]++;
		hist[7 * 256 + (ts >> 56)]++;
		hist[8 * 256 + (kp & 0xff)]++;
		hist[9 * 256 + ((kp >> 8) & 0xff)]++;
		hist[10 * 256 + ((kp >> 16) & 0xff)]++;
		hist[11 * 256 + (kp >> 24)]++;
	}

	dst = qalloc(a, mul_size(a, n, sizeof(QoeEvent)));
	for (d = 0; d < QOE_RADIX_DIGITS; d++)
	{
		size_t	   *h = hist + d * 256;
		size_t		sum = 0;
		unsigned	c;

		if (h[event_digit(&src[0], d)] == n)
			continue;			/* the same digit everywhere */
		for (c = 0; c < 256; c++)
		{
			size_t		cnt = h[c];

			h[c] = sum;
			sum += cnt;
		}
		for (i = 0; i < n; i++)
		{
			check_interrupts(i);
			dst[h[event_digit(&src[i], d)]++] = src[i];
		}
		{
			QoeEvent   *t = src;

			src = dst;
			dst = t;
		}
	}
	qfree(a, hist);
	qfree(a, dst);				/* whichever array is the scratch one now */
	b->events = ev = src;
	b->evcap = n;

	/* ties on (key, ts): order by kind, position, value */
	i = 0;
	while (i < n)
	{
		size_t		j = i + 1;

		while (j < n && ev[j].key == ev[i].key && ev[j].ts == ev[i].ts)
			j++;
		if (j - i > 1)
			merge_sort_events(a, ev + i, j - i);
		check_interrupts(i);
		i = j;
	}
}

/*
 * Every key's events already in order, only the keys interleaved: a
 * stable counting sort by key rank finishes the job in one pass.
 */
static void
counting_sort_by_key(QoeBuffer *b)
{
	const QoeAllocator *a = b->alloc;
	size_t		n = b->nevents;
	size_t		nb = (size_t) b->nkeys + 1;
	size_t	   *pos;
	QoeEvent   *out;
	size_t		i;
	size_t		sum = 0;

	pos = qalloc(a, mul_size(a, nb, sizeof(size_t)));
	memset(pos, 0, nb * sizeof(size_t));
	for (i = 0; i < n; i++)
	{
		check_interrupts(i);
		pos[(uint32_t) (b->events[i].key + 1)]++;
	}
	for (i = 0; i < nb; i++)
	{
		size_t		c = pos[i];

		pos[i] = sum;
		sum += c;
	}
	out = qalloc(a, mul_size(a, n, sizeof(QoeEvent)));
	for (i = 0; i < n; i++)
	{
		check_interrupts(i);
		out[pos[(uint32_t) (b->events[i].key + 1)]++] = b->events[i];
	}
	qfree(a, pos);
	qfree(a, b->events);
	b->events = out;
	b->evcap = n;
}

#define QOE_MERGE_RUNS_MAX 64

/*
 * Merge the sorted runs of ev that start at run[0] < run[1] < ... <
 * run[nruns - 1] (run[nruns] == n): adjacent runs are merged pairwise until
 * one is left, ceil(log2(nruns)) passes over the events.  Partial
 * aggregation gives this shape: each worker's part of a group is in time
 * order when the table is, and combining concatenates them.
 */
static void
merge_runs(QoeBuffer *b, size_t *run, size_t nruns)
{
	const QoeAllocator *a = b->alloc;
	size_t		n = b->nevents;
	QoeEvent   *src = b->events;
	QoeEvent   *dst = qalloc(a, mul_size(a, n, sizeof(QoeEvent)));
	size_t		iter = 0;

	while (nruns > 1)
	{
		size_t		r,
					out = 0;

		for (r = 0; r < nruns; r += 2)
		{
			size_t		lo = run[r];
			size_t		mid = r + 1 < nruns ? run[r + 1] : run[nruns];
			size_t		hi = r + 2 < nruns ? run[r + 2] : run[nruns];

			merge_ranges(src, dst, lo, mid, hi, &iter);
			run[out++] = lo;
		}
		run[out] = n;
		nruns = out;
		{
			QoeEvent   *t = src;

			src = dst;
			dst = t;
		}
	}
	qfree(a, dst);				/* whichever array is the scratch one now */
	b->events = src;
	b->evcap = n;
}

/* events grouped by key (in key order): sort each key's events */
static void
sort_key_runs(QoeBuffer *b)
{
	size_t		n = b->nevents;
	QoeEvent   *ev = b->events;
	size_t		lo = 0;

	while (lo < n)
	{
		size_t		hi = lo + 1;
		bool		sorted = true;

		while (hi < n && ev[hi].key == ev[lo].key)
		{
			if (sorted && ev_cmp(&ev[hi - 1], &ev[hi]) > 0)
				sorted = false;
			hi++;
		}
		if (!sorted)
			merge_sort_events(b->alloc, ev + lo, hi - lo);
		check_interrupts(lo);
		lo = hi;
	}
}

static void
sort_events(QoeBuffer *b)
{
	size_t		n = b->nevents;
	QoeEvent   *ev = b->events;
	size_t		i;
	bool		per_key_sorted = true;
	size_t	   *last;
	size_t		nb;

	if (n < 2)
		return;

	/* already sorted?  (the usual case for one session in time order) */
	for (i = 1; i < n; i++)
	{
		check_interrupts(i);
		if (ev_cmp(&ev[i - 1], &ev[i]) > 0)
			break;
	}
	if (i == n)
		return;

	if (n <= QOE_INSERTION_SORT_MAX)
	{
		insertion_sort_events(ev, n);
		return;
	}

	/* a few sorted runs one after the other (combined partial states)? */
	{
		size_t		run[QOE_MERGE_RUNS_MAX + 1];
		size_t		nruns = 1;
		size_t		j;

		run[0] = 0;
		for (j = i; j < n; j++)
		{
			check_interrupts(j);
			if (ev_cmp(&ev[j - 1], &ev[j]) > 0)
			{
				if (nruns == QOE_MERGE_RUNS_MAX)
					break;
				run[nruns++] = j;
			}
		}
		if (j == n)
		{
			run[nruns] = n;
			merge_runs(b, run, nruns);
			return;
		}
	}

	/* each key's events in order, keys interleaved? */
	nb = (size_t) b->nkeys + 1;
	last = qalloc(b->alloc, mul_size(b->alloc, nb, sizeof(size_t)));
	memset(last, 0xff, nb * sizeof(size_t));	/* SIZE_MAX: none yet */
	for (i = 0; i < n; i++)
	{
		uint32_t	kp = ev[i].key + 1;

		check_interrupts(i);
		if (last[kp] != SIZE_MAX && ev_cmp(&ev[last[kp]], &ev[i]) > 0)
		{
			per_key_sorted = false;
			break;
		}
		last[kp] = i;
	}
	qfree(b->alloc, last);

	if (per_key_sorted)
		counting_sort_by_key(b);
	else if (n / nb <= 1024)
	{
		/*
		 * Many short keys, some out of order (e.g. a scan that started in
		 * the middle of the table and wrapped around): group by key, then
		 * sort the keys whose events are not in order.
		 */
		counting_sort_by_key(b);
		sort_key_runs(b);
	}
	else
		radix_sort_events(b);
}

/* drop exact duplicates of a sorted buffer, counting them */
static void
remove_duplicates(QoeBuffer *b)
{
	size_t		n = b->nevents;
	QoeEvent   *ev = b->events;
	size_t		i;
	size_t		out = 1;

	if (n < 2)
		return;
	for (i = 1; i < n; i++)
	{
		check_interrupts(i);
		if (ev_cmp(&ev[out - 1], &ev[i]) == 0)
		{
			/* capped, as every merge adds: the result must not depend on the plan */
			b->duplicate_events = add_count(b->duplicate_events, 1);
			continue;
		}
		if (out != i)
			ev[out] = ev[i];
		out++;
	}
	b->nevents = out;
}

void
qoe_buffer_canonicalize(QoeBuffer *b)
{
	if (b->canonical)
		return;
	canonicalize_keys(b);
	sort_events(b);
	remove_duplicates(b);
	b->canonical = true;
}

/*
 * Merging two canonical buffers.  Keys are ranked by their bytes in both,
 * so one pass over the two sorted key lists gives the merged list and a
 * monotone map from each side's ranks to the merged ranks; mapped that way
 * both event arrays stay sorted, and one pass merges them.  An event both
 * sides hold is kept once and counted as a duplicate, as
 * remove_duplicates() would count it after qoe_buffer_merge().
 */
void
qoe_buffer_merge_canonical(QoeBuffer *dst, const QoeBuffer *src)
{
	qoe_buffer_merge_canonical_many(dst, &src, 1);
}

/*
 * Merge the sorted key lists of in[0 .. k-1] into one table (freshly
 * allocated in km): a key several inputs hold is kept once, and
 * km->map[i][j] is the merged rank of in[i]'s key j (a monotone map, so
 * mapped events stay sorted).  km->newoff is NULL when no input has keys.
 */
typedef struct KeyMerge
{
	uint32_t  **map;			/* k arrays (NULL without keys) */
	uint64_t   *newoff;
	uint32_t   *newlen;
	char	   *newdata;
	size_t		total;			/* key bytes */
	uint32_t	m;				/* keys merged */
	uint32_t	cap;			/* entries of newoff and newlen */
} KeyMerge;

static void
merge_key_lists(const QoeAllocator *a, const QoeBuffer *const *in, int k,
				KeyMerge *km)
{
	size_t	   *pos;
	uint64_t	nkeys = 0;
	size_t		keybytes = 0;
	int			i;

	memset(km, 0, sizeof(*km));
	km->map = qalloc(a, sizeof(uint32_t *) * (size_t) k);
	for (i = 0; i < k; i++)
	{
		nkeys += in[i]->nkeys;
		keybytes = add_size(a, keybytes, in[i]->keydata_len);
		km->map[i] = NULL;
	}
	if (nkeys >= UINT32_MAX)
		size_overflow(a);
	if (nkeys == 0)
		return;

	pos = qalloc(a, sizeof(size_t) * (size_t) k);
	for (i = 0; i < k; i++)
	{
		km->map[i] = qalloc(a, mul_size(a, in[i]->nkeys ? in[i]->nkeys : 1,
										sizeof(uint32_t)));
		pos[i] = 0;
	}
	km->cap = (uint32_t) nkeys;
	km->newoff = qalloc(a, mul_size(a, (size_t) nkeys, sizeof(uint64_t)));
	km->newlen = qalloc(a, mul_size(a, (size_t) nkeys, sizeof(uint32_t)));
	km->newdata = qalloc(a, keybytes ? keybytes : 1);
	for (;;)
	{
		const char *best = NULL;
		size_t		bestlen = 0;
		uint64_t	same = 0;

		/* the smallest next key, and which inputs hold it */
		for (i = 0; i < k; i++)
		{
			size_t		len;
			const char *kp;
			int			c;

			if (pos[i] >= in[i]->nkeys)
				continue;
			kp = qoe_buffer_key(in[i], (uint32_t) pos[i], &len);
			c = best == NULL ? -1 : key_cmp(kp, len, best, bestlen);
			if (c < 0)
			{
				best = kp;
				bestlen = len;
				same = (uint64_t) 1 << i;
			}
			else if (c == 0)
				same |= (uint64_t) 1 << i;
		}
		if (best == NULL)
			break;
		if (bestlen > 0)
			memcpy(km->newdata + km->total, best, bestlen);
		for (i = 0; i < k; i++)
			if (same & ((uint64_t) 1 << i))
				km->map[i][pos[i]++] = km->m;
		km->newoff[km->m] = km->total;
		km->newlen[km->m] = (uint32_t) bestlen;
		km->total += bestlen;
		km->m++;
		check_interrupts(km->m);
	}
	qfree(a, pos);
}

void
qoe_buffer_merge_canonical_many(QoeBuffer *dst, const QoeBuffer *const *src, int nsrc)
{
	const QoeAllocator *a = dst->alloc;
	QoeMergeInput in[QOE_MERGE_MAX];
	QoeMergeReader r;
	QoeBuffer	out,
				merged;
	const char *err;
	int			k = 0,
				i;

	/* more inputs than one merge takes: merge them in turns */
	while (nsrc > QOE_MERGE_MAX - 1)
	{
		qoe_buffer_merge_canonical_many(dst, src, QOE_MERGE_MAX - 1);
		src += QOE_MERGE_MAX - 1;
		nsrc -= QOE_MERGE_MAX - 1;
	}

	/* one pass of QoeMergeReader over dst and the sources, into one piece */
	in[k].buf = dst;
	in[k++].reader = NULL;
	for (i = 0; i < nsrc; i++)
	{
		/* one without events gives only its counters (its keys are unused) */
		if (src[i]->nevents == 0)
		{
			add_counters(dst, src[i]);
			continue;
		}
		in[k].buf = src[i];
		in[k++].reader = NULL;
	}
	if (k == 1)
		return;					/* no source with events: dst as it was */
	qoe_buffer_init(&out, a);
	qoe_buffer_init(&merged, a);
	(void) qoe_merge_open(&r, in, k, &out);	/* buffers: cannot fail */
	reserve_events(&merged, r.total);
	(void) qoe_merge_next(&r, &merged, SIZE_MAX, &err);
	qoe_merge_close(&r);

	/* dst takes the merged events, keys and counters */
	qfree(a, dst->events);
	dst->events = merged.events;
	dst->nevents = merged.nevents;
	dst->evcap = merged.evcap;
	if (out.nkeys > 0)
	{
		replace_keys(dst, out.keydata, out.keydata_len, out.keyoff, out.keylen,
					 out.nkeys, out.keycap);
		out.keydata = NULL;
		out.keyoff = NULL;
		out.keylen = NULL;
		out.nkeys = 0;
	}
	dst->invalid_events = out.invalid_events;
	dst->unknown_events = out.unknown_events;
	dst->duplicate_events = out.duplicate_events;
	qoe_buffer_free(&out);
	dst->canonical = true;
}

/* ---------------------------------------------------------------------
 * binary format
 *
 * All integers little-endian:
 *	 "QTL1", uint32 flags (bit 0: canonical),
 *	 uint64 nevents, nkeys, invalid_events, unknown_events,
 *	 duplicate_events, keybytes,
 *	 nevents x 32-byte events (int64 ts, float64 position, float64 value,
 *	 uint32 key, uint8 kind, uint8 flags, uint16 0),
 *	 nkeys x uint32 key length, then the key bytes.
 * ---------------------------------------------------------------------
 */
static inline void
put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char) v;
	p[1] = (unsigned char) (v >> 8);
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

static inline void
put_f64(unsigned char *p, double d)
{
	uint64_t	v;

	memcpy(&v, &d, sizeof(v));
	put_u64(p, v);
}

static inline uint16_t
get_u16(const unsigned char *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static inline uint64_t
get_u64(const unsigned char *p)
{
	return (uint64_t) get_u32(p) | ((uint64_t) get_u32(p + 4) << 32);
}

static inline double
get_f64(const unsigned char *p)
{
	uint64_t	v = get_u64(p);
	double		d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

static size_t
key_bytes(const QoeBuffer *b)
{
	size_t		total = 0;
	uint32_t	k;

	for (k = 0; k < b->nkeys; k++)
		total = add_size(b->alloc, total, b->keylen[k]);
	return total;
}

/* the 56-byte header both binary forms share: magic, flags, counts */
static unsigned char *
put_header(unsigned char *p, const char *magic, uint32_t flags, const QoeBuffer *b,
		   size_t nevents)
{
	memcpy(p, magic, 4);
	put_u32(p + 4, flags);
	put_u64(p + 8, (uint64_t) nevents);
	put_u64(p + 16, (uint64_t) b->nkeys);
	put_u64(p + 24, b->invalid_events);
	put_u64(p + 32, b->unknown_events);
	put_u64(p + 40, b->duplicate_events);
	put_u64(p + 48, (uint64_t) key_bytes(b));
	return p + QOE_SERIAL_HEADER;
}

size_t
qoe_buffer_serialized_size(const QoeBuffer *b)
{
	const QoeAllocator *a = b->alloc;
	size_t		size = QOE_SERIAL_HEADER;

	size = add_size(a, size, mul_size(a, b->nevents, QOE_SERIAL_EVENT));
	size = add_size(a, size, mul_size(a, b->nkeys, 4));
	size = add_size(a, size, key_bytes(b));
	return size;
}

void
qoe_buffer_serialize(const QoeBuffer *b, unsigned char *out)
{
	unsigned char *p = out;
	size_t		i;
	uint32_t	k;

	p = put_header(p, QOE_SERIAL_MAGIC,
				   b->canonical ? QOE_SERIAL_FLAG_CANONICAL : 0, b,
				   b->nevents);

	for (i = 0; i < b->nevents; i++)
	{
		const QoeEvent *ev = &b->events[i];

		check_interrupts(i);
		put_u64(p, (uint64_t) ev->ts);
		put_f64(p + 8, ev->position);
		put_f64(p + 16, ev->value);
		put_u32(p + 24, ev->key);
		p[28] = ev->kind;
		p[29] = ev->flags;
		put_u16(p + 30, 0);
		p += QOE_SERIAL_EVENT;
	}
	for (k = 0; k < b->nkeys; k++)
	{
		put_u32(p, b->keylen[k]);
		p += 4;
	}
	for (k = 0; k < b->nkeys; k++)
	{
		size_t		len;
		const char *kp = qoe_buffer_key(b, k, &len);

		check_interrupts(k);
		if (len > 0)
			memcpy(p, kp, len);
		p += len;
	}
}

/* the parts of a serialized buffer, after serial_open() checked them */
typedef struct SerialParts
{
	bool		canonical;
	uint64_t	nevents;
	uint64_t	nkeys;
	uint64_t	keybytes;
	const unsigned char *events;
	const unsigned char *keylens;
	const unsigned char *keydata;
} SerialParts;

/* check the header and the keys of serialized data */
static const char *
serial_open(SerialParts *s, const unsigned char *data, size_t len,
			bool require_canonical)
{
	uint32_t	flags;
	size_t		rest;
	uint32_t	k;
	uint64_t	off;

	if (data == NULL || len < QOE_SERIAL_HEADER)
		return "truncated data";
	if (memcmp(data, QOE_SERIAL_MAGIC, 4) != 0)
		return "bad magic number";
	flags = get_u32(data + 4);
	if (flags & ~(uint32_t) QOE_SERIAL_FLAG_CANONICAL)
		return "unknown flag bits";
	if (require_canonical && !(flags & QOE_SERIAL_FLAG_CANONICAL))
		return "data is not in canonical form";
	s->canonical = (flags & QOE_SERIAL_FLAG_CANONICAL) != 0;

	s->nevents = get_u64(data + 8);
	s->nkeys = get_u64(data + 16);
	s->keybytes = get_u64(data + 48);

	rest = len - QOE_SERIAL_HEADER;
	if (s->nevents > rest / QOE_SERIAL_EVENT)
		return "truncated data";
	rest -= (size_t) s->nevents * QOE_SERIAL_EVENT;
	if (s->nkeys > rest / 4)
		return "truncated data";
	rest -= (size_t) s->nkeys * 4;
	if (s->keybytes > rest)
		return "truncated data";
	if (s->keybytes < rest)
		return "unexpected data after the end";
	if (s->nkeys >= UINT32_MAX)
		return "too many session keys";

	s->events = data + QOE_SERIAL_HEADER;
	s->keylens = s->events + (size_t) s->nevents * QOE_SERIAL_EVENT;
	s->keydata = s->keylens + (size_t) s->nkeys * 4;

	off = 0;
	for (k = 0; k < (uint32_t) s->nkeys; k++)
	{
		uint32_t	kl = get_u32(s->keylens + (size_t) k * 4);

		if (kl > s->keybytes - off)
			return "session key lengths do not match the key data";
		if (kl > 0 && memchr(s->keydata + off, '\0', kl) != NULL)
			return "session key contains a zero byte";
		if (s->canonical && k > 0)
		{
			uint32_t	pl = get_u32(s->keylens + (size_t) (k - 1) * 4);

			if (key_cmp((const char *) s->keydata + off - pl, pl,
						(const char *) s->keydata + off, kl) >= 0)
				return "session keys are not in canonical order";
		}
		off += kl;
		check_interrupts(k);
	}
	if (off != s->keybytes)
		return "session key lengths do not match the key data";
	return NULL;
}

/* the keys of checked serialized data into b (which has none) */
static void
serial_load_keys(QoeBuffer *b, const SerialParts *s)
{
	const QoeAllocator *a = b->alloc;
	uint64_t	off = 0;
	uint32_t	k;

	if (s->nkeys == 0)
		return;
	b->keycap = (uint32_t) s->nkeys;
	b->keyoff = qalloc(a, (size_t) s->nkeys * sizeof(uint64_t));
	b->keylen = qalloc(a, (size_t) s->nkeys * sizeof(uint32_t));
	b->keydata_cap = s->keybytes ? (size_t) s->keybytes : 1;
	b->keydata = qalloc(a, b->keydata_cap);
	if (s->keybytes > 0)
		memcpy(b->keydata, s->keydata, (size_t) s->keybytes);
	b->keydata_len = (size_t) s->keybytes;
	for (k = 0; k < (uint32_t) s->nkeys; k++)
	{
		b->keyoff[k] = off;
		b->keylen[k] = get_u32(s->keylens + (size_t) k * 4);
		off += b->keylen[k];
	}
	b->nkeys = (uint32_t) s->nkeys;
}

/*
 * Check the fields of a decoded event that every binary form shares (not
 * its key or its order), and normalise its doubles as qoe_buffer_add does.
 */
static inline const char *
check_event(QoeEvent *ev)
{
	if (ev->ts == QOE_TS_NOBEGIN || ev->ts == QOE_TS_NOEND)
		return "event with an infinite timestamp";
	if (ev->ts < QOE_MIN_TIMESTAMP || ev->ts >= QOE_END_TIMESTAMP)
		return "event timestamp out of range";
	if ((ev->flags & QOE_EV_HAS_POS) &&
		!(isfinite(ev->position) && ev->position >= 0))
		return "event with an invalid position";
	if (ev->kind == QOE_BITRATE &&
		(!(ev->flags & QOE_EV_HAS_VALUE) ||
		 !isfinite(ev->value) || !(ev->value > 0)))
		return "bitrate event with an invalid value";
	ev->position = normalize_double(ev->position);
	ev->value = normalize_double(ev->value);
	return NULL;
}

/* decode and check one serialized event (not its order) */
static inline const char *
serial_event(const unsigned char *p, uint64_t nkeys, QoeEvent *ev)
{
	ev->ts = (int64_t) get_u64(p);
	ev->position = get_f64(p + 8);
	ev->value = get_f64(p + 16);
	ev->key = get_u32(p + 24);
	ev->kind = p[28];
	ev->flags = p[29];
	ev->pad = get_u16(p + 30);

	if (ev->kind >= QOE_NKINDS)
		return "unknown event kind";
	if (ev->flags & ~(QOE_EV_HAS_POS | QOE_EV_HAS_VALUE))
		return "unknown event flag bits";
	if (ev->pad != 0)
		return "nonzero padding in an event";
	if (!(ev->flags & QOE_EV_HAS_POS) && get_u64(p + 8) != 0)
		return "event with an invalid position";
	if (!(ev->flags & QOE_EV_HAS_VALUE) && get_u64(p + 16) != 0)
		return "event with an invalid value";
	if (ev->key != QOE_NO_KEY && ev->key >= nkeys)
		return "event with an invalid session key index";
	return check_event(ev);
}

/*
 * Check the events of serialized data: each event, and for canonical data
 * their order and that every key is referenced.  With out, the events are
 * also stored there; first and last get the ts range.
 */
static const char *
serial_check_events(const SerialParts *s, const QoeAllocator *a, QoeEvent *out,
					int64_t *first, int64_t *last)
{
	char	   *referenced = NULL;
	QoeEvent	prev = {0};
	QoeEvent	ev;
	size_t		i;
	uint32_t	k;
	const char *err = NULL;

	if (s->canonical && s->nkeys > 0)
	{
		referenced = qalloc(a, (size_t) s->nkeys);
		memset(referenced, 0, (size_t) s->nkeys);
	}
	for (i = 0; i < (size_t) s->nevents; i++)
	{
		check_interrupts(i);
		err = serial_event(s->events + i * QOE_SERIAL_EVENT, s->nkeys, &ev);
		if (err != NULL)
			break;
		if (i == 0 || ev.ts < *first)
			*first = ev.ts;
		if (i == 0 || ev.ts > *last)
			*last = ev.ts;
		if (s->canonical)
		{
			if (i > 0 && ev_cmp(&prev, &ev) >= 0)
			{
				err = "events are not in canonical order";
				break;
			}
			if (ev.key != QOE_NO_KEY)
				referenced[ev.key] = 1;
			prev = ev;
		}
		if (out)
			out[i] = ev;
	}
	for (k = 0; err == NULL && referenced != NULL && k < (uint32_t) s->nkeys; k++)
		if (!referenced[k])
			err = "session key not referenced by any event";
	qfree(a, referenced);
	return err;
}

/* the counters of serialized data into b */
static const char *
serial_counters(QoeBuffer *b, const unsigned char *data)
{
	b->invalid_events = get_u64(data + 24);
	b->unknown_events = get_u64(data + 32);
	b->duplicate_events = get_u64(data + 40);
	/* counts are reported as bigint */
	if (b->invalid_events > (uint64_t) INT64_MAX ||
		b->unknown_events > (uint64_t) INT64_MAX ||
		b->duplicate_events > (uint64_t) INT64_MAX)
		return "event count out of range";
	return NULL;
}

const char *
qoe_buffer_deserialize(QoeBuffer *b, const unsigned char *data, size_t len,
					   bool require_canonical)
{
	SerialParts s;
	const char *err;
	int64_t		first,
				last;

	if (data != NULL && len >= 4 && memcmp(data, QOE_COMPACT_MAGIC, 4) == 0)
		return compact_deserialize(b, data, len);
	err = serial_open(&s, data, len, require_canonical);
	if (err != NULL)
		return err;
	serial_load_keys(b, &s);
	if (s.nevents > 0)
	{
		b->events = qalloc(b->alloc, (size_t) s.nevents * sizeof(QoeEvent));
		b->evcap = (size_t) s.nevents;
	}
	err = serial_check_events(&s, b->alloc, b->events, &first, &last);
	if (err != NULL)
		return err;
	b->nevents = (size_t) s.nevents;
	err = serial_counters(b, data);
	if (err != NULL)
		return err;
	b->lastkey = QOE_NO_KEY;
	b->canonical = s.canonical || (s.nevents == 0 && s.nkeys == 0);
	return NULL;
}

const char *
qoe_serial_open(QoeSerialReader *r, const unsigned char *data, size_t len,
				QoeBuffer *b)
{
	SerialParts s;
	const char *err;

	memset(r, 0, sizeof(*r));
	if (data != NULL && len >= 4 && memcmp(data, QOE_COMPACT_MAGIC, 4) == 0)
	{
		/* check it all now; qoe_serial_next decodes it again */
		err = qoe_serial_open_unchecked(r, data, len, b);
		if (err == NULL)
			err = compact_check(&r->compact, &r->first_ts, &r->last_ts);
		r->unchecked = false;
		return err;
	}
	err = serial_open(&s, data, len, true);
	if (err == NULL)
		err = serial_check_events(&s, b->alloc, NULL, &r->first_ts, &r->last_ts);
	if (err == NULL)
		err = serial_counters(b, data);
	if (err != NULL)
		return err;
	serial_load_keys(b, &s);
	b->lastkey = QOE_NO_KEY;
	b->canonical = true;
	r->events = s.events;
	r->nevents = (size_t) s.nevents;
	r->nkeys = s.nkeys;
	return NULL;
}

/* one more event read into the piece b, which holds *n */
static inline void
piece_add(QoeSerialReader *r, QoeBuffer *b, size_t *n, const QoeEvent *ev)
{
	reserve_events(b, *n + 1);
	b->events[(*n)++] = *ev;
	r->next++;
	check_interrupts(r->next);
}

bool
qoe_serial_next(QoeSerialReader *r, QoeBuffer *b, size_t want)
{
	size_t		n = 0;
	QoeEvent	ev;

	b->nevents = 0;
	if (r->next >= r->nevents)
		return false;
	if (want == 0)
		want = 1;
	if (r->events == NULL)
	{
		const char *err;

		/* checked by qoe_serial_open: this pass gives the same events */
		while (n < want || r->compact.left > 0)
		{
			if (compact_next(&r->compact, &ev, &err) <= 0)
				break;
			piece_add(r, b, &n, &ev);
		}
		b->nevents = n;
		/* no progress (cannot happen: the data was checked) ends the reading */
		if (n == 0)
			r->next = r->nevents;
		return n > 0;
	}
	while (r->next < r->nevents)
	{
		/* checked by qoe_serial_open; decoded (and normalised) again */
		(void) serial_event(r->events + r->next * QOE_SERIAL_EVENT, r->nkeys, &ev);
		/* stop at the end of a key, once enough events are loaded */
		if (n >= want && ev.key != b->events[n - 1].key)
			break;
		piece_add(r, b, &n, &ev);
	}
	b->nevents = n;
	return true;
}

const char *
qoe_serial_open_unchecked(QoeSerialReader *r, const unsigned char *data,
						  size_t len, QoeBuffer *b)
{
	const char *err;

	memset(r, 0, sizeof(*r));
	if (data == NULL || len < 4 || memcmp(data, QOE_COMPACT_MAGIC, 4) != 0)
		return "bad magic number";
	err = compact_open(&r->compact, b, data, len);
	if (err != NULL)
		return err;
	b->canonical = true;
	r->nevents = (size_t) r->compact.nevents;
	r->nkeys = r->compact.nkeys;
	r->unchecked = true;
	return NULL;
}

/* ---------------------------------------------------------------------
 * Merging canonical inputs a piece at a time (QoeMergeReader)
 * ---------------------------------------------------------------------
 */

/* input i's next event into its head, key mapped; clears its bit at the end */
static bool
merge_advance(QoeMergeReader *r, int i)
{
	QoeEvent   *ev = &r->head[i];

	if (r->events[i] != NULL)
	{
		if (r->pos[i] >= r->nevents[i])
		{
			r->live &= ~((uint32_t) 1 << i);
			return true;
		}
		*ev = r->events[i][r->pos[i]++];
	}
	else
	{
		QoeSerialReader *rd = &r->reader[i];

		if (rd->next >= rd->nevents)
		{
			/* unchecked data: nothing may follow the last event */
			if (rd->unchecked && compact_next(&rd->compact, ev, &r->err) != 0)
			{
				if (r->err == NULL)
					r->err = "more events than the header says";
				return false;
			}
			r->live &= ~((uint32_t) 1 << i);
			return true;
		}
		if (rd->events == NULL)
		{
			/* each event checked (again, if qoe_serial_open checked them) */
			if (compact_next(&rd->compact, ev, &r->err) <= 0)
			{
				if (r->err == NULL)
					r->err = "fewer events than the header says";
				return false;
			}
		}
		else
			(void) serial_event(rd->events + rd->next * QOE_SERIAL_EVENT,
								rd->nkeys, ev);
		rd->next++;
	}
	if (ev->key != QOE_NO_KEY)
		ev->key = r->map[i][ev->key];
	return true;
}

const char *
qoe_merge_open(QoeMergeReader *r, const QoeMergeInput *in, int n, QoeBuffer *out)
{
	const QoeAllocator *a = out->alloc;
	const QoeBuffer *bufs[QOE_MERGE_MAX] = {NULL};
	KeyMerge	km;
	int			i;

	memset(r, 0, sizeof(*r));
	r->out = out;
	out->canonical = true;
	if (n > QOE_MERGE_MAX)
		return "too many inputs to merge";
	if (n <= 0)
		return NULL;
	r->k = n;
	for (i = 0; i < n; i++)
	{
		bufs[i] = in[i].buf;
		add_counters(out, in[i].buf);
		if (in[i].reader != NULL)
		{
			r->reader[i] = *in[i].reader;
			r->total = add_size(a, r->total, in[i].reader->nevents);
		}
		else
		{
			r->events[i] = in[i].buf->events;
			r->nevents[i] = in[i].buf->nevents;
			r->total = add_size(a, r->total, in[i].buf->nevents);
		}
	}

	merge_key_lists(a, bufs, n, &km);
	for (i = 0; i < n; i++)
		r->map[i] = km.map[i];
	qfree(a, km.map);
	if (km.newoff != NULL)
		replace_keys(out, km.newdata, km.total, km.newoff, km.newlen, km.m, km.cap);
	out->canonical = true;

	for (i = 0; i < n; i++)
	{
		r->live |= (uint32_t) 1 << i;
		if (!merge_advance(r, i))
			return r->err;
	}
	return NULL;
}

bool
qoe_merge_next(QoeMergeReader *r, QoeBuffer *piece, size_t want, const char **err)
{
	size_t		n = 0;

	*err = r->err;
	piece->nevents = 0;
	piece->canonical = true;
	if (r->err != NULL)
		return false;
	if (want == 0)
		want = 1;
	while (r->live != 0)
	{
		int			best = -1;
		uint32_t	same = 0;
		int			i;

		for (i = 0; i < r->k; i++)
		{
			int			c;

			if (!(r->live & ((uint32_t) 1 << i)))
				continue;
			c = best < 0 ? -1 : ev_cmp(&r->head[i], &r->head[best]);
			if (c < 0)
			{
				best = i;
				same = (uint32_t) 1 << i;
			}
			else if (c == 0)
				same |= (uint32_t) 1 << i;
		}
		/* stop at the end of a key, once enough events are loaded */
		if (n >= want && r->head[best].key != piece->events[n - 1].key)
			break;

		/*
		 * A key with more events than a piece (a group without session
		 * keys is one key) needs them all in the piece: room for every
		 * event not yet read, at once, rather than growing by copies.
		 */
		if (n >= want && n + 1 > piece->evcap)
			reserve_events(piece, n + (r->total - r->taken));
		reserve_events(piece, n + 1);
		piece->events[n++] = r->head[best];
		if (!r->has_ts || r->head[best].ts < r->first_ts)
			r->first_ts = r->head[best].ts;
		if (!r->has_ts || r->head[best].ts > r->last_ts)
			r->last_ts = r->head[best].ts;
		r->has_ts = true;
		check_interrupts(n);
		for (i = 0; i < r->k; i++)
		{
			if (!(same & ((uint32_t) 1 << i)))
				continue;
			if (i != best)
				r->out->duplicate_events = add_count(r->out->duplicate_events, 1);
			r->taken++;
			if (!merge_advance(r, i))
			{
				*err = r->err;
				piece->nevents = n;
				return false;
			}
		}
	}
	piece->nevents = n;
	return n > 0;
}

void
qoe_merge_close(QoeMergeReader *r)
{
	int			i;

	for (i = 0; i < r->k; i++)
		qfree(r->out->alloc, r->map[i]);
	r->k = 0;
}

/* ---------------------------------------------------------------------
 * Compact event log: the transition state of aggregate groups
 *
 * A log is a header and a byte string of records, appended in arrival
 * order.  Each record starts with a tag byte:
 *	 bits 0-3  kind (QoeKind), or for a special record 0 = an invalid row,
 *			   1 = an unknown row, 2 = a reset: what follows is encoded as
 *			   if it started a log (no previous ts, no previous key), so
 *			   that combining two logs is a copy;
 *	 bit 4	   QOE_EV_HAS_POS: 8 bytes of position follow the ts
 *	 bit 5	   QOE_EV_HAS_VALUE: 8 bytes of value follow
 *	 bits 6-7  0: NULL session key; 1: the key of the last record that had
 *			   one; 2: a new key follows (varint length, bytes); 3: special
 *			   record (nothing follows the tag).
 * then (event records) the ts as a zigzag varint of the difference from the
 * previous event record's ts (modulo 2^64; the first from 0), the position
 * and the value as little-endian IEEE doubles, then the key if new.
 * Replaying the records through qoe_buffer_add gives exactly the buffer that
 * adding the rows directly would have given.
 * ---------------------------------------------------------------------
 */
#define LOG_KEY_NULL	0
#define LOG_KEY_SAME	1
#define LOG_KEY_NEW		2
#define LOG_SPECIAL		3
#define LOG_SPECIAL_INVALID 0
#define LOG_SPECIAL_UNKNOWN 1
#define LOG_SPECIAL_RESET	2
#define LOG_HEADER		offsetof(QoeLog, data)
#define LOG_MAX_RECORD	(1 + 10 + 8 + 8 + 10)	/* without the key bytes */
#define LOG_SMALL_LIMIT 8192	/* allocation sizes double up to here */

/* total allocation for a log able to hold need data bytes */
static size_t
log_alloc_size(const QoeAllocator *a, size_t oldtotal, size_t need)
{
	size_t		total = add_size(a, LOG_HEADER, need);
	size_t		sz;

	if (total <= LOG_SMALL_LIMIT)
	{
		sz = 64;
		while (sz < total)
			sz *= 2;
		return sz;
	}
	sz = oldtotal + oldtotal / 2;
	return sz > total ? sz : total;
}

size_t		qoe_log_chunk_min = (size_t) 32 * 1024 * 1024;

QoeLog *
qoe_log_create(const QoeAllocator *a, size_t cap)
{
	size_t		total = log_alloc_size(a, 0, cap);
	QoeLog	   *log = qalloc(a, total);

	memset(log, 0, LOG_HEADER);
	log->cap = total - LOG_HEADER;
	log->last_key_off = UINT64_MAX;
	return log;
}

size_t
qoe_log_memory(const QoeLog *log)
{
	size_t		sz = 0;

	for (; log != NULL; log = log->prev)
		sz += LOG_HEADER + (size_t) log->cap;
	return sz;
}

size_t
qoe_log_bytes(const QoeLog *log)
{
	size_t		sz = 0;

	for (; log != NULL; log = log->prev)
		sz += (size_t) log->nbytes;
	return sz;
}

void
qoe_log_free(QoeLog *log, const QoeAllocator *a)
{
	while (log != NULL)
	{
		QoeLog	   *prev = log->prev;

		qfree(a, log);
		log = prev;
	}
}

/* the oldest block of a log; the block after seg (NULL: seg is the newest) */
static const QoeLog *
log_first_block(const QoeLog *log)
{
	while (log->prev != NULL)
		log = log->prev;
	return log;
}

/* (a walk from the newest block: a log has few blocks, each half as large
 * again as the one before) */
static const QoeLog *
log_block_after(const QoeLog *log, const QoeLog *seg)
{
	if (log == seg)
		return NULL;
	while (log->prev != seg)
		log = log->prev;
	return log;
}

/*
 * Room for extra more bytes of records in data.  A large block is full
 * for good: the header moves to a new block (at least half as large again)
 * and the records go on there; below that, the block grows.
 */
static QoeLog *
log_reserve(QoeLog *log, const QoeAllocator *a, size_t extra)
{
	size_t		need = add_size(a, (size_t) log->nbytes, extra);
	size_t		oldtotal,
				total;

	if (need <= log->cap)
		return log;
	oldtotal = LOG_HEADER + (size_t) log->cap;
	if (oldtotal >= qoe_log_chunk_min && log->nbytes > 0)
	{
		QoeLog	   *next;

		/* at least half as large again as the full block, whatever extra is */
		total = log_alloc_size(a, oldtotal, extra > oldtotal ? extra : oldtotal);
		next = qalloc(a, total);
		memcpy(next, log, LOG_HEADER);
		next->cap = total - LOG_HEADER;
		next->nbytes = 0;
		next->last_key_off = UINT64_MAX;	/* its bytes stay in the old block */
		next->prev = log;
		return next;
	}
	total = log_alloc_size(a, oldtotal, need);
	log = a->realloc(a->ctx, log, oldtotal, total);
	log->cap = total - LOG_HEADER;
	return log;
}

static inline unsigned char *
put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80)
	{
		*p++ = (unsigned char) (v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char) v;
	return p;
}

/* append one record; values as checked by check_row */
static QoeLog *
log_put(QoeLog *log, const QoeAllocator *a, int64_t ts, int kind, uint8_t flags,
		double position, double value, const char *key, size_t keylen)
{
	unsigned char *p;
	unsigned	mode;
	uint64_t	d;

	if (key == NULL)
		mode = LOG_KEY_NULL;
	else if (log->last_key_off != UINT64_MAX && log->last_key_len == keylen &&
			 (keylen == 0 ||
			  memcmp(log->data + log->last_key_off, key, keylen) == 0))
		mode = LOG_KEY_SAME;
	else
	{
		if (keylen > UINT32_MAX)
			size_overflow(a);
		mode = LOG_KEY_NEW;
	}
	log = log_reserve(log, a, LOG_MAX_RECORD + (mode == LOG_KEY_NEW ? keylen : 0));
	p = log->data + log->nbytes;
	*p++ = (unsigned char) ((unsigned) kind | ((unsigned) flags << 4) | (mode << 6));
	d = (uint64_t) ts - (uint64_t) log->last_ts;
	/* zigzag: small differences of either sign are short */
	d = (d << 1) ^ (uint64_t) -(int64_t) (d >> 63);
	p = put_varint(p, d);
	if (flags & QOE_EV_HAS_POS)
	{
		put_f64(p, normalize_double(position));
		p += 8;
	}
	if (flags & QOE_EV_HAS_VALUE)
	{
		put_f64(p, normalize_double(value));
		p += 8;
	}
	if (mode == LOG_KEY_NEW)
	{
		p = put_varint(p, (uint64_t) keylen);
		log->last_key_off = (uint64_t) (p - log->data);
		log->last_key_len = (uint32_t) keylen;
		if (keylen > 0)
			memcpy(p, key, keylen);
		p += keylen;
	}
	log->last_ts = ts;
	log->nbytes = (uint64_t) (p - log->data);
	log->nevents++;
	return log;
}

static QoeLog *
log_put_special(QoeLog *log, const QoeAllocator *a, unsigned what)
{
	log = log_reserve(log, a, 1);
	log->data[log->nbytes++] = (unsigned char) (what | (LOG_SPECIAL << 6));
	return log;
}

QoeLog *
qoe_log_add(QoeLog *log, const QoeAllocator *a, bool ts_isnull, int64_t ts,
			int kind, bool pos_isnull, double position,
			bool value_isnull, double value, const char *key, size_t keylen)
{
	uint8_t		flags = 0;
	bool		counted;

	switch (check_row(ts_isnull, ts, kind, pos_isnull, position,
					  value_isnull, value, &flags, &counted))
	{
		case 1:
			return log_put_special(log, a, LOG_SPECIAL_INVALID);
		case 2:
			return log_put_special(log, a, LOG_SPECIAL_UNKNOWN);
		default:
			break;
	}
	if (counted)
		log = log_put_special(log, a, LOG_SPECIAL_INVALID);
	return log_put(log, a, ts, kind, flags, position, value, key, keylen);
}

/* reading records back */
typedef struct LogCursor
{
	const unsigned char *p;
	const unsigned char *end;
	int64_t		last_ts;
	const char *last_key;		/* NULL: no key seen yet */
	size_t		last_key_len;
	const QoeLog *log;			/* reading a log's blocks (else NULL) */
	const QoeLog *block;		/* the one p is in */
} LogCursor;

typedef struct LogRecord
{
	int			special;		/* -1 for an event, else LOG_SPECIAL_* */
	int64_t		ts;
	int			kind;
	uint8_t		flags;
	double		position;
	double		value;
	const char *key;			/* NULL: NULL key */
	size_t		keylen;
} LogRecord;

static inline bool
get_varint(LogCursor *c, uint64_t *out)
{
	uint64_t	v = 0;
	int			shift = 0;

	while (c->p < c->end)
	{
		unsigned char byte = *c->p++;

		if (shift == 63 && byte > 1)
			return false;
		v |= (uint64_t) (byte & 0x7f) << shift;
		if (!(byte & 0x80))
		{
			*out = v;
			return true;
		}
		shift += 7;
		if (shift > 63)
			return false;
	}
	return false;
}

/* at the end of a block: on to the next one of the log; false at the end */
static __attribute__((noinline)) bool
log_cursor_next_block(LogCursor *c)
{
	while (c->p >= c->end)
	{
		/* a record never spans two blocks */
		if (c->log == NULL || c->block == c->log)
			return false;
		c->block = log_block_after(c->log, c->block);
		c->p = c->block->data;
		c->end = c->p + c->block->nbytes;
	}
	return true;
}

/*
 * next record: 1, 0 at the end, -1 with *err on malformed data (inlined
 * into each loop over the records: it runs once per row)
 */
static inline __attribute__((always_inline)) int
log_next(LogCursor *c, LogRecord *r, const char **err)
{
	unsigned	tag,
				mode;
	uint64_t	d;

	if (c->p >= c->end && !log_cursor_next_block(c))
		return 0;
	tag = *c->p++;
	mode = tag >> 6;
	if (mode == LOG_SPECIAL)
	{
		if (tag != ((LOG_SPECIAL << 6) | LOG_SPECIAL_INVALID) &&
			tag != ((LOG_SPECIAL << 6) | LOG_SPECIAL_UNKNOWN) &&
			tag != ((LOG_SPECIAL << 6) | LOG_SPECIAL_RESET))
		{
			*err = "unknown record in an event log";
			return -1;
		}
		memset(r, 0, sizeof(*r));	/* no event fields */
		r->special = (int) (tag & 0x0f);
		if (r->special == LOG_SPECIAL_RESET)
		{
			c->last_ts = 0;
			c->last_key = NULL;
			c->last_key_len = 0;
		}
		return 1;
	}
	r->special = -1;
	r->kind = (int) (tag & 0x0f);
	r->flags = (uint8_t) ((tag >> 4) & 0x03);
	if (!get_varint(c, &d))
		goto truncated;
	d = (d >> 1) ^ (uint64_t) -(int64_t) (d & 1);
	r->ts = (int64_t) ((uint64_t) c->last_ts + d);
	if (r->ts == QOE_TS_NOBEGIN || r->ts == QOE_TS_NOEND)
	{
		*err = "event with an infinite timestamp";
		return -1;
	}
	c->last_ts = r->ts;
	r->position = 0;
	r->value = 0;
	if (r->flags & QOE_EV_HAS_POS)
	{
		if (c->end - c->p < 8)
			goto truncated;
		r->position = get_f64(c->p);
		c->p += 8;
		if (!(isfinite(r->position) && r->position >= 0))
		{
			*err = "event with an invalid position";
			return -1;
		}
	}
	if (r->flags & QOE_EV_HAS_VALUE)
	{
		if (c->end - c->p < 8)
			goto truncated;
		r->value = get_f64(c->p);
		c->p += 8;
	}
	if (r->kind == QOE_BITRATE &&
		(!(r->flags & QOE_EV_HAS_VALUE) || !isfinite(r->value) || !(r->value > 0)))
	{
		*err = "bitrate event with an invalid value";
		return -1;
	}
	switch (mode)
	{
		case LOG_KEY_NULL:
			r->key = NULL;
			r->keylen = 0;
			break;
		case LOG_KEY_SAME:
			if (c->last_key == NULL)
			{
				*err = "event log refers to a session key before the first";
				return -1;
			}
			r->key = c->last_key;
			r->keylen = c->last_key_len;
			break;
		default:
			if (!get_varint(c, &d))
				goto truncated;
			if (d > (uint64_t) (c->end - c->p) || d > UINT32_MAX)
				goto truncated;
			r->key = (const char *) c->p;
			r->keylen = (size_t) d;
			/*
			 * Received bytes (a flat cursor) are checked.  A log object's
			 * keys came through qoe_log_add from SQL values, which hold no
			 * zero byte (qoe_buffer_add does not check them either).
			 */
			if (c->log == NULL && r->keylen > 0 &&
				memchr(r->key, '\0', r->keylen) != NULL)
			{
				*err = "session key contains a zero byte";
				return -1;
			}
			c->p += d;
			c->last_key = r->key;
			c->last_key_len = r->keylen;
			break;
	}
	return 1;

truncated:
	*err = "truncated event log";
	return -1;
}

static void
log_cursor_init(LogCursor *c, const unsigned char *data, size_t len)
{
	c->p = data;
	c->end = data + len;
	c->last_ts = 0;
	c->last_key = NULL;
	c->last_key_len = 0;
	c->log = NULL;
	c->block = NULL;
}

/* reading all the blocks of a log, oldest first */
static void
log_cursor_init_log(LogCursor *c, const QoeLog *log)
{
	const QoeLog *first = log_first_block(log);

	log_cursor_init(c, first->data, (size_t) first->nbytes);
	c->log = log;
	c->block = first;
}

/*
 * Interning keys in batches.  A log of many interleaved sessions names a
 * different key in nearly every record, and each lookup in a large key
 * table is a chain of cache misses (hash slot, key length and offset, key
 * bytes).  The keys of up to INTERN_BATCH records are hashed first and
 * their table entries prefetched stage by stage, so that the misses of a
 * batch overlap; the keys are then interned one by one, in record order, so
 * the result is the same as interning each record as it comes.
 */
#define INTERN_BATCH 16
#define PENDING_MAX 256

typedef struct InternBatch
{
	int			nkeys;			/* keys waiting: key, len, hash */
	const char *key[INTERN_BATCH];
	size_t		len[INTERN_BATCH];
	uint64_t	hash[INTERN_BATCH];
	int			npending;		/* events waiting for the key of slot[i] */
	size_t		event[PENDING_MAX];
	uint8_t		slot[PENDING_MAX];
	uint32_t   *kid;			/* NULL: keys go to b->events[event].key,
								 * else to kid[event] */
} InternBatch;

/* intern the keys of the batch, give the waiting events their key index;
 * returns the index of the key in slot want (QOE_NO_KEY if want < 0) */
static uint32_t
intern_batch_flush(QoeBuffer *b, InternBatch *ib, int want)
{
	uint32_t	k[INTERN_BATCH];
	int			i;

	if (b->keyhash_cap != 0)
	{
		uint32_t	mask = b->keyhash_cap - 1;

		for (i = 0; i < ib->nkeys; i++)
			__builtin_prefetch(&b->keyhash[(uint32_t) ib->hash[i] & mask]);
		for (i = 0; i < ib->nkeys; i++)
		{
			uint32_t	s = b->keyhash[(uint32_t) ib->hash[i] & mask];

			if (s != 0)
			{
				__builtin_prefetch(&b->keyoff[s - 1]);
				__builtin_prefetch(&b->keylen[s - 1]);
			}
		}
		for (i = 0; i < ib->nkeys; i++)
		{
			uint32_t	s = b->keyhash[(uint32_t) ib->hash[i] & mask];

			if (s != 0 && b->keydata != NULL)
				__builtin_prefetch(b->keydata + b->keyoff[s - 1]);
		}
	}
	for (i = 0; i < ib->nkeys; i++)
		k[i] = intern_key_hashed(b, ib->key[i], ib->len[i], &ib->hash[i]);
	if (ib->kid != NULL)
		for (i = 0; i < ib->npending; i++)
			ib->kid[ib->event[i]] = k[ib->slot[i]];
	else
		for (i = 0; i < ib->npending; i++)
			b->events[ib->event[i]].key = k[ib->slot[i]];
	ib->nkeys = 0;
	ib->npending = 0;
	return want >= 0 ? k[want] : QOE_NO_KEY;
}

/*
 * Decode the records from c into b: each event appended to b (kid
 * NULL), or (kid not NULL) only its key interned in b and its index stored
 * in kid[], up to kidcap events, *nkid set to their number.  Counters of
 * dropped rows go to b either way.  NULL or a static message.
 */
static const char *
log_decode(LogCursor *c, QoeBuffer *b, uint32_t *kid, size_t kidcap, size_t *nkid)
{
	LogRecord	r;
	const char *err = NULL;
	int			rc;
	size_t		i = 0;
	size_t		e = 0;			/* index of the event just read */
	size_t		ne = 0;			/* events read (kid mode) */
	InternBatch ib;
	const char *prev_key = NULL;	/* bytes of the last record's key */
	int			prev_slot = -1; /* its batch slot, or -1 when interned */
	uint32_t	prev_k = QOE_NO_KEY;	/* its index when interned */

	ib.nkeys = 0;
	ib.npending = 0;
	ib.kid = kid;
	while ((rc = log_next(c, &r, &err)) > 0)
	{
		check_interrupts(++i);
		if (r.special == LOG_SPECIAL_INVALID)
			b->invalid_events++;
		else if (r.special == LOG_SPECIAL_UNKNOWN)
			b->unknown_events++;
		else if (r.special < 0)
		{
			if (kid == NULL)
			{
				append_event(b, r.ts, r.kind, r.flags, r.position, r.value, NULL, 0);
				e = b->nevents - 1;
			}
			else
			{
				if (ne == kidcap)
				{
					rc = -1;
					err = "event log holds more events than it counts";
					break;
				}
				e = ne++;
				kid[e] = QOE_NO_KEY;
			}
			if (r.key == NULL)
				continue;
			/* a repeated key (LOG_KEY_SAME) points at the same bytes */
			if (r.key != prev_key)
			{
				if (ib.nkeys == INTERN_BATCH || ib.npending == PENDING_MAX)
					(void) intern_batch_flush(b, &ib, -1);
				ib.key[ib.nkeys] = r.key;
				ib.len[ib.nkeys] = r.keylen;
				ib.hash[ib.nkeys] = hash_bytes(r.key, r.keylen);
				prev_key = r.key;
				prev_slot = ib.nkeys++;
			}
			if (prev_slot >= 0 && ib.npending == PENDING_MAX)
			{
				prev_k = intern_batch_flush(b, &ib, prev_slot);
				prev_slot = -1;
			}
			if (prev_slot >= 0)
			{
				ib.event[ib.npending] = e;
				ib.slot[ib.npending++] = (uint8_t) prev_slot;
			}
			else if (kid != NULL)
				kid[e] = prev_k;
			else
				b->events[e].key = prev_k;
		}
	}
	(void) intern_batch_flush(b, &ib, -1);
	if (nkid != NULL)
		*nkid = ne;
	return rc < 0 ? err : NULL;
}

const char *
qoe_log_records_to_buffer(const unsigned char *data, size_t len, QoeBuffer *b)
{
	LogCursor	c;

	log_cursor_init(&c, data, len);
	return log_decode(&c, b, NULL, 0, NULL);
}

void
qoe_log_to_buffer(const QoeLog *log, QoeBuffer *b)
{
	const char *err;
	size_t		nbytes = qoe_log_bytes(log);
	LogCursor	c;

	/*
	 * One allocation of the right size instead of regrowing (each growth of
	 * a large block is a copy into fresh memory).  Every record takes at
	 * least two bytes: the count cannot ask for more than the data holds.
	 */
	if (log->nevents <= nbytes / 2 && b->evcap == 0 && log->nevents > 0)
	{
		b->events = qalloc(b->alloc, mul_size(b->alloc, (size_t) log->nevents,
											  sizeof(QoeEvent)));
		b->evcap = (size_t) log->nevents;
	}
	else if (log->nevents <= nbytes / 2)
		reserve_events(b, add_size(b->alloc, b->nevents, (size_t) log->nevents));
	log_cursor_init_log(&c, log);
	err = log_decode(&c, b, NULL, 0, NULL);

	/*
	 * A log built by qoe_log_add or qoe_log_concat, or checked by
	 * qoe_log_append_records, is always well-formed.  Should that ever be
	 * wrong, fail through the allocator (an error in PostgreSQL) rather
	 * than abort() and take the server down.
	 */
	if (err != NULL)
		size_overflow(b->alloc);
}

/*
 * A large log decoded straight into canonical order: one pass interns the
 * keys (their index per event in a 4-byte array), the keys are put in byte
 * order, and a second pass writes each event at its key's place (a
 * counting sort by key, done while decoding: one event array written once,
 * where decoding then sorting writes two).  Each key's events come in log
 * order, usually their time order; when they are not, they are sorted
 * after.
 */
size_t		qoe_log_group_min = 4096;

#define LOG_STAGE 256			/* events decoded before they are placed */

/* place the staged events first .. first + nstage - 1; returns the next index */
static size_t
log_scatter(QoeEvent *out, size_t *pos, const uint32_t *bucket,
			QoeEvent *stage, size_t first, size_t nstage)
{
	size_t		j;

	check_interrupts(first);
	for (j = 0; j < nstage; j++)
	{
		uint32_t	bk = bucket[first + j];

		stage[j].key = bk == 0 ? QOE_NO_KEY : bk - 1;
		out[pos[bk]++] = stage[j];
	}
	return first + nstage;
}

void
qoe_log_to_canonical(const QoeLog *log, QoeBuffer *b)
{
	const QoeAllocator *a = b->alloc;
	size_t		n = (size_t) log->nevents;
	size_t		nkid = 0;
	size_t		nb;
	size_t		i;
	uint32_t   *kid;
	uint32_t   *rank;
	size_t	   *pos;
	size_t		sum = 0;
	QoeEvent   *out;
	LogCursor	c;
	LogRecord	r;
	const char *err = NULL;
	int			rc;
	QoeEvent	stage[LOG_STAGE];
	size_t		nstage;

	/*
	 * b not empty, few events, or a count the bytes cannot hold (never, for
	 * a log made here): decode, then sort.
	 */
	if (b->nevents != 0 || b->nkeys != 0 || n < qoe_log_group_min ||
		n > qoe_log_bytes(log) / 2)
	{
		qoe_log_to_buffer(log, b);
		qoe_buffer_canonicalize(b);
		return;
	}

	kid = qalloc(a, mul_size(a, n, sizeof(uint32_t)));
	log_cursor_init_log(&c, log);
	err = log_decode(&c, b, kid, n, &nkid);
	if (err != NULL || nkid != n)
		size_overflow(a);		/* never for a log made here, see qoe_log_to_buffer */

	/* every key interned was named by an event: rank them all */
	nb = (size_t) b->nkeys + 1;
	rank = qalloc(a, mul_size(a, nb, sizeof(uint32_t)));
	for (i = 0; i < b->nkeys; i++)
		rank[i] = 1;
	(void) rank_keys(b, rank);

	/* where each key's events start: NULL key first, then by rank */
	pos = qalloc(a, mul_size(a, nb, sizeof(size_t)));
	memset(pos, 0, nb * sizeof(size_t));
	for (i = 0; i < n; i++)
	{
		check_interrupts(i);
		kid[i] = kid[i] == QOE_NO_KEY ? 0 : rank[kid[i]] + 1;
		pos[kid[i]]++;
	}
	for (i = 0; i < nb; i++)
	{
		size_t		cnt = pos[i];

		pos[i] = sum;
		sum += cnt;
	}

	/*
	 * Second pass: each event at its place.  Events are decoded into a
	 * small staging array, then copied to their places in a tight loop:
	 * those scattered writes miss the cache, and many of them overlap only
	 * when nothing else (decoding) sits between them.
	 */
	out = qalloc(a, mul_size(a, n, sizeof(QoeEvent)));
	log_cursor_init_log(&c, log);
	i = 0;
	nstage = 0;
	while ((rc = log_next(&c, &r, &err)) > 0)
	{
		QoeEvent   *ev;

		if (r.special >= 0)
			continue;
		if (i + nstage == n)
		{
			rc = -1;			/* more events than the first pass saw */
			break;
		}
		ev = &stage[nstage++];
		ev->ts = r.ts;
		ev->position = (r.flags & QOE_EV_HAS_POS) ? normalize_double(r.position) : 0.0;
		ev->value = (r.flags & QOE_EV_HAS_VALUE) ? normalize_double(r.value) : 0.0;
		ev->key = QOE_NO_KEY;
		ev->kind = (uint8_t) r.kind;
		ev->flags = r.flags;
		ev->pad = 0;
		if (nstage == LOG_STAGE)
		{
			i = log_scatter(out, pos, kid, stage, i, nstage);
			nstage = 0;
		}
	}
	i = log_scatter(out, pos, kid, stage, i, nstage);
	if (rc < 0 || i != n)
		size_overflow(a);
	qfree(a, pos);
	qfree(a, rank);
	qfree(a, kid);

	qfree(a, b->events);
	b->events = out;
	b->nevents = n;
	b->evcap = n;
	b->canonical = false;

	/*
	 * Each key's events in log order: in order, usually, and both sorts
	 * check that first.  Many short keys: sort the keys out of order.  Few
	 * long ones: sort_events (a few sorted runs, the shape of combined
	 * partial logs of a long session, are merged; else the radix sort).
	 */
	if (n / nb <= 1024)
		sort_key_runs(b);
	else
		sort_events(b);
	remove_duplicates(b);
	b->canonical = true;
}

QoeLog *
qoe_log_append_records(QoeLog *log, const QoeAllocator *a,
					   const unsigned char *data, size_t len, const char **err)
{
	LogCursor	c;
	LogRecord	r;
	int			rc;
	size_t		i = 0;

	*err = NULL;
	log_cursor_init(&c, data, len);
	/* an empty log takes the records as they are (after checking them) */
	if (log->nbytes == 0 && log->prev == NULL)
	{
		uint64_t	nevents = 0;

		while ((rc = log_next(&c, &r, err)) > 0)
		{
			if (r.special < 0)
				nevents++;
			check_interrupts(++i);
		}
		if (rc < 0)
			return log;
		log = log_reserve(log, a, len);
		if (len > 0)
			memcpy(log->data, data, len);
		log->nbytes = len;
		log->nevents = nevents;
		log->last_ts = c.last_ts;
		if (c.last_key != NULL)
		{
			log->last_key_off = (uint64_t) ((const unsigned char *) c.last_key - data);
			log->last_key_len = (uint32_t) c.last_key_len;
		}
		return log;
	}
	while ((rc = log_next(&c, &r, err)) > 0)
	{
		check_interrupts(++i);
		if (r.special == LOG_SPECIAL_RESET)
			continue;			/* the records are encoded afresh here */
		if (r.special >= 0)
			log = log_put_special(log, a, (unsigned) r.special);
		else
			log = log_put(log, a, r.ts, r.kind, r.flags, r.position, r.value,
						  r.key, r.keylen);
	}
	return log;
}

size_t
qoe_log_copy_records(const QoeLog *log, unsigned char *out)
{
	const QoeLog *block;
	size_t		len = 0;

	for (block = log_first_block(log); block != NULL;
		 block = log_block_after(log, block))
	{
		if (block->nbytes > 0)
			memcpy(out + len, block->data, (size_t) block->nbytes);
		len += (size_t) block->nbytes;
	}
	return len;
}

QoeLog *
qoe_log_concat(QoeLog *log, const QoeAllocator *a, const QoeLog *other)
{
	size_t		len = qoe_log_bytes(other);
	bool		reset = log->nbytes > 0 || log->prev != NULL;
	uint64_t	base;

	if (len == 0)
		return log;
	log = log_reserve(log, a, add_size(a, len, 1));
	base = log->nbytes;
	if (reset)
		log->data[base++] = (unsigned char) ((LOG_SPECIAL << 6) | LOG_SPECIAL_RESET);
	/* the other's blocks one after the other: the same records */
	base += qoe_log_copy_records(other, log->data + base);
	log->nbytes = base;
	log->nevents += other->nevents;
	/* the encoder goes on from where the other log's decoder stops */
	log->last_ts = other->last_ts;
	log->last_key_len = other->last_key_len;
	log->last_key_off = other->last_key_off == UINT64_MAX ? UINT64_MAX :
		base - other->nbytes + other->last_key_off;
	return log;
}

/* ---------------------------------------------------------------------
 * Compact binary form of a canonical buffer (partial aggregate states)
 *
 * What a parallel worker sends the leader for a large group: the same
 * events as the "QTL1" form, in canonical order, in about a third of the
 * bytes, so that every copy on the way (serialize, tuple queue, the
 * leader's tuple, deserialize) is a third as long.  Little-endian:
 *	 "QCB1", uint32 flags (0),
 *	 uint64 nevents, nkeys, invalid_events, unknown_events,
 *	 duplicate_events, keybytes,
 *	 nkeys keys in order, each a varint length and its bytes;
 *	 then the event groups: the events with a NULL key, then those of each
 *	 key in order, each group a varint count (at least 1 for a key) and
 *	 its events in order.  An event is a tag byte:
 *	   bits 0-3  kind;
 *	   bits 4-5  position: 0 none; 1 an IEEE double; 2 a whole number m
 *				 of microseconds (position = m / 1e6 exactly, 0 <= m <=
 *				 2^53), as a zigzag varint of m minus the previous such m
 *				 of the group (0 at its start);
 *	   bits 6-7  value: 0 none; 1 an IEEE double; 2 the same double as the
 *				 previous event of the group; 3 a whole number 0..2^53, as
 *				 a varint;
 *	 then the ts: for the first event of a group a zigzag varint of its
 *	 difference from the previous event's ts (from 0 for the first event),
 *	 for the others a varint of the difference from the previous event of
 *	 the group (events are in time order); then the position and the value.
 * The encoder uses a whole-number form only when decoding it gives back
 * the same bits.  The decoder makes every check qoe_buffer_deserialize
 * makes of canonical data.
 * ---------------------------------------------------------------------
 */
#define QOE_COMPACT_HEADER QOE_SERIAL_HEADER	/* the same header */
#define CB_POS_NONE		0
#define CB_POS_F64		1
#define CB_POS_MICRO	2
#define CB_VAL_NONE		0
#define CB_VAL_F64		1
#define CB_VAL_SAME		2
#define CB_VAL_UINT		3
#define CB_MAX_EVENT	(1 + 10 + 10 + 10)
#define CB_MAX_WHOLE	9007199254740992.0	/* 2^53 */

static inline uint64_t
zigzag(uint64_t d)
{
	return (d << 1) ^ (uint64_t) -(int64_t) (d >> 63);
}

static inline uint64_t
unzigzag(uint64_t z)
{
	return (z >> 1) ^ (uint64_t) -(int64_t) (z & 1);
}

static inline uint64_t
dbl_bits(double d)
{
	uint64_t	v;

	memcpy(&v, &d, sizeof(v));
	return v;
}

/* m with m / 1e6 == pos bitwise, 0 <= m <= 2^53; false if there is none */
static inline bool
pos_micros(double pos, uint64_t *m)
{
	double		x = pos * 1e6;
	uint64_t	v;

	if (!(x >= 0 && x <= CB_MAX_WHOLE))
		return false;
	v = (uint64_t) (x + 0.5);
	if (v > (uint64_t) CB_MAX_WHOLE || dbl_bits((double) v / 1e6) != dbl_bits(pos))
		return false;
	*m = v;
	return true;
}

size_t
qoe_compact_bound(const QoeBuffer *keys, size_t nevents)
{
	const QoeAllocator *a = keys->alloc;
	size_t		size = QOE_COMPACT_HEADER + 10;

	size = add_size(a, size, mul_size(a, nevents, CB_MAX_EVENT));
	size = add_size(a, size, mul_size(a, keys->nkeys, 20));
	return add_size(a, size, key_bytes(keys));
}

size_t
qoe_buffer_compact_bound(const QoeBuffer *b)
{
	return qoe_compact_bound(b, b->nevents);
}

size_t
qoe_buffer_compact_serialize(QoeBuffer *b, unsigned char *out)
{
	QoeCompactWriter w;

	qoe_buffer_canonicalize(b);
	qoe_compact_begin(&w, b, out);
	qoe_compact_put(&w, b);
	return qoe_compact_end(&w, b);
}

void
qoe_compact_begin(QoeCompactWriter *w, const QoeBuffer *keys, unsigned char *out)
{
	unsigned char *p = out + QOE_COMPACT_HEADER;	/* the header comes last */
	uint32_t	k;

	memset(w, 0, sizeof(*w));
	w->out = out;
	for (k = 0; k < keys->nkeys; k++)
	{
		size_t		len;
		const char *kp = qoe_buffer_key(keys, k, &len);

		check_interrupts(k);
		p = put_varint(p, (uint64_t) len);
		if (len > 0)
			memcpy(p, kp, len);
		p += len;
	}
	w->p = p;
}

/* groups: NULL key (key + 1 == 0) first, then keys 0 .. nkeys - 1 */
void
qoe_compact_put(QoeCompactWriter *w, const QoeBuffer *piece)
{
	unsigned char *p = w->p;
	size_t		i = 0,
				j;
	int64_t		prev_ts = w->prev_ts;

	while (i < piece->nevents)
	{
		uint32_t	key = piece->events[i].key;
		size_t		start = i;
		uint64_t	prev_m = 0;
		bool		has_prev_value = false;
		uint64_t	prev_value = 0;

		/* groups without events before this one (the NULL key's) */
		while (w->groups < (uint64_t) (uint32_t) (key + 1))
		{
			p = put_varint(p, 0);
			w->groups++;
		}
		while (i < piece->nevents && piece->events[i].key == key)
			i++;
		p = put_varint(p, (uint64_t) (i - start));
		w->groups++;
		for (j = start; j < i; j++)
		{
			const QoeEvent *ev = &piece->events[j];
			unsigned char *tag = p++;
			unsigned	pmode = CB_POS_NONE,
						vmode = CB_VAL_NONE;
			uint64_t	d = (uint64_t) ev->ts - (uint64_t) prev_ts;
			uint64_t	m = 0;

			check_interrupts(j);
			p = put_varint(p, j == start ? zigzag(d) : d);
			prev_ts = ev->ts;
			if (ev->flags & QOE_EV_HAS_POS)
			{
				if (pos_micros(ev->position, &m))
				{
					pmode = CB_POS_MICRO;
					p = put_varint(p, zigzag(m - prev_m));
					prev_m = m;
				}
				else
				{
					pmode = CB_POS_F64;
					put_f64(p, ev->position);
					p += 8;
				}
			}
			if (ev->flags & QOE_EV_HAS_VALUE)
			{
				uint64_t	bits = dbl_bits(ev->value);

				if (has_prev_value && bits == prev_value)
					vmode = CB_VAL_SAME;
				else if (ev->value >= 0 && ev->value <= CB_MAX_WHOLE &&
						 dbl_bits((double) (uint64_t) ev->value) == bits)
				{
					vmode = CB_VAL_UINT;
					p = put_varint(p, (uint64_t) ev->value);
				}
				else
				{
					vmode = CB_VAL_F64;
					put_f64(p, ev->value);
					p += 8;
				}
				has_prev_value = true;
				prev_value = bits;
			}
			*tag = (unsigned char) (ev->kind | (pmode << 4) | (vmode << 6));
		}
	}
	w->nevents += piece->nevents;
	w->prev_ts = prev_ts;
	w->p = p;
}

size_t
qoe_compact_end(QoeCompactWriter *w, const QoeBuffer *keys)
{
	unsigned char *p = w->p;

	/* groups not written: keys without events (none in a canonical buffer) */
	while (w->groups <= (uint64_t) keys->nkeys)
	{
		p = put_varint(p, 0);
		w->groups++;
	}
	(void) put_header(w->out, QOE_COMPACT_MAGIC, 0, keys, (size_t) w->nevents);
	return (size_t) (p - w->out);
}

/* the keys of compact data into b; c is left at the first event group */
static const char *
compact_load_keys(QoeBuffer *b, LogCursor *c, uint64_t nkeys, uint64_t keybytes)
{
	const QoeAllocator *a = b->alloc;
	uint64_t	off = 0;
	uint32_t	k;

	/* every key takes at least one byte, and its bytes are there */
	if (nkeys > (uint64_t) (c->end - c->p) || keybytes > (uint64_t) (c->end - c->p))
		return "truncated data";
	if (nkeys == 0)
		return keybytes == 0 ? NULL : "session key lengths do not match the key data";
	b->keycap = (uint32_t) nkeys;
	b->keyoff = qalloc(a, (size_t) nkeys * sizeof(uint64_t));
	b->keylen = qalloc(a, (size_t) nkeys * sizeof(uint32_t));
	b->keydata_cap = keybytes ? (size_t) keybytes : 1;
	b->keydata = qalloc(a, b->keydata_cap);
	for (k = 0; k < (uint32_t) nkeys; k++)
	{
		uint64_t	kl;

		check_interrupts(k);
		if (!get_varint(c, &kl))
			return "truncated data";
		if (kl > keybytes - off)
			return "session key lengths do not match the key data";
		if (kl > (uint64_t) (c->end - c->p))
			return "truncated data";
		if (kl > 0 && memchr(c->p, '\0', (size_t) kl) != NULL)
			return "session key contains a zero byte";
		if (kl > 0)
			memcpy(b->keydata + off, c->p, (size_t) kl);
		c->p += kl;
		b->keyoff[k] = off;
		b->keylen[k] = (uint32_t) kl;
		off += kl;
		b->nkeys = k + 1;
		if (k > 0 &&
			key_cmp(b->keydata + b->keyoff[k - 1], b->keylen[k - 1],
					b->keydata + off - kl, (size_t) kl) >= 0)
			return "session keys are not in canonical order";
	}
	if (off != keybytes)
		return "session key lengths do not match the key data";
	b->keydata_len = (size_t) keybytes;
	return NULL;
}

/*
 * Check the header of compact data, load its counters and keys into b
 * (freshly initialised) and set cc at the first event group.
 */
static const char *
compact_open(QoeCompactCursor *cc, QoeBuffer *b, const unsigned char *data,
			 size_t len)
{
	LogCursor	c;
	const char *err;
	uint64_t	keybytes;

	memset(cc, 0, sizeof(*cc));
	if (data == NULL || len < QOE_COMPACT_HEADER)
		return "truncated data";
	if (memcmp(data, QOE_COMPACT_MAGIC, 4) != 0)
		return "bad magic number";
	if (get_u32(data + 4) != 0)
		return "unknown flag bits";
	cc->nevents = get_u64(data + 8);
	cc->nkeys = get_u64(data + 16);
	keybytes = get_u64(data + 48);
	if (cc->nkeys >= UINT32_MAX)
		return "too many session keys";
	if (keybytes > (uint64_t) len)
		return "truncated data";
	err = serial_counters(b, data);
	if (err != NULL)
		return err;

	memset(&c, 0, sizeof(c));
	c.p = data + QOE_COMPACT_HEADER;
	c.end = data + len;
	err = compact_load_keys(b, &c, cc->nkeys, keybytes);
	if (err != NULL)
		return err;
	b->lastkey = QOE_NO_KEY;

	/* every event takes at least two bytes, and every key has one */
	if (cc->nevents > (uint64_t) (c.end - c.p) / 2 || cc->nkeys > cc->nevents)
		return "truncated data";
	cc->p = c.p;
	cc->end = c.end;
	return NULL;
}

/*
 * The next event of compact data, checked (fields, and order within its
 * group): 1, or 0 after the last one (having checked the counts and that
 * nothing follows), or -1 with *err.
 */
static int
compact_next(QoeCompactCursor *cc, QoeEvent *ev, const char **err)
{
	LogCursor	c;
	unsigned	tag,
				pmode,
				vmode;
	uint64_t	d;
	bool		first;

	c.p = cc->p;
	c.end = cc->end;
	while (cc->left == 0)
	{
		uint64_t	count;

		if (cc->group == cc->nkeys + 1)
		{
			if (cc->done != cc->nevents)
				*err = "fewer events than the header says";
			else if (c.p != c.end)
				*err = "unexpected data after the end";
			else
				return 0;
			return -1;
		}
		if (!get_varint(&c, &count))
		{
			*err = "truncated data";
			return -1;
		}
		if (count > cc->nevents - cc->done)
		{
			*err = "more events than the header says";
			return -1;
		}
		/*
		 * Groups are numbered from 1 as they start: group 1 holds the NULL
		 * key's events (there may be none), group k + 2 key k's.
		 */
		if (cc->group > 0 && count == 0)
		{
			*err = "session key not referenced by any event";
			return -1;
		}
		cc->group++;
		cc->left = count;
		cc->in_group = 0;
		cc->prev_m = 0;
		cc->has_prev_value = false;
	}

	/*
	 * The checks of check_event(), in its order, made only where the
	 * encoding allows a bad value: a position or value in micro or whole
	 * units is finite, not negative and not -0.0 by construction.
	 */
	*err = "truncated data";
	if (c.p >= c.end)
		return -1;
	tag = *c.p++;
	pmode = (tag >> 4) & 3;
	vmode = tag >> 6;
	if (!get_varint(&c, &d))
		return -1;
	first = cc->in_group == 0;
	/* modulo 2^64: a difference that wraps gives an earlier ts */
	ev->ts = (int64_t) ((uint64_t) cc->prev_ts + (first ? unzigzag(d) : d));
	ev->key = (uint32_t) (cc->group - 2);	/* QOE_NO_KEY in group 1 */
	ev->kind = (uint8_t) (tag & 0x0f);
	ev->flags = 0;
	ev->pad = 0;
	ev->position = 0;
	ev->value = 0;
	if (pmode == CB_POS_F64)
	{
		if (c.end - c.p < 8)
			return -1;
		ev->position = get_f64(c.p);	/* checked below */
		c.p += 8;
		ev->flags |= QOE_EV_HAS_POS;
	}
	else if (pmode == CB_POS_MICRO)
	{
		uint64_t	m;

		if (!get_varint(&c, &m))
			return -1;
		m = cc->prev_m + unzigzag(m);
		if (m > (uint64_t) CB_MAX_WHOLE)
		{
			*err = "event with an invalid position";
			return -1;
		}
		cc->prev_m = m;
		ev->position = (double) m / 1e6;
		ev->flags |= QOE_EV_HAS_POS;
	}
	else if (pmode != CB_POS_NONE)
	{
		*err = "unknown position encoding";
		return -1;
	}
	if (vmode == CB_VAL_F64)
	{
		if (c.end - c.p < 8)
			return -1;
		ev->value = normalize_double(get_f64(c.p));
		c.p += 8;
	}
	else if (vmode == CB_VAL_SAME)
	{
		if (!cc->has_prev_value)
		{
			*err = "event repeats a value that is not there";
			return -1;
		}
		ev->value = cc->prev_value;
	}
	else if (vmode == CB_VAL_UINT)
	{
		uint64_t	u;

		if (!get_varint(&c, &u))
			return -1;
		if (u > (uint64_t) CB_MAX_WHOLE)
		{
			*err = "event with an invalid value";
			return -1;
		}
		ev->value = (double) u;
	}
	if (vmode != CB_VAL_NONE)
		ev->flags |= QOE_EV_HAS_VALUE;
	if (ev->ts == QOE_TS_NOBEGIN || ev->ts == QOE_TS_NOEND)
	{
		*err = "event with an infinite timestamp";
		return -1;
	}
	if (ev->ts < QOE_MIN_TIMESTAMP || ev->ts >= QOE_END_TIMESTAMP)
	{
		*err = "event timestamp out of range";
		return -1;
	}
	if (pmode == CB_POS_F64)
	{
		if (!(isfinite(ev->position) && ev->position >= 0))
		{
			*err = "event with an invalid position";
			return -1;
		}
		ev->position = normalize_double(ev->position);
	}
	if (ev->kind == QOE_BITRATE &&
		(vmode == CB_VAL_NONE || !isfinite(ev->value) || !(ev->value > 0)))
	{
		*err = "bitrate event with an invalid value";
		return -1;
	}
	/* within a group ts never decreases: only a tie needs the whole order */
	if (!first && ev->ts <= cc->prev_ts && ev_cmp(&cc->prev, ev) >= 0)
	{
		*err = "events are not in canonical order";
		return -1;
	}
	if (vmode != CB_VAL_NONE)
	{
		cc->has_prev_value = true;
		cc->prev_value = ev->value;
	}
	cc->prev = *ev;
	cc->prev_ts = ev->ts;
	cc->in_group++;
	cc->left--;
	cc->done++;
	cc->p = c.p;
	*err = NULL;
	return 1;
}

/*
 * Decode and check everything from cursor *from on (which is not moved):
 * NULL, or what is wrong; first and last get the ts range (if any event).
 */
static const char *
compact_check(const QoeCompactCursor *from, int64_t *first, int64_t *last)
{
	QoeCompactCursor check = *from;
	QoeEvent	ev;
	const char *err = NULL;
	int			rc;

	while ((rc = compact_next(&check, &ev, &err)) > 0)
	{
		if (check.done == 1 || ev.ts < *first)
			*first = ev.ts;
		if (check.done == 1 || ev.ts > *last)
			*last = ev.ts;
		check_interrupts(check.done);
	}
	return rc < 0 ? err : NULL;
}

static const char *
compact_deserialize(QoeBuffer *b, const unsigned char *data, size_t len)
{
	QoeCompactCursor cc;
	QoeEvent	ev;
	const char *err;
	int			rc;
	size_t		i = 0;

	err = compact_open(&cc, b, data, len);
	if (err != NULL)
		return err;

	/*
	 * Events take 2 bytes and more, most take 8 and more.  A header that
	 * claims more than one event per 4 bytes is checked by decoding it all
	 * before the events are allocated: data that has not been checked can
	 * then never make it allocate more than 8 times its own size (checked
	 * data of 2-byte events takes 16 times).
	 */
	if (cc.nevents > len / 4)
	{
		int64_t		first,
					last;

		err = compact_check(&cc, &first, &last);
		if (err != NULL)
			return err;
	}
	if (cc.nevents > 0)
	{
		b->events = qalloc(b->alloc, mul_size(b->alloc, (size_t) cc.nevents,
											  sizeof(QoeEvent)));
		b->evcap = (size_t) cc.nevents;
	}
	while ((rc = compact_next(&cc, &ev, &err)) > 0)
	{
		/* compact_next checks the counts against the header */
		if (i >= b->evcap)
			return "more events than the header says";
		b->events[i++] = ev;
		check_interrupts(i);
	}
	if (rc < 0)
		return err;
	b->nevents = i;
	b->canonical = true;
	return NULL;
}
