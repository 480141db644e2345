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

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* GUC variables; the defaults are SPEC's */
static int	qoe_session_timeout_ms = 1800000;	/* 30 min */
static int	qoe_seek_grace_ms = 1000;	/* 1 s */
static double qoe_jump_tolerance = 2.0; /* seconds */
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

/* ---------------------------------------------------------------------
 * Allocator: palloc in a given context; huge allocations allowed so that
 * an event buffer can grow past 1 GB (only its serialized form is limited).
 * ---------------------------------------------------------------------
 */
static void *
qoe_pg_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size > 0 ? size : 1);
}

static void *
qoe_pg_realloc(void *ctx, void *ptr, size_t oldsize, size_t newsize)
{
	if (ptr == NULL)
		return MemoryContextAllocHuge((MemoryContext) ctx, newsize > 0 ? newsize : 1);
	return repalloc_huge(ptr, newsize > 0 ? newsize : 1);
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
