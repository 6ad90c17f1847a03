/*
 * phase-shift: the policy engine's scenario workload, run in a guest.
 *
 * One thread per guest node, pinned to that node, works on its own
 * data region.  Every region is interleaved round robin over all the
 * nodes, so that a thread starts with 1/N of its data local; the range
 * then drops the interleave policy, so that the kernel's NUMA
 * balancing may move the pages like any others.  At
 * --phase-at seconds every thread switches to the next thread's region
 * (thread i to region (i + 1) mod N): the application changes its
 * behaviour, and the pages that a migrator moved for the first phase
 * are wrong again.
 *
 * Each pass of a thread writes one word per cache line of its region.
 * Once per --period the program prints one CSV line: the time, the
 * phase, each thread's passes per second and the ground truth, the
 * fraction of the pages each thread now works on that sit on its node
 * (move_pages(2) status of --samples pages spread over them), then that
 * fraction over all threads.  Reading
 * that truth is slow under TCG: a line that runs late skips the period
 * ends it missed, and the run keeps to --seconds of wall time.
 *
 * With --next-touch the program places its data itself, the way an
 * application would use MADV_MIGRATE_NEXT_TOUCH: it marks every region
 * once the regions are populated and again at the phase change, so
 * that each page moves to the node of the thread that touches it next.
 *
 * Before the CSV, one comment line per region gives the zones its
 * pages occupy in guest-physical memory (--zone-size bytes each, from
 * /proc/self/pagemap, which needs root): "# region R zones Z:PAGES ...".
 * A host tool that reads the SNC's counters can match them with it.
 *
 * Exit code: 0, 1 if the guest lacks NUMA or a thread cannot be
 * pinned or its region not allocated, 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <glib.h>
#include <inttypes.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include "numa-util.h"
#include "page-migrate.h"

#define PROG "phase-shift"
#define CACHE_LINE 64

typedef struct Worker {
    int node;                   /* guest node the thread runs on */
    size_t npages;
    char *region;               /* its own data, interleaved */
    _Atomic uint64_t passes;    /* whole passes over the current data */
    atomic_int in_phase;        /* the phase of its current pass */
    pthread_t thread;
} Worker;

static Worker *workers;
static int nr_workers;
static atomic_int phase;
static atomic_bool stop;

static double opt_seconds = 20, opt_phase_at = 10, opt_period = 1;
static gint opt_mib = 16, opt_threads;
static gint64 opt_zone_size = 512 * 1024;
static gboolean opt_next_touch;
static gint opt_samples = 512;

/* The data thread @w works on in the current phase. */
static const Worker *data_of(const Worker *w, int in_phase)
{
    int i = (int)(w - workers);

    return &workers[(i + in_phase) % nr_workers];
}

static void *worker_run(void *opaque)
{
    Worker *w = opaque;
    g_autoptr(GError) err = NULL;

    if (nu_pin_to_node(w->node, &err) < 0) {
        fprintf(stderr, PROG ": thread of node %d: %s\n", w->node,
                err->message);
        exit(1);
    }
    while (!atomic_load(&stop)) {
        int p = atomic_load(&phase);
        const Worker *d = data_of(w, p);
        size_t size = d->npages * nu_page_size();

        atomic_store(&w->in_phase, p);

        for (size_t off = 0; off < size; off += CACHE_LINE) {
            (*(volatile uint64_t *)(d->region + off))++;
        }
        atomic_fetch_add(&w->passes, 1);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * Print the zones that region @r's pages occupy, with the number of
 * its pages in each, in zone order.
 */
static void print_region_zones(int r, const Worker *w)
{
    g_autoptr(NuPageTable) pagemap = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree uint64_t *zone = g_new(uint64_t, w->npages);
    size_t psz = nu_page_size(), n = 0;

    pagemap = nu_pagemap_open(0, &err);
    if (!pagemap || !nu_pagemap_pfns(pagemap, w->region, w->npages, zone,
                                     &err)) {
        printf("# region %d zones unknown: %s\n", r, err->message);
        return;
    }
    for (size_t i = 0; i < w->npages; i++) {
        if (zone[i]) {
            zone[n++] = zone[i] * psz / (uint64_t)opt_zone_size;
        }
    }
    qsort(zone, n, sizeof(*zone), cmp_u64);
    printf("# region %d zones", r);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && zone[j] == zone[i]; j++) {
        }
        printf(" %" PRIu64 ":%zu", zone[i], j - i);
    }
    printf("\n");
}

