/*
 * migrate-calls-bench: time migrate_virt_addr_range(2), migrate_ph_pages(2)
 * and move_pages(2) moving the same buffer between two nodes.
 *
 *   migrate-calls-bench [--from NODE] [--to NODE] [--reps N]
 *                       [--max-bytes B] [--method M]...
 *
 * For each buffer size from 4 KiB to --max-bytes (default 64 MiB, by
 * factors of 4) and each method, moves a populated buffer FROM -> TO and
 * back, --reps times (default 5), and prints one CSV line per move:
 *   method,bytes,pages,rep,ns,moved
 * "ns" covers the system call(s) only: the page and node arrays of
 * move_pages(2) and the physical address table of migrate_ph_pages(2)
 * (one call per PAGE_SIZE/8 pages) are built before the clock starts.
 * Exit code: 0, 1 if a call failed or a move was incomplete (or the
 * kernel lacks the calls), 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "numa-util.h"
#include "page-migrate.h"

enum method { VIRT, PH, MOVE_PAGES, NR_METHODS };
static const char *const method_names[NR_METHODS] = {
    "migrate_virt_addr_range", "migrate_ph_pages", "move_pages",
};

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: migrate-calls-bench [--from NODE] [--to NODE] [--reps N]\n"
            "                           [--max-bytes B] [--method M]...\n"
            "methods: migrate_virt_addr_range, migrate_ph_pages, move_pages\n"
            "example: migrate-calls-bench --reps 3 --max-bytes 16777216\n");
    exit(rc);
}

/*
 * Move @npages pages at @buf to @node with @m; returns the nanoseconds
 * spent in the call(s), or 0 on failure.
 */
static uint64_t move_once(enum method m, char *buf, size_t npages, int node,
                          void **pages, int *nodes, int *status,
                          phaddr_t *table, NuPageTable *pagemap)
{
    size_t psz = nu_page_size(), max = migrate_ph_pages_max();
    struct page_migrate_stats st;
    uint64_t t0, ns = 0;
    size_t i, done, n;

    switch (m) {
    case VIRT:
        t0 = nu_now_ns();
        if (migrate_virt_addr_range(buf, npages * psz, node, &st, 0))
            return 0;
        ns = nu_now_ns() - t0;
        break;
    case PH:
        if (!nu_pagemap_pfns(pagemap, buf, npages, table, NULL))
            return 0;
        for (i = 0; i < npages; i++)
            table[i] *= psz;
        for (done = 0; done < npages; done += n) {
            n = npages - done < max ? npages - done : max;
            t0 = nu_now_ns();
            if (migrate_ph_pages(table + done, n, node, &st, 0))
                return 0;
            ns += nu_now_ns() - t0;
        }
        break;
    case MOVE_PAGES:
        for (i = 0; i < npages; i++) {
            pages[i] = buf + i * psz;
            nodes[i] = node;
        }
        t0 = nu_now_ns();
        if (numa_move_pages(0, (unsigned long)npages, pages, nodes, status,
                            MPOL_MF_MOVE))
            return 0;
        ns = nu_now_ns() - t0;
        break;
    default:
        return 0;
    }
    return ns ? ns : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "reps", required_argument, NULL, 'r' },
        { "max-bytes", required_argument, NULL, 'b' },
        { "method", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "migrate-calls-bench";
    size_t psz = nu_page_size(), bytes, npages, maxpages, on;
    g_autoptr(NuPageTable) pagemap = NULL;
    g_autoptr(GError) err = NULL;
    long reps = 5, maxbytes = 64L << 20, r;
    int from = 0, to = -1, c, rc = 0, want[NR_METHODS] = { 0 }, any = 0;
    int *nodes, *status, m, dst;
    phaddr_t *table;
    void **pages;
    uint64_t ns;
    char *buf;

    while ((c = getopt_long(argc, argv, "f:t:r:b:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = (int)nu_arg_long(prog, "node", optarg, 0, INT_MAX);
            break;
        case 't':
            to = (int)nu_arg_long(prog, "node", optarg, 0, INT_MAX);
            break;
        case 'r':
            reps = nu_arg_long(prog, "reps", optarg, 1, 1000);
            break;
        case 'b':
            maxbytes = nu_arg_long(prog, "size", optarg, 4096, 1L << 32);
            break;
        case 'm':
            for (m = 0; m < NR_METHODS; m++)
                if (!strcmp(optarg, method_names[m]))
                    break;
            if (m == NR_METHODS)
                usage(2);
            want[m] = any = 1;
            break;
        case 'h': usage(0); break;
        default: usage(2);
        }
    }
    if (optind != argc)
        usage(2);
    if (!any)
        for (m = 0; m < NR_METHODS; m++)
            want[m] = 1;
    if (want[VIRT] || want[PH])
        page_migrate_require(prog);
    nu_numa_check(prog, from);
    if (to < 0)
        to = nu_other_node(from);
    if (to < 0) {
        fprintf(stderr, "%s: needs two NUMA nodes\n", prog);
        return 1;
    }
    nu_numa_check(prog, to);
    pagemap = nu_pagemap_open(0, &err);
    if (!pagemap) {
        fprintf(stderr, "%s: %s\n", prog, err->message);
        return 1;
    }
    if (!any)
        for (m = 0; m < NR_METHODS; m++)
            want[m] = 1;

    maxpages = (size_t)maxbytes / psz;
    pages = calloc(maxpages, sizeof(*pages));
    nodes = calloc(maxpages, sizeof(*nodes));
    status = calloc(maxpages, sizeof(*status));
    table = calloc(maxpages, sizeof(*table));
    if (!pages || !nodes || !status || !table)
        return 1;

    printf("method,bytes,pages,rep,ns,moved\n");
    for (bytes = psz; bytes <= (size_t)maxbytes; bytes *= 4) {
        npages = bytes / psz;
        for (m = 0; m < NR_METHODS; m++) {
            if (!want[m])
                continue;
            buf = nu_buffer_alloc_on(npages, from);
            if (!buf) {
                fprintf(stderr, "%s: no memory for %zu bytes\n", prog, bytes);
                return 1;
            }
            for (r = 0; r < 2 * reps; r++) {
                dst = r & 1 ? from : to;
                ns = move_once((enum method)m, buf, npages, dst, pages, nodes,
                               status, table, pagemap);
                on = nu_pages_on_node(0, buf, npages > 64 ? 64 : npages, dst);
                if (!ns || on != (npages > 64 ? 64 : npages)) {
                    fprintf(stderr, "%s: %s of %zu bytes to "
                            "node %d: %s\n", prog, method_names[m], bytes, dst,
                            ns ? "pages not moved" : strerror(errno));
                    rc = 1;
                }
                printf("%s,%zu,%zu,%ld,%llu,%zu\n", method_names[m], bytes,
                       npages, r, (unsigned long long)ns, on);
            }
            if (!nu_buffer_intact(buf, npages)) {
                fprintf(stderr, "%s: %s corrupted the buffer\n", prog,
                        method_names[m]);
                rc = 1;
            }
            numa_free(buf, bytes);
            fflush(stdout);
        }
    }
    return rc;
}
