/*
 * pm-tool.h: the command line and the report that ph and v share.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PM_TOOL_H
#define PM_TOOL_H

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include "numa-util.h"
#include "page-migrate.h"

/* What ph and v are asked to do: move @npages own pages @from -> @to. */
struct pm_own_move {
    long npages;
    int from, to, json;
};

/*
 * Parse ph's and v's common command line, [--pages N] [--from NODE]
 * [--to NODE] [--json], check that the kernel has the page_migrate
 * calls, and check the nodes.  Calls @usage(0) for --help, @usage(2) for
 * a bad option; exits 1 without the calls or without two nodes.
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
        case 'n':
            m.npages = nu_arg_long(prog, "page count", optarg, 1, 1L << 24);
            break;
        case 'f':
            m.from = (int)nu_arg_long(prog, "node", optarg, 0, INT_MAX);
            break;
        case 't':
            m.to = (int)nu_arg_long(prog, "node", optarg, 0, INT_MAX);
            break;
        case 'j':
            m.json = 1;
            break;
        case 'h':
            usage(0);
            break;
        default:
            usage(2);
        }
    }
    if (optind != argc) {
        usage(2);
    }
    page_migrate_require(prog);
    nu_numa_check(prog, m.from);
    if (m.to < 0) {
        m.to = nu_other_node(m.from);
    }
    nu_numa_check(prog, m.to);
    if (m.to < 0) {
        fprintf(stderr, "%s: needs two NUMA nodes with memory\n", prog);
        exit(1);
    }
    return m;
}

/* @m's buffer: @m->npages test pages on @m->from; exits 1 without them. */
static inline char *pm_own_buffer(const char *prog,
                                  const struct pm_own_move *m)
{
    char *buf = nu_buffer_alloc_on((size_t)m->npages, m->from);

    if (!buf) {
        fprintf(stderr, "%s: cannot allocate %ld pages on node %d\n", prog,
                m->npages, m->from);
        exit(1);
    }
    return buf;
}

/*
 * Print what moving @m's pages did (@how: "" or " by physical address"),
 * as text or JSON; returns the exit code: 0 if all @npages pages are on
 * the destination and intact.
 */
static inline int pm_report_own_move(const char *prog, const char *how,
                                     const struct pm_own_move *m,
                                     const struct page_migrate_stats *st,
                                     size_t on, bool intact)
{
    size_t npages = (size_t)m->npages;

    if (m->json) {
        printf("{\"pages\": %zu, \"from\": %d, \"to\": %d, \"successful\": "
               "%u, \"failed\": %u, \"on_node\": %zu, \"intact\": %s}\n",
               npages, m->from, m->to, st->successful, st->failed, on,
               intact ? "true" : "false");
    } else {
        printf("%s: %zu pages node %d -> %d%s: successful %u, failed %u; "
               "%zu/%zu now on node %d, contents %s\n", prog, npages,
               m->from, m->to, how, st->successful, st->failed, on, npages,
               m->to, intact ? "intact" : "CORRUPTED");
    }
    return on == npages && intact ? 0 : 1;
}

#endif /* PM_TOOL_H */
