/*
 * Scalable Node Controller (SNC): per-zone, per-node touch counters
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A PCI device, at most one per machine, modelled on the node
 * controller of the 2004 page-migration service and on the Intel E8870
 * SNC's hot-page counters.  Guest RAM, in guest-physical order from
 * address 0, is cut into NR_ZONES equal zones of 2^ZONE_SHIFT bytes
 * (NR_ZONES * zone size >= the end of guest RAM at realize).  Holes
 * (the PCI hole, ROM) lie inside zones that simply never count.  Each
 * counter counts the touches of one zone from one source node, the
 * guest NUMA node of the touching vCPU.
 *
 * Under TCG a touch is a TLB fill of a guest RAM page; the device
 * flushes every vCPU's TLB each SAMPLE_US microseconds, so that fills
 * sample how often pages are used; in exact mode every data access to a
 * counted page fills the TLB again, so every load and store counts.
 * Other accelerators give no touch
 * information: CAPS.COUNTING is 0, STATUS.UNAVAILABLE is 1, start is
 * refused and every counter stays 0.
 *
 * BAR0, registers (4 KiB, little-endian; 64-bit registers may be read
 * as one 8-byte access or as two 4-byte halves):
 *
 *   0x000 ID           RO 32  0x30434e53 ("SNC0")
 *   0x004 VERSION      RO 32  0x00010000 (1.0)
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
 *                             request only, at most 2400000
 *   0x048 NODE_FILTER  RW 32  bitmap of counted source nodes, 0 = all
 *   0x04c SAMPLE_US    RW 32  TLB flush interval, 100 to 1000000
 *   0x050 INTR_STATUS  RW1C   bit 0 PERIOD_END
 *   0x054 INTR_ENABLE  RW 32  bit 0 PERIOD_END
 *   0x058 SEQ          RO 64  number of the snapshot's period
 *   0x060 PERIOD_NS    RO 64  length of the snapshot's period
 *   0x068 TOTAL        RO 64  touches counted since START
 *   0x080 HOT_ADDR     RW 32  counter index, zone * NR_NODES + node
 *   0x088 HOT_DATA     RO 64  snapshot counter at HOT_ADDR; HOT_ADDR
 *                             advances (wrapping to 0) after an 8-byte
 *                             read or a read of the upper half
 *   0x800-0xfff               reserved for a request mailbox (v2)
 *
 * BAR2, the snapshot (read-only): u64 counter[NR_ZONES][NR_NODES],
 * then u8 home_node[NR_ZONES] (0xff: no RAM in the zone).
 *
 * Bad accesses (unknown or reserved offsets, wrong sizes, unaligned
 * accesses, writes to read-only registers, out-of-range values) are
 * logged with LOG_GUEST_ERROR and ignored; reads return 0.
 * docs/design/snc.md describes the device in full.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/qapi-events-snc.h"
#include "exec/cputlb.h"
#include "exec/target_page.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "hw/pci/msi.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/hostmem.h"
#include "system/numa.h"
#include "system/tcg.h"
#include "snc.h"
#include "guest-ram-range.h"
#include "trace.h"

#define SNC_ID                  0x30434e53      /* "SNC0" */
#define SNC_VERSION             0x00010000

#define REG_ID                  0x000
#define REG_VERSION             0x004
#define REG_CAPS                0x008
#define REG_STATUS              0x00c
#define REG_NR_ZONES            0x010
#define REG_NR_NODES            0x014
#define REG_ZONE_SHIFT          0x018
#define REG_ZONE_BASE           0x020
#define REG_CONTROL             0x040
#define REG_PERIOD_MS           0x044
#define REG_NODE_FILTER         0x048
#define REG_SAMPLE_US           0x04c
#define REG_INTR_STATUS         0x050
#define REG_INTR_ENABLE         0x054
#define REG_SEQ                 0x058
#define REG_PERIOD_NS           0x060
#define REG_TOTAL               0x068
#define REG_HOT_ADDR            0x080
#define REG_HOT_DATA            0x088
#define REGS_SIZE               0x1000

