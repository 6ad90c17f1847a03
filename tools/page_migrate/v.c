/*
 * v: migrate a part of one's own virtual address range to another node
 * with migrate_virt_addr_range(2).
 *
 *   v [--pages N] [--from NODE] [--to NODE] [--json]
 *
 * Allocates N pages on --from, moves them to --to with pid 0, checks
 * with move_pages(2) where they are and that their contents survived.
 * Exit code: 0 if every page moved, 1 if the call or the check failed
 * (or the kernel lacks the call), 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <numa.h>
#include "pm-tool.h"

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: v [--pages N] [--from NODE] [--to NODE] [--json]\n"
            "Move N pages (default 16) of this process from node FROM\n"
            "(default 0) to node TO (default: another node) with\n"
            "migrate_virt_addr_range(2).\n"
            "example: v --pages 256 --from 0 --to 1\n");
    exit(rc);
}

int main(int argc, char **argv)
{
    struct pm_own_move m = pm_parse_own_move("v", argc, argv, usage);
    struct page_migrate_stats st = { 0, 0 };
    size_t npages = (size_t)m.npages, on;
    bool intact;
    char *buf;

    buf = pm_own_buffer("v", &m);
    if (migrate_virt_addr_range(buf, npages * nu_page_size(), m.to, &st, 0)) {
        fprintf(stderr, "v: migrate_virt_addr_range: %s\n", g_strerror(errno));
        return 1;
    }
    on = nu_pages_on_node(0, buf, npages, m.to);
    intact = nu_buffer_intact(buf, npages);
    numa_free(buf, npages * nu_page_size());
    return pm_report_own_move("v", "", &m, &st, on, intact);
}
