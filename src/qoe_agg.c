/*-------------------------------------------------------------------------
 *
 * qoe_agg.c
 *	  Module entry point of qoe_agg: settings (GUCs), replay parameters, the
 *	  palloc-based allocator and the interrupt hook handed to the core.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_pg.h"

#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>

#include "lib/stringinfo.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static void scratch_subxact(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg);

/* GUC variables; the defaults are SPEC's */
static int	qoe_session_timeout_ms = 1800000;	/* 30 min */
static int	qoe_seek_grace_ms = 1000;	/* 1 s */
static double qoe_jump_tolerance = 2.0; /* seconds */
static int	qoe_partial_log_limit_kb = 256;
static bool qoe_huge_pages = true;
static char *qoe_event_aliases = NULL;

const QoeAliasMap *qoe_pg_alias_map = NULL;
uint64		qoe_pg_alias_generation = 0;

/*
 * The core's messages are lower case without a final period; turn one into
 * a sentence for errdetail (palloc'd).
 */
char *
qoe_pg_sentence(const char *msg)
{
	size_t		len = strlen(msg);
	char	   *s = palloc(len + 2);

	memcpy(s, msg, len + 1);
	if (len > 0)
	{
		s[0] = (char) pg_toupper((unsigned char) s[0]);
		if (s[len - 1] != '.')
		{
			s[len] = '.';
			s[len + 1] = '\0';
		}
	}
	return s;
}

/* ---------------------------------------------------------------------
 * GUC hooks
 * ---------------------------------------------------------------------
 */
static bool
check_session_timeout(int *newval, void **extra, GucSource source)
{
	if (*newval <= 0)
	{
		GUC_check_errdetail("The session timeout must be positive.");
		GUC_check_errhint("Use an interval such as '30 min'; gaps longer than this start a new session.");
		return false;
	}
	return true;
}

static bool
check_seek_grace(int *newval, void **extra, GucSource source)
{
	if (*newval < 0)
	{
		GUC_check_errdetail("The seek grace period must not be negative.");
		GUC_check_errhint("Use an interval such as '1 s', or 0 to attribute only buffering during a seek to the seek.");
		return false;
	}
	return true;
}

static bool
check_partial_log_limit(int *newval, void **extra, GucSource source)
{
	if (*newval < 0)
	{
		GUC_check_errdetail("The partial state log limit must not be negative.");
		GUC_check_errhint("Use a size such as '256kB', or 0 to send every partial state in sorted form.");
		return false;
	}
	return true;
}

static bool
check_jump_tolerance(double *newval, void **extra, GucSource source)
{
	if (isnan(*newval) || *newval < 0)
	{
		GUC_check_errdetail("The jump tolerance must be a non-negative number of seconds.");
		GUC_check_errhint("Use a value such as '2 s' or '500 ms'.");
		return false;
	}
	return true;
}

static bool
check_event_aliases(char **newval, void **extra, GucSource source)
{
	char		errbuf[256];
	QoeAliasMap *map;

	errbuf[0] = '\0';
	map = qoe_alias_parse(*newval ? *newval : "", errbuf, sizeof(errbuf));
	if (map == NULL)
	{
		StringInfoData hint;
		int			k;

		if (strcmp(errbuf, "out of memory") == 0)
		{
			GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
			GUC_check_errmsg("out of memory");
			return false;
		}

		if (errbuf[0] == '\0')
			strlcpy(errbuf, "invalid alias list", sizeof(errbuf));
		GUC_check_errdetail("%s", qoe_pg_sentence(errbuf));

		initStringInfo(&hint);
		appendStringInfoString(&hint,
							   "The value must be a comma-separated list of alias=kind entries, where kind is one of ");
		for (k = 0; k < QOE_NKINDS; k++)
		{
			const char *name = qoe_kind_name(k);

			if (name == NULL)
				continue;
			if (k > 0)
				appendStringInfoString(&hint, k == QOE_NKINDS - 1 ? " or " : ", ");
			appendStringInfoString(&hint, name);
		}
		appendStringInfoChar(&hint, '.');
		GUC_check_errhint("%s", hint.data);
		pfree(hint.data);
		return false;
	}

	/* one malloc'd block: the GUC machinery free()s it */
	*extra = map;
	return true;
}

