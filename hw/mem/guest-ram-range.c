/*
 * Guest RAM range walker: a guest-physical range as RAM block pieces
 *
 * The mover, the placement query and the SNC's zone map all need the
 * same answer to "which host memory backs this guest-physical range":
 * this file gives it once.  It walks the system address space's
 * FlatView, which has already resolved aliases (the pc below/above 4G
 * split, vNUMA memdevs in the machine's RAM container, DIMMs) into
 * the RAM regions that back each range.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/units.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "exec/ramblock.h"
#include "exec/cpu-common.h"
#include "qom/object.h"
#include "guest-ram-range.h"

typedef struct RangeWalk {
    hwaddr start;
    hwaddr end;                 /* exclusive; 0 if the walk has no end */
    GArray *pieces;
    uint64_t ram_bytes;
    hwaddr ram_end;
} RangeWalk;

static bool is_guest_ram(const MemoryRegion *mr)
{
    return mr->ram && !mr->readonly && !mr->ram_device && mr->ram_block;
}

static bool collect_ram_cb(Int128 start, Int128 len, const MemoryRegion *mr,
                           hwaddr offset_in_region, void *opaque)
{
    RangeWalk *w = opaque;
    hwaddr fr_start = int128_get64(start);
    hwaddr fr_end = fr_start + int128_get64(len);
    RAMBlock *rb;
    GuestRamPiece *last;
    hwaddr s, e;

    if (!is_guest_ram(mr)) {
        return false;
    }
    w->ram_end = MAX(w->ram_end, fr_end);
    if (!w->pieces) {
        return false;
    }
    s = MAX(fr_start, w->start);
    e = MIN(fr_end, w->end);
    if (s >= e) {
        return false;
    }

    rb = mr->ram_block;
    offset_in_region += s - fr_start;
    w->ram_bytes += e - s;

    /* FlatView may split one block's run; merge contiguous pieces. */
    if (w->pieces->len) {
        last = &g_array_index(w->pieces, GuestRamPiece, w->pieces->len - 1);
        if (last->mr == rb->mr && last->gpa + last->size == s &&
            last->host + last->size ==
                (uint8_t *)qemu_ram_get_host_addr(rb) + offset_in_region) {
            last->size += e - s;
            return false;
        }
    }

    g_array_append_val(w->pieces, ((GuestRamPiece) {
        .gpa = s,
        .size = e - s,
        .host = (uint8_t *)qemu_ram_get_host_addr(rb) + offset_in_region,
        .page_size = qemu_ram_pagesize(rb),
        .shared = qemu_ram_is_shared(rb),
        .block = qemu_ram_get_idstr(rb),
        .mr = rb->mr,
        .memdev = (HostMemoryBackend *)
            object_dynamic_cast(memory_region_owner(rb->mr),
                                TYPE_MEMORY_BACKEND),
    }));
    return false;
}

/*
 * A block backed by huge pages can only be moved a whole page at a time,
 * and the guest's memory map may cut such a page (the pc machine's hole
 * at 640 KiB does).  Widen each piece to whole host pages and merge the
 * pieces that then overlap, so that no host page is visited twice.
 */
static void widen_to_host_pages(GArray *pieces)
{
    unsigned i, out = 0;

    for (i = 0; i < pieces->len; i++) {
        GuestRamPiece *p = &g_array_index(pieces, GuestRamPiece, i);
        GuestRamPiece *last;
        uint64_t head = (uintptr_t)p->host & (p->page_size - 1);

        p->gpa -= head;
        p->host -= head;
        p->size = ROUND_UP(p->size + head, p->page_size);

        if (out) {
            last = &g_array_index(pieces, GuestRamPiece, out - 1);
            if (last->mr == p->mr && p->host < last->host + last->size) {
                last->size = MAX(last->size,
                                 p->host + p->size - last->host);
                continue;
            }
        }
        g_array_index(pieces, GuestRamPiece, out++) = *p;
    }
    g_array_set_size(pieces, out);
}

static void walk_system_memory(RangeWalk *w)
{
    RCU_READ_LOCK_GUARD();
    flatview_for_each_range(address_space_to_flatview(&address_space_memory),
                            collect_ram_cb, w);
}

static GHashTable *bytes_per_memdev(GArray *pieces)
{
    GHashTable *h = g_hash_table_new(NULL, NULL);
    unsigned i;

    for (i = 0; i < pieces->len; i++) {
        GuestRamPiece *p = &g_array_index(pieces, GuestRamPiece, i);
        uintptr_t bytes;

        if (p->memdev) {
            bytes = (uintptr_t)g_hash_table_lookup(h, p->memdev);
            g_hash_table_insert(h, p->memdev,
                                (gpointer)(uintptr_t)(bytes + p->size));
        }
    }
    return h;
}

/*
 * Where a range covers all of a memory backend's guest-visible RAM, the
 * user means the backend: claim all of it, including what the guest's
 * memory map hides (on the pc machine the ROM window below 1 MiB hides
 * part of the first backend).  The backend then moves and is bound as a
 * whole, and its host-nodes can be updated to match.  The claimed piece
 * starts at the first guest-physical address the backend is seen at.
 */
