/*
 * test_cache.c
 *	  The caching allocator (qoe_cache.c): which blocks it keeps, which it
 *	  hands out again, what it gives back, and that it never loses or
 *	  shares a block.
 *
 * Two counting allocators stand behind the cache: base (the blocks it
 * keeps) and pass (the others).  Each records its blocks' sizes, so a
 * block given back twice, or one never given back, shows.  (Written from
 * the independent review of the scratch change: slots, the byte limit, the
 * 32 kB boundary and the old-size check each fail a check here when
 * broken.)
 */
#include "qoe_core.h"
#include "unit.h"

#include <setjmp.h>

typedef struct Counting
{
	long		nalloc;			/* blocks allocated */
	long		nfree;
	long		live;			/* blocks out */
	size_t		live_bytes;
	size_t		last_size;		/* size of the last allocation */
} Counting;

/*
 * 24 bytes: the blocks come 8 bytes past a 16-byte boundary (malloc's
 * blocks are 16-byte aligned), as palloc's may, so that a cache that
 * assumed more than 8-byte alignment would crash here.
 */
typedef struct CountHeader
{
	size_t		size;
	size_t		pad[2];
} CountHeader;

static void *
count_alloc(void *ctx, size_t n)
{
	Counting   *c = ctx;
	CountHeader *h = malloc(sizeof(CountHeader) + n);

	if (h == NULL)
		abort();
	h->size = n;
	c->nalloc++;
	c->live++;
	c->live_bytes += n;
	c->last_size = n;
	memset(h + 1, 0x5a, n < 65536 ? n : 65536);	/* poison (a prefix) */
	return h + 1;
}

static void
count_free(void *ctx, void *p)
{
	Counting   *c = ctx;
	CountHeader *h;

	if (p == NULL)
		return;
	h = (CountHeader *) p - 1;
	c->nfree++;
	c->live--;
	c->live_bytes -= h->size;
	memset(p, 0xa5, h->size < 65536 ? h->size : 65536);
	free(h);
}

static void *
count_realloc(void *ctx, void *p, size_t oldsize, size_t newsize)
{
	CountHeader *h = (CountHeader *) p - 1;
	void	   *q;

	if (oldsize > h->size)
		abort();				/* the cache passed a wrong old size */
	q = count_alloc(ctx, newsize);
	memcpy(q, p, oldsize < newsize ? oldsize : newsize);
	count_free(ctx, p);
	return q;
}

static Counting base_c,
			pass_c;
static QoeAllocator base_a = {count_alloc, count_realloc, count_free, &base_c};
static QoeAllocator pass_a = {count_alloc, count_realloc, count_free, &pass_c};

static jmp_buf misuse_jmp;
static const char *misuse_msg;

static void
misuse(const char *msg)
{
	misuse_msg = msg;
	longjmp(misuse_jmp, 1);
}

static void
reset_counts(void)
{
	memset(&base_c, 0, sizeof(base_c));
	memset(&pass_c, 0, sizeof(pass_c));
}

/*
 * A pattern on the first 256 bytes, every 509th byte after them and the
 * last byte written: enough to see a block shared or cut short, and quick
 * on 16 MB blocks.  The positions do not depend on n, so a prefix of a
 * filled block checks as filled.
 */
static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t		i;

	for (i = 0; i < n && i < 256; i++)
		p[i] = (unsigned char) (seed + i * 31);
	for (i = 509; i < n; i += 509)
		p[i] = (unsigned char) (seed + i * 31);
	if (n > 0)
		p[n - 1] = (unsigned char) (seed + (n - 1) * 31);
}

static int
filled(const unsigned char *p, size_t n, unsigned seed)
{
	size_t		i;

	for (i = 0; i < n && i < 256; i++)
		if (p[i] != (unsigned char) (seed + i * 31))
			return 0;
	for (i = 509; i < n; i += 509)
		if (p[i] != (unsigned char) (seed + i * 31))
			return 0;
	return 1;
}

/* whether the kept sizes are exactly want[0..n-1] (in any order) */
static int
kept_are(const QoeBlockCache *c, const size_t *want, int n)
{
	int			used[QOE_CACHE_SLOTS] = {0};
	int			i,
				j;

	if (c->nkept != n)
		return 0;
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < c->nkept; j++)
			if (!used[j] && c->kept_cap[j] == want[i])
				break;
		if (j == c->nkept)
			return 0;
		used[j] = 1;
	}
	return 1;
}

#define KB ((size_t) 1024)
#define MB ((size_t) 1024 * 1024)

