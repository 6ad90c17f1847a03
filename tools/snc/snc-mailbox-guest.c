/*
 * snc-mailbox-guest: the guest half of the SNC mailbox's end-to-end
 * test (scripts/snc-mailbox-e2e.sh).
 *
 *   snc-mailbox-guest buffer [--pages N] [--from NODE] [--to NODE]
 *       Fill a buffer on node FROM, print its guest-physical pages as
 *       contiguous ranges ("# range ADDR SIZE", then "# ranges K"), wait
 *       until the SNC driver has completed K more requests (the host's
 *       snc-guest-migrate of those ranges to node TO), then check with
 *       move_pages(2) status that every page is on node TO and that the
 *       data is intact.  Prints TAP and "# guest-moved M" (pages now on
 *       TO).
 *   snc-mailbox-guest free-range [--pages N] [--to NODE]
 *       Print "# free-range ADDR SIZE": N free pages in a row
 *       (/proc/kpageflags BUDDY), from the top of RAM down.
 *   snc-mailbox-guest bench [--max-bytes B] [--reps N] [--from NODE]
 *                           [--to NODE] [--baselines]
 *       For each size from 4 KiB to B (default 64 MiB), by factors of
 *       4, N times (default 5): fill a buffer of that size on FROM,
 *       print "# bench BYTES REP ADDR:SIZE..." (its ranges), wait until
 *       the host moved them (scripts/bench/snc-mailbox.sh sends
 *       snc-guest-migrate for the ranges, times it, then switches
 *       host_mode between guest-only and cooperative to say it is
 *       done), then print "# bench-done BYTES REP PAGES-ON-TO".  Starts
 *       once host_mode is no longer off.  With --baselines, each
 *       repetition then moves two more fresh buffers of the same size
 *       FROM -> TO, one with migrate_ph_pages(2) and one with
 *       move_pages(2), timed around the calls, and prints
 *       "csv,METHOD,BYTES,PAGES,REP,NS,MOVED" for each: the guest's own
 *       calls in the same run, interleaved with the host's requests.
 *   snc-mailbox-guest snapshot
 *       Read two periods from /dev/snc0 (poll, then read): the header
 *       of <linux/snc.h> must be whole and the second period must be
 *       the next one.  Counting must be running.
 *   snc-mailbox-guest wait [--requests K] [--say TEXT]
 *       Wait until the driver has completed K more requests; print TEXT
 *       first, once the count to wait from is known.
 *
 * Exit code: 0 if every check passed, 1 if one failed, 2 on a usage
 * error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/kernel-page-flags.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "numa-util.h"
#include "page-migrate.h"

#define WAIT_SECONDS    300

static int opt_pages = 256, opt_from, opt_to = 1, opt_requests = 1;
static char *opt_say;
static gboolean opt_baselines;
static gint64 opt_max_bytes = 64 << 20;
static int opt_reps = 5;

/* The text of the SNC driver's sysfs attribute @name, or NULL. */
static char *driver_attr(const char *name)
{
    g_autofree char *pattern =
        g_strdup_printf("/sys/bus/pci/drivers/snc/*/%s", name);
    char *text = NULL;
    glob_t g;

    if (!glob(pattern, 0, NULL, &g) && g.gl_pathc == 1 &&
        !g_file_get_contents(g.gl_pathv[0], &text, NULL, NULL)) {
        text = NULL;
    }
    globfree(&g);
    return text;
}

/* Requests the driver completed: requests_served + requests_failed. */
static long completed_requests(void)
{
    const char *names[] = { "requests_served", "requests_failed" };
    long total = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *text = driver_attr(names[i]);

        if (!text) {
            return -1;
        }
        total += strtol(text, NULL, 10);
    }
    return total;
}

/*
 * Wait until the host's mode (host_mode) is no longer @mode: the bench's
 * host says so that it is done with a buffer.  With @mode "off", wait for
 * the host to switch the mailbox on.
 */
static bool wait_mode_change(const char *mode)
{
    for (int i = 0; i < WAIT_SECONDS * 100; i++) {
        g_autofree char *now = driver_attr("host_mode");

        if (!now) {
            printf("# no SNC driver in sysfs\n");
            return false;
        }
        if (strcmp(g_strstrip(now), mode)) {
            return true;
        }
        usleep(10000);
    }
    printf("# timed out waiting for the host to leave mode %s\n", mode);
    return false;
}

/* Wait until @n more requests than @base have completed. */
static bool wait_requests(long base, long n)
{
    for (int i = 0; i < WAIT_SECONDS * 10; i++) {
        long now = completed_requests();

        if (now < 0) {
            printf("# no SNC driver in sysfs\n");
            return false;
        }
        if (now >= base + n) {
            return true;
        }
        usleep(100000);
    }
    printf("# timed out waiting for %ld requests\n", n);
    return false;
}