static void claim_whole_memdevs(GArray *pieces)
{
    RangeWalk all = { .start = 0, .end = UINT64_MAX };
    g_autoptr(GHashTable) visible = NULL;
    g_autoptr(GHashTable) in_range = NULL;
    g_autoptr(GHashTable) claimed = g_hash_table_new(NULL, NULL);
    unsigned i, out = 0;

    all.pieces = g_array_new(false, true, sizeof(GuestRamPiece));
    walk_system_memory(&all);
    visible = bytes_per_memdev(all.pieces);
    g_array_free(all.pieces, true);
    in_range = bytes_per_memdev(pieces);

    for (i = 0; i < pieces->len; i++) {
        GuestRamPiece p = g_array_index(pieces, GuestRamPiece, i);

        if (p.memdev && g_hash_table_lookup(in_range, p.memdev) ==
                        g_hash_table_lookup(visible, p.memdev)) {
            if (g_hash_table_contains(claimed, p.memdev)) {
                continue;
            }
            g_hash_table_add(claimed, p.memdev);
            p.host = qemu_ram_get_host_addr(p.mr->ram_block);
            p.size = memory_region_size(p.mr);
            p.whole_memdev = true;
        }
        g_array_index(pieces, GuestRamPiece, out++) = p;
    }
    g_array_set_size(pieces, out);
}

hwaddr guest_ram_end(void)
{
    RangeWalk w = { 0 };

    walk_system_memory(&w);
    return w.ram_end;
}

/*
 * The common part of guest_ram_range_new() and guest_ram_range_visible():
 * with @whole, backends are claimed whole and pieces widened to host
 * pages, as moving host memory needs.
 */
static GuestRamRange *range_new(hwaddr addr, uint64_t size,
                                const char *arg_addr, const char *arg_size,
                                bool whole, Error **errp)
{
    uint64_t host_page = qemu_real_host_page_size();
    RangeWalk w = { .start = addr, .end = addr + size };
    GuestRamRange *range;
    unsigned i;

    if (size == 0) {
        error_setg(errp, "'%s' must not be 0", arg_size);
        return NULL;
    }
    if (addr + size < addr) {
        error_setg(errp, "'%s' 0x%" PRIx64 " plus '%s' 0x%" PRIx64
                   " overflows the guest-physical address space",
                   arg_addr, addr, arg_size, size);
        return NULL;
    }
    if (!QEMU_IS_ALIGNED(addr, host_page)) {
        error_setg(errp, "'%s' 0x%" PRIx64 " is not a multiple of the"
                   " host page size (%" PRIu64 " bytes)",
                   arg_addr, addr, host_page);
        return NULL;
    }
    if (!QEMU_IS_ALIGNED(size, host_page)) {
        error_setg(errp, "'%s' 0x%" PRIx64 " is not a multiple of the"
                   " host page size (%" PRIu64 " bytes)",
                   arg_size, size, host_page);
        return NULL;
    }

    w.pieces = g_array_new(false, true, sizeof(GuestRamPiece));
    walk_system_memory(&w);

    if (!w.pieces->len) {
        error_setg(errp, "range ['%s' 0x%" PRIx64 ", +'%s' 0x%" PRIx64
                   ") contains no guest RAM (guest RAM ends at 0x%"
                   PRIx64 ")", arg_addr, addr, arg_size, size, w.ram_end);
        g_array_free(w.pieces, true);
        return NULL;
    }

    if (whole) {
        claim_whole_memdevs(w.pieces);
        widen_to_host_pages(w.pieces);
    }

    range = g_new0(GuestRamRange, 1);
    range->addr = addr;
    range->size = size;
    range->nr_pieces = w.pieces->len;
    range->pieces = (GuestRamPiece *)g_array_free(w.pieces, false);

    for (i = 0; i < range->nr_pieces; i++) {
        GuestRamPiece *p = &range->pieces[i];

        memory_region_ref(p->mr);
    }
    range->ram_bytes = w.ram_bytes;
    range->skipped_bytes = size - w.ram_bytes;
    return range;
}

GuestRamRange *guest_ram_range_new(hwaddr addr, uint64_t size,
                                   const char *arg_addr,
                                   const char *arg_size, Error **errp)
{
    return range_new(addr, size, arg_addr, arg_size, true, errp);
}

GuestRamRange *guest_ram_range_visible(hwaddr addr, uint64_t size,
                                       Error **errp)
{
    return range_new(addr, size, "addr", "size", false, errp);
}

void guest_ram_range_free(GuestRamRange *range)
{
    unsigned i;

    if (!range) {
        return;
    }
    for (i = 0; i < range->nr_pieces; i++) {
        memory_region_unref(range->pieces[i].mr);
    }
    g_free(range->pieces);
    g_free(range);
}

bool guest_ram_range_overlaps(const GuestRamRange *a, const GuestRamRange *b)
{
    unsigned i, j;

    /* Compare host mappings: the same RAM may be aliased twice. */
    for (i = 0; i < a->nr_pieces; i++) {
        const GuestRamPiece *p = &a->pieces[i];

        for (j = 0; j < b->nr_pieces; j++) {
            const GuestRamPiece *q = &b->pieces[j];

            if (p->host < q->host + q->size && q->host < p->host + p->size) {
                return true;
            }
        }
    }
    return false;
}