/* which sizes are kept, in which class */
static void
test_classes(void)
{
	static const struct
	{
		size_t		size;
		size_t		cap;		/* 0: passed through */
	}			cases[] = {
		{0, 0}, {1, 0}, {32 * KB, 0}, {32 * KB + 1, 64 * KB}, {64 * KB, 64 * KB},
		{64 * KB + 1, 128 * KB}, {1000 * KB, 1 * MB}, {16 * MB, 16 * MB},
		{16 * MB + 1, 0}
	};
	unsigned	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		QoeBlockCache c;
		QoeAllocator a;
		void	   *p;

		reset_counts();
		qoe_cache_init(&c, &base_a, &pass_a, 64 * MB, misuse);
		qoe_cache_allocator_init(&a, &c);
		p = a.alloc(a.ctx, cases[i].size);
		fill(p, cases[i].size, i);
		if (cases[i].cap == 0)
		{
			CHECK(pass_c.nalloc == 1 && base_c.nalloc == 0);
			CHECK(pass_c.last_size >= cases[i].size);
		}
		else
		{
			CHECK(base_c.nalloc == 1 && pass_c.nalloc == 0);
			CHECK(base_c.last_size > cases[i].cap &&
				  base_c.last_size <= cases[i].cap + 64);
		}
		a.free(a.ctx, p);
		if (cases[i].cap == 0)
			CHECK(c.nkept == 0 && pass_c.live == 0);
		else
		{
			CHECK(kept_are(&c, &cases[i].cap, 1));
			CHECK_INT((long) c.kept_bytes, (long) cases[i].cap);
		}
		qoe_cache_release(&c);
		CHECK(base_c.live == 0 && pass_c.live == 0);
	}
}

/* a freed block is handed out again: the smallest that is large enough */
static void
test_reuse(void)
{
	QoeBlockCache c;
	QoeAllocator a;
	void	   *p64,
			   *p256,
			   *p1m,
			   *q;

	reset_counts();
	qoe_cache_init(&c, &base_a, &pass_a, 64 * MB, misuse);
	qoe_cache_allocator_init(&a, &c);
	p64 = a.alloc(a.ctx, 60 * KB);
	p256 = a.alloc(a.ctx, 200 * KB);
	p1m = a.alloc(a.ctx, 700 * KB);
	CHECK_INT((long) c.nout, 3);
	a.free(a.ctx, p64);
	a.free(a.ctx, p256);
	a.free(a.ctx, p1m);
	CHECK_INT((long) c.nout, 0);
	CHECK_INT((long) c.fresh, 3);
	CHECK_INT((long) base_c.nalloc, 3);

	q = a.alloc(a.ctx, 150 * KB);	/* 256 kB class: the 256 kB block */
	CHECK(q == p256);
	CHECK_INT((long) c.nout, 1);
	q = a.realloc(a.ctx, q, 150 * KB, 900 * KB);	/* moves to a 1 MB block */
	CHECK(q == p1m);
	CHECK_INT((long) c.nout, 1);
	q = a.realloc(a.ctx, q, 10, 150 * KB);	/* fits where it is */
	CHECK(q == p1m);
	a.free(a.ctx, q);
	q = a.alloc(a.ctx, 150 * KB);
	CHECK(q == p256);
	CHECK_INT((long) c.reused, 3);	/* 256 kB, 1 MB, 256 kB again */
	a.free(a.ctx, q);
	q = a.alloc(a.ctx, 40 * KB);	/* 64 kB: the 64 kB block */
	CHECK(q == p64);
	a.free(a.ctx, q);
	q = a.alloc(a.ctx, 300 * KB);	/* 512 kB class: only the 1 MB fits */
	CHECK(q == p1m);
	CHECK(kept_are(&c, (size_t[]) {64 * KB, 256 * KB}, 2));
	a.free(a.ctx, q);
	q = a.alloc(a.ctx, 2 * MB);	/* none fits: fresh */
	CHECK(q != p64 && q != p256 && q != p1m);
	CHECK_INT((long) base_c.nalloc, 4);
	a.free(a.ctx, q);
	CHECK_INT((long) c.reused, 5);
	qoe_cache_release(&c);
	CHECK(base_c.live == 0 && c.nkept == 0 && c.kept_bytes == 0);
}