static int pfn_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * The contiguous runs of @n PFNs as "ADDR:SIZE" words into @out; returns
 * how many, or 0 if a page has no PFN.  The PFNs are sorted first: the
 * page allocator often hands out a buffer's pages in descending order,
 * and a request names physical pages, not the buffer's order.
 */
static size_t pfn_runs(uint64_t *pfns, size_t n, GString *out)
{
    size_t ps = nu_page_size(), runs = 0;

    qsort(pfns, n, sizeof(*pfns), pfn_cmp);

    for (size_t i = 0; i < n; i++) {
        size_t j = i;

        if (!pfns[i]) {
            return 0;
        }
        while (j + 1 < n && pfns[j + 1] == pfns[j] + 1) {
            j++;
        }
        g_string_append_printf(out, " 0x%" PRIx64 ":0x%zx", pfns[i] * ps,
                               (j - i + 1) * ps);
        runs++;
        i = j;
    }
    return runs;
}

static int cmd_buffer(void)
{
    size_t runs;
    g_autoptr(GError) err = NULL;
    g_autoptr(NuPageTable) pm = NULL;
    g_autoptr(GString) ranges = g_string_new(NULL);
    g_auto(GStrv) words = NULL;
    g_autofree uint64_t *pfns = g_new0(uint64_t, opt_pages);
    long base = completed_requests();
    size_t on_to, i;
    char *buf;
    bool intact;

    nu_numa_check("snc-mailbox-guest", opt_to);
    if (base < 0) {
        printf("Bail out! no SNC driver in sysfs\n");
        return 1;
    }
    buf = nu_buffer_alloc_on(opt_pages, opt_from);
    pm = nu_pagemap_open(0, &err);
    if (!buf || !pm || !nu_pagemap_pfns(pm, buf, opt_pages, pfns, &err)) {
        printf("Bail out! buffer or pagemap: %s\n",
               err ? err->message : "no memory");
        return 1;
    }
    printf("1..3\n");
    printf("%s 1 - %d pages on node %d before the requests\n",
           nu_pages_on_node(0, buf, opt_pages, opt_from) == (size_t)opt_pages
           ? "ok" : "not ok", opt_pages, opt_from);

    /* Contiguous runs of PFNs, one request each. */
    runs = pfn_runs(pfns, opt_pages, ranges);
    if (!runs) {
        printf("Bail out! a page of the buffer has no PFN\n");
        return 1;
    }
    words = g_strsplit(ranges->str + 1, " ", -1);
    for (i = 0; words[i]; i++) {
        g_strdelimit(words[i], ":", ' ');
        printf("# range %s\n", words[i]);
    }
    printf("# ranges %zu\n", runs);
    fflush(stdout);

    if (!wait_requests(base, runs)) {
        return 1;
    }
    on_to = nu_pages_on_node(0, buf, opt_pages, opt_to);
    intact = nu_buffer_intact(buf, opt_pages);
    printf("%s 2 - every page is on node %d (%zu of %d)\n",
           on_to == (size_t)opt_pages ? "ok" : "not ok", opt_to, on_to,
           opt_pages);
    printf("%s 3 - the data is intact\n", intact ? "ok" : "not ok");
    printf("# guest-moved %zu\n", on_to);
    return on_to == (size_t)opt_pages && intact ? 0 : 1;
}

/*
 * bench --baselines: move a fresh buffer of @npages pages FROM -> TO with
 * each of the guest's calls, timing the calls only (migrate_ph_pages(2)'s
 * table of physical addresses and move_pages(2)'s arrays are built before
 * the clock starts), and print a CSV line for each.  False if a call
 * failed, a page did not move or the data changed.
 */
