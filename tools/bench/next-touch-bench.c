// SPDX-License-Identifier: GPL-2.0
/*
 * next-touch-bench: the cost of migrate-on-next-touch against the other
 * ways of moving a buffer, per operation and as throughput against buffer
 * size, run inside the guest.  Needs two NUMA nodes and the guest
 * kernel's MADV_MIGRATE_NEXT_TOUCH.
 *
 * Buffers are populated on node 0 by the main thread (running on node 0)
 * and moved to node 1 by a worker thread running on node 1, with:
 *
 *   nexttouch   madvise(MADV_MIGRATE_NEXT_TOUCH) by the main thread, then
 *               the worker reads one byte of every page (both timed)
 *   move_pages  one move_pages(2) call over every page, by the worker
 *   mbind       mbind(MPOL_BIND, {1}, MPOL_MF_MOVE), by the worker
 *   usernt      userspace next-touch: mprotect(PROT_NONE) by the main
 *               thread, then the worker reads every page; its SIGSEGV
 *               handler move_pages() the page and mprotect()s it back
 *   memcpy      the worker copies the buffer into a node-1 buffer that is
 *               already populated: the cost of the bytes alone
 *
 * Output, CSV on stdout:
 *   tput,METHOD,PAGES,BYTES,NS,MBPS,MOVED   (MOVED: fraction of pages found
 *                                            on node 1 afterwards)
 *   cost,METHOD,PAGES,0,NS,0,1              (one operation, for the fits)
 *   fit,METHOD,0,0,BASE_NS,NS_PER_PAGE,0    (least squares over the costs)
 *
 *   next-touch-bench [MAX_MIB]   (largest buffer, 1 to 4096, default 256)
 *
 * Exit code: 0, 1 if an operation failed, 2 on a usage error or without
 * two nodes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "numa-util.h"

#ifndef MADV_MIGRATE_NEXT_TOUCH
#define MADV_MIGRATE_NEXT_TOUCH 80
#endif

static long psz;

static double now_ns(void)
{
	return (double)nu_now_ns();
}

static void die(const char *what)
{
	fprintf(stderr, "next-touch-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void run_on_node(int node)
{
	g_autoptr(GError) err = NULL;

	if (!nu_run_on_node(node, &err)) {
		fprintf(stderr, "next-touch-bench: %s\n", err->message);
		exit(1);
	}
}

static char *map_on_node0(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		die("mmap");
	/* The main thread runs on node 0: first touch puts pages there. */
	for (i = 0; i < len; i += psz)
		p[i] = (char)(i / psz);
	return p;
}

static double moved_fraction(char *buf, size_t npages)
{
	size_t i, n = 0, step = npages > 4096 ? npages / 4096 : 1, seen = 0;

	for (i = 0; i < npages; i += step, seen++)
		n += nu_page_node(0, buf + i * psz) == 1;
	return (double)n / seen;
}

/* The work a worker thread on node 1 does, timed there. */
enum method { NEXTTOUCH, MOVE_PAGES, MBIND, USERNT, MEMCPY, NMETHODS };
static const char *const names[] = {
	"nexttouch", "move_pages", "mbind", "usernt", "memcpy",
};

struct job {
	enum method m;
	char *buf, *dst;
	size_t npages;
	void **pages;
	int *nodes, *status;
	double ns;
	pthread_barrier_t *go;
};