/* at most QOE_CACHE_SLOTS blocks and keep_max bytes; the larger stay */
static void
test_limits(void)
{
	QoeBlockCache c;
	QoeAllocator a;
	void	   *p[QOE_CACHE_SLOTS + 2];
	void	   *q;
	int			i;

	/* slots: 10 blocks of 64 kB .. 32 MB (the last not kept at all) */
	reset_counts();
	qoe_cache_init(&c, &base_a, &pass_a, 1024 * MB, misuse);
	qoe_cache_allocator_init(&a, &c);
	for (i = 0; i < QOE_CACHE_SLOTS + 2; i++)
		p[i] = a.alloc(a.ctx, (64 * KB) << i);
	q = a.alloc(a.ctx, 40 * KB);
	for (i = 0; i < QOE_CACHE_SLOTS + 2; i++)
		a.free(a.ctx, p[i]);
	/* 64 kB .. 16 MB are 9 classes: the 64 kB one was dropped */
	CHECK(kept_are(&c, (size_t[]) {128 * KB, 256 * KB, 512 * KB, 1 * MB,
				   2 * MB, 4 * MB, 8 * MB, 16 * MB}, 8));
	CHECK_INT(base_c.live, 9);
	CHECK_INT(pass_c.live, 0);
	/* a block smaller than every kept one is dropped itself */
	a.free(a.ctx, q);
	CHECK_INT(base_c.live, 8);
	CHECK_INT(c.nkept, 8);
	/* a 64 kB request takes the smallest kept block, 128 kB */
	q = a.alloc(a.ctx, 40 * KB);
	CHECK(kept_are(&c, (size_t[]) {256 * KB, 512 * KB, 1 * MB,
				   2 * MB, 4 * MB, 8 * MB, 16 * MB}, 7));
	CHECK_INT(base_c.live, 8);
	a.free(a.ctx, q);
	CHECK_INT(c.nkept, 8);
	qoe_cache_release(&c);
	CHECK(base_c.live == 0);

	/* bytes: keep_max 1 MB */
	reset_counts();
	qoe_cache_init(&c, &base_a, &pass_a, 1 * MB, misuse);
	qoe_cache_allocator_init(&a, &c);
	p[0] = a.alloc(a.ctx, 500 * KB);
	p[1] = a.alloc(a.ctx, 500 * KB);
	p[2] = a.alloc(a.ctx, 200 * KB);
	p[3] = a.alloc(a.ctx, 1 * MB);
	p[4] = a.alloc(a.ctx, 2 * MB);
	a.free(a.ctx, p[0]);
	a.free(a.ctx, p[1]);
	CHECK(kept_are(&c, (size_t[]) {512 * KB, 512 * KB}, 2));
	a.free(a.ctx, p[2]);		/* no room, nothing smaller: dropped */
	CHECK(kept_are(&c, (size_t[]) {512 * KB, 512 * KB}, 2));
	CHECK_INT(base_c.live, 4);
	a.free(a.ctx, p[3]);		/* the two 512 kB blocks make room */
	CHECK(kept_are(&c, (size_t[]) {1 * MB}, 1));
	CHECK_INT((long) c.kept_bytes, (long) (1 * MB));
	a.free(a.ctx, p[4]);		/* larger than keep_max: dropped */
	CHECK(kept_are(&c, (size_t[]) {1 * MB}, 1));
	CHECK_INT(base_c.live, 1);
	qoe_cache_release(&c);
	CHECK(base_c.live == 0 && base_c.nfree == base_c.nalloc);
}

/* realloc keeps the first min(old, new) bytes across every kind of block */
static void
test_realloc(void)
{
	static const size_t sizes[] = {
		10, 32 * KB, 40 * KB, 64 * KB, 100 * KB, 3 * MB, 16 * MB, 16 * MB + 1,
		20 * MB
	};
	unsigned	i,
				j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
		{
			QoeBlockCache c;
			QoeAllocator a;
			unsigned char *p;
			size_t		keep = sizes[i] < sizes[j] ? sizes[i] : sizes[j];

			reset_counts();
			qoe_cache_init(&c, &base_a, &pass_a, 64 * MB, misuse);
			qoe_cache_allocator_init(&a, &c);
			p = a.alloc(a.ctx, sizes[i]);
			fill(p, sizes[i], i * 16 + j);
			p = a.realloc(a.ctx, p, sizes[i], sizes[j]);
			CHECK(filled(p, keep, i * 16 + j));
			memset(p, 0x11, sizes[j]);	/* all of it is usable */
			/* grown with a smaller old size than the block: allowed */
			p = a.realloc(a.ctx, p, sizes[j] / 2, sizes[j] + 70 * KB);
			CHECK(p[0] == 0x11 && p[sizes[j] / 2 - 1] == 0x11);
			a.free(a.ctx, p);
			qoe_cache_release(&c);
			CHECK(base_c.live == 0 && pass_c.live == 0);
		}
}

