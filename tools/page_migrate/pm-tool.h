/*
 * pm-tool.h: what the page_migrate demo tools share: option parsing
 * helpers, a buffer placed on a node, and where its pages are (libnuma's
 * numa_move_pages() status query).
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PM_TOOL_H
#define PM_TOOL_H

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "page_migrate.h"

static inline long pm_parse_long(const char *prog, const char *what,
                                 const char *s, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "%s: bad %s '%s'\n", prog, what, s);
        exit(2);
    }
    return v;
}

/* NUMA must be there, and @node (unless -1) must be a node with memory. */
static inline void pm_check_node(const char *prog, int node)
{
    if (numa_available() < 0) {
        fprintf(stderr, "%s: NUMA is not available\n", prog);
        exit(1);
    }
    if (node >= 0 && (node > numa_max_node() ||
                      !numa_bitmask_isbitset(numa_all_nodes_ptr,
                                             (unsigned int)node))) {
        fprintf(stderr, "%s: node %d has no memory\n", prog, node);
        exit(2);
    }
}

/* Another node with memory than @node, for a default destination. */
static inline int pm_other_node(int node)
{
    int n;

    for (n = 0; n <= numa_max_node(); n++)
        if (n != node && numa_bitmask_isbitset(numa_all_nodes_ptr,
                                               (unsigned int)n))
            return n;
    return -1;
}

/* What ph and v are asked to do: move @npages own pages @from -> @to. */
struct pm_own_move {
    long npages;
    int from, to, json;
};

/*
 * Parse ph's and v's common command line, [--pages N] [--from NODE]
 * [--to NODE] [--json], and check the nodes.  Calls @usage(0) for
 * --help, @usage(2) for a bad option; exits 1 without two nodes.
 */
static inline struct pm_own_move pm_parse_own_move(const char *prog,
                                                   int argc, char **argv,
                                                   void (*usage)(int))
{
    static const struct option opts[] = {
        { "pages", required_argument, NULL, 'n' },
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct pm_own_move m = { .npages = 16, .from = 0, .to = -1 };
    int c;

    while ((c = getopt_long(argc, argv, "n:f:t:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': m.npages = pm_parse_long(prog, "page count", optarg, 1, 1L << 24); break;
        case 'f': m.from = (int)pm_parse_long(prog, "node", optarg, 0, INT_MAX); break;
        case 't': m.to = (int)pm_parse_long(prog, "node", optarg, 0, INT_MAX); break;
        case 'j': m.json = 1; break;
        case 'h': usage(0); break;
        default: usage(2);
        }
    }
    if (optind != argc)
        usage(2);
    pm_check_node(prog, m.from);
    if (m.to < 0)
        m.to = pm_other_node(m.from);
    pm_check_node(prog, m.to);
    if (m.to < 0) {
        fprintf(stderr, "%s: needs two NUMA nodes with memory\n", prog);
        exit(1);
    }
    return m;
}

/* @npages pages, written, on @node (numa_alloc_onnode: bound there). */
static inline char *pm_alloc_on(size_t npages, int node)
{
    size_t psz = (size_t)numa_pagesize();
    char *buf = numa_alloc_onnode(npages * psz, node);
    size_t i;

    if (!buf)
        return NULL;
    for (i = 0; i < npages * psz; i++)
        buf[i] = (char)(i * 7 + i / 4096);
    return buf;
}

static inline int pm_intact(const char *buf, size_t npages)
{
    size_t psz = (size_t)numa_pagesize(), i;

    for (i = 0; i < npages * psz; i++)
        if (buf[i] != (char)(i * 7 + i / 4096))
            return 0;
    return 1;
}

/* How many of the @npages pages at @buf in @pid are on @node. */
static inline size_t pm_pages_on(int pid, const char *buf, size_t npages,
                                 int node)
{
    size_t psz = (size_t)numa_pagesize(), i, on = 0;
    void *page;
    int status;

    for (i = 0; i < npages; i++) {
        page = (void *)(buf + i * psz);
        if (!numa_move_pages(pid, 1, &page, NULL, &status, 0) &&
            status == node)
            on++;
    }
    return on;
}

#endif /* PM_TOOL_H */
