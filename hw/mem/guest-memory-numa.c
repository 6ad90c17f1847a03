/*
 * Host NUMA helpers for the guest memory mover and placement query
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <numa.h>
#include <numaif.h>
#include "qapi/error.h"
#include "guest-memory-numa.h"

static void append_online_nodes(GString *buf)
{
    int n, max = numa_max_node();

    for (n = 0; n <= max; n++) {
        if (numa_bitmask_isbitset(numa_all_nodes_ptr, n)) {
            g_string_append_printf(buf, "%s%d", buf->len ? "," : "", n);
        }
    }
}

bool guest_memory_check_node(unsigned node, const char *arg, Error **errp)
{
    g_autoptr(GString) online = g_string_new("");

    if (numa_available() < 0) {
        error_setg(errp, "'%s' %u: the host has no NUMA support", arg, node);
        return false;
    }
    if (node <= numa_max_node() &&
        numa_bitmask_isbitset(numa_all_nodes_ptr, node)) {
        return true;
    }
    append_online_nodes(online);
    error_setg(errp, "'%s' %u is not an online host NUMA node that QEMU"
               " may use (usable nodes: %s)", arg, node, online->str);
    return false;
}

bool guest_memory_bind(void *start, size_t len, int node, Error **errp)
{
    struct bitmask *mask = numa_allocate_nodemask();
    int ret;

    numa_bitmask_setbit(mask, node);
    /* Like hostmem.c: the kernel wants maxnode one past the highest bit. */
    ret = mbind(start, len, MPOL_BIND, mask->maskp, mask->size + 1, 0);
    numa_bitmask_free(mask);
    if (ret < 0) {
        error_setg_errno(errp, errno, "cannot bind memory to host node %d",
                         node);
        return false;
    }
    return true;
}

bool guest_memory_page_nodes(void **pages, unsigned long n, int *status,
                             Error **errp)
{
    if (numa_move_pages(0, n, pages, NULL, status, 0) < 0) {
        error_setg_errno(errp, errno, "cannot query page placement");
        return false;
    }
    return true;
}

bool guest_memory_move_pages(void **pages, unsigned long n, const int *nodes,
                             int *status, bool shared, Error **errp)
{
    int flags = shared ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;

    if (numa_move_pages(0, n, pages, nodes, status, flags) < 0) {
        error_setg_errno(errp, errno, "cannot move pages");
        return false;
    }
    return true;
}

bool guest_memory_may_move_shared(void)
{
    /*
     * move_pages() checks CAP_SYS_NICE for MPOL_MF_MOVE_ALL before it
     * looks at the pages, so an empty call answers the question.
     */
    return numa_move_pages(0, 0, NULL, NULL, NULL, MPOL_MF_MOVE_ALL) == 0;
}