static void region_alloc(Worker *w)
{
    size_t size = (size_t)opt_mib << 20;

    w->npages = size / nu_page_size();
    /* Round robin over every node, page by page. */
    w->region = numa_alloc_interleaved(size);
    if (!w->region) {
        fprintf(stderr, PROG ": cannot allocate %d MiB interleaved\n",
                opt_mib);
        exit(1);
    }
    /* Fault it in now, one region after the other. */
    for (size_t off = 0; off < size; off += nu_page_size()) {
        w->region[off] = 1;
    }
    /*
     * The pages stay where the interleaving put them, but the range
     * drops the interleave policy: NUMA balancing leaves alone the
     * pages that their VMA's policy places, so AutoNUMA would never
     * move them.
     */
    if (mbind(w->region, size, MPOL_DEFAULT, NULL, 0, 0)) {
        perror(PROG ": mbind(MPOL_DEFAULT)");
        exit(1);
    }
}

/* Wait until every thread has started a pass in phase @p. */
static void wait_for_phase(int p)
{
    for (int i = 0; i < nr_workers; i++) {
        while (atomic_load(&workers[i].in_phase) != p) {
            sched_yield();
        }
    }
}

/* Mark every region: its pages move to the node of their next toucher. */
static void mark_next_touch(void)
{
    for (int i = 0; i < nr_workers; i++) {
        if (madvise(workers[i].region, workers[i].npages * nu_page_size(),
                    MADV_MIGRATE_NEXT_TOUCH)) {
            perror(PROG ": madvise(MADV_MIGRATE_NEXT_TOUCH)");
            exit(1);
        }
    }
}

/*
 * The fraction of @w's pages that sit on @node, from the move_pages(2)
 * status of --samples pages spread evenly over the region (every page
 * with --samples 0).  Reading the status of every page of a 16 MiB
 * region takes seconds under TCG; 512 samples per thread put the
 * fraction within about 1% and keep a period's line on time.
 */
static double fraction_on_node(const Worker *w, int node)
{
    size_t n = opt_samples && (size_t)opt_samples < w->npages ?
               (size_t)opt_samples : w->npages;
    g_autofree void **pages = g_new(void *, n);
    g_autofree int *status = g_new(int, n);
    size_t on = 0;

    /*
     * One page in each of n equal strides, at an offset that walks
     * through the stride: a fixed offset would alias with the
     * interleaving (every 8th page of data interleaved over 4 nodes is
     * on one node).
     */
    for (size_t i = 0; i < n; i++) {
        size_t stride = w->npages / n;

        pages[i] = w->region + (i * stride + i % stride) * nu_page_size();
    }
    if (numa_move_pages(0, n, pages, NULL, status, 0) < 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        on += status[i] == node;
    }
    return (double)on / n;
}

static double seconds_since(uint64_t start)
{
    return (nu_now_ns() - start) / 1e9;
}

static void print_header(void)
{
    printf("time_s,phase");
    for (int i = 0; i < nr_workers; i++) {
        printf(",ips_%d", i);
    }
    for (int i = 0; i < nr_workers; i++) {
        printf(",local_%d", i);
    }
    printf(",local_total\n");
}

/* One CSV line: @passes holds each thread's count at the last line. */
static void print_row(double t, int in_phase, double dt, uint64_t *passes)
{
    double total = 0;

    printf("%.1f,%d", t, in_phase);
    for (int i = 0; i < nr_workers; i++) {
        uint64_t p = atomic_load(&workers[i].passes);

        printf(",%.1f", (p - passes[i]) / dt);
        passes[i] = p;
    }
    for (int i = 0; i < nr_workers; i++) {
        double f = fraction_on_node(data_of(&workers[i], in_phase),
                                    workers[i].node);

        printf(",%.3f", f);
        total += f;
    }
    /* Every region has the same size: the mean is the whole fraction. */
    printf(",%.3f\n", total / nr_workers);
    fflush(stdout);
}

static void sleep_until(uint64_t start, double t)
{
    double left = t - seconds_since(start);

    if (left > 0) {
        struct timespec ts = {
            .tv_sec = (time_t)left,
            .tv_nsec = (long)((left - (time_t)left) * 1e9),
        };
        nanosleep(&ts, NULL);
    }
}

static GOptionEntry entries[] = {
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
      "run for S seconds (default 20)", "S" },
    { "phase-at", 'p', 0, G_OPTION_ARG_DOUBLE, &opt_phase_at,
      "switch every thread to the next thread's data at S seconds "
      "(default 10; at least --seconds: never)", "S" },
    { "period", 'P', 0, G_OPTION_ARG_DOUBLE, &opt_period,
      "print a CSV line every S seconds (default 1)", "S" },
    { "mib", 'm', 0, G_OPTION_ARG_INT, &opt_mib,
      "each thread's data in MiB (default 16)", "MIB" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads,
      "threads, on nodes 0 .. N-1 (default: one per node)", "N" },
    { "next-touch", 'n', 0, G_OPTION_ARG_NONE, &opt_next_touch,
      "mark the data MADV_MIGRATE_NEXT_TOUCH at the start and at the "
      "phase change", NULL },
    { "samples", 'S', 0, G_OPTION_ARG_INT, &opt_samples,
      "pages per thread whose node each line reads, spread evenly "
      "(default 512; 0: every page)", "N" },
    { "zone-size", 'z', 0, G_OPTION_ARG_INT64, &opt_zone_size,
      "zone size in bytes for the region lines, a power of two "
      "(default 524288)", "BYTES" },
    { NULL },
};

