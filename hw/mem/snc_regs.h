/*
 * Scalable Node Controller (SNC): the register map
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The one definition of the device's programming interface, shared by
 * the device model (hw/mem/snc.c), its qtest and the guest programs
 * (tools/snc).  Plain C macros only, no includes, so that any C
 * program, in QEMU, in guest user space or in a kernel, can include it
 * as it is.  docs/design/snc.md repeats the register table for
 * readers; scripts/check-snc-regs.py, run by make check, fails when
 * that table, the table below and the macros disagree.
 *
 * The guest kernel driver takes a generated copy of this file, the way
 * QEMU imports Linux's headers into include/standard-headers with
 * scripts/update-linux-headers.sh, with the direction reversed: QEMU
 * owns the map.  scripts/gen-snc-kernel-regs.py makes the driver's
 * copy: this file with the SPDX tag on the first line, the include
 * guard renamed, BIT() for single bits and tabs for indentation, never
 * edited by hand.  Regenerate it whenever this file changes;
 * scripts/check-snc-regs.py fails while the two differ.
 *
 * BAR0, registers (4 KiB, little-endian; 64-bit registers may be read
 * as one 8-byte access or as two 4-byte halves, low half first):
 *
 *   0x000 ID           RO 32  0x30434e53 ("SNC0")
 *   0x004 VERSION      RO 32  0x00020000 (2.0)
 *   0x008 CAPS         RO 32  bit 0 COUNTING: touches can be counted,
 *                             bit 1 EXACT: exact mode is available
 *   0x00c STATUS       RO 32  bit 0 RUNNING, bit 1 UNAVAILABLE,
 *                             bit 2 SNAPSHOT (a period has ended)
 *   0x010 NR_ZONES     RO 32  number of zones (power of two)
 *   0x014 NR_NODES     RO 32  number of source nodes
 *   0x018 ZONE_SHIFT   RO 32  log2 of the zone size
 *   0x020 ZONE_BASE    RO 64  guest-physical address of zone 0 (0)
 *   0x040 CONTROL      RW 32  write: bit 0 START, bit 1 STOP, bit 2
 *                             SNAPSHOT (at most one of them), bits 5:4
 *                             MODE (0 all, 1 remote, 2 track-max),
 *                             bit 8 EXACT (count every data access);
 *                             read: MODE and EXACT
 *   0x044 PERIOD_MS    RW 32  period length, 0 = periods end on
 *                             request only; otherwise from
 *                             SNC_MIN_PERIOD_MS(NR_ZONES * NR_NODES)
 *                             to 2400000
 *   0x048 NODE_FILTER  RW 32  bitmap of counted source nodes, 0 = all
 *   0x04c SAMPLE_US    RW 32  TLB flush interval, 100 to 1000000
 *   0x050 INTR_STATUS  RW1C   bit 0 PERIOD_END, bit 1 REQUEST
 *   0x054 INTR_ENABLE  RW 32  bit 0 PERIOD_END, bit 1 REQUEST
 *   0x058 SEQ          RO 64  number of the snapshot's period
 *   0x060 PERIOD_NS    RO 64  length of the snapshot's period
 *   0x068 TOTAL        RO 64  touches counted since START
 *   0x080 HOT_ADDR     RW 32  counter index, zone * NR_NODES + node
 *   0x088 HOT_DATA     RO 64  snapshot counter at HOT_ADDR; HOT_ADDR
 *                             advances (wrapping to 0) after an 8-byte
 *                             read or a read of the upper half
 *
 * The request mailbox (version 2): the host asks the guest to migrate
 * guest-physical ranges between guest nodes.
 *
 *   0x800 GUEST_SERVING RW 32 bit 0: the guest driver serves requests;
 *                             0 on reset; 1 to 0 interrupts every
 *                             pending request
 *   0x804 HOST_MODE    RO 32  the host's mode (SNC_HOSTMODE_*)
 *   0x808 RING_SIZE    RO 32  request slots (SNC_RING_SIZE)
 *   0x80c REQ_PROD     RO 32  requests posted, free-running; the
 *                             next one goes to slot REQ_PROD % size
 *   0x810 REQ_CONS     RW 32  requests the guest has taken, free-
 *                             running; a write must lie within
 *                             [REQ_CONS, REQ_PROD]
 *   0x840 CMPL_ID      RW 32  completion: the request's ID
 *   0x844 CMPL_STATUS  RW 32  0 or a negative errno, -4095 to -1
 *   0x848 CMPL_MOVED   RW 32  pages moved to the target node
 *   0x84c CMPL_ALREADY RW 32  pages already on the target node
 *   0x850 CMPL_BUSY    RW 32  pages failed: busy (locked, writeback)
 *   0x854 CMPL_SHARED  RW 32  pages failed: mapped by several processes
 *   0x858 CMPL_PINNED  RW 32  pages failed: pinned or not on the LRU
 *   0x85c CMPL_NOMEM   RW 32  pages failed: no memory on the node
 *   0x860 CMPL_RANGE   RW 32  pages failed: not RAM, reserved, offline
 *   0x864 COMPLETE     WO 32  write 1: complete request CMPL_ID with
 *                             the CMPL_* values (reads return 0)
 *   0x900 REQ_RING     RO 32  SNC_RING_SIZE slots of SNC_REQ_STRIDE
 *                             bytes: ID (+0x00, 32), ACTION (+0x04,
 *                             32), ADDR (+0x08, 64), SIZE (+0x10, 64),
 *                             NODE (+0x18, 32); ACTION 0: empty slot
 *   0xb00-0xfff               reserved
 *
 * BAR2, the snapshot (read-only): u64 counter[NR_ZONES][NR_NODES],
 * then u8 home_node[NR_ZONES] (SNC_NO_NODE: no RAM in the zone).
 *
 * Bad accesses (unknown or reserved offsets, wrong sizes, unaligned
 * accesses, writes to read-only registers, out-of-range values) are
 * logged by the device and ignored; reads return 0.
 */