#define CAPS_COUNTING           BIT(0)
#define CAPS_EXACT              BIT(1)
#define STATUS_RUNNING          BIT(0)
#define STATUS_UNAVAILABLE      BIT(1)
#define STATUS_SNAPSHOT         BIT(2)
#define CONTROL_START           BIT(0)
#define CONTROL_STOP            BIT(1)
#define CONTROL_SNAPSHOT        BIT(2)
#define CONTROL_MODE_SHIFT      4
#define CONTROL_MODE_MASK       (3 << CONTROL_MODE_SHIFT)
#define CONTROL_EXACT           BIT(8)
#define CONTROL_VALID           (CONTROL_START | CONTROL_STOP | \
                                 CONTROL_SNAPSHOT | CONTROL_MODE_MASK | \
                                 CONTROL_EXACT)
#define INTR_PERIOD_END         BIT(0)

#define SNC_EVENT_INTERVAL_MS   1000

/* Counting, on vCPU threads */

/* Returns true, in exact mode, to see every data access to the page. */
static bool snc_ram_fill(CPUState *cpu, hwaddr paddr, void *opaque)
{
    SNCState *s = opaque;
    uint64_t zone = paddr >> s->zone_shift;
    unsigned node;

    if (!qatomic_read(&s->running) || zone >= s->nr_zones ||
        cpu->cpu_index >= s->nr_cpu_node) {
        return false;
    }
    node = s->cpu_node[cpu->cpu_index];
    if (node == SNC_NO_NODE || !(qatomic_read(&s->node_mask) & BIT(node))) {
        return false;
    }
    if (qatomic_read(&s->mode) == SNC_MODE_REMOTE && s->home[zone] == node) {
        return false;
    }
    qatomic_inc(&s->live[zone * s->nr_nodes + node]);
    return qatomic_read(&s->exact);
}

/*
 * Touches counted since start: those already moved to snapshots plus
 * the live counters.  Exact while the vCPUs are stopped.
 */
uint64_t snc_total(SNCState *s)
{
    uint64_t total = s->total_done;

    for (uint32_t i = 0; i < s->nr_counters; i++) {
        total += qatomic_read(&s->live[i]);
    }
    return total;
}

static void snc_flush_tlb_work(CPUState *cpu, run_on_cpu_data data)
{
    tlb_flush(cpu);
}

static void snc_sample(void *opaque)
{
    SNCState *s = opaque;
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        async_run_on_cpu(cpu, snc_flush_tlb_work, RUN_ON_CPU_NULL);
    }
    timer_mod(s->sample_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              (int64_t)s->sample_us * SCALE_US);
}

/* Geometry */

typedef struct HomeWalk {
    SNCState *s;
    MachineState *ms;
} HomeWalk;

static unsigned snc_node_of_ram(MachineState *ms, const MemoryRegion *mr)
{
    Object *owner = mr->owner;
    int i;

    if (!ms->numa_state || ms->numa_state->num_nodes == 0) {
        return 0;
    }
    for (i = 0; i < ms->numa_state->num_nodes; i++) {
        HostMemoryBackend *be = ms->numa_state->nodes[i].node_memdev;

        if (be && OBJECT(be) == owner) {
            return i;
        }
    }
    return SNC_NO_NODE;
}

static bool snc_home_cb(Int128 start, Int128 len, const MemoryRegion *mr,
                        hwaddr offset_in_region, void *opaque)
{
    HomeWalk *w = opaque;
    SNCState *s = w->s;
    uint64_t first = int128_get64(start) >> s->zone_shift;
    uint64_t last = (int128_get64(start) + int128_get64(len) - 1)
                    >> s->zone_shift;
    unsigned node;
    uint64_t z;

    if (!mr->ram || mr->readonly || mr->ram_device || !mr->ram_block) {
        return false;
    }
    node = snc_node_of_ram(w->ms, mr);
    for (z = first; z <= last && z < s->nr_zones; z++) {
        if (s->home[z] == SNC_NO_NODE) {
            s->home[z] = node;
        }
    }
    return first >= s->nr_zones;
}

