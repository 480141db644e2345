/*
 * unit.h
 *	  A tiny TAP producer for the C unit tests of the pure core.
 *
 * Each test program prints TAP ("ok N - name" / "not ok N - name") and a
 * plan at the end, so `prove` runs them.  Exit status is non-zero when any
 * check failed.
 */
#ifndef QOE_UNIT_H
#define QOE_UNIT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	unit_count = 0;
static int	unit_failed = 0;

static inline void
unit_report(int ok, const char *file, int line, const char *what)
{
	unit_count++;
	if (!ok)
		unit_failed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", unit_count, what);
	if (!ok)
		printf("#   failed at %s:%d\n", file, line);
}

#define CHECK(cond) unit_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long) (got), w_ = (long long) (want); \
	unit_report(g_ == w_, __FILE__, __LINE__, #got " == " #want); \
	if (g_ != w_) printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)

/* doubles compared to 1e-9 relative/absolute */
#define CHECK_DBL(got, want) do { \
	double g_ = (double) (got), w_ = (double) (want); \
	int ok_ = fabs(g_ - w_) <= 1e-9 * (fabs(w_) > 1 ? fabs(w_) : 1); \
	unit_report(ok_, __FILE__, __LINE__, #got " == " #want); \
	if (!ok_) printf("#   got %.17g, want %.17g\n", g_, w_); \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	int ok_ = g_ && w_ && strcmp(g_, w_) == 0; \
	unit_report(ok_, __FILE__, __LINE__, #got " == " #want); \
	if (!ok_) printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

/* a deterministic xorshift64 generator for test data; seed it by assignment */
static uint64_t unit_rng_state = 88172645463325252ULL;

static inline uint64_t
unit_rng(void)
{
	unit_rng_state ^= unit_rng_state << 13;
	unit_rng_state ^= unit_rng_state >> 7;
	unit_rng_state ^= unit_rng_state << 17;
	return unit_rng_state;
}

static inline int
unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}

#endif
