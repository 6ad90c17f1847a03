/*
 * vmig: migrate a part of another process's virtual address range with
 * migrate_virt_addr_range(2) (the seed's test/vmig.c; run victim first).
 *
 *   vmig [--json] PID ADDR LEN NODE
 *
 * Needs ptrace read access to PID and CAP_SYS_NICE.  Prints the counts,
 * and how many of the range's pages are on NODE afterwards (move_pages(2)
 * status query).  Exit code: 0 on success, 1 if the call failed, 2 on a
 * usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <getopt.h>
#include "pm-tool.h"

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: vmig [--json] PID ADDR LEN NODE\n"
            "Move LEN bytes at ADDR of process PID to NODE with\n"
            "migrate_virt_addr_range(2).\n"
            "example: vmig 1234 0x7f5a2c000000 4194304 1\n");
    exit(rc);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct page_migrate_stats st = { 0, 0 };
    unsigned long long addr, len;
    size_t npages, on;
    int json = 0, c, pid, node;
    char *end;

    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': usage(0); break;
        default: usage(2);
        }
    }
    if (argc - optind != 4)
        usage(2);
    pid = (int)pm_parse_long("vmig", "pid", argv[optind], 1, INT_MAX);
    errno = 0;
    addr = strtoull(argv[optind + 1], &end, 0);
    if (errno || *end || end == argv[optind + 1]) {
        fprintf(stderr, "vmig: bad address '%s'\n", argv[optind + 1]);
        return 2;
    }
    len = strtoull(argv[optind + 2], &end, 0);
    if (errno || *end || end == argv[optind + 2] || !len) {
        fprintf(stderr, "vmig: bad length '%s'\n", argv[optind + 2]);
        return 2;
    }
    node = (int)pm_parse_long("vmig", "node", argv[optind + 3], 0, INT_MAX);
    pm_check_node("vmig", node);

    if (migrate_virt_addr_range((void *)(uintptr_t)addr, (size_t)len, node,
                                &st, pid)) {
        fprintf(stderr, "vmig: migrate_virt_addr_range(pid %d): %s\n", pid,
                strerror(errno));
        return 1;
    }
    npages = (size_t)((len + (unsigned long long)numa_pagesize() - 1) /
                      (unsigned long long)numa_pagesize());
    on = pm_pages_on(pid, (const char *)(uintptr_t)addr, npages, node);
    if (json)
        printf("{\"pid\": %d, \"pages\": %zu, \"node\": %d, \"successful\": %u, "
               "\"failed\": %u, \"on_node\": %zu}\n",
               pid, npages, node, st.successful, st.failed, on);
    else
        printf("vmig: pid %d, %zu pages -> node %d: successful %u, failed %u; "
               "%zu/%zu now on node %d\n", pid, npages, node, st.successful,
               st.failed, on, npages, node);
    return 0;
}
