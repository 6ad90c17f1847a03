// SPDX-License-Identifier: GPL-2.0
/*
 * next-touch-bench: the cost of migrate-on-next-touch against the other
 * ways of moving a buffer, per operation and as throughput against buffer
 * size, run inside the guest.  Needs two NUMA nodes and the guest
 * kernel's MADV_MIGRATE_NEXT_TOUCH.
 *
 * Buffers are populated on node 0 by the main thread (running on node 0)
 * and moved to node 1 by a worker thread running on node 1 (with
 * --one-thread: by the main thread itself, which moves to node 1 after
 * marking; the move of the thread is not timed), with:
 *
 *   nexttouch   madvise(MADV_MIGRATE_NEXT_TOUCH) by the main thread, then
 *               the worker reads one byte of every page (both timed)
 *   nexttouch1  the same with vm.next_touch_batch_pages set to 1: each
 *               fault moves the touched page only (skipped, with its
 *               rows, on a kernel without the sysctl)
 *   nexttouch64 the same with a window of 64 pages
 *   nexttouch_thp  the same on a 2 MiB aligned MADV_HUGEPAGE buffer, for
 *               buffers of 2 MiB and more (THP "madvise" or "always")
 *   move_pages_thp  move_pages on the buffer of nexttouch_thp
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
 *   next-touch-bench [--one-thread] [MAX_MIB]
 *                                (largest buffer, 1 to 4096, default 256)
 *
 * Exit code: 0, 1 if an operation failed, 2 on a usage error or without
 * two nodes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
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

#define THP_SIZE (2UL << 20)
#define BATCH_SYSCTL "/proc/sys/vm/next_touch_batch_pages"

static long psz;
static bool one_thread;
/* vm.next_touch_batch_pages as found at start, 0 without the sysctl. */
static long batch_pages;

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

