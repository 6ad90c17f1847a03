/*
 * v: migrate a part of one's own virtual address range to another node
 * with migrate_virt_addr_range(2) (the seed's test/v.c).
 *
 *   v [--pages N] [--from NODE] [--to NODE] [--json]
 *
 * Allocates N pages on --from, moves them to --to with pid 0, checks
 * with move_pages(2) where they are and that their contents survived.
 * Exit code: 0 if every page moved, 1 if the call or the check failed,
 * 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
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
    struct page_migrate_stats st = { 0, 0 };
    int ok;
    size_t on;
    char *buf;
    struct pm_own_move m = pm_parse_own_move("v", argc, argv, usage);
    long npages = m.npages;
    int from = m.from, to = m.to, json = m.json;

    buf = pm_alloc_on((size_t)npages, from);
    if (!buf) {
        fprintf(stderr, "v: cannot allocate %ld pages on node %d\n", npages, from);
        return 1;
    }
    if (migrate_virt_addr_range(buf, (size_t)npages * (size_t)numa_pagesize(),
                                to, &st, 0)) {
        fprintf(stderr, "v: migrate_virt_addr_range: %s\n", strerror(errno));
        return 1;
    }
    on = pm_pages_on(0, buf, (size_t)npages, to);
    ok = on == (size_t)npages && pm_intact(buf, (size_t)npages);
    if (json)
        printf("{\"pages\": %ld, \"from\": %d, \"to\": %d, \"successful\": %u, "
               "\"failed\": %u, \"on_node\": %zu, \"intact\": %s}\n",
               npages, from, to, st.successful, st.failed, on,
               pm_intact(buf, (size_t)npages) ? "true" : "false");
    else
        printf("v: %ld pages node %d -> %d: successful %u, failed %u; "
               "%zu/%ld now on node %d, contents %s\n",
               npages, from, to, st.successful, st.failed, on, npages, to,
               pm_intact(buf, (size_t)npages) ? "intact" : "CORRUPTED");
    numa_free(buf, (size_t)npages * (size_t)numa_pagesize());
    return ok ? 0 : 1;
}