static bool bench_baselines(NuPageTable *pm, size_t npages, int rep)
{
    static const char *const names[] = { "migrate_ph_pages", "move_pages" };
    size_t ps = nu_page_size(), max = migrate_ph_pages_max();
    g_autofree phaddr_t *table = g_new(phaddr_t, npages);
    g_autofree void **pages = g_new(void *, npages);
    g_autofree int *nodes = g_new(int, npages);
    g_autofree int *status = g_new(int, npages);

    for (size_t m = 0; m < G_N_ELEMENTS(names); m++) {
        char *buf = nu_buffer_alloc_on(npages, opt_from);
        struct page_migrate_stats st;
        uint64_t t0, ns = 0;
        bool ok = buf != NULL;
        size_t on = 0;

        if (ok && m == 0) {
            ok = nu_pagemap_pfns(pm, buf, npages, table, NULL);
            for (size_t i = 0; ok && i < npages; i++) {
                table[i] *= ps;
            }
            for (size_t done = 0, n; ok && done < npages; done += n) {
                n = MIN(npages - done, max);
                t0 = nu_now_ns();
                ok = !migrate_ph_pages(table + done, n, opt_to, &st, 0);
                ns += nu_now_ns() - t0;
            }
        } else if (ok) {
            for (size_t i = 0; i < npages; i++) {
                pages[i] = buf + i * ps;
                nodes[i] = opt_to;
            }
            t0 = nu_now_ns();
            ok = !numa_move_pages(0, npages, pages, nodes, status,
                                  MPOL_MF_MOVE);
            ns = nu_now_ns() - t0;
        }
        if (!ok) {
            printf("# bench: %s of %zu pages: %s\n", names[m], npages,
                   buf ? strerror(errno) : "no memory");
        } else {
            on = nu_pages_on_node(0, buf, npages, opt_to);
            ok = on == npages && nu_buffer_intact(buf, npages);
            if (!ok) {
                printf("# bench: %s moved %zu of %zu pages%s\n", names[m],
                       on, npages, on == npages ? ", data corrupted" : "");
            }
        }
        if (buf) {
            numa_free(buf, npages * ps);
        }
        if (!ok) {
            return false;
        }
        printf("csv,%s,%zu,%zu,%d,%" PRIu64 ",%zu\n", names[m], npages * ps,
               npages, rep, ns, on);
    }
    return true;
}

static int cmd_bench(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(NuPageTable) pm = nu_pagemap_open(0, &err);
    size_t ps = nu_page_size();

    nu_numa_check("snc-mailbox-guest", opt_to);
    if (!pm || completed_requests() < 0) {
        printf("# no pagemap or no SNC driver\n");
        return 1;
    }
    if (!wait_mode_change("off")) {
        return 1;
    }
    for (size_t bytes = ps; bytes <= (size_t)opt_max_bytes; bytes *= 4) {
        size_t npages = bytes / ps;
        g_autofree uint64_t *pfns = g_new0(uint64_t, npages);

        for (int rep = 0; rep < opt_reps; rep++) {
            g_autoptr(GString) line = g_string_new(NULL);
            char *buf = nu_buffer_alloc_on(npages, opt_from);
            g_autofree char *mode = driver_attr("host_mode");
            size_t runs;

            if (!buf || !nu_pagemap_pfns(pm, buf, npages, pfns, &err)) {
                printf("# bench: no buffer of %zu bytes\n", bytes);
                return 1;
            }
            runs = pfn_runs(pfns, npages, line);
            if (!runs) {
                printf("# bench: a page has no PFN\n");
                return 1;
            }
            printf("# bench %zu %d%s\n", bytes, rep, line->str);
            fflush(stdout);
            if (!mode || !wait_mode_change(g_strstrip(mode))) {
                return 1;
            }
            printf("# bench-done %zu %d %zu\n", bytes, rep,
                   nu_pages_on_node(0, buf, npages, opt_to));
            numa_free(buf, bytes);
            if (opt_baselines && !bench_baselines(pm, npages, rep)) {
                return 1;
            }
        }
    }
    return 0;
}

/* <linux/snc.h>'s header, for guests built against older headers. */
struct snc_snapshot_header {
    uint32_t magic, version;
    uint64_t size, seq, period_ns, zone_base;
    uint32_t nr_zones, nr_nodes, zone_shift, reserved;
};
#define SNC_SNAPSHOT_MAGIC 0x50534e53

/* One period from @fd, waited for with poll(); its header into @h. */
static bool read_period(int fd, char *buf, size_t size,
                        struct snc_snapshot_header *h)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    ssize_t n;

    if (poll(&pfd, 1, 10000) != 1 || !(pfd.revents & POLLIN)) {
        printf("# /dev/snc0: no period ended within 10 s\n");
        return false;
    }
    n = read(fd, buf, size);
    if (n != (ssize_t)size) {
        printf("# /dev/snc0: read %zd of %zu bytes\n", n, size);
        return false;
    }
    memcpy(h, buf, sizeof(*h));
    return true;
}

static int cmd_snapshot(void)
{
    struct snc_snapshot_header a, b;
    g_autofree char *text = NULL;
    g_autofree char *buf = NULL;
    glob_t g;
    size_t size;
    bool ok;
    int fd;

    if (glob("/sys/bus/pci/drivers/snc/*/snapshot_size", 0, NULL, &g) ||
        !g_file_get_contents(g.gl_pathv[0], &text, NULL, NULL)) {
        printf("not ok 1 - /dev/snc0: no snapshot_size in sysfs\n");
        return 1;
    }
    globfree(&g);
    size = strtoul(text, NULL, 10);
    buf = g_malloc(size);
    fd = open("/dev/snc0", O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        printf("not ok 1 - /dev/snc0: %s\n", g_strerror(errno));
        return 1;
    }
    ok = read(fd, buf, sizeof(a)) < 0 && errno == EINVAL;
    ok = read_period(fd, buf, size, &a) && ok;
    ok = ok && read_period(fd, buf, size, &b);
    close(fd);
    ok = ok && a.magic == SNC_SNAPSHOT_MAGIC && a.version == 1 &&
         a.size == size && a.nr_zones && a.nr_nodes &&
         size == sizeof(a) + (size_t)a.nr_zones * a.nr_nodes * 8 +
                 a.nr_zones &&
         b.seq > a.seq && b.period_ns > 0;
    printf("%s 1 - /dev/snc0: periods %" PRIu64 " and %" PRIu64
           ", %u zones x %u nodes, %zu bytes\n", ok ? "ok" : "not ok",
           a.seq, b.seq, a.nr_zones, a.nr_nodes, size);
    return ok ? 0 : 1;
}