/* misuse is reported, never a block shared */
static void
test_misuse(void)
{
	QoeBlockCache c;
	QoeAllocator a;
	void	   *volatile p;
	void	   *volatile q;
	unsigned char *foreign;

	reset_counts();
	qoe_cache_init(&c, &base_a, &pass_a, 64 * MB, misuse);
	qoe_cache_allocator_init(&a, &c);

	/* a kept block freed twice */
	p = a.alloc(a.ctx, 100 * KB);
	a.free(a.ctx, p);
	misuse_msg = NULL;
	if (setjmp(misuse_jmp) == 0)
		a.free(a.ctx, p);
	CHECK_STR(misuse_msg ? misuse_msg : "", "block freed twice");
	CHECK_INT(c.nkept, 1);
	p = a.alloc(a.ctx, 100 * KB);
	q = a.alloc(a.ctx, 100 * KB);
	CHECK(p != q);				/* not handed out twice */

	/* a block of another allocator */
	foreign = calloc(1, 256);
	misuse_msg = NULL;
	if (setjmp(misuse_jmp) == 0)
		a.free(a.ctx, foreign + 128);
	CHECK_STR(misuse_msg ? misuse_msg : "", "block freed through the wrong allocator");
	free(foreign);

	/* an old size larger than the block, kept or not */
	misuse_msg = NULL;
	if (setjmp(misuse_jmp) == 0)
		p = a.realloc(a.ctx, p, 129 * KB, 200 * KB);
	CHECK_STR(misuse_msg ? misuse_msg : "", "block grown with an old size larger than the block");
	a.free(a.ctx, q);
	q = a.alloc(a.ctx, 1000);
	misuse_msg = NULL;
	if (setjmp(misuse_jmp) == 0)
		q = a.realloc(a.ctx, q, 1001, 100 * KB);
	CHECK_STR(misuse_msg ? misuse_msg : "", "block grown with an old size larger than the block");
	a.free(a.ctx, p);
	a.free(a.ctx, q);
	qoe_cache_release(&c);
	CHECK(base_c.live == 0 && pass_c.live == 0);
}

/* random use: contents intact, nothing lost, nothing given back twice */
static void
test_random(void)
{
	enum
	{
		NB = 24
	};
	QoeBlockCache c;
	QoeAllocator a;
	unsigned char *blk[NB] = {0};
	size_t		len[NB] = {0};
	unsigned	seed[NB] = {0};
	int			step,
				intact = 1;

	reset_counts();
	qoe_cache_init(&c, &base_a, &pass_a, 8 * MB, misuse);
	qoe_cache_allocator_init(&a, &c);
	for (step = 0; step < 8000; step++)
	{
		int			i = (int) (unit_rng() % NB);
		uint64_t	r = unit_rng();
		size_t		n;

		/* mostly around the kept sizes, some small, some past 16 MB */
		switch (r % 32)
		{
			case 0:
			case 1:
			case 2:
			case 3:
				n = r % 4096;
				break;
			case 4:
				n = 16 * MB + r % (2 * MB);
				break;
			default:
				n = 16 * KB + (size_t) ((r >> 8) % (2 * MB));
				break;
		}
		if (blk[i] == NULL)
		{
			blk[i] = a.alloc(a.ctx, n);
			len[i] = n;
			seed[i] = (unsigned) r;
			fill(blk[i], n, seed[i]);
		}
		else if (r % 3 == 0)
		{
			intact &= filled(blk[i], len[i], seed[i]);
			a.free(a.ctx, blk[i]);
			blk[i] = NULL;
		}
		else
		{
			size_t		keep = len[i] < n ? len[i] : n;

			intact &= filled(blk[i], len[i], seed[i]);
			blk[i] = a.realloc(a.ctx, blk[i], len[i], n);
			intact &= filled(blk[i], keep, seed[i]);
			len[i] = n;
			fill(blk[i], n, seed[i]);
		}
		if (c.kept_bytes > 8 * MB || c.nkept > QOE_CACHE_SLOTS)
		{
			CHECK(c.kept_bytes <= 8 * MB && c.nkept <= QOE_CACHE_SLOTS);
			break;
		}
	}
	CHECK(intact);
	CHECK(c.reused > 500);
	for (step = 0; step < NB; step++)
		a.free(a.ctx, blk[step]);
	CHECK_INT(base_c.live, c.nkept);
	CHECK_INT((long) c.nout, 0);
	qoe_cache_release(&c);
	CHECK_INT(base_c.live, 0);
	CHECK_INT(pass_c.live, 0);
	CHECK(base_c.live_bytes == 0 && pass_c.live_bytes == 0);
}

int
main(void)
{
	test_classes();
	test_reuse();
	test_limits();
	test_realloc();
	test_misuse();
	test_random();
	return unit_done();
}