/* The home node of every zone, and the node of every vCPU.  BQL held. */
static void snc_update_topology(SNCState *s)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    MachineClass *mc = MACHINE_GET_CLASS(ms);
    HomeWalk w = { .s = s, .ms = ms };
    const CPUArchIdList *ids;
    CPUState *cpu;
    int i;

    memset(s->home, SNC_NO_NODE, s->nr_zones);
    WITH_RCU_READ_LOCK_GUARD() {
        flatview_for_each_range(
            address_space_to_flatview(&address_space_memory),
            snc_home_cb, &w);
    }

    memset(s->cpu_node, SNC_NO_NODE, s->nr_cpu_node);
    if (s->nr_nodes == 1 || !mc->possible_cpu_arch_ids) {
        CPU_FOREACH(cpu) {
            if (cpu->cpu_index < s->nr_cpu_node) {
                s->cpu_node[cpu->cpu_index] = 0;
            }
        }
        return;
    }
    ids = mc->possible_cpu_arch_ids(ms);
    for (i = 0; i < ids->len; i++) {
        CPUState *c = ids->cpus[i].cpu ? CPU(ids->cpus[i].cpu) : NULL;

        if (c && c->cpu_index < s->nr_cpu_node &&
            ids->cpus[i].props.has_node_id &&
            ids->cpus[i].props.node_id < s->nr_nodes) {
            s->cpu_node[c->cpu_index] = ids->cpus[i].props.node_id;
        }
    }
}

/* Control; BQL held */

const char *snc_unavailable_reason(void)
{
    if (tcg_enabled()) {
        return NULL;
    }
    return "touch counting needs the TCG accelerator";
}

static void snc_update_irq(SNCState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool level = s->intr_status & s->intr_enable;

    if (msi_enabled(pdev)) {
        if (level) {
            msi_notify(pdev, 0);
        }
    } else {
        pci_set_irq(pdev, level);
    }
}

static void snc_arm_period(SNCState *s)
{
    if (s->running && s->period_ms) {
        timer_mod(s->period_timer, s->period_start +
                  (int64_t)s->period_ms * SCALE_MS);
    } else {
        timer_del(s->period_timer);
    }
}

static void snc_emit_event(SNCState *s, uint64_t total)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

    if (s->last_event && now - s->last_event < SNC_EVENT_INTERVAL_MS) {
        s->missed_events++;
        return;
    }
    qapi_event_send_snc_period_end(s->seq, s->period_ns, total,
                                   s->missed_events);
    s->last_event = now;
    s->missed_events = 0;
}

/*
 * End the current period: move every live counter into the snapshot
 * with one atomic exchange, so that each touch lands in exactly one
 * period whatever the vCPUs are doing meanwhile.
 */
void snc_snapshot(SNCState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    bool track_max = s->mode == SNC_MODE_TRACK_MAX;
    uint64_t total = 0;
    uint32_t i;

    for (i = 0; i < s->nr_counters; i++) {
        uint64_t v = qatomic_xchg(&s->live[i], 0);

        total += v;
        s->snap[i] = track_max ? MAX(s->snap[i], v) : v;
    }
    s->total_done += total;
    s->seq++;
    s->period_ns = now - s->period_start;
    s->period_start = now;
    s->intr_status |= INTR_PERIOD_END;
    trace_snc_snapshot(s->seq, s->period_ns, total);
    snc_update_irq(s);
    snc_emit_event(s, total);
    snc_arm_period(s);
}

static void snc_period_end(void *opaque)
{
    snc_snapshot(opaque);
}

bool snc_start(SNCState *s, Error **errp)
{
    const char *reason = snc_unavailable_reason();

    if (reason) {
        error_setg(errp, "%s: %s", object_get_canonical_path(OBJECT(s)),
                   reason);
        return false;
    }
    snc_stop(s);
    snc_update_topology(s);
    memset(s->snap, 0, s->nr_counters * sizeof(*s->snap));
    for (uint32_t i = 0; i < s->nr_counters; i++) {
        qatomic_set(&s->live[i], 0);
    }
    s->total_done = 0;
    s->period_start = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    if (!tlb_set_ram_fill_observer(snc_ram_fill, s)) {
        error_setg(errp, "%s: another device observes TLB fills",
                   object_get_canonical_path(OBJECT(s)));
        return false;
    }
    qatomic_set(&s->running, true);
    snc_sample(s);
    snc_arm_period(s);
    trace_snc_start(s->mode, s->node_mask, s->period_ms, s->sample_us);
    return true;
}