static void usernt_handler(int sig, siginfo_t *si, void *uc)
{
	void *page = (void *)((uintptr_t)si->si_addr & ~(uintptr_t)(psz - 1));
	int node = 1, status;

	(void)sig;
	(void)uc;
	move_pages(0, 1, &page, &node, &status, MPOL_MF_MOVE);
	mprotect(page, psz, PROT_READ | PROT_WRITE);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	unsigned long mask = 2;
	volatile char sink;
	double t0;
	size_t i;

	run_on_node(1);
	for (;;) {
		pthread_barrier_wait(j->go);
		if (!j->buf)
			return NULL;
		t0 = now_ns();
		switch (j->m) {
		case NEXTTOUCH:
		case USERNT:
			for (i = 0; i < j->npages; i++)
				sink = j->buf[i * psz];
			break;
		case MOVE_PAGES:
			if (move_pages(0, j->npages, j->pages, j->nodes,
				       j->status, MPOL_MF_MOVE) < 0)
				die("move_pages");
			break;
		case MBIND:
			if (mbind(j->buf, j->npages * psz, MPOL_BIND, &mask,
				  sizeof(mask) * 8, MPOL_MF_MOVE))
				die("mbind");
			break;
		case MEMCPY:
			memcpy(j->dst, j->buf, j->npages * psz);
			break;
		default:
			break;
		}
		j->ns = now_ns() - t0;
		(void)sink;
		pthread_barrier_wait(j->go);
	}
}

static struct job job;
static pthread_barrier_t go;

/* Move a fresh node-0 buffer of @npages with @m; return ns, set moved. */
static double run_once(enum method m, size_t npages, double *moved)
{
	size_t len = npages * psz, i;
	double mark = 0, t0;
	char *dst = NULL;

	job.m = m;
	job.npages = npages;
	job.buf = map_on_node0(len);
	if (m == MOVE_PAGES) {
		job.pages = malloc(npages * sizeof(void *));
		job.nodes = malloc(npages * sizeof(int));
		job.status = malloc(npages * sizeof(int));
		if (!job.pages || !job.nodes || !job.status)
			die("malloc");
		for (i = 0; i < npages; i++) {
			job.pages[i] = job.buf + i * psz;
			job.nodes[i] = 1;
		}
	}
	if (m == MEMCPY) {
		dst = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dst == MAP_FAILED)
			die("mmap");
		numa_tonode_memory(dst, len, 1);
		memset(dst, 0, len);
		job.dst = dst;
	}
	if (m == NEXTTOUCH) {
		t0 = now_ns();
		if (madvise(job.buf, len, MADV_MIGRATE_NEXT_TOUCH))
			die("madvise(MADV_MIGRATE_NEXT_TOUCH)");
		mark = now_ns() - t0;
	}
	if (m == USERNT) {
		t0 = now_ns();
		if (mprotect(job.buf, len, PROT_NONE))
			die("mprotect");
		mark = now_ns() - t0;
	}
	pthread_barrier_wait(&go);	/* start */
	pthread_barrier_wait(&go);	/* done */
	/* memcpy moves nothing: its "moved" is the destination's. */
	*moved = moved_fraction(m == MEMCPY ? dst : job.buf, npages);
	munmap(job.buf, len);
	if (dst)
		munmap(dst, len);
	if (m == MOVE_PAGES) {
		free(job.pages);
		free(job.nodes);
		free(job.status);
	}
	return mark + job.ns;
}

