/*
 * vmig: migrate a part of another process's virtual address range with
 * migrate_virt_addr_range(2) (run victim first).
 *
 *   vmig [--json] PID ADDR LEN NODE
 *
 * Needs ptrace read access to PID and CAP_SYS_NICE.  ADDR must be page
 * aligned, and [ADDR, ADDR + LEN) mapped in PID and no larger than this
 * machine's memory: a range beyond that is a typo, and walking it would
 * take the kernel and vmig's own check a long time.  Prints the counts,
 * and how many of the range's pages are on NODE afterwards (move_pages(2)
 * status query).  Exit code: 0 on success, 1 if the call failed (or the
 * kernel lacks it), 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "numa-util.h"
#include "page-migrate.h"

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: vmig [--json] PID ADDR LEN NODE\n"
            "Move LEN bytes at ADDR of process PID to NODE with\n"
            "migrate_virt_addr_range(2).\n"
            "example: vmig 1234 0x7f5a2c000000 4194304 1\n");
    exit(rc);
}

static uint64_t arg_u64(const char *what, const char *s)
{
    uint64_t v;

    if (!nu_parse_u64(s, &v)) {
        fprintf(stderr, "vmig: bad %s '%s' (a number, 0x for hex)\n", what,
                s);
        exit(2);
    }
    return v;
}

/*
 * Whether /proc/@pid/maps covers [@start, @end) without a gap.  Exits 1
 * if the maps cannot be read.
 */
static bool range_mapped(int pid, uint64_t start, uint64_t end)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", pid);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) lines = NULL;
    uint64_t covered = start;

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        fprintf(stderr, "vmig: %s\n", err->message);
        exit(1);
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l && covered < end; l++) {
        uint64_t lo, hi;

        if (sscanf(*l, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2 &&
            lo <= covered && covered < hi) {
            covered = hi;
        }
    }
    return covered >= end;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct page_migrate_stats st = { 0, 0 };
    uint64_t psz = nu_page_size(), addr, len, end, ram;
    size_t npages, on;
    int json = 0, c, pid, node;

    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(0);
            break;
        default:
            usage(2);
        }
    }
    if (argc - optind != 4) {
        usage(2);
    }
    pid = (int)nu_arg_long("vmig", "pid", argv[optind], 1, INT_MAX);
    addr = arg_u64("address", argv[optind + 1]);
    len = arg_u64("length", argv[optind + 2]);
    node = (int)nu_arg_long("vmig", "node", argv[optind + 3], 0, INT_MAX);
    if (addr % psz) {
        fprintf(stderr, "vmig: address 0x%" PRIx64 " is not page aligned "
                "(%" PRIu64 " bytes)\n", addr, psz);
        return 2;
    }
    /* Whole pages, computed without overflowing on a huge LEN. */
    npages = len / psz + (len % psz != 0);
    ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * psz;
    if (!len || len > ram) {
        fprintf(stderr, "vmig: length %" PRIu64 " must be from 1 to this "
                "machine's memory, %" PRIu64 " bytes\n", len, ram);
        return 2;
    }
    end = addr + npages * psz;
    if (end < addr) {
        fprintf(stderr, "vmig: range 0x%" PRIx64 " + %" PRIu64 " wraps "
                "around the address space\n", addr, len);
        return 2;
    }
    if (!range_mapped(pid, addr, end)) {
        fprintf(stderr, "vmig: [0x%" PRIx64 ", 0x%" PRIx64 ") is not all "
                "mapped in process %d (see /proc/%d/maps)\n", addr, end,
                pid, pid);
        return 2;
    }
    page_migrate_require("vmig");
    nu_numa_check("vmig", node);

    if (migrate_virt_addr_range((void *)(uintptr_t)addr, (size_t)len, node,
                                &st, pid)) {
        fprintf(stderr, "vmig: migrate_virt_addr_range(pid %d): %s\n", pid,
                g_strerror(errno));
        return 1;
    }
    on = nu_pages_on_node(pid, (const void *)(uintptr_t)addr, npages, node);
    if (json) {
        printf("{\"pid\": %d, \"pages\": %zu, \"node\": %d, \"successful\": "
               "%u, \"failed\": %u, \"on_node\": %zu}\n",
               pid, npages, node, st.successful, st.failed, on);
    } else {
        printf("vmig: pid %d, %zu pages -> node %d: successful %u, failed %u;"
               " %zu/%zu now on node %d\n", pid, npages, node, st.successful,
               st.failed, on, npages, node);
    }
    return 0;
}
