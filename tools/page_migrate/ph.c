/*
 * ph: migrate some of one's own pages by their physical addresses with
 * migrate_ph_pages(2).
 *
 *   ph [--pages N] [--from NODE] [--to NODE] [--json]
 *
 * Allocates N pages on --from, reads their physical addresses from
 * /proc/self/pagemap (needs CAP_SYS_ADMIN, as the call does), moves them
 * to --to in tables of at most PAGE_SIZE/sizeof(phaddr_t) entries and
 * checks with move_pages(2) where they are.  Exit code: 0 if every page
 * moved, 1 if a call or the check failed (or the kernel lacks the
 * calls), 2 on a usage error.
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
            "usage: ph [--pages N] [--from NODE] [--to NODE] [--json]\n"
            "Move N pages (default 16) of this process from node FROM\n"
            "(default 0) to node TO (default: another node) by physical\n"
            "address with migrate_ph_pages(2).  Needs CAP_SYS_ADMIN.\n"
            "example: ph --pages 1024 --to 1\n");
    exit(rc);
}

int main(int argc, char **argv)
{
    struct pm_own_move m = pm_parse_own_move("ph", argc, argv, usage);
    struct page_migrate_stats st, total = { 0, 0 };
    size_t psz = nu_page_size(), max = migrate_ph_pages_max();
    size_t npages = (size_t)m.npages, i, done, n, on;
    g_autoptr(NuPageTable) pagemap = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree uint64_t *pfns = NULL;
    bool intact;
    char *buf;

    buf = pm_own_buffer("ph", &m);
    pfns = g_new(uint64_t, npages);
    pagemap = nu_pagemap_open(0, &err);
    if (!pagemap || !nu_pagemap_pfns(pagemap, buf, npages, pfns, &err)) {
        fprintf(stderr, "ph: %s\n", err->message);
        return 1;
    }
    for (i = 0; i < npages; i++) {
        if (!pfns[i]) {
            fprintf(stderr, "ph: no physical address for page %zu "
                    "(is /proc/self/pagemap readable with PFNs?)\n", i);
            return 1;
        }
        pfns[i] *= psz;         /* now a phaddr_t */
    }
    for (done = 0; done < npages; done += n) {
        n = MIN(npages - done, max);
        if (migrate_ph_pages(pfns + done, n, m.to, &st, 0)) {
            fprintf(stderr, "ph: migrate_ph_pages: %s\n", g_strerror(errno));
            return 1;
        }
        total.successful += st.successful;
        total.failed += st.failed;
    }
    on = nu_pages_on_node(0, buf, npages, m.to);
    intact = nu_buffer_intact(buf, npages);
    numa_free(buf, npages * psz);
    return pm_report_own_move("ph", " by physical address", &m, &total, on, intact);
}
