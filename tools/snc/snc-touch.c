/*
 * snc-touch: check, from inside a guest, that the Scalable Node
 * Controller sees which NUMA node touches which memory.
 *
 * One thread per guest NUMA node, pinned to a CPU of that node,
 * touches its own buffer (transparent huge pages, so that each buffer
 * fills whole zones).  The buffers' guest-physical addresses come from
 * /proc/self/pagemap.  The program counts for a while through the
 * device's registers (BAR0), takes a snapshot and reads the counter
 * matrix (BAR2); the hottest zones of each node must then be exactly
 * the zones of that node's buffer.
 *
 *   snc-touch [--trials N] [--ms MS] [--sample-us US] [--mib MIB]
 *   snc-touch --overhead [--reps N] [--passes N] [--mib MIB]
 *             [--sample-us US]
 *
 * The first form prints TAP; the second times a memory-bound loop on
 * every node with counting stopped and started, alternately, and
 * prints CSV.  Exit code: 0 if every check passed, 1 if one failed (or
 * the guest has no snc device or NUMA), 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/kernel-page-flags.h>
#include <numa.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "numa-util.h"

#include "snc_regs.h"

#define HUGE            (2UL << 20)

typedef struct Snc {
    volatile uint32_t *regs;
    volatile uint64_t *matrix;
    unsigned zones, nodes, shift;
} Snc;

typedef struct Worker {
    int node;
    int cpu;
    size_t size;
    char *buf;
    unsigned *zone_pages;       /* [zones]: buffer pages per zone */
    bool local;                 /* every page on @node */
    double seconds;             /* --overhead: time of the loop */
    pthread_t thread;
} Worker;

static Snc snc;
static Worker *workers;
static int nr_workers;
static pthread_barrier_t barrier;
static volatile int stop_touching;
static int opt_trials = 10, opt_ms = 300, opt_sample_us = 1000;
static int opt_mib = 4, opt_reps = 5, opt_passes = 20;
static gboolean opt_overhead;

static uint32_t rd32(unsigned off)
{
    return snc.regs[off / 4];
}

static void wr32(unsigned off, uint32_t val)
{
    snc.regs[off / 4] = val;
}

static uint64_t counter(unsigned zone, unsigned node)
{
    return snc.matrix[zone * snc.nodes + node];
}

static void *map_resource(const char *dir, int bar, size_t *size)
{
    g_autofree char *path = g_strdup_printf("%s/resource%d", dir, bar);
    struct stat st;
    void *p;
    int fd = open(path, O_RDWR | O_SYNC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        g_error("%s: %s", path, g_strerror(errno));
    }
    p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        g_error("mmap %s: %s", path, g_strerror(errno));
    }
    close(fd);
    *size = st.st_size;
    return p;
}

static unsigned long sysfs_hex(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return 0;
    }
    return strtoul(text, NULL, 16);
}

static bool snc_open(void)
{
    const char *base = "/sys/bus/pci/devices";
    g_autoptr(GDir) d = g_dir_open(base, 0, NULL);
    const char *name;
    size_t size;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *dir = g_build_filename(base, name, NULL);
        g_autofree char *enable = g_build_filename(dir, "enable", NULL);

        if (sysfs_hex(dir, "vendor") != SNC_PCI_VENDOR_ID ||
            sysfs_hex(dir, "device") != SNC_PCI_DEVICE_ID) {
            continue;
        }
        g_file_set_contents(enable, "1", 1, NULL);
        snc.regs = map_resource(dir, 0, &size);
        snc.matrix = map_resource(dir, 2, &size);
        if (rd32(SNC_REG_ID) != SNC_ID) {
            g_error("%s: ID register reads 0x%x", dir, rd32(SNC_REG_ID));
        }
        snc.zones = rd32(SNC_REG_NR_ZONES);
        snc.nodes = rd32(SNC_REG_NR_NODES);
        snc.shift = rd32(SNC_REG_ZONE_SHIFT);
        return true;
    }
    return false;
}

/* Allocate, fault in and locate the worker's buffer. */
static void worker_alloc(Worker *w)
{
    size_t psz = nu_page_size(), npages = w->size / psz, i;
    g_autofree uint64_t *pfns = g_new(uint64_t, npages);
    g_autoptr(NuPageTable) pagemap = NULL;
    g_autoptr(GError) err = NULL;

    w->buf = aligned_alloc(HUGE, w->size);
    g_assert(w->buf);
    madvise(w->buf, w->size, MADV_HUGEPAGE);
    memset(w->buf, 1, w->size);
    memset(w->zone_pages, 0, snc.zones * sizeof(*w->zone_pages));
    pagemap = nu_pagemap_open(0, &err);
    if (!pagemap || !nu_pagemap_pfns(pagemap, w->buf, npages, pfns, &err)) {
        g_error("%s", err->message);
    }
    for (i = 0; i < npages; i++) {
        uint64_t zone = (pfns[i] * psz) >> snc.shift;

        if (!pfns[i]) {
            g_error("pagemap: page %zu not present or its PFN hidden"
                    " (run as root)", i);
        }
        if (zone < snc.zones) {
            w->zone_pages[zone]++;
        }
    }
    w->local = nu_pages_on_node(0, w->buf, npages, w->node) == npages;
}

