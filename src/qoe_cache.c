/*-------------------------------------------------------------------------
 *
 * qoe_cache.c
 *	  A caching allocator: temporary blocks reused from one group to the
 *	  next.
 *
 * Final functions decode and sort each group's events into temporary blocks
 * and free them before the next group.  Given back to the system, a block
 * of more than 128 kB goes back to the kernel (glibc), and the next group's
 * block is fresh memory again: a page fault per 4 kB, which on the
 * benchmark VM cost a per-video query about a second in its final step
 * alone.  A QoeBlockCache sits in front of another allocator (its base) and
 * keeps blocks of QOE_CACHE_MIN to QOE_CACHE_MAX bytes freed through it
 * (sizes rounded up to a power of two), up to QOE_CACHE_SLOTS blocks and
 * keep_max bytes, for the next requests; other blocks come from and go to
 * a second allocator (pass; the base, unless the caller says otherwise).
 * The PostgreSQL glue keeps one per backend and transaction
 * (qoe_pg_temp_allocator_init in qoe_agg.c).
 *
 * Every block starts with a CacheHeader: a magic word that tells a block
 * in use from a kept one (freeing a kept block again is caught), the
 * block's size class (0: not kept, the base's block) and its size (what
 * realloc's old size may not exceed).
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_core.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_MAGIC_USED UINT64_C(0x51434845555345ab)
#define CACHE_MAGIC_KEPT UINT64_C(0x514348454b4550cd)

/*
 * 32 bytes: the block after it keeps the base's alignment up to 16 bytes.
 * No member asks for more than 8 (palloc gives 8): a long double here
 * would let the compiler store the header with 16-byte aligned moves.
 */
typedef struct CacheHeader
{
	uint64_t	magic;
	uint64_t	cap;			/* size class, or 0: not kept */
	uint64_t	size;			/* bytes after the header */
	uint64_t	pad;
} CacheHeader;

#define HDR sizeof(CacheHeader)

static void
cache_misuse(const QoeBlockCache *c, const char *msg)
{
	if (c->misuse != NULL)
		c->misuse(msg);
	abort();
}

void
qoe_cache_init(QoeBlockCache *c, const QoeAllocator *base,
			   const QoeAllocator *pass, size_t keep_max,
			   void (*misuse) (const char *msg))
{
	memset(c, 0, sizeof(*c));
	c->base = *base;
	c->pass = pass != NULL ? *pass : *base;
	c->keep_max = keep_max;
	c->misuse = misuse;
}

/* the size class of a request, or 0 for one that is not kept */
static size_t
size_class(size_t size)
{
	size_t		cap = QOE_CACHE_MIN;

	if (size <= QOE_CACHE_MIN / 2 || size > QOE_CACHE_MAX)
		return 0;
	while (cap < size)
		cap *= 2;
	return cap;
}

static CacheHeader *
header_of(const QoeBlockCache *c, void *ptr)
{
	CacheHeader *h = (CacheHeader *) ptr - 1;

	if (h->magic == CACHE_MAGIC_KEPT)
		cache_misuse(c, "block freed twice");
	if (h->magic != CACHE_MAGIC_USED)
		cache_misuse(c, "block freed through the wrong allocator");
	return h;
}

/* the kept block of slot i, out of the slots */
static CacheHeader *
take_kept(QoeBlockCache *c, int i)
{
	CacheHeader *h = c->kept[i];

	c->kept_bytes -= c->kept_cap[i];
	c->nkept--;
	c->kept[i] = c->kept[c->nkept];
	c->kept_cap[i] = c->kept_cap[c->nkept];
	return h;
}