void snc_stop(SNCState *s)
{
    if (!s->running) {
        return;
    }
    qatomic_set(&s->running, false);
    tlb_set_ram_fill_observer(NULL, NULL);
    timer_del(s->sample_timer);
    timer_del(s->period_timer);
    trace_snc_stop(snc_total(s));
}

bool snc_set_node_filter(SNCState *s, uint32_t filter, Error **errp)
{
    uint32_t all = MAKE_64BIT_MASK(0, s->nr_nodes);

    if (filter & ~all) {
        error_setg(errp, "'source-nodes' names node %d, but the machine"
                   " has %u NUMA node%s", ctz32(filter & ~all), s->nr_nodes,
                   s->nr_nodes == 1 ? "" : "s");
        return false;
    }
    s->node_filter = filter;
    qatomic_set(&s->node_mask, filter ? filter : all);
    return true;
}

bool snc_check_period(uint64_t period_ms, Error **errp)
{
    if (period_ms > SNC_MAX_PERIOD_MS) {
        error_setg(errp, "'period-ms' %" PRIu64 " is above the maximum of %u"
                   " (40 minutes)", period_ms, SNC_MAX_PERIOD_MS);
        return false;
    }
    return true;
}

bool snc_check_sample_interval(uint64_t sample_us, Error **errp)
{
    if (sample_us < SNC_MIN_SAMPLE_US || sample_us > SNC_MAX_SAMPLE_US) {
        error_setg(errp, "'sample-interval-us' %" PRIu64 " is out of range:"
                   " it must be from %u to %u", sample_us, SNC_MIN_SAMPLE_US,
                   SNC_MAX_SAMPLE_US);
        return false;
    }
    return true;
}

bool snc_set_period(SNCState *s, uint64_t period_ms, Error **errp)
{
    if (!snc_check_period(period_ms, errp)) {
        return false;
    }
    s->period_ms = period_ms;
    snc_arm_period(s);
    return true;
}

bool snc_set_sample_interval(SNCState *s, uint64_t sample_us, Error **errp)
{
    if (!snc_check_sample_interval(sample_us, errp)) {
        return false;
    }
    s->sample_us = sample_us;
    return true;
}

SNCState *snc_find(Error **errp)
{
    Object *obj = object_resolve_path_type("", TYPE_SNC, NULL);

    if (!obj) {
        error_setg(errp, "No Scalable Node Controller: add -device snc");
        return NULL;
    }
    return SNC(obj);
}

/* BAR0 */

static void snc_bad_access(SNCState *s, const char *what, hwaddr addr,
                           unsigned size, uint64_t val)
{
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %s at 0x%03" HWADDR_PRIx
                  " (size %u, value 0x%" PRIx64 "), ignored\n",
                  TYPE_SNC, what, addr, size, val);
}

/* The 64-bit value of the register at @reg, or false if none is there. */
static bool snc_reg64(SNCState *s, hwaddr reg, uint64_t *val)
{
    switch (reg) {
    case REG_ZONE_BASE:
        *val = 0;
        return true;
    case REG_SEQ:
        *val = s->seq;
        return true;
    case REG_PERIOD_NS:
        *val = s->period_ns;
        return true;
    case REG_TOTAL:
        *val = snc_total(s);
        return true;
    case REG_HOT_DATA:
        *val = s->snap[s->hot_addr];
        return true;
    }
    return false;
}