#ifndef HW_MEM_SNC_REGS_H
#define HW_MEM_SNC_REGS_H

/* PCI identity */
#define SNC_PCI_VENDOR_ID       0x1234
#define SNC_PCI_DEVICE_ID       0x534e
#define SNC_PCI_REVISION        1

/* BARs */
#define SNC_BAR_REGS            0
#define SNC_BAR_MATRIX          2
#define SNC_REGS_SIZE           0x1000

/* BAR0 register offsets */
#define SNC_REG_ID              0x000
#define SNC_REG_VERSION         0x004
#define SNC_REG_CAPS            0x008
#define SNC_REG_STATUS          0x00c
#define SNC_REG_NR_ZONES        0x010
#define SNC_REG_NR_NODES        0x014
#define SNC_REG_ZONE_SHIFT      0x018
#define SNC_REG_ZONE_BASE       0x020
#define SNC_REG_CONTROL         0x040
#define SNC_REG_PERIOD_MS       0x044
#define SNC_REG_NODE_FILTER     0x048
#define SNC_REG_SAMPLE_US       0x04c
#define SNC_REG_INTR_STATUS     0x050
#define SNC_REG_INTR_ENABLE     0x054
#define SNC_REG_SEQ             0x058
#define SNC_REG_PERIOD_NS       0x060
#define SNC_REG_TOTAL           0x068
#define SNC_REG_HOT_ADDR        0x080
#define SNC_REG_HOT_DATA        0x088
#define SNC_REG_GUEST_SERVING   0x800
#define SNC_REG_HOST_MODE       0x804
#define SNC_REG_RING_SIZE       0x808
#define SNC_REG_REQ_PROD        0x80c
#define SNC_REG_REQ_CONS        0x810
#define SNC_REG_CMPL_ID         0x840
#define SNC_REG_CMPL_STATUS     0x844
#define SNC_REG_CMPL_MOVED      0x848
#define SNC_REG_CMPL_ALREADY    0x84c
#define SNC_REG_CMPL_BUSY       0x850
#define SNC_REG_CMPL_SHARED     0x854
#define SNC_REG_CMPL_PINNED     0x858
#define SNC_REG_CMPL_NOMEM      0x85c
#define SNC_REG_CMPL_RANGE      0x860
#define SNC_REG_COMPLETE        0x864
#define SNC_REG_REQ_RING        0x900
#define SNC_REG_RESERVED        0xb00   /* reserved, to 0xfff */

/* ID and VERSION values */
#define SNC_ID                  0x30434e53      /* "SNC0" */
#define SNC_VERSION             0x00020000      /* 2.0 */

/* CAPS */
#define SNC_CAPS_COUNTING       (1u << 0)
#define SNC_CAPS_EXACT          (1u << 1)

/* STATUS */
#define SNC_STATUS_RUNNING      (1u << 0)
#define SNC_STATUS_UNAVAILABLE  (1u << 1)
#define SNC_STATUS_SNAPSHOT     (1u << 2)