static void touch(Worker *w)
{
    for (size_t off = 0; off < w->size; off += 64) {
        w->buf[off]++;
    }
}

static void *worker_main(void *opaque)
{
    Worker *w = opaque;
    g_autoptr(GError) err = NULL;
    int t, r;

    if (!nu_pin_to_cpu(w->cpu, &err)) {
        g_error("%s", err->message);
    }
    w->zone_pages = g_new0(unsigned, snc.zones);
    for (t = 0; t < (opt_overhead ? 2 * opt_reps : opt_trials); t++) {
        if (!opt_overhead || t == 0) {
            worker_alloc(w);
        }
        pthread_barrier_wait(&barrier);         /* allocated */
        pthread_barrier_wait(&barrier);         /* counting started */
        if (opt_overhead) {
            uint64_t start = nu_now_ns();

            for (r = 0; r < opt_passes; r++) {
                touch(w);
            }
            w->seconds = (nu_now_ns() - start) / 1e9;
        } else {
            while (!stop_touching) {
                touch(w);
            }
        }
        pthread_barrier_wait(&barrier);         /* done */
        pthread_barrier_wait(&barrier);         /* evaluated */
        if (!opt_overhead) {
            free(w->buf);
        }
    }
    return NULL;
}

static int zone_count_desc(const void *a, const void *b, void *row)
{
    uint64_t ca = ((uint64_t *)row)[*(const unsigned *)a];
    uint64_t cb = ((uint64_t *)row)[*(const unsigned *)b];

    return ca < cb ? 1 : ca > cb ? -1 : 0;
}

typedef struct Verdict {
    bool match;
    double cross;       /* others' buffer zones / own mean buffer zone */
    double idle;        /* free zones / own mean buffer zone */
    double background;  /* share of the row outside every buffer */
    double fills_per_page;
} Verdict;

static bool *free_zone;         /* [zones]: no page in use, per kpageflags */

/*
 * Find the zones whose pages are all free: buddy pages (flag BUDDY on
 * the head of a free block, no flags at all on the rest).  Nothing
 * touches those zones during a period, so they must count (almost)
 * nothing.  Called before and after a trial's counting, it keeps a zone
 * free only if it was free both times: a zone that the kernel used and
 * freed again during the trial was touched, and is not a free zone.
 */
static unsigned find_free_zones(bool again)
{
    uint64_t pages_per_zone = (1ULL << snc.shift) / nu_page_size();
    g_autofree uint64_t *flags = g_new(uint64_t, pages_per_zone);
    g_autoptr(NuPageTable) kpageflags = NULL;
    g_autoptr(GError) err = NULL;
    unsigned z, nr = 0;

    kpageflags = nu_kpageflags_open(&err);
    if (!kpageflags) {
        g_error("%s", err->message);
    }
    for (z = 0; z < snc.zones; z++) {
        bool is_free;

        /* A zone that the table does not fully cover is not free. */
        is_free = (!again || free_zone[z]) &&
                  nu_page_table_read(kpageflags, z * pages_per_zone,
                                     pages_per_zone, flags, NULL);
        for (uint64_t i = 0; is_free && i < pages_per_zone; i++) {
            is_free = flags[i] == 0 || flags[i] == 1ULL << KPF_BUDDY;
        }
        free_zone[z] = is_free;
        nr += is_free;
    }
    return nr;
}

/* Compare node @n's row of the snapshot with where its buffer lies. */
static Verdict judge(int n)
{
    Worker *w = &workers[n];
    g_autofree uint64_t *row = g_new(uint64_t, snc.zones);
    g_autofree unsigned *order = g_new(unsigned, snc.zones);
    uint64_t total = 0, own = 0, outside = 0, cross_max = 0, idle_max = 0;
    unsigned k = 0, own_pages = 0, z;
    int i;
    Verdict v = { .match = true };

    for (z = 0; z < snc.zones; z++) {
        bool other = false;

        row[z] = counter(z, w->node);
        order[z] = z;
        total += row[z];
        for (i = 0; i < nr_workers; i++) {
            other |= i != n && workers[i].zone_pages[z];
        }
        if (w->zone_pages[z]) {
            k++;
            own += row[z];
            own_pages += w->zone_pages[z];
        } else if (other) {
            cross_max = MAX(cross_max, row[z]);
        } else {
            outside += row[z];
        }
        if (free_zone[z]) {
            idle_max = MAX(idle_max, row[z]);
        }
    }
    g_qsort_with_data(order, snc.zones, sizeof(*order), zone_count_desc, row);
    for (z = 0; z < k; z++) {
        v.match &= w->zone_pages[order[z]] > 0;
    }
    v.cross = k && own ? (double)cross_max / ((double)own / k) : 1;
    v.idle = k && own ? (double)idle_max / ((double)own / k) : 1;
    v.background = total ? (double)outside / total : 1;
    v.fills_per_page = own_pages ? (double)own / own_pages : 0;
    return v;
}