static void parse_options(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- the phase-change workload");
    g_autoptr(GError) err = NULL;
    int nodes;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Example, in a 4-node guest: 20 s, phase change at 10 s:\n"
        "  phase-shift --seconds 20 --phase-at 10 --period 1\n"
        "Output: '# region R zones ZONE:PAGES ...' lines, then CSV\n"
        "time_s,phase,ips_0..,local_0..,local_total, where local_i is\n"
        "the fraction of thread i's current data on its node.\n");
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, PROG ": %s\n", err->message);
        exit(2);
    }
    if (argc > 1) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[1]);
        exit(2);
    }
    if (!(opt_seconds > 0 && opt_seconds <= 86400)) {
        fprintf(stderr, PROG ": bad --seconds %g (0 < S <= 86400)\n",
                opt_seconds);
        exit(2);
    }
    if (!(opt_phase_at >= 0)) {
        fprintf(stderr, PROG ": bad --phase-at %g (S >= 0)\n",
                opt_phase_at);
        exit(2);
    }
    if (!(opt_period >= 0.01 && opt_period <= opt_seconds)) {
        fprintf(stderr, PROG ": bad --period %g (0.01 <= S <= --seconds)\n",
                opt_period);
        exit(2);
    }
    nu_arg_check_range(PROG, "--mib", opt_mib, 1, 4096);
    nu_arg_check_range(PROG, "--samples", opt_samples, 0, 1 << 20);
    if (opt_zone_size < 4096 || (opt_zone_size & (opt_zone_size - 1))) {
        fprintf(stderr, PROG ": bad --zone-size %" G_GINT64_FORMAT
                " (a power of two, at least 4096)\n", opt_zone_size);
        exit(2);
    }
    nu_numa_check(PROG, -1);
    nodes = numa_max_node() + 1;
    if (!opt_threads) {
        opt_threads = nodes;
    }
    nu_arg_check_range(PROG, "--threads", opt_threads, 1, nodes);
    for (int n = 0; n < opt_threads; n++) {
        if (nu_node_first_cpu(n) < 0 || !nu_node_has_memory(n)) {
            fprintf(stderr, PROG ": node %d has no CPU or no memory\n", n);
            exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    g_autofree uint64_t *passes = NULL;
    uint64_t start, last;
    int in_phase = 0;

    parse_options(argc, argv);
    nr_workers = opt_threads;
    workers = g_new0(Worker, nr_workers);
    passes = g_new0(uint64_t, nr_workers);
    for (int i = 0; i < nr_workers; i++) {
        workers[i].node = i;
        region_alloc(&workers[i]);
    }
    for (int i = 0; i < nr_workers; i++) {
        print_region_zones(i, &workers[i]);
    }
    print_header();
    if (opt_next_touch) {
        mark_next_touch();
    }
    start = last = nu_now_ns();
    for (int i = 0; i < nr_workers; i++) {
        pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);
    }
    /*
     * Wake at each period's end and at the phase change.  Reading the
     * ground truth takes time under TCG: a period whose end has passed
     * is skipped, so the run keeps to --seconds of wall time.
     */
    for (double next = opt_period, t = 0; t < opt_seconds - 1e-9;) {
        uint64_t now;

        if (!in_phase && opt_phase_at < next) {
            sleep_until(start, opt_phase_at);
            in_phase = 1;
            atomic_store(&phase, 1);
            /*
             * Mark once every thread works on its new data: a thread
             * still finishing a pass over its old data would take the
             * marks there, where its pages are local already, and the
             * new toucher would find them unmarked.
             */
            if (opt_next_touch) {
                wait_for_phase(1);
                mark_next_touch();
            }
            continue;
        }
        sleep_until(start, next);
        now = nu_now_ns();
        t = (now - start) / 1e9;
        print_row(t, in_phase, (now - last) / 1e9, passes);
        last = now;
        while (next <= seconds_since(start) + 1e-9) {
            next += opt_period;
        }
        next = MIN(next, opt_seconds);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < nr_workers; i++) {
        pthread_join(workers[i].thread, NULL);
    }
    return 0;
}