static bool snc_reg32(SNCState *s, hwaddr reg, uint64_t *val)
{
    switch (reg) {
    case REG_ID:
        *val = SNC_ID;
        break;
    case REG_VERSION:
        *val = SNC_VERSION;
        break;
    case REG_CAPS:
        *val = s->available ? CAPS_COUNTING | CAPS_EXACT : 0;
        break;
    case REG_STATUS:
        *val = (s->running ? STATUS_RUNNING : 0) |
               (s->available ? 0 : STATUS_UNAVAILABLE) |
               (s->seq ? STATUS_SNAPSHOT : 0);
        break;
    case REG_NR_ZONES:
        *val = s->nr_zones;
        break;
    case REG_NR_NODES:
        *val = s->nr_nodes;
        break;
    case REG_ZONE_SHIFT:
        *val = s->zone_shift;
        break;
    case REG_CONTROL:
        *val = s->mode << CONTROL_MODE_SHIFT |
               (s->exact ? CONTROL_EXACT : 0);
        break;
    case REG_PERIOD_MS:
        *val = s->period_ms;
        break;
    case REG_NODE_FILTER:
        *val = s->node_filter;
        break;
    case REG_SAMPLE_US:
        *val = s->sample_us;
        break;
    case REG_INTR_STATUS:
        *val = s->intr_status;
        break;
    case REG_INTR_ENABLE:
        *val = s->intr_enable;
        break;
    case REG_HOT_ADDR:
        *val = s->hot_addr;
        break;
    default:
        return false;
    }
    return true;
}

static void snc_hot_advance(SNCState *s)
{
    s->hot_addr = (s->hot_addr + 1) % s->nr_counters;
}

static uint64_t snc_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    SNCState *s = opaque;
    uint64_t val;

    if (size == 8 && !(addr & 7) && snc_reg64(s, addr, &val)) {
        if (addr == REG_HOT_DATA) {
            snc_hot_advance(s);
        }
    } else if (size == 4 && !(addr & 3) && snc_reg32(s, addr, &val)) {
        /* a 32-bit register */
    } else if (size == 4 && !(addr & 3) && snc_reg64(s, addr & ~7, &val)) {
        if (addr & 4) {
            val >>= 32;
            if ((addr & ~7) == REG_HOT_DATA) {
                snc_hot_advance(s);
            }
        }
        val = (uint32_t)val;
    } else {
        snc_bad_access(s, "bad register read", addr, size, 0);
        return 0;
    }
    trace_snc_reg_read(addr, size, val);
    return val;
}

static void snc_write_control(SNCState *s, uint32_t val)
{
    uint32_t cmd = val & (CONTROL_START | CONTROL_STOP | CONTROL_SNAPSHOT);
    uint32_t mode = (val & CONTROL_MODE_MASK) >> CONTROL_MODE_SHIFT;

    if ((val & ~CONTROL_VALID) || mode >= SNC_MODE__MAX || ctpop32(cmd) > 1) {
        snc_bad_access(s, "reserved CONTROL value", REG_CONTROL, 4, val);
        return;
    }
    qatomic_set(&s->mode, mode);
    qatomic_set(&s->exact, !!(val & CONTROL_EXACT));
    if (cmd == CONTROL_START) {
        if (!s->available) {
            snc_bad_access(s, "START while counting is unavailable",
                           REG_CONTROL, 4, val);
            return;
        }
        snc_start(s, NULL);
    } else if (cmd == CONTROL_STOP) {
        snc_stop(s);
    } else if (cmd == CONTROL_SNAPSHOT) {
        snc_snapshot(s);
    }
}

static void snc_regs_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    SNCState *s = opaque;

    trace_snc_reg_write(addr, size, val);
    if (size != 4 || (addr & 3)) {
        snc_bad_access(s, "bad register write size or alignment", addr, size,
                       val);
        return;
    }
    switch (addr) {
    case REG_CONTROL:
        snc_write_control(s, val);
        break;
    case REG_PERIOD_MS:
        if (!snc_set_period(s, val, NULL)) {
            snc_bad_access(s, "PERIOD_MS above 2400000", addr, size, val);
        }
        break;
    case REG_NODE_FILTER:
        if (!snc_set_node_filter(s, val, NULL)) {
            snc_bad_access(s, "NODE_FILTER names absent nodes", addr, size,
                           val);
        }
        break;
    case REG_SAMPLE_US:
        if (!snc_set_sample_interval(s, val, NULL)) {
            snc_bad_access(s, "SAMPLE_US out of range", addr, size, val);
        }
        break;
    case REG_INTR_STATUS:
        s->intr_status &= ~val;
        snc_update_irq(s);
        break;
    case REG_INTR_ENABLE:
        if (val & ~INTR_PERIOD_END) {
            snc_bad_access(s, "reserved INTR_ENABLE bits", addr, size, val);
            return;
        }
        s->intr_enable = val;
        snc_update_irq(s);
        break;
    case REG_HOT_ADDR:
        if (val >= s->nr_counters) {
            snc_bad_access(s, "HOT_ADDR beyond the last counter", addr, size,
                           val);
            return;
        }
        s->hot_addr = val;
        break;
    default:
        snc_bad_access(s, "write to a read-only or reserved register", addr,
                       size, val);
    }
}