static void start_counting(void)
{
    wr32(SNC_REG_PERIOD_MS, 0);
    wr32(SNC_REG_SAMPLE_US, opt_sample_us);
    wr32(SNC_REG_CONTROL, SNC_CONTROL_START);
}

static int run_accuracy(void)
{
    int trials = 0, matched = 0, t, n, bad_local = 0;
    double cross_max = 0, idle_max = 0, bg_max = 0, fpp_min = G_MAXDOUBLE;
    unsigned nr_free = 0;

    free_zone = g_new0(bool, snc.zones);

    for (t = 0; t < opt_trials; t++) {
        pthread_barrier_wait(&barrier);
        for (n = 0; n < nr_workers; n++) {
            bad_local += !workers[n].local;
        }
        stop_touching = 0;
        find_free_zones(false);
        start_counting();
        pthread_barrier_wait(&barrier);
        usleep(opt_ms * 1000);
        wr32(SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT);
        stop_touching = 1;
        pthread_barrier_wait(&barrier);
        wr32(SNC_REG_CONTROL, SNC_CONTROL_STOP);
        nr_free = find_free_zones(true);
        for (n = 0; n < nr_workers; n++) {
            Verdict v = judge(n);

            trials++;
            matched += v.match;
            cross_max = MAX(cross_max, v.cross);
            idle_max = MAX(idle_max, v.idle);
            bg_max = MAX(bg_max, v.background);
            fpp_min = MIN(fpp_min, v.fills_per_page);
            printf("# trial %d node %d: top-k %s, cross-node %.4f, free"
                   " zones %.4f (%u), background %.4f, fills/page %.1f\n",
                   t, n, v.match ? "match" : "MISMATCH", v.cross, v.idle,
                   nr_free, v.background, v.fills_per_page);
        }
        pthread_barrier_wait(&barrier);
    }
    printf("%s 2 - buffers on their own node in every trial (%d misplaced)\n",
           bad_local ? "not ok" : "ok", bad_local);
    printf("%s 3 - top-k zones match the touched buffers in %d/%d node"
           " trials (%.1f%%, need >= 95%%)\n",
           matched * 100 >= trials * 95 ? "ok" : "not ok", matched, trials,
           100.0 * matched / trials);
    printf("%s 4 - other nodes' buffer zones stay near zero: worst %.4f of"
           " a hot zone (need <= 0.01)\n", cross_max <= 0.01 ? "ok" : "not ok",
           cross_max);
    printf("%s 5 - free zones stay near zero: worst %.4f of a hot zone"
           " (need <= 0.01)\n", idle_max <= 0.01 ? "ok" : "not ok",
           idle_max);
    printf("%s 6 - the sampler re-counts pages: at least %.1f fills per"
           " buffer page (need >= 3)\n", fpp_min >= 3 ? "ok" : "not ok",
           fpp_min);
    printf("# background: at most %.4f of a node's counts fell outside the"
           " buffers (kernel, program text and stack)\n", bg_max);
    printf("# csv,accuracy,%d,%d,%d,%d,%.4f,%.4f,%.4f,%.4f,%.1f\n",
           opt_sample_us, opt_ms, trials, matched, 100.0 * matched / trials,
           cross_max, idle_max, bg_max, fpp_min);
    printf("1..6\n");
    return !(matched * 100 >= trials * 95 && cross_max <= 0.01 &&
             idle_max <= 0.01 && fpp_min >= 3 && !bad_local);
}

static int run_overhead(void)
{
    int r, n;

    printf("csv,overhead,sample_us,rep,counting,seconds\n");
    for (r = 0; r < 2 * opt_reps; r++) {
        bool on = r % 2;
        double worst = 0;

        pthread_barrier_wait(&barrier);
        if (on) {
            start_counting();
        }
        /* Markers for a host that measures QEMU's CPU time per run. */
        printf("snc-cpu: begin\n");
        pthread_barrier_wait(&barrier);
        pthread_barrier_wait(&barrier);
        printf("snc-cpu: end %d %d %s\n", opt_sample_us, r / 2,
               on ? "on" : "off");
        wr32(SNC_REG_CONTROL, SNC_CONTROL_STOP);
        for (n = 0; n < nr_workers; n++) {
            worst = MAX(worst, workers[n].seconds);
        }
        printf("csv,overhead,%d,%d,%s,%.6f\n", opt_sample_us, r / 2,
               on ? "on" : "off", worst);
        pthread_barrier_wait(&barrier);
    }
    return 0;
}

