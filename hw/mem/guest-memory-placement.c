/*
 * Report on which host NUMA nodes a guest's RAM sits
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <numa.h>
#include "qapi/error.h"
#include "qapi/qapi-commands-guest-memory.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "guest-ram-range.h"
#include "guest-memory-numa.h"
#include "trace.h"

#define PLACEMENT_BATCH_PAGES 512

/* Pages of one piece per host node; node max+1 counts unpopulated pages. */
static bool count_piece(const GuestRamPiece *p, uint64_t *per_node,
                        int max_node, Error **errp)
{
    void *pages[PLACEMENT_BATCH_PAGES];
    int status[PLACEMENT_BATCH_PAGES];
    uint64_t n = p->size / p->page_size, done, i;

    for (done = 0; done < n; done += i) {
        unsigned long batch = MIN(n - done, PLACEMENT_BATCH_PAGES);

        for (i = 0; i < batch; i++) {
            pages[i] = p->host + (done + i) * p->page_size;
        }
        if (!guest_memory_page_nodes(pages, batch, status, errp)) {
            error_prepend(errp, "RAM block '%s': ", p->block);
            return false;
        }
        for (i = 0; i < batch; i++) {
            int st = status[i];

            per_node[st >= 0 && st <= max_node ? st : max_node + 1]++;
        }
    }
    return true;
}

static GuestMemoryNodeUsageList *node_usage_list(const uint64_t *pages,
                                                 const uint64_t *bytes,
                                                 int max_node)
{
    GuestMemoryNodeUsageList *head = NULL, **tail = &head;
    int n;

    for (n = 0; n <= max_node; n++) {
        GuestMemoryNodeUsage *u;

        if (!pages[n]) {
            continue;
        }
        u = g_new0(GuestMemoryNodeUsage, 1);
        u->node = n;
        u->pages = pages[n];
        u->bytes = bytes[n];
        QAPI_LIST_APPEND(tail, u);
    }
    return head;
}

GuestMemoryPlacement *qmp_query_guest_memory_placement(bool has_addr,
                                                       uint64_t addr,
                                                       bool has_size,
                                                       uint64_t size,
                                                       Error **errp)
{
    g_autoptr(GuestRamRange) range = NULL;
    GuestMemoryPlacement *info;
    GuestMemoryBlockPlacementList **tail;
    g_autofree uint64_t *per_node = NULL;
    g_autofree uint64_t *total_pages = NULL;
    g_autofree uint64_t *total_bytes = NULL;
    g_autofree uint64_t *piece_bytes = NULL;
    int max_node, n;
    unsigned i;

    if (numa_available() < 0) {
        error_setg(errp, "the host has no NUMA support");
        return NULL;
    }
    if (!has_addr) {
        addr = 0;
    }
    if (!has_size) {
        hwaddr end = guest_ram_end();

        /*
         * The default range runs to the end of guest RAM.  When no guest
         * RAM lies there (-machine none, or @addr past the end), there
         * is nothing to report: answer with an empty placement.
         */
        if (end <= addr) {
            info = g_new0(GuestMemoryPlacement, 1);
            info->addr = addr;
            return info;
        }
        size = end - addr;
    }
    range = guest_ram_range_new(addr, size, "addr", "size", errp);
    if (!range) {
        return NULL;
    }

    max_node = numa_max_node();
    per_node = g_new(uint64_t, max_node + 2);
    piece_bytes = g_new(uint64_t, max_node + 2);
    total_pages = g_new0(uint64_t, max_node + 2);
    total_bytes = g_new0(uint64_t, max_node + 2);

    info = g_new0(GuestMemoryPlacement, 1);
    info->addr = addr;
    info->size = size;
    info->skipped_bytes = range->skipped_bytes;
    tail = &info->blocks;

    for (i = 0; i < range->nr_pieces; i++) {
        const GuestRamPiece *p = &range->pieces[i];
        GuestMemoryBlockPlacement *b;

        memset(per_node, 0, (max_node + 2) * sizeof(*per_node));
        if (!count_piece(p, per_node, max_node, errp)) {
            qapi_free_GuestMemoryPlacement(info);
            return NULL;
        }
        for (n = 0; n <= max_node + 1; n++) {
            piece_bytes[n] = per_node[n] * p->page_size;
            total_pages[n] += per_node[n];
            total_bytes[n] += piece_bytes[n];
        }

        b = g_new0(GuestMemoryBlockPlacement, 1);
        b->block = g_strdup(p->block);
        if (p->memdev) {
            b->memdev = g_strdup(object_get_canonical_path_component(
                                     OBJECT(p->memdev)));
        }
        b->addr = p->gpa;
        b->size = p->size;
        b->page_size = p->page_size;
        b->nodes = node_usage_list(per_node, piece_bytes, max_node);
        b->not_populated = per_node[max_node + 1];
        QAPI_LIST_APPEND(tail, b);
        trace_guest_memory_placement_block(p->block, p->gpa, p->size,
                                           b->not_populated);
    }

    info->nodes = node_usage_list(total_pages, total_bytes, max_node);
    info->not_populated = total_pages[max_node + 1];
    info->not_populated_bytes = total_bytes[max_node + 1];
    return info;
}

static void hmp_print_nodes(Monitor *mon, const char *indent,
                            GuestMemoryNodeUsageList *nodes,
                            uint64_t not_populated_bytes)
{
    for (; nodes; nodes = nodes->next) {
        g_autofree char *sz = size_to_str(nodes->value->bytes);

        monitor_printf(mon, "%snode %u: %s (%" PRIu64 " pages)\n", indent,
                       nodes->value->node, sz, nodes->value->pages);
    }
    if (not_populated_bytes) {
        g_autofree char *sz = size_to_str(not_populated_bytes);

        monitor_printf(mon, "%snot populated: %s\n", indent, sz);
    }
}

void hmp_info_guest_memory_placement(Monitor *mon, const QDict *qdict)
{
    bool has_addr = qdict_haskey(qdict, "addr");
    bool has_size = qdict_haskey(qdict, "size");
    uint64_t addr = qdict_get_try_int(qdict, "addr", 0);
    uint64_t size = qdict_get_try_int(qdict, "size", 0);
    g_autoptr(GuestMemoryPlacement) info = NULL;
    GuestMemoryBlockPlacementList *b;
    Error *err = NULL;

    info = qmp_query_guest_memory_placement(has_addr, addr, has_size, size,
                                            &err);
    if (hmp_handle_error(mon, err)) {
        return;
    }

    if (!info->size) {
        monitor_printf(mon, "no guest RAM at or above 0x%" PRIx64 "\n",
                       info->addr);
        return;
    }
    monitor_printf(mon, "guest RAM 0x%" PRIx64 "-0x%" PRIx64 ":\n",
                   info->addr, info->addr + info->size - 1);
    hmp_print_nodes(mon, "  ", info->nodes, info->not_populated_bytes);
    for (b = info->blocks; b; b = b->next) {
        GuestMemoryBlockPlacement *p = b->value;
        g_autofree char *sz = size_to_str(p->size);
        g_autofree char *ps = size_to_str(p->page_size);

        monitor_printf(mon, "  block %s%s%s%s at 0x%" PRIx64 ", %s,"
                       " %s pages:\n", p->block,
                       p->memdev ? " (memdev " : "",
                       p->memdev ? p->memdev : "",
                       p->memdev ? ")" : "", p->addr, sz, ps);
        hmp_print_nodes(mon, "    ", p->nodes,
                        p->not_populated * p->page_size);
    }
}