static const MemoryRegionOps snc_regs_ops = {
    .read = snc_regs_read,
    .write = snc_regs_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

/* BAR2 */

static uint64_t snc_matrix_read(void *opaque, hwaddr addr, unsigned size)
{
    SNCState *s = opaque;
    hwaddr counters = (hwaddr)s->nr_counters * sizeof(uint64_t);

    if (addr < counters && (size == 4 || size == 8) && !(addr & (size - 1))) {
        uint64_t v = s->snap[addr / 8];

        return size == 8 ? v : (uint32_t)(v >> ((addr & 4) * 8));
    }
    if (addr >= counters && addr + size <= counters + s->nr_zones &&
        !(addr & (size - 1))) {
        uint64_t v = 0;

        for (unsigned i = 0; i < size; i++) {
            v |= (uint64_t)s->home[addr - counters + i] << (i * 8);
        }
        return v;
    }
    snc_bad_access(s, "bad counter matrix read", addr, size, 0);
    return 0;
}

static void snc_matrix_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    snc_bad_access(opaque, "write to the read-only counter matrix", addr,
                   size, val);
}

static const MemoryRegionOps snc_matrix_ops = {
    .read = snc_matrix_read,
    .write = snc_matrix_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

/* Device */

static void snc_realize(PCIDevice *pdev, Error **errp)
{
    SNCState *s = SNC(pdev);
    MachineState *ms = MACHINE(qdev_get_machine());
    bool ambiguous = false;
    uint64_t zone_size, ram_end;
    int nodes = ms->numa_state ? ms->numa_state->num_nodes : 0;

    object_resolve_path_type("", TYPE_SNC, &ambiguous);
    if (ambiguous) {
        error_setg(errp, "at most one %s device per machine", TYPE_SNC);
        return;
    }
    if (!is_power_of_2(s->nr_zones) || s->nr_zones > SNC_MAX_ZONES) {
        error_setg(errp, "property 'zones' must be a power of two from 1"
                   " to %u, not %u", SNC_MAX_ZONES, s->nr_zones);
        return;
    }
    if (nodes > SNC_MAX_NODES) {
        error_setg(errp, "%s supports at most %u NUMA nodes; the machine"
                   " has %d", TYPE_SNC, SNC_MAX_NODES, nodes);
        return;
    }
    if (!snc_check_period(s->period_ms, errp) ||
        !snc_check_sample_interval(s->sample_us, errp)) {
        error_prepend(errp, "property ");
        return;
    }

    ram_end = guest_ram_end();
    zone_size = MAX(DIV_ROUND_UP(ram_end, s->nr_zones),
                    1ULL << qemu_target_page_bits_min());
    s->zone_shift = ctz64(pow2ceil(zone_size));
    s->nr_nodes = MAX(nodes, 1);
    s->nr_counters = s->nr_zones * s->nr_nodes;
    s->home = g_malloc(s->nr_zones);
    s->nr_cpu_node = ms->smp.max_cpus;
    s->cpu_node = g_malloc(s->nr_cpu_node);
    s->live = g_new0(uint64_t, s->nr_counters);
    s->snap = g_new0(uint64_t, s->nr_counters);
    s->available = !snc_unavailable_reason();
    snc_set_node_filter(s, 0, &error_abort);
    snc_update_topology(s);

    if (msi_init(pdev, 0, 1, true, false, errp)) {
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 1);

    s->period_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, snc_period_end, s);
    s->sample_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, snc_sample, s);

    memory_region_init_io(&s->regs, OBJECT(s), &snc_regs_ops, s,
                          "snc-regs", REGS_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->regs);
    memory_region_init_io(&s->matrix, OBJECT(s), &snc_matrix_ops, s,
                          "snc-matrix",
                          pow2ceil((uint64_t)s->nr_counters * 8 +
                                   s->nr_zones));
    pci_register_bar(pdev, 2, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->matrix);
    trace_snc_realize(s->nr_zones, s->nr_nodes, s->zone_shift, ram_end,
                      s->available);
}

