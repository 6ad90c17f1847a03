/*
 * Guest RAM range walker: a guest-physical range as RAM block pieces
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MEM_GUEST_RAM_RANGE_H
#define HW_MEM_GUEST_RAM_RANGE_H

#include "exec/hwaddr.h"
#include "system/hostmem.h"

/*
 * One piece of a guest-physical range: a run of guest RAM that one RAM
 * block backs contiguously.  The piece holds a reference on the block's
 * MemoryRegion, so the host mapping stays valid until the range is freed,
 * even if the memory is unplugged meanwhile.
 */
typedef struct GuestRamPiece {
    hwaddr gpa;                 /* guest-physical start */
    uint64_t size;              /* bytes */
    uint8_t *host;              /* host virtual address of @gpa */
    uint64_t page_size;         /* host page size of the block */
    bool shared;                /* MAP_SHARED mapping */
    const char *block;          /* RAM block name */
    MemoryRegion *mr;           /* referenced */
    HostMemoryBackend *memdev;  /* owning backend, or NULL */
    bool whole_memdev;          /* the piece is all of @memdev */
} GuestRamPiece;

typedef struct GuestRamRange {
    hwaddr addr;
    uint64_t size;
    uint64_t ram_bytes;         /* guest RAM bytes in [addr, addr + size) */
    uint64_t skipped_bytes;     /* size - ram_bytes: holes, MMIO, ROM */
    unsigned nr_pieces;
    GuestRamPiece *pieces;      /* in guest-physical order */
} GuestRamRange;

/*
 * guest_ram_range_new: resolve [@addr, @addr + @size) of the system
 * address space into pieces of guest RAM.
 *
 * Only writable RAM counts as guest RAM: MMIO, ROM, RAM devices (for
 * instance VFIO BARs) and unassigned space are skipped.  A range that
 * covers all of a memory backend's guest-visible RAM claims the whole
 * backend, including parts the guest's memory map hides.  Pieces of
 * blocks backed by huge pages are widened to whole host pages, so they
 * may reach outside the range.  Fails if the range is empty, wraps
 * around, is not aligned to the host's base page size, or holds no
 * guest RAM at all.  Error
 * messages name @arg_addr and @arg_size, the caller's argument names.
 *
 * Called with the BQL held.
 */
GuestRamRange *guest_ram_range_new(hwaddr addr, uint64_t size,
                                   const char *arg_addr,
                                   const char *arg_size, Error **errp);

/*
 * guest_ram_range_visible: like guest_ram_range_new(), but the pieces
 * are exactly the guest RAM that the guest sees in the range, in
 * guest-physical order: no backend is claimed whole and no piece is
 * widened to host pages.  For callers that attribute guest accesses to
 * RAM rather than move host memory.  Error messages name the arguments
 * 'addr' and 'size'.
 *
 * Called with the BQL held.
 */
GuestRamRange *guest_ram_range_visible(hwaddr addr, uint64_t size,
                                       Error **errp);

/* guest_ram_end: the guest-physical address just past the highest RAM. */
hwaddr guest_ram_end(void);

/* guest_ram_range_free: drop the pieces' references.  BQL held. */
void guest_ram_range_free(GuestRamRange *range);

bool guest_ram_range_overlaps(const GuestRamRange *a,
                              const GuestRamRange *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestRamRange, guest_ram_range_free)

#endif /* HW_MEM_GUEST_RAM_RANGE_H */