/* Least squares ns = a + b * pages over the cost samples. */
static void fit(const char *name, const double *x, const double *y, int n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, a, b;
	int i;

	for (i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	a = (sy - b * sx) / n;
	printf("fit,%s,0,0,%.0f,%.1f,0\n", name, a, b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @reps timings of one operation on @npages. */
static double median_cost(double (*op)(size_t), size_t npages, int reps)
{
	double t[16];
	int r;

	for (r = 0; r < reps; r++)
		t[r] = op(npages);
	qsort(t, reps, sizeof(double), cmp_double);
	return t[reps / 2];
}

/*
 * Time one marking of a fresh node-0 buffer of @npages: the next-touch
 * advice (@advice true) or mprotect(PROT_NONE).
 */
static double time_marking(size_t npages, bool advice)
{
	size_t len = npages * psz;
	char *b = map_on_node0(len);
	double t0 = now_ns(), t;

	if (advice ? madvise(b, len, MADV_MIGRATE_NEXT_TOUCH) :
		     mprotect(b, len, PROT_NONE))
		die(advice ? "madvise" : "mprotect");
	t = now_ns() - t0;
	munmap(b, len);
	return t;
}

static double op_mark(size_t npages)
{
	return time_marking(npages, true);
}

static double op_mprotect(size_t npages)
{
	return time_marking(npages, false);
}

/* The touch alone: the worker's time, without the marking. */
static double op_touch(size_t npages)
{
	size_t len = npages * psz;

	job.m = NEXTTOUCH;
	job.npages = npages;
	job.buf = map_on_node0(len);
	if (madvise(job.buf, len, MADV_MIGRATE_NEXT_TOUCH))
		die("madvise");
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&go);
	munmap(job.buf, len);
	return job.ns;
}

static double op_move_pages(size_t npages)
{
	double moved;

	return run_once(MOVE_PAGES, npages, &moved);
}

int main(int argc, char **argv)
{
	static const size_t cost_pages[] = { 1, 2, 4, 8, 16, 64, 256, 1024,
					     4096 };
	const int ncost = sizeof(cost_pages) / sizeof(cost_pages[0]);
	struct {
		const char *name;
		double (*op)(size_t);
	} costs[] = {
		{ "mark", op_mark }, { "mprotect", op_mprotect },
		{ "touch", op_touch }, { "move_pages", op_move_pages },
	};
	size_t max_mib;
	struct sigaction sa = { .sa_sigaction = usernt_handler,
				.sa_flags = SA_SIGINFO };
	double x[16], y[16], moved, ns;
	size_t bytes, npages;
	pthread_t th;
	int c, i, m, reps;

	if (argc > 2 || (argc == 2 && !strcmp(argv[1], "--help"))) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: next-touch-bench [MAX_MIB]\n"
			"Time next-touch, move_pages, mbind, a userspace "
			"next-touch and memcpy\n"
			"moving node-0 buffers of 4 KiB to MAX_MIB MiB "
			"(default 256) to node 1; CSV.\n"
			"example: next-touch-bench 64 >nt.csv\n");
		return argc == 2 ? 0 : 2;
	}
	max_mib = argc == 2 ?
		(size_t)nu_arg_long("next-touch-bench", "MAX_MIB", argv[1],
				    1, 4096) : 256;
	psz = (long)nu_page_size();
	if (numa_available() < 0 || !nu_node_has_memory(0) ||
	    !nu_node_has_memory(1)) {
		fprintf(stderr, "next-touch-bench: needs two NUMA nodes\n");
		return 2;
	}
	run_on_node(0);
	if (sigaction(SIGSEGV, &sa, NULL))
		die("sigaction");
	pthread_barrier_init(&go, NULL, 2);
	job.go = &go;
	if (pthread_create(&th, NULL, worker, &job))
		die("pthread_create");

	/* Per-operation costs, and their linear fits. */
	for (c = 0; c < (int)(sizeof(costs) / sizeof(costs[0])); c++) {
		for (i = 0; i < ncost; i++) {
			reps = cost_pages[i] <= 64 ? 9 : 3;
			x[i] = cost_pages[i];
			y[i] = median_cost(costs[c].op, cost_pages[i], reps);
			printf("cost,%s,%zu,0,%.0f,0,1\n", costs[c].name,
			       cost_pages[i], y[i]);
		}
		fit(costs[c].name, x, y, ncost);
		fflush(stdout);
	}

	/* Throughput against buffer size, 4 KiB to max_mib MiB. */
	for (bytes = psz; bytes <= max_mib << 20; bytes *= 4) {
		npages = bytes / psz;
		reps = bytes <= (1 << 20) ? 5 : bytes <= (16 << 20) ? 3 : 1;
		for (m = 0; m < NMETHODS; m++) {
			double t[8], mv = 1;

			for (i = 0; i < reps; i++) {
				t[i] = run_once(m, npages, &moved);
				if (moved < mv)
					mv = moved;
			}
			qsort(t, reps, sizeof(double), cmp_double);
			ns = t[reps / 2];
			printf("tput,%s,%zu,%zu,%.0f,%.1f,%.3f\n", names[m],
			       npages, bytes, ns, bytes / ns * 1e3, mv);
			fflush(stdout);
		}
	}

	job.buf = NULL;
	pthread_barrier_wait(&go);
	pthread_join(th, NULL);
	return 0;
}