static long read_batch_pages(void)
{
	FILE *f = fopen(BATCH_SYSCTL, "r");
	long v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static void set_batch_pages(long v)
{
	FILE *f = fopen(BATCH_SYSCTL, "w");

	if (!f || fprintf(f, "%ld\n", v) < 0 || fclose(f))
		die("write " BATCH_SYSCTL);
}

/* The mappings of map_on_node0(), to unmap what was really mapped. */
static size_t map_len;
static char *map_base;

static void unmap_buf(void)
{
	munmap(map_base, map_len);
}

/*
 * A private anonymous buffer of @len bytes, populated by the main thread on
 * node 0; with @thp 2 MiB aligned and advised MADV_HUGEPAGE.
 */
static char *map_on_node0_thp(size_t len, bool thp)
{
	size_t extra = thp ? THP_SIZE : 0, i;
	char *p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	map_base = p;
	map_len = len + extra;
	if (thp) {
		p = (char *)(((uintptr_t)p + THP_SIZE - 1) & ~(THP_SIZE - 1));
		if (madvise(p, len, MADV_HUGEPAGE))
			die("madvise(MADV_HUGEPAGE)");
	}
	/* The main thread runs on node 0: first touch puts pages there. */
	for (i = 0; i < len; i += psz)
		p[i] = (char)(i / psz);
	return p;
}

static char *map_on_node0(size_t len)
{
	return map_on_node0_thp(len, false);
}

static double moved_fraction(char *buf, size_t npages)
{
	size_t i, n = 0, step = npages > 4096 ? npages / 4096 : 1, seen = 0;

	for (i = 0; i < npages; i += step, seen++)
		n += nu_page_node(0, buf + i * psz) == 1;
	return (double)n / seen;
}

/* The work a worker thread on node 1 does, timed there. */
enum method {
	NEXTTOUCH, MOVE_PAGES, MBIND, USERNT, MEMCPY, NEXTTOUCH1,
	NEXTTOUCH64, NEXTTOUCH_THP, MOVE_PAGES_THP, NMETHODS
};
static const char *const names[] = {
	"nexttouch", "move_pages", "mbind", "usernt", "memcpy", "nexttouch1",
	"nexttouch64", "nexttouch_thp", "move_pages_thp",
};
/* The window of each method, 0 for the kernel's setting. */
static const long window[NMETHODS] = {
	[NEXTTOUCH1] = 1, [NEXTTOUCH64] = 64,
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

/* The timed part of @j, run on node 1; sets j->ns. */
static void do_job(struct job *j)
{
	unsigned long mask = 2;
	volatile char sink;
	double t0;
	size_t i;

	t0 = now_ns();
	switch (j->m) {
	case NEXTTOUCH:
	case NEXTTOUCH1:
	case NEXTTOUCH64:
	case NEXTTOUCH_THP:
	case USERNT:
		for (i = 0; i < j->npages; i++)
			sink = j->buf[i * psz];
		break;
	case MOVE_PAGES:
	case MOVE_PAGES_THP:
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
}

static void *worker(void *arg)
{
	struct job *j = arg;

	run_on_node(1);
	for (;;) {
		pthread_barrier_wait(j->go);
		if (!j->buf)
			return NULL;
		do_job(j);
		pthread_barrier_wait(j->go);
	}
}

static struct job job;
static pthread_barrier_t go;

/*
 * Run the timed part of the job: by the worker on node 1, or with
 * --one-thread by the calling thread, moved to node 1 for it and back.
 */
static void run_job(void)
{
	if (one_thread) {
		run_on_node(1);
		do_job(&job);
		run_on_node(0);
		return;
	}
	pthread_barrier_wait(&go);	/* start */
	pthread_barrier_wait(&go);	/* done */
}

/* Move a fresh node-0 buffer of @npages with @m; return ns, set moved. */
static double run_once(enum method m, size_t npages, double *moved)
{
	size_t len = npages * psz, i;
	double mark = 0, t0;
	char *dst = NULL;

	job.m = m;
	job.npages = npages;
	job.buf = map_on_node0_thp(len, m == NEXTTOUCH_THP ||
				   m == MOVE_PAGES_THP);
	if (m == MOVE_PAGES || m == MOVE_PAGES_THP) {
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
	if (window[m])
		set_batch_pages(window[m]);
	if (m == NEXTTOUCH || window[m] || m == NEXTTOUCH_THP) {
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
	run_job();
	if (window[m])
		set_batch_pages(batch_pages);
	/* memcpy moves nothing: its "moved" is the destination's. */
	*moved = moved_fraction(m == MEMCPY ? dst : job.buf, npages);
	unmap_buf();
	if (dst)
		munmap(dst, len);
	if (m == MOVE_PAGES || m == MOVE_PAGES_THP) {
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
	unmap_buf();
	(void)len;
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
	run_job();
	unmap_buf();
	return job.ns;
}

static double op_move_pages(size_t npages)
{
	double moved;

	return run_once(MOVE_PAGES, npages, &moved);
}

/* Does method @m run at @bytes?  (Window curves need the sysctl.) */
static bool method_runs(int m, size_t bytes)
{
	return !(window[m] && !batch_pages) &&
	       !((m == NEXTTOUCH_THP || m == MOVE_PAGES_THP) &&
		 bytes < THP_SIZE);
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

	static const struct option opts[] = {
		{ "one-thread", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "1h", opts, NULL)) != -1) {
		if (opt == '1') {
			one_thread = true;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
			"usage: next-touch-bench [--one-thread] [MAX_MIB]\n"
			"Time next-touch, move_pages, mbind, a userspace "
			"next-touch and memcpy\n"
			"moving node-0 buffers of 4 KiB to MAX_MIB MiB "
			"(default 256) to node 1; CSV.\n"
			"A worker thread on node 1 moves them; with "
			"--one-thread, the thread that\n"
			"populated and marked them, moved to node 1.\n"
			"example: next-touch-bench --one-thread 64 >nt.csv\n");
		return opt == 'h' ? 0 : 2;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "next-touch-bench: too many arguments\n");
		return 2;
	}
	max_mib = optind < argc ?
		(size_t)nu_arg_long("next-touch-bench", "MAX_MIB",
				    argv[optind], 1, 4096) : 256;
	batch_pages = read_batch_pages();
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
			reps = cost_pages[i] <= 64 ? 9 : 5;
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
		double t[NMETHODS][8], mv[NMETHODS];

		npages = bytes / psz;
		reps = bytes <= (16 << 20) ? 5 : 3;
		/*
		 * Round-robin over the methods, so that a burst of load on
		 * the host hits every method alike and the medians compare.
		 */
		for (m = 0; m < NMETHODS; m++)
			mv[m] = 1;
		for (i = 0; i < reps; i++)
			for (m = 0; m < NMETHODS; m++) {
				if (!method_runs(m, bytes))
					continue;
				t[m][i] = run_once(m, npages, &moved);
				if (moved < mv[m])
					mv[m] = moved;
			}
		for (m = 0; m < NMETHODS; m++) {
			if (!method_runs(m, bytes))
				continue;
			qsort(t[m], reps, sizeof(double), cmp_double);
			ns = t[m][reps / 2];
			printf("tput,%s,%zu,%zu,%.0f,%.1f,%.3f\n", names[m],
			       npages, bytes, ns, bytes / ns * 1e3, mv[m]);
		}
		fflush(stdout);
	}

	job.buf = NULL;
	pthread_barrier_wait(&go);
	pthread_join(th, NULL);
	return 0;
}
