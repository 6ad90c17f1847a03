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