static int cmd_free_range(void)
{
    size_t ps = nu_page_size();
    g_autoptr(GError) err = NULL;
    g_autoptr(NuPageTable) kpf = nu_kpageflags_open(&err);
    uint64_t chunk[4096], run_start = 0, run = 0;

    if (!kpf) {
        printf("# kpageflags: %s\n", err->message);
        return 1;
    }
    /* From the top of RAM down: the high pages are the free ones. */
    for (uint64_t pfn = (uint64_t)sysconf(_SC_PHYS_PAGES); pfn >= 4096;
         pfn -= 4096) {
        uint64_t first = pfn - 4096;

        if (!nu_page_table_read(kpf, first, 4096, chunk, NULL)) {
            continue;
        }
        for (int k = 4095; k >= 0; k--) {
            uint64_t p = first + k;
            bool free_page = chunk[k] & (1ULL << KPF_BUDDY);

            if (free_page) {
                run_start = p;
                run++;
            } else {
                run = 0;
            }
            if (run == (uint64_t)opt_pages) {
                printf("# free-range 0x%" PRIx64 " 0x%zx\n",
                       run_start * ps, opt_pages * ps);
                return 0;
            }
        }
    }
    printf("# no %d free pages in a row\n", opt_pages);
    return 1;
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) err = NULL;
    GOptionEntry entries[] = {
        { "pages", 0, 0, G_OPTION_ARG_INT, &opt_pages, "pages", "N" },
        { "from", 0, 0, G_OPTION_ARG_INT, &opt_from, "first node", "NODE" },
        { "to", 0, 0, G_OPTION_ARG_INT, &opt_to, "target node", "NODE" },
        { "requests", 0, 0, G_OPTION_ARG_INT, &opt_requests,
          "requests to wait for", "K" },
        { "max-bytes", 0, 0, G_OPTION_ARG_INT64, &opt_max_bytes,
          "bench: the largest buffer", "B" },
        { "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps,
          "bench: moves of each size", "N" },
        { "baselines", 0, 0, G_OPTION_ARG_NONE, &opt_baselines,
          "bench: also time migrate_ph_pages(2) and move_pages(2)", NULL },
        { "say", 0, 0, G_OPTION_ARG_STRING, &opt_say,
          "wait: print TEXT once ready to count", "TEXT" },
        { NULL }
    };

    ctx = g_option_context_new("buffer|bench|free-range|snapshot|wait");
    g_option_context_set_summary(ctx,
        "The guest half of the SNC mailbox test, e.g.:\n"
        "  snc-mailbox-guest buffer --pages 256 --from 0 --to 1");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 2) {
        fprintf(stderr, "snc-mailbox-guest: %s\n",
                err ? err->message : "one command expected");
        return 2;
    }
    nu_arg_check_range("snc-mailbox-guest", "pages", opt_pages, 1, 65536);
    nu_arg_check_range("snc-mailbox-guest", "requests", opt_requests, 1,
                       100000);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(argv[1], "buffer")) {
        return cmd_buffer();
    }
    if (!strcmp(argv[1], "bench")) {
        nu_arg_check_range("snc-mailbox-guest", "reps", opt_reps, 1, 1000);
        nu_arg_check_range("snc-mailbox-guest", "max-bytes", opt_max_bytes,
                           4096, 1L << 30);
        if (opt_baselines) {
            page_migrate_require("snc-mailbox-guest");
        }
        return cmd_bench();
    }
    if (!strcmp(argv[1], "snapshot")) {
        return cmd_snapshot();
    }
    if (!strcmp(argv[1], "free-range")) {
        return cmd_free_range();
    }
    if (!strcmp(argv[1], "wait")) {
        long base = completed_requests();

        if (opt_say) {
            printf("%s\n", opt_say);
        }
        return base >= 0 && wait_requests(base, opt_requests) ? 0 : 1;
    }
    fprintf(stderr, "snc-mailbox-guest: unknown command '%s'\n", argv[1]);
    return 2;
}
