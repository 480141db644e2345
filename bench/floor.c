/*
 * bench/floor.c -- the benchmark's floor aggregate: what PostgreSQL itself
 * charges to feed an aggregate the arguments qoe_agg's aggregates take.
 *
 * bench/run.sh builds this file into a module of its own (not part of the
 * extension) and declares, for each argument list it measures,
 *
 *	 CREATE AGGREGATE qoe_bench_floor(timestamptz, text, float8, float8, text)
 *		 (sfunc = qoe_bench_floor_sfunc, stype = int8, initcond = '0',
 *		  combinefunc = int8pl, parallel = safe);
 *
 * The transition function is called for every row, NULL arguments
 * included, and only counts: the time left is the scan, the deforming of
 * the argument columns, the expression machinery and the function call,
 * which any aggregate over those columns pays.  Its state is a by-value
 * int8, as count(*)'s, so no per-group memory is allocated.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(qoe_bench_floor_sfunc);

Datum
qoe_bench_floor_sfunc(PG_FUNCTION_ARGS)
{
	int64		n = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0);

	PG_RETURN_INT64(n + 1);
}