static void snc_exit(PCIDevice *pdev)
{
    SNCState *s = SNC(pdev);

    snc_stop(s);
    timer_free(s->period_timer);
    timer_free(s->sample_timer);
    msi_uninit(pdev);
    g_free(s->home);
    g_free(s->cpu_node);
    g_free(s->live);
    g_free(s->snap);
}

static void snc_reset(DeviceState *dev)
{
    SNCState *s = SNC(dev);

    snc_stop(s);
    s->intr_status = 0;
    s->intr_enable = 0;
    s->hot_addr = 0;
    snc_update_irq(s);
}

static int snc_post_load(void *opaque, int version_id)
{
    SNCState *s = opaque;
    bool was_running = s->running;

    s->running = false;
    if (s->mode >= SNC_MODE__MAX || s->hot_addr >= s->nr_counters ||
        !snc_set_node_filter(s, s->node_filter, NULL) ||
        !snc_set_period(s, s->period_ms, NULL) ||
        !snc_set_sample_interval(s, s->sample_us, NULL)) {
        return -EINVAL;
    }
    snc_update_topology(s);
    if (was_running && s->available) {
        /* Resume counting; the period timer came with the stream. */
        qatomic_set(&s->running, true);
        tlb_set_ram_fill_observer(snc_ram_fill, s);
        snc_sample(s);
    } else if (was_running) {
        timer_del(s->period_timer);
        trace_snc_stop(snc_total(s));
    }
    return 0;
}

static const VMStateDescription vmstate_snc = {
    .name = TYPE_SNC,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = snc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, SNCState),
        VMSTATE_UINT32_EQUAL(nr_zones, SNCState, NULL),
        VMSTATE_UINT32_EQUAL(nr_nodes, SNCState, NULL),
        VMSTATE_UINT32_EQUAL(zone_shift, SNCState, NULL),
        VMSTATE_UINT32_EQUAL(nr_counters, SNCState, NULL),
        VMSTATE_BOOL(running, SNCState),
        VMSTATE_UINT32(mode, SNCState),
        VMSTATE_BOOL(exact, SNCState),
        VMSTATE_UINT32(node_filter, SNCState),
        VMSTATE_UINT32(period_ms, SNCState),
        VMSTATE_UINT32(sample_us, SNCState),
        VMSTATE_UINT32(intr_status, SNCState),
        VMSTATE_UINT32(intr_enable, SNCState),
        VMSTATE_UINT32(hot_addr, SNCState),
        VMSTATE_UINT64(seq, SNCState),
        VMSTATE_UINT64(period_ns, SNCState),
        VMSTATE_INT64(period_start, SNCState),
        VMSTATE_UINT64(total_done, SNCState),
        VMSTATE_TIMER_PTR(period_timer, SNCState),
        VMSTATE_VARRAY_UINT32(live, SNCState, nr_counters, 0,
                              vmstate_info_uint64, uint64_t),
        VMSTATE_VARRAY_UINT32(snap, SNCState, nr_counters, 0,
                              vmstate_info_uint64, uint64_t),
        VMSTATE_END_OF_LIST()
    },
};

static const Property snc_properties[] = {
    DEFINE_PROP_UINT32("zones", SNCState, nr_zones, SNC_DEFAULT_ZONES),
    DEFINE_PROP_UINT32("period-ms", SNCState, period_ms, 1000),
    DEFINE_PROP_UINT32("sample-interval-us", SNCState, sample_us, 100000),
};

static void snc_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = snc_realize;
    k->exit = snc_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x534e;
    k->revision = 1;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "Scalable Node Controller (NUMA touch counters)";
    dc->vmsd = &vmstate_snc;
    dc->hotpluggable = false;
    device_class_set_legacy_reset(dc, snc_reset);
    device_class_set_props(dc, snc_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo snc_info = {
    .name = TYPE_SNC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(SNCState),
    .class_init = snc_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void snc_register_types(void)
{
    type_register_static(&snc_info);
}

type_init(snc_register_types)