static void *
cache_alloc(void *ctx, size_t size)
{
	QoeBlockCache *c = (QoeBlockCache *) ctx;
	size_t		cap = size_class(size);
	CacheHeader *h;
	int			best = -1;
	int			i;

	if (cap == 0)
	{
		if (size > SIZE_MAX - HDR)
			h = c->pass.alloc(c->pass.ctx, SIZE_MAX);	/* its error */
		else
			h = c->pass.alloc(c->pass.ctx, size + HDR);
		h->magic = CACHE_MAGIC_USED;
		h->cap = 0;
		h->size = size;
		return h + 1;
	}
	/* the smallest kept block that is large enough */
	for (i = 0; i < c->nkept; i++)
		if (c->kept_cap[i] >= cap &&
			(best < 0 || c->kept_cap[i] < c->kept_cap[best]))
			best = i;
	if (best >= 0)
	{
		h = take_kept(c, best);
		c->reused++;
	}
	else
	{
		h = c->base.alloc(c->base.ctx, cap + HDR);
		h->cap = cap;
		h->size = cap;
		c->fresh++;
	}
	h->magic = CACHE_MAGIC_USED;
	c->nout++;
	return h + 1;
}

/* give a kept block (slot i) back to the base */
static void
drop_kept(QoeBlockCache *c, int i)
{
	c->base.free(c->base.ctx, take_kept(c, i));
}

static void
cache_free(void *ctx, void *ptr)
{
	QoeBlockCache *c = (QoeBlockCache *) ctx;
	CacheHeader *h;
	size_t		cap;

	if (ptr == NULL)
		return;
	h = header_of(c, ptr);
	cap = h->cap;
	if (cap == 0)
	{
		h->magic = 0;
		c->pass.free(c->pass.ctx, h);
		return;
	}
	c->nout--;
	if (cap > c->keep_max)
	{
		h->magic = 0;
		c->base.free(c->base.ctx, h);
		return;
	}

	/*
	 * Room for it: drop smaller kept blocks while the slots or the bytes
	 * are full (the larger blocks serve more requests); if that is not
	 * enough, drop this one.
	 */
	while (c->nkept == QOE_CACHE_SLOTS || c->kept_bytes + cap > c->keep_max)
	{
		int			smallest = -1;
		int			i;

		for (i = 0; i < c->nkept; i++)
			if (c->kept_cap[i] < cap &&
				(smallest < 0 || c->kept_cap[i] < c->kept_cap[smallest]))
				smallest = i;
		if (smallest < 0)
		{
			h->magic = 0;
			c->base.free(c->base.ctx, h);
			return;
		}
		drop_kept(c, smallest);
	}
	h->magic = CACHE_MAGIC_KEPT;
	c->kept[c->nkept] = h;
	c->kept_cap[c->nkept++] = cap;
	c->kept_bytes += cap;
}

static void *
cache_realloc(void *ctx, void *ptr, size_t oldsize, size_t newsize)
{
	QoeBlockCache *c = (QoeBlockCache *) ctx;
	CacheHeader *h;
	void	   *p;

	if (ptr == NULL)
		return cache_alloc(ctx, newsize);
	h = header_of(c, ptr);
	if (oldsize > h->size)
		cache_misuse(c, "block grown with an old size larger than the block");
	if (h->cap != 0)
	{
		if (newsize <= h->cap)
			return ptr;
	}
	else if (size_class(newsize) == 0 && newsize <= SIZE_MAX - HDR)
	{
		/* not kept before or after: pass grows it */
		h = c->pass.realloc(c->pass.ctx, h, oldsize + HDR, newsize + HDR);
		h->size = newsize;
		return h + 1;
	}
	p = cache_alloc(ctx, newsize);
	memcpy(p, ptr, oldsize < newsize ? oldsize : newsize);
	cache_free(ctx, ptr);
	return p;
}

void
qoe_cache_allocator_init(QoeAllocator *a, QoeBlockCache *c)
{
	a->alloc = cache_alloc;
	a->realloc = cache_realloc;
	a->free = cache_free;
	a->ctx = c;
}

void
qoe_cache_release(QoeBlockCache *c)
{
	while (c->nkept > 0)
		drop_kept(c, c->nkept - 1);
}