static void
assign_event_aliases(const char *newval, void *extra)
{
	qoe_pg_alias_map = (const QoeAliasMap *) extra;
	qoe_pg_alias_generation++;
}

/* ---------------------------------------------------------------------
 * Module load
 * ---------------------------------------------------------------------
 */
static void
qoe_pg_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

void
_PG_init(void)
{
	qoe_interrupt_hook = qoe_pg_check_interrupts;
	RegisterSubXactCallback(scratch_subxact, NULL);

	/*
	 * The integer settings accept the whole int range and reject bad values
	 * in their check hooks, so that users get a hint rather than a bare
	 * range error.
	 */
	DefineCustomIntVariable("qoe_agg.session_timeout",
							"Gap between consecutive events of a session that starts a new session.",
							"A gap longer than this ends the session, unless the viewer was playing "
							"and the positions at both ends corroborate continuous playback.",
							&qoe_session_timeout_ms,
							1800000,
							INT_MIN, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							check_session_timeout, NULL, NULL);

	DefineCustomIntVariable("qoe_agg.seek_grace",
							"How long after a seek a buffering episode is still attributed to the seek.",
							NULL,
							&qoe_seek_grace_ms,
							1000,
							INT_MIN, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							check_seek_grace, NULL, NULL);

	DefineCustomRealVariable("qoe_agg.jump_tolerance",
							 "Position drift tolerated before a playing interval counts as an unreported skip.",
							 "The tolerance is this many seconds plus 1% of the interval's length.",
							 &qoe_jump_tolerance,
							 2.0,
							 -DBL_MAX, DBL_MAX,
							 PGC_USERSET,
							 GUC_UNIT_S,
							 check_jump_tolerance, NULL, NULL);

	DefineCustomIntVariable("qoe_agg.partial_log_limit",
							"Largest partial aggregate state sent as a compact log by a parallel worker.",
							"A larger partial state is decoded and sorted in the worker and sent "
							"as a sorted event buffer, which the leader merges in one pass.",
							&qoe_partial_log_limit_kb,
							256,
							INT_MIN, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							check_partial_log_limit, NULL, NULL);

	DefineCustomBoolVariable("qoe_agg.huge_pages",
							 "Asks the kernel for transparent huge pages for qoe_agg's blocks of 32 MB and more.",
							 "Only a hint (madvise MADV_HUGEPAGE) for the large event buffers and serialized "
							 "states of big groups; it saves page faults. Such blocks then grow by a copy. "
							 "Nothing changes where the kernel's transparent huge pages are disabled.",
							 &qoe_huge_pages,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("qoe_agg.event_aliases",
							   "Extra event name aliases, as a list of alias=kind entries.",
							   "Extra aliases override the built-in ones.",
							   &qoe_event_aliases,
							   "",
							   PGC_USERSET,
							   0,
							   check_event_aliases, assign_event_aliases, NULL);

	MarkGUCPrefixReserved("qoe_agg");
}

/* ---------------------------------------------------------------------
 * Parameters
 * ---------------------------------------------------------------------
 */
void
qoe_pg_params(QoeParams *p)
{
	*p = qoe_default_params;
	/* the check hooks guarantee the ranges; stay defensive anyway */
	if (qoe_session_timeout_ms > 0)
		p->session_timeout_us = (int64_t) qoe_session_timeout_ms * 1000;
	if (qoe_seek_grace_ms >= 0)
		p->seek_grace_us = (int64_t) qoe_seek_grace_ms * 1000;
	if (!isnan(qoe_jump_tolerance) && qoe_jump_tolerance >= 0)
		p->jump_tolerance = qoe_jump_tolerance;
}

/*
 * qoe_agg.partial_log_limit in bytes.  Serialized logs up to this size are
 * sent as they are; larger ones as canonical buffers (about 2.3 times the
 * bytes, but decoded and sorted in the worker).  The default is measured
 * (README, "Performance"): on the benchmark's 10M events, keyed
 * qoe_stats with 2 workers, logs per worker of 47 kB and 140 kB were
 * 14-22% faster sent as logs, 470 kB and larger 15-40% faster sent sorted.
 * The extra bytes are copied by the worker's Sort, the Gather and the
 * deserialization; sorting a large group in the leader runs on one core.
 */
size_t
qoe_pg_partial_log_limit(void)
{
	uint64		bytes = qoe_partial_log_limit_kb > 0 ? (uint64) qoe_partial_log_limit_kb * 1024 : 0;

	return bytes > (uint64) SIZE_MAX ? SIZE_MAX : (size_t) bytes;
}

/* ---------------------------------------------------------------------
 * Allocator: palloc in a given context; huge allocations allowed so that
 * an event buffer can grow past 1 GB (only its serialized form is limited).
 * ---------------------------------------------------------------------
 */

/*
 * qoe_agg.huge_pages: ask the kernel to back blocks of at least
 * QOE_HUGE_HINT bytes with transparent huge pages (madvise MADV_HUGEPAGE on
 * the block's 2 MB-aligned interior; nothing at all changes where THP is
 * disabled or MADV_HUGEPAGE does not exist, see huge_pages_usable).  First
 * touch of fresh memory is a large part of the cost of big groups (an event
 * buffer, a serialized state or timeline of hundreds of MB): 2 MB pages take
 * one fault where 4 kB pages take 512.  On the benchmark VM a first touch
 * costs 1.5-2.0 s/GB with huge pages against 2.8-4.0 s/GB without
 * (bench/probe.c), and the one-group and windows queries ran about twice as
 * fast with the hint (README, "Performance").
 *
 * The hint splits the block's mapping, so the kernel cannot grow it in
 * place (mremap) and glibc's realloc would copy it into memory without the
 * hint; a large block therefore grows by a new hinted block, a copy and a
 * free.  The core passes the exact old size of every block it grows (the
 * capacity it allocated, or less when it shrank its view of an array: never
 * more than the bytes allocated and never fewer than the bytes in use).
 */
#define QOE_HUGE_HINT	((size_t) 32 * 1024 * 1024)
#define QOE_HUGE_PAGE	((uintptr_t) 2 * 1024 * 1024)

/*
 * Whether the hint can do anything: the setting is on and the kernel's
 * transparent huge pages are not disabled ("[never]", or no THP at all).
 * Where they are, a hinted block would still lose in-place growth for
 * nothing, so neither the hint nor the copy on growth happens.  The sysfs
 * file is read once per backend.
 */
static bool
huge_pages_usable(void)
{
#ifdef MADV_HUGEPAGE
	static int	thp = -1;		/* -1 unknown, 0 off, 1 on */

	if (!qoe_huge_pages)
		return false;
	if (thp < 0)
	{
		FILE	   *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
		char		line[128];

		thp = 0;
		if (f != NULL)
		{
			if (fgets(line, sizeof(line), f) != NULL &&
				strstr(line, "[never]") == NULL)
				thp = 1;
			fclose(f);
		}
	}
	return thp == 1;
#else
	return false;
#endif
}

static void
qoe_pg_hint_huge(void *ptr, size_t size)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	start,
				end;
	int			save_errno;

	if (ptr == NULL || size < QOE_HUGE_HINT || !huge_pages_usable())
		return;
	start = ((uintptr_t) ptr + QOE_HUGE_PAGE - 1) & ~(QOE_HUGE_PAGE - 1);
	end = ((uintptr_t) ptr + size) & ~(QOE_HUGE_PAGE - 1);
	save_errno = errno;
	if (end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
	errno = save_errno;
#else
	(void) ptr;
	(void) size;
#endif
}

void *
qoe_pg_alloc_large(MemoryContext cxt, size_t size)
{
	void	   *p = MemoryContextAllocHuge(cxt, size > 0 ? size : 1);

	qoe_pg_hint_huge(p, size);
	return p;
}

static void *
qoe_pg_alloc(void *ctx, size_t size)
{
	return qoe_pg_alloc_large((MemoryContext) ctx, size);
}

static void *
qoe_pg_realloc(void *ctx, void *ptr, size_t oldsize, size_t newsize)
{
	void	   *p;

	if (ptr == NULL)
		return qoe_pg_alloc_large((MemoryContext) ctx, newsize);
	if (newsize < QOE_HUGE_HINT || !huge_pages_usable())
		return repalloc_huge(ptr, newsize > 0 ? newsize : 1);

	/*
	 * A wrong old size would copy past the block: refuse one larger than the
	 * chunk's space (an approximate bound: that space includes the chunk
	 * header), rather than read far past it.
	 */
	if (oldsize > GetMemoryChunkSpace(ptr))
		elog(ERROR, "qoe_agg: block of at most %zu bytes grown with old size %zu",
			 GetMemoryChunkSpace(ptr), oldsize);
	p = qoe_pg_alloc_large(GetMemoryChunkContext(ptr), newsize);
	memcpy(p, ptr, Min(oldsize, newsize));
	pfree(ptr);
	return p;
}

static void
qoe_pg_free(void *ctx, void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

void
qoe_pg_allocator_init(QoeAllocator *a, MemoryContext cxt)
{
	a->alloc = qoe_pg_alloc;
	a->realloc = qoe_pg_realloc;
	a->free = qoe_pg_free;
	a->ctx = cxt;
}

/*
 * Temporary buffers (qoe_pg.h, qoe_pg_temp_allocator_init): one block cache
 * (qoe_cache.c) per backend and transaction.  The blocks it keeps live in
 * a memory context of its own under TopTransactionContext, which takes
 * them, and the cache, at the end of the transaction (the reset callback
 * forgets the cache).  Blocks it does not keep come from the current
 * memory context, as before.
 *
 * An error that a savepoint or an EXCEPTION block catches leaves the
 * transaction, and the cache's context, alive: the blocks the interrupted
 * function had out would stay allocated until the end of the transaction,
 * and a loop of such errors would pile them up.  So when a subtransaction
 * aborts with blocks out (none of qoe_agg's functions holds one across
 * anything else: those blocks were abandoned), the context goes, kept
 * blocks with it, and the next call starts a new cache.
 */
#define QOE_PG_SCRATCH_KEEP ((size_t) 32 * 1024 * 1024)

static QoeBlockCache *scratch_cache = NULL;
static MemoryContext scratch_cxt = NULL;

static void
scratch_forget(void *arg)
{
	scratch_cache = NULL;
	scratch_cxt = NULL;
}

static void
scratch_subxact(SubXactEvent event, SubTransactionId mySubid,
				SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && scratch_cache != NULL &&
		scratch_cache->nout > 0)
		MemoryContextDelete(scratch_cxt);	/* scratch_forget runs */
}

static void
scratch_misuse(const char *msg)
{
	elog(ERROR, "qoe_agg: %s", msg);
}

/* allocations in the memory context current at the time of each call */
static void *
current_alloc(void *ctx, size_t size)
{
	return qoe_pg_alloc_large(CurrentMemoryContext, size);
}

void
qoe_pg_temp_allocator_init(QoeAllocator *a)
{
	/* outside a transaction (a C caller of its own): no cache */
	if (TopTransactionContext == NULL)
	{
		qoe_pg_allocator_init(a, CurrentMemoryContext);
		return;
	}
	if (scratch_cache == NULL)
	{
		MemoryContext cxt = AllocSetContextCreate(TopTransactionContext,
												  "qoe_agg scratch",
												  ALLOCSET_DEFAULT_SIZES);
		MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(*cb));
		QoeBlockCache *c = MemoryContextAlloc(cxt, sizeof(QoeBlockCache));
		QoeAllocator base;
		QoeAllocator pass;

		qoe_pg_allocator_init(&base, cxt);
		pass = base;
		pass.alloc = current_alloc;
		pass.ctx = NULL;
		qoe_cache_init(c, &base, &pass, QOE_PG_SCRATCH_KEEP, scratch_misuse);
		cb->func = scratch_forget;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(cxt, cb);
		scratch_cache = c;
		scratch_cxt = cxt;
	}
	qoe_cache_allocator_init(a, scratch_cache);
}

QoeAggState *
qoe_pg_state_create(MemoryContext cxt)
{
	QoeAggState *state;

	state = (QoeAggState *) MemoryContextAllocZero(cxt, sizeof(QoeAggState));
	state->tag = QOE_STATE_BUFFER;
	qoe_pg_allocator_init(&state->alloc, cxt);
	qoe_buffer_init(&state->buf, &state->alloc);
	return state;
}
