/*
 * bench/probe.c -- what the benchmark machine charges for the two things
 * that decide qoe_agg's ratios besides its own code: touching fresh memory
 * (page faults; a big group's state and serialized forms are hundreds of
 * MB, count(*) touches little) and running two processes at once (parallel
 * aggregation on 2 cores).  Built and run by bench/run.sh; prints one line.
 *
 *	 first touch: seconds per GB to fault in and write fresh anonymous
 *				  memory, with MADV_NOHUGEPAGE (4 kB pages) and with
 *				  MADV_HUGEPAGE (2 MB pages where the kernel's THP mode,
 *				  printed too, allows them);
 *	 rewrite:	  seconds per GB to write the same memory again;
 *	 2 processes: how much more work two CPU-bound processes get done in
 *				  the same time as one (2.00 is perfect scaling), and the
 *				  same for two processes faulting in fresh memory.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MB ((size_t) 1 << 20)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* seconds to fault in (and write) n bytes, then to write them again */
static void
touch(size_t n, int huge, double *first, double *again)
{
	char	   *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double		t0;

	if (p == MAP_FAILED)
	{
		perror("mmap");
		exit(1);
	}
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
	(void) madvise(p, n, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#else
	(void) huge;
#endif
	t0 = now();
	memset(p, 1, n);
	*first = now() - t0;
	t0 = now();
	memset(p, 2, n);
	*again = now() - t0;
	if (p[n / 2] != 2)
		exit(1);
	munmap(p, n);
}

static volatile uint64_t sink;

static void
spin(void)
{
	uint64_t	x = 88172645463325252ULL;

	for (long i = 0; i < 300000000L; i++)
	{
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	sink = x;
}

static void
fault(void)
{
	double		a,
				b;

	touch(256 * MB, 0, &a, &b);
}

/* wall time of k processes each running f */
static double
run(int k, void (*f) (void))
{
	double		t0 = now();

	for (int i = 0; i < k; i++)
	{
		pid_t		pid = fork();

		if (pid < 0)
		{
			perror("fork");
			exit(1);
		}
		if (pid == 0)
		{
			f();
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return now() - t0;
}

/* the first line of a sysfs file, e.g. "always [madvise] never" */
static void
sysfs(const char *path, char *out, size_t len)
{
	FILE	   *f = fopen(path, "r");

	snprintf(out, len, "?");
	if (f != NULL)
	{
		if (fgets(out, (int) len, f) == NULL)
			snprintf(out, len, "?");
		out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
}

int
main(void)
{
	char		thp[128],
				defrag[128];
	size_t		n = 512 * MB;
	double		f4,
				a4,
				fh,
				ah,
				c1,
				c2,
				m1,
				m2;

	sysfs("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	sysfs("/sys/kernel/mm/transparent_hugepage/defrag", defrag, sizeof(defrag));
	touch(n, 0, &f4, &a4);
	touch(n, 1, &fh, &ah);
	c1 = run(1, spin);
	c2 = run(2, spin);
	m1 = run(1, fault);
	m2 = run(2, fault);
	printf("first touch %.2f s/GB (4 kB pages), %.2f s/GB (huge pages); rewrite %.2f s/GB; "
		   "2 processes do %.2fx the work of one (CPU), %.2fx (page faults); THP %s, defrag %s\n",
		   f4 * 2, fh * 2, a4 * 2, 2 * c1 / c2, 2 * m1 / m2, thp, defrag);
	return 0;
}