/* Ranges of the options; SAMPLE_US's is the device's register range. */
static void check_options(void)
{
    nu_arg_check_range("snc-touch", "--trials", opt_trials, 1, 100000);
    nu_arg_check_range("snc-touch", "--ms", opt_ms, 1, 600000);
    nu_arg_check_range("snc-touch", "--sample-us", opt_sample_us, 100,
                       1000000);
    nu_arg_check_range("snc-touch", "--mib", opt_mib, 1, 65536);
    nu_arg_check_range("snc-touch", "--reps", opt_reps, 1, 10000);
    nu_arg_check_range("snc-touch", "--passes", opt_passes, 1, 1000000);
}

int main(int argc, char **argv)
{
    static const GOptionEntry entries[] = {
        { "trials", 0, 0, G_OPTION_ARG_INT, &opt_trials,
          "counting periods to check (10)", "N" },
        { "ms", 0, 0, G_OPTION_ARG_INT, &opt_ms,
          "length of each period (300)", "MS" },
        { "sample-us", 0, 0, G_OPTION_ARG_INT, &opt_sample_us,
          "the device's TLB flush interval (1000)", "US" },
        { "mib", 0, 0, G_OPTION_ARG_INT, &opt_mib,
          "buffer per node, MiB (4)", "MIB" },
        { "overhead", 0, 0, G_OPTION_ARG_NONE, &opt_overhead,
          "time a memory-bound loop with counting off and on", NULL },
        { "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps,
          "--overhead: repetitions of each (5)", "N" },
        { "passes", 0, 0, G_OPTION_ARG_INT, &opt_passes,
          "--overhead: passes over the buffer per repetition (20)", "N" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) err = NULL;
    int n, rc;

    g_option_context_set_summary(ctx, "Check, from inside a guest, that the "
                                 "snc device sees which node touches which "
                                 "memory (TAP), or time its overhead (CSV).");
    g_option_context_set_description(ctx, "Examples:\n"
        "  snc-touch --trials 10\n"
        "  snc-touch --overhead --reps 3 --sample-us 1000\n\n"
        "Exit code: 0 all checks passed, 1 a check failed, 2 usage error.\n");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "snc-touch: %s\n", err->message);
        return 2;
    }
    if (argc > 1) {
        fprintf(stderr, "snc-touch: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    check_options();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (numa_available() < 0) {
        printf("not ok 1 - NUMA support\n1..1\n");
        return 1;
    }
    if (!snc_open()) {
        printf("not ok 1 - find the snc PCI device (%04x:%04x)\n1..1\n",
               SNC_PCI_VENDOR_ID, SNC_PCI_DEVICE_ID);
        return 1;
    }
    nr_workers = numa_num_configured_nodes();
    printf("%s 1 - snc device: %u zones of %lu KiB, %u nodes (guest has %d),"
           " counting %s\n",
           snc.nodes == (unsigned)nr_workers && (rd32(SNC_REG_CAPS) & 1) ?
           "ok" : "not ok", snc.zones, (1UL << snc.shift) >> 10, snc.nodes,
           nr_workers, rd32(SNC_REG_CAPS) & 1 ? "available" : "unavailable");
    if (snc.nodes != (unsigned)nr_workers || !(rd32(SNC_REG_CAPS) & 1)) {
        printf("1..1\n");
        return 1;
    }

    workers = g_new0(Worker, nr_workers);
    pthread_barrier_init(&barrier, NULL, nr_workers + 1);
    for (n = 0; n < nr_workers; n++) {
        long long free_bytes = 0;

        if (numa_node_size64(n, &free_bytes) < 0 ||
            free_bytes < ((long long)opt_mib << 20)) {
            fprintf(stderr, "snc-touch: --mib %d: node %d has only %lld MiB"
                    " free\n", opt_mib, n, free_bytes >> 20);
            return 2;
        }
    }
    for (n = 0; n < nr_workers; n++) {
        Worker *w = &workers[n];

        w->node = n;
        w->cpu = nu_node_first_cpu(n);
        if (w->cpu < 0) {
            g_error("node %d has no CPU", n);
        }
        w->size = (size_t)opt_mib << 20;
        pthread_create(&w->thread, NULL, worker_main, w);
    }
    rc = opt_overhead ? run_overhead() : run_accuracy();
    for (n = 0; n < nr_workers; n++) {
        pthread_join(workers[n].thread, NULL);
    }
    return rc;
}
