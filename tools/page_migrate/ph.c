/*
 * ph: migrate some of one's own pages by their physical addresses with
 * migrate_ph_pages(2) (the seed's test/ph.c).
 *
 *   ph [--pages N] [--from NODE] [--to NODE] [--json]
 *
 * Allocates N pages on --from, reads their physical addresses from
 * /proc/self/pagemap (needs CAP_SYS_ADMIN, as the call does), moves them
 * to --to in tables of at most PAGE_SIZE/sizeof(phaddr_t) entries and
 * checks with move_pages(2) where they are.  Exit code: 0 if every page
 * moved, 1 if a call or the check failed, 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "pm-tool.h"

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: ph [--pages N] [--from NODE] [--to NODE] [--json]\n"
            "Move N pages (default 16) of this process from node FROM\n"
            "(default 0) to node TO (default: another node) by physical\n"
            "address with migrate_ph_pages(2).  Needs CAP_SYS_ADMIN.\n"
            "example: ph --pages 1024 --to 1\n");
    exit(rc);
}

int main(int argc, char **argv)
{
    struct page_migrate_stats st, total = { 0, 0 };
    size_t psz = (size_t)numa_pagesize(), max = migrate_ph_pages_max();
    int intact;
    size_t i, done, on;
    phaddr_t *table;
    char *buf;
    struct pm_own_move m = pm_parse_own_move("ph", argc, argv, usage);
    long npages = m.npages;
    int from = m.from, to = m.to, json = m.json;

    buf = pm_alloc_on((size_t)npages, from);
    table = calloc(max, sizeof(*table));
    if (!buf || !table) {
        fprintf(stderr, "ph: cannot allocate %ld pages on node %d\n", npages, from);
        return 1;
    }
    for (done = 0; done < (size_t)npages; done += i) {
        for (i = 0; i < max && done + i < (size_t)npages; i++) {
            table[i] = page_migrate_phaddr(0, buf + (done + i) * psz);
            if (!table[i]) {
                fprintf(stderr, "ph: no physical address for page %zu "
                        "(is /proc/self/pagemap readable with PFNs?)\n",
                        done + i);
                return 1;
            }
        }
        if (migrate_ph_pages(table, i, to, &st, 0)) {
            fprintf(stderr, "ph: migrate_ph_pages: %s\n", strerror(errno));
            return 1;
        }
        total.successful += st.successful;
        total.failed += st.failed;
    }
    on = pm_pages_on(0, buf, (size_t)npages, to);
    intact = pm_intact(buf, (size_t)npages);
    if (json)
        printf("{\"pages\": %ld, \"from\": %d, \"to\": %d, \"successful\": %u, "
               "\"failed\": %u, \"on_node\": %zu, \"intact\": %s}\n",
               npages, from, to, total.successful, total.failed, on,
               intact ? "true" : "false");
    else
        printf("ph: %ld pages node %d -> %d by physical address: successful "
               "%u, failed %u; %zu/%ld now on node %d, contents %s\n",
               npages, from, to, total.successful, total.failed, on, npages,
               to, intact ? "intact" : "CORRUPTED");
    numa_free(buf, (size_t)npages * psz);
    free(table);
    return on == (size_t)npages && intact ? 0 : 1;
}