/* CONTROL */
#define SNC_CONTROL_START       (1u << 0)
#define SNC_CONTROL_STOP        (1u << 1)
#define SNC_CONTROL_SNAPSHOT    (1u << 2)
#define SNC_CONTROL_MODE_SHIFT  4
#define SNC_CONTROL_MODE_MASK   (3u << SNC_CONTROL_MODE_SHIFT)
#define SNC_CONTROL_MODE(m)     ((unsigned)(m) << SNC_CONTROL_MODE_SHIFT)
#define SNC_CONTROL_EXACT       (1u << 8)
#define SNC_CONTROL_VALID       (SNC_CONTROL_START | SNC_CONTROL_STOP | \
                                 SNC_CONTROL_SNAPSHOT | \
                                 SNC_CONTROL_MODE_MASK | SNC_CONTROL_EXACT)

/* CONTROL.MODE values (QMP's SncMode has the same numbering) */
#define SNC_CONTROL_MODE_ALL        0
#define SNC_CONTROL_MODE_REMOTE     1
#define SNC_CONTROL_MODE_TRACK_MAX  2

/* INTR_STATUS and INTR_ENABLE */
#define SNC_INTR_PERIOD_END     (1u << 0)
#define SNC_INTR_REQUEST        (1u << 1)       /* a request was posted */
#define SNC_INTR_VALID          (SNC_INTR_PERIOD_END | SNC_INTR_REQUEST)

/* GUEST_SERVING */
#define SNC_GUEST_SERVING_ON    (1u << 0)

/* HOST_MODE values (QMP's SncHostMode has the same numbering) */
#define SNC_HOSTMODE_OFF           0   /* no lever moves pages */
#define SNC_HOSTMODE_HOST_ONLY     1   /* only the host moves backing */
#define SNC_HOSTMODE_GUEST_ONLY    2   /* only the guest moves pages */
#define SNC_HOSTMODE_COOPERATIVE   3   /* both, on disjoint ranges */

/* The request ring: slot i is at SNC_REG_REQ_RING + i * SNC_REQ_STRIDE */
#define SNC_RING_SIZE           16
#define SNC_REQ_STRIDE          0x20
#define SNC_REQ_ID              0x00    /* 32: nonzero, never reused */
#define SNC_REQ_ACTION          0x04    /* 32: SNC_REQ_ACTION_* */
#define SNC_REQ_ADDR            0x08    /* 64: page aligned */
#define SNC_REQ_SIZE            0x10    /* 64: page multiple */
#define SNC_REQ_NODE            0x18    /* 32: target guest node */

/* Request ACTION values */
#define SNC_REQ_ACTION_NONE         0       /* empty slot */
#define SNC_REQ_ACTION_MIGRATE      1       /* move the range to NODE */
#define SNC_REQ_ACTION_HINT         2       /* hot from NODE: guest decides */

/* Requests are in pages of this size; counts are in these pages. */
#define SNC_REQ_PAGE_SIZE       4096
#define SNC_REQ_MAX_PAGES       0xffffffffu

/* COMPLETE */
#define SNC_COMPLETE_DOORBELL   1
/* CMPL_STATUS: 0 or -SNC_MAX_ERRNO to -1, as a 32-bit two's complement */
#define SNC_MAX_ERRNO           4095

/* Limits of the geometry and of the writable registers */
#define SNC_MAX_ZONES           65536
#define SNC_MAX_NODES           32
#define SNC_MAX_PERIOD_MS       2400000
#define SNC_MIN_SAMPLE_US       100
#define SNC_MAX_SAMPLE_US       1000000

/*
 * Each period end moves every counter to the snapshot while the device
 * holds QEMU's main lock, so it costs time in proportion to the counter
 * count.  A nonzero PERIOD_MS must give at least 1 ms per
 * SNC_COUNTERS_PER_MS counters (at least 1 ms): about 1% of one host
 * CPU at most, at a few nanoseconds per counter.  2048 zones and 2
 * nodes allow 1 ms; 65536 zones and 32 nodes, 512 ms.
 */
#define SNC_COUNTERS_PER_MS     4096
#define SNC_MIN_PERIOD_MS(counters) \
    (((counters) + SNC_COUNTERS_PER_MS - 1) / SNC_COUNTERS_PER_MS)

/*
 * Bad guest accesses are logged (LOG_GUEST_ERROR), at most
 * SNC_LOG_BURST messages in each SNC_LOG_WINDOW_MS of host time, so that
 * a guest cannot flood the host's log; the rest are counted and the
 * count is logged when the next window opens.
 */
#define SNC_LOG_BURST           64
#define SNC_LOG_WINDOW_MS       1000

/* BAR2: home_node[] value of a zone that holds no RAM */
#define SNC_NO_NODE             0xff

#endif /* HW_MEM_SNC_REGS_H */
