/*
 * Scalable Node Controller (SNC): per-zone, per-node touch counters
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A PCI device, at most one per machine, that counts how often guest
 * NUMA nodes touch guest RAM: per-zone, per-source-node hot-page
 * counters read through an address/data register pair or a mapped
 * counter matrix.  Guest RAM, in guest-physical order from address 0,
 * is cut into NR_ZONES equal zones of 2^ZONE_SHIFT bytes (NR_ZONES *
 * zone size >= the end of guest RAM at realize).  Only the RAM of the
 * machine's NUMA nodes counts, as guest_ram_range_visible() reports it:
 * holes (the PCI hole), ROM and device RAM inside a zone never count,
 * and a zone without node RAM (home node SNC_NO_NODE) never counts.
 * Each counter counts the touches of one zone from one source node, the
 * guest NUMA node of the touching vCPU.
 *
 * Under TCG a touch is a TLB fill of a guest RAM page; the device
 * flushes every vCPU's TLB each SAMPLE_US microseconds, so that fills
 * sample how often pages are used; in exact mode every data access to a
 * counted page fills the TLB again, so every load and store counts.
 * Other accelerators give no touch information: CAPS.COUNTING is 0,
 * STATUS.UNAVAILABLE is 1, start is refused and every counter stays 0.
 *
 * The register map is in snc_regs.h, shared with the guest programs.
 * docs/design/snc.md describes the device in full.
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/qapi-events-snc.h"
#include "block/aio.h"
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

#define SNC_EVENT_INTERVAL_MS   1000

/* CONTROL.MODE carries QMP's SncMode as it is. */
QEMU_BUILD_BUG_ON(SNC_MODE_ALL != SNC_CONTROL_MODE_ALL ||
                  SNC_MODE_REMOTE != SNC_CONTROL_MODE_REMOTE ||
                  SNC_MODE_TRACK_MAX != SNC_CONTROL_MODE_TRACK_MAX);

/* HOST_MODE carries QMP's SncHostMode as it is. */
QEMU_BUILD_BUG_ON(SNC_HOST_MODE_OFF != SNC_HOSTMODE_OFF ||
                  SNC_HOST_MODE_HOST_ONLY != SNC_HOSTMODE_HOST_ONLY ||
                  SNC_HOST_MODE_GUEST_ONLY != SNC_HOSTMODE_GUEST_ONLY ||
                  SNC_HOST_MODE_COOPERATIVE != SNC_HOSTMODE_COOPERATIVE);

/* The completion counts, in register order from CMPL_MOVED */
enum {
    SNC_CMPL_MOVED = (SNC_REG_CMPL_MOVED - SNC_REG_CMPL_ID) / 4,
    SNC_CMPL_ALREADY,
    SNC_CMPL_BUSY,
    SNC_CMPL_SHARED,
    SNC_CMPL_PINNED,
    SNC_CMPL_NOMEM,
    SNC_CMPL_RANGE,
};
QEMU_BUILD_BUG_ON(SNC_CMPL_RANGE !=
                  (SNC_REG_CMPL_RANGE - SNC_REG_CMPL_ID) / 4);
#define SNC_CMPL_ID_IDX     0
#define SNC_CMPL_STATUS_IDX ((SNC_REG_CMPL_STATUS - SNC_REG_CMPL_ID) / 4)

/* Counting, on vCPU threads */

/* Whether @paddr is node RAM.  Under RCU, which the fill path holds. */
static bool snc_is_node_ram(SNCState *s, hwaddr paddr)
{
    SNCRamMap *map = qatomic_rcu_read(&s->ram_map);
    unsigned lo = 0, hi = map->nr_runs;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (paddr >= map->runs[mid].end) {
            lo = mid + 1;
        } else if (paddr < map->runs[mid].start) {
            hi = mid;
        } else {
            return true;
        }
    }
    return false;
}

/*
 * The observer of RAM TLB fills, on vCPU threads.  The fill path calls
 * it for any RAM, ROM included: only node RAM in a zone with a home
 * node counts.  Returns true, in exact mode, to see every data access
 * to the page.
 */
static bool snc_ram_fill(CPUState *cpu, hwaddr paddr, void *opaque)
{
    SNCState *s = opaque;
    uint64_t zone = paddr >> s->zone_shift;
    unsigned node;

    if (!qatomic_read(&s->running) || zone >= s->nr_zones ||
        cpu->cpu_index >= s->nr_cpu_node || s->home[zone] == SNC_NO_NODE ||
        !snc_is_node_ram(s, paddr)) {
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

/* The NUMA node whose memory backend is @memdev, or SNC_NO_NODE. */
static unsigned snc_node_of_memdev(MachineState *ms, HostMemoryBackend *memdev)
{
    int i;

    if (!memdev) {
        return SNC_NO_NODE;
    }
    if (!ms->numa_state || ms->numa_state->num_nodes == 0) {
        /* Without -numa, the machine's own RAM is node 0. */
        return OBJECT(memdev) == OBJECT(ms->memdev) ? 0 : SNC_NO_NODE;
    }
    for (i = 0; i < ms->numa_state->num_nodes; i++) {
        if (ms->numa_state->nodes[i].node_memdev == memdev) {
            return i;
        }
    }
    return SNC_NO_NODE;
}

/*
 * The home node of every zone and the runs of node RAM, from the one
 * guest-RAM walker.  Device RAM (RAM not owned by a node's backend) has
 * no home and is left out of the runs, as the walker leaves out ROM,
 * RAM devices and MMIO.
 */
static void snc_update_ram(SNCState *s, MachineState *ms)
{
    uint64_t zones_end = (uint64_t)s->nr_zones << s->zone_shift;
    g_autoptr(GuestRamRange) range = NULL;
    SNCRamMap *map, *old;
    unsigned i;

    memset(s->home, SNC_NO_NODE, s->nr_zones);
    range = guest_ram_range_visible(0, zones_end, NULL);
    map = g_malloc0(sizeof(*map) +
                    (range ? range->nr_pieces : 0) * sizeof(SNCRamRun));
    for (i = 0; range && i < range->nr_pieces; i++) {
        const GuestRamPiece *p = &range->pieces[i];
        unsigned node = snc_node_of_memdev(ms, p->memdev);
        uint64_t z;

        if (node == SNC_NO_NODE) {
            continue;
        }
        for (z = p->gpa >> s->zone_shift;
             z <= (p->gpa + p->size - 1) >> s->zone_shift; z++) {
            if (s->home[z] == SNC_NO_NODE) {
                s->home[z] = node;
            }
        }
        if (map->nr_runs && map->runs[map->nr_runs - 1].end == p->gpa) {
            map->runs[map->nr_runs - 1].end = p->gpa + p->size;
        } else {
            map->runs[map->nr_runs++] = (SNCRamRun) {
                .start = p->gpa, .end = p->gpa + p->size,
            };
        }
    }
    old = qatomic_xchg(&s->ram_map, map);
    if (old) {
        g_free_rcu(old, rcu);
    }
}

/* The home node of every zone, and the node of every vCPU.  BQL held. */
static void snc_update_topology(SNCState *s)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    MachineClass *mc = MACHINE_GET_CLASS(ms);
    const CPUArchIdList *ids;
    CPUState *cpu;
    int i;

    snc_update_ram(s, ms);

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
    g_autofree char *path = NULL;

    if (s->last_event && now - s->last_event < SNC_EVENT_INTERVAL_MS) {
        s->missed_events++;
        return;
    }
    path = object_get_canonical_path(OBJECT(s));
    qapi_event_send_snc_period_end(path, s->seq, s->period_ns, total,
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
    s->intr_status |= SNC_INTR_PERIOD_END;
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
        g_autofree char *path = object_get_canonical_path(OBJECT(s));

        error_setg(errp, "%s: %s", path, reason);
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
        g_autofree char *path = object_get_canonical_path(OBJECT(s));

        error_setg(errp, "%s: another device observes TLB fills", path);
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

static bool snc_check_node_filter(SNCState *s, uint32_t filter,
                                  Error **errp)
{
    uint32_t all = MAKE_64BIT_MASK(0, s->nr_nodes);

    if (filter & ~all) {
        error_setg(errp, "'source-nodes' names node %d, but the machine"
                   " has %u NUMA node%s", ctz32(filter & ~all), s->nr_nodes,
                   s->nr_nodes == 1 ? "" : "s");
        return false;
    }
    return true;
}

bool snc_set_node_filter(SNCState *s, uint32_t filter, Error **errp)
{
    if (!snc_check_node_filter(s, filter, errp)) {
        return false;
    }
    s->node_filter = filter;
    qatomic_set(&s->node_mask,
                filter ? filter : MAKE_64BIT_MASK(0, s->nr_nodes));
    return true;
}

/* The shortest nonzero period, which bounds the snapshot's BQL time. */
uint32_t snc_min_period(SNCState *s)
{
    return SNC_MIN_PERIOD_MS(s->nr_counters);
}

bool snc_check_period(SNCState *s, uint64_t period_ms, Error **errp)
{
    if (period_ms > SNC_MAX_PERIOD_MS) {
        error_setg(errp, "'period-ms' %" PRIu64 " is above the maximum of %u"
                   " (40 minutes)", period_ms, SNC_MAX_PERIOD_MS);
        return false;
    }
    if (period_ms && period_ms < snc_min_period(s)) {
        error_setg(errp, "'period-ms' %" PRIu64 " is below the minimum of %u"
                   " for %u counters (1 ms per %u counters), and not 0",
                   period_ms, snc_min_period(s), s->nr_counters,
                   SNC_COUNTERS_PER_MS);
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
    if (!snc_check_period(s, period_ms, errp)) {
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

/*
 * The machine's SNC, once realized: realize allows one per machine.
 * Every QMP command finds it here, not by a walk of the QOM tree, which
 * costs a command more than the rest of its work.
 */
static SNCState *snc_device;

SNCState *snc_find(const char *device, Error **errp)
{
    Object *obj;

    if (!device) {
        if (!snc_device) {
            error_setg(errp, "No Scalable Node Controller: add -device snc");
        }
        return snc_device;
    }
    if (snc_device && !g_strcmp0(DEVICE(snc_device)->id, device)) {
        return snc_device;
    }
    /* A partial path, so a device ID names the device too. */
    obj = object_resolve_path_type(device, TYPE_SNC, NULL);
    if (!obj) {
        error_setg(errp, "'device' '%s' is not an snc device", device);
        return NULL;
    }
    return SNC(obj);
}

GSList *snc_list(void)
{
    return snc_device ? g_slist_prepend(NULL, snc_device) : NULL;
}

/* Request mailbox; BQL held */

unsigned snc_mbox_depth(SNCState *s)
{
    unsigned i, n = 0;

    for (i = 0; i < SNC_RING_SIZE; i++) {
        n += s->req_action[i] != SNC_REQ_ACTION_NONE;
    }
    return n;
}

/* Take the request out of @slot, which is then free. */
static SNCRequest snc_mbox_take(SNCState *s, unsigned slot)
{
    SNCRequest r = {
        .id = s->req_id[slot], .action = s->req_action[slot],
        .addr = s->req_addr[slot], .size = s->req_size[slot],
        .node = s->req_node[slot], .waiter = s->waiter[slot],
    };

    s->req_action[slot] = SNC_REQ_ACTION_NONE;
    s->req_id[slot] = 0;
    s->req_addr[slot] = 0;
    s->req_size[slot] = 0;
    s->req_node[slot] = 0;
    s->waiter[slot] = NULL;
    return r;
}

/*
 * End request @r with @outcome: count it, send the event, hand the
 * completion to a waiting snc-guest-migrate.  @cmpl is the staging
 * registers, for a completion the guest made.
 */
static void snc_mbox_finish(SNCState *s, const SNCRequest *r,
                            SncGuestOutcome outcome, const uint32_t *cmpl)
{
    SncGuestCompletion *c = g_new0(SncGuestCompletion, 1);
    SNCWaiter *w = r->waiter;

    c->qom_path = object_get_canonical_path(OBJECT(s));
    c->id = r->id;
    c->action = r->action == SNC_REQ_ACTION_HINT ?
                SNC_GUEST_ACTION_HINT : SNC_GUEST_ACTION_MIGRATE;
    c->addr = r->addr;
    c->size = r->size;
    c->node = r->node;
    c->outcome = outcome;
    if (cmpl) {
        c->status = (int32_t)cmpl[SNC_CMPL_STATUS_IDX];
        c->moved = cmpl[SNC_CMPL_MOVED];
        c->already_on_node = cmpl[SNC_CMPL_ALREADY];
        c->failed_busy = cmpl[SNC_CMPL_BUSY];
        c->failed_shared = cmpl[SNC_CMPL_SHARED];
        c->failed_pinned = cmpl[SNC_CMPL_PINNED];
        c->failed_no_memory = cmpl[SNC_CMPL_NOMEM];
        c->failed_bad_range = cmpl[SNC_CMPL_RANGE];
    }
    switch (outcome) {
    case SNC_GUEST_OUTCOME_COMPLETED:
        if (c->status) {
            s->mbox_failed++;
        } else {
            s->mbox_served++;
        }
        break;
    case SNC_GUEST_OUTCOME_PROTOCOL_ERROR:
        s->mbox_malformed++;
        break;
    default:
        s->mbox_interrupted++;
    }

    qapi_event_send_snc_guest_migrate_completed(c);
    if (w) {
        /* Scheduled, never entered here: we may be inside an MMIO write. */
        w->result = c;
        w->done = true;
        if (w->bh) {
            qemu_bh_schedule(w->bh);
        } else if (!w->woken) {
            w->woken = true;
            aio_co_schedule(qemu_get_aio_context(), w->co);
        }
    } else {
        qapi_free_SncGuestCompletion(c);
    }
}

/* End the request in @slot with @outcome; the slot is then free. */
static void snc_mbox_end(SNCState *s, unsigned slot, SncGuestOutcome outcome,
                         const uint32_t *cmpl)
{
    SNCRequest r = snc_mbox_take(s, slot);

    snc_mbox_finish(s, &r, outcome, cmpl);
}

/* Complete every pending request as interrupted. */
static void snc_mbox_interrupt_all(SNCState *s)
{
    unsigned i;

    for (i = 0; i < SNC_RING_SIZE; i++) {
        if (s->req_action[i] != SNC_REQ_ACTION_NONE) {
            snc_mbox_end(s, i, SNC_GUEST_OUTCOME_INTERRUPTED, NULL);
        }
    }
}

/*
 * Empty the mailbox as a reset does: no request is lost silently, each
 * pending one ends as interrupted.  HOST_MODE, the host's, stays.
 */
static void snc_mbox_reset(SNCState *s)
{
    snc_mbox_interrupt_all(s);
    s->guest_serving = 0;
    memset(s->withdrawn, 0, sizeof(s->withdrawn));
    s->req_prod = 0;
    s->req_cons = 0;
    memset(s->cmpl, 0, sizeof(s->cmpl));
}

/*
 * Before a load (of a snapshot, or an incoming migration), whose
 * requests replace this device's: keep the pending ones aside, for
 * snc_mbox_restore() after the load, and empty the mailbox.
 */
static void snc_mbox_stash(SNCState *s)
{
    unsigned i, j = 0;

    for (i = 0; i < SNC_RING_SIZE; i++) {
        if (s->req_action[i] == SNC_REQ_ACTION_NONE) {
            continue;
        }
        while (j < SNC_RING_SIZE && s->stash[j].action) {
            j++;
        }
        if (j == SNC_RING_SIZE) {
            /* Left by a load that failed before post_load: no room. */
            snc_mbox_end(s, i, SNC_GUEST_OUTCOME_INTERRUPTED, NULL);
            continue;
        }
        s->stash[j] = snc_mbox_take(s, i);
    }
    s->stash_next_id = MAX(s->stash_next_id, s->next_id);
    s->guest_serving = 0;
    s->req_prod = 0;
    s->req_cons = 0;
    memset(s->cmpl, 0, sizeof(s->cmpl));
}

int snc_mbox_post(SNCState *s, uint32_t action, uint64_t addr,
                  uint64_t size, uint32_t node, Error **errp)
{
    unsigned slot = s->req_prod % SNC_RING_SIZE;

    if (!(s->guest_serving & SNC_GUEST_SERVING_ON)) {
        error_setg(errp, "No guest driver serves requests of the Scalable"
                   " Node Controller (GUEST_SERVING is 0)");
        return -1;
    }
    if (s->req_action[slot] != SNC_REQ_ACTION_NONE) {
        error_setg(errp, "The request queue is full: %u requests are"
                   " outstanding", snc_mbox_depth(s));
        return -1;
    }
    if (++s->next_id == 0) {
        s->next_id = 1;
    }
    s->req_id[slot] = s->next_id;
    s->req_action[slot] = action;
    s->req_addr[slot] = addr;
    s->req_size[slot] = size;
    s->req_node[slot] = node;
    s->req_prod++;
    s->mbox_posted++;
    s->intr_status |= SNC_INTR_REQUEST;
    snc_update_irq(s);
    return slot;
}

/* The slot of outstanding request @id, or -1. */
static int snc_mbox_find(SNCState *s, uint32_t id)
{
    unsigned i;

    for (i = 0; id && i < SNC_RING_SIZE; i++) {
        if (s->req_action[i] != SNC_REQ_ACTION_NONE && s->req_id[i] == id) {
            return i;
        }
    }
    return -1;
}

bool snc_mbox_full(SNCState *s)
{
    return s->req_action[s->req_prod % SNC_RING_SIZE] != SNC_REQ_ACTION_NONE;
}

void snc_mbox_withdraw(SNCState *s, uint32_t id)
{
    int slot = snc_mbox_find(s, id);

    if (slot < 0) {
        return;
    }
    s->waiter[slot] = NULL;
    s->withdrawn[s->withdrawn_next++ % SNC_RING_SIZE] = id;
    snc_mbox_end(s, slot, SNC_GUEST_OUTCOME_INTERRUPTED, NULL);
}

void snc_mbox_detach(SNCState *s, SNCWaiter *w)
{
    for (unsigned i = 0; i < SNC_RING_SIZE; i++) {
        if (s->waiter[i] == w) {
            s->waiter[i] = NULL;
        }
        if (s->stash[i].waiter == w) {
            s->stash[i].waiter = NULL;
        }
    }
}

/* Whether the host withdrew request @id lately. */
static bool snc_mbox_was_withdrawn(SNCState *s, uint32_t id)
{
    for (unsigned i = 0; id && i < SNC_RING_SIZE; i++) {
        if (s->withdrawn[i] == id) {
            return true;
        }
    }
    return false;
}

/*
 * Why the staged completion of the request in @slot is out of its
 * declared ranges, or NULL if it is within them.
 */
static const char *snc_mbox_check(SNCState *s, unsigned slot)
{
    int32_t status = s->cmpl[SNC_CMPL_STATUS_IDX];
    uint64_t pages = s->req_size[slot] / SNC_REQ_PAGE_SIZE;
    uint64_t sum = 0;
    unsigned i;

    if (status > 0 || status < -SNC_MAX_ERRNO) {
        return "CMPL_STATUS is not 0 or a negative errno";
    }
    for (i = SNC_CMPL_MOVED; i <= SNC_CMPL_RANGE; i++) {
        if (s->cmpl[i] > pages) {
            return "a count exceeds the request's pages";
        }
        sum += s->cmpl[i];
    }
    if (sum > pages) {
        return "the counts add up to more than the request's pages";
    }
    return NULL;
}

static void G_GNUC_PRINTF(2, 3) snc_guest_error(SNCState *s,
                                                const char *fmt, ...);
static void snc_bad_access(SNCState *s, const char *what, hwaddr addr,
                           unsigned size, uint64_t val);

/* A write of @val to COMPLETE. */
static void snc_mbox_complete(SNCState *s, uint32_t val)
{
    uint32_t id = s->cmpl[SNC_CMPL_ID_IDX];
    const char *why;
    int slot;

    if (val != SNC_COMPLETE_DOORBELL) {
        snc_bad_access(s, "COMPLETE value other than 1", SNC_REG_COMPLETE, 4,
                       val);
        return;
    }
    slot = snc_mbox_find(s, id);
    if (slot < 0 && snc_mbox_was_withdrawn(s, id)) {
        return;                 /* the host withdrew it, not a mistake */
    }
    if (slot < 0) {
        snc_bad_access(s, "COMPLETE of an unknown request ID in CMPL_ID",
                       SNC_REG_CMPL_ID, 4, id);
        return;
    }
    why = snc_mbox_check(s, slot);
    if (why) {
        snc_guest_error(s, "%s: completion of request %u: %s;"
                        " it ends as a protocol error\n", TYPE_SNC, id, why);
        snc_mbox_end(s, slot, SNC_GUEST_OUTCOME_PROTOCOL_ERROR, NULL);
        return;
    }
    snc_mbox_end(s, slot, SNC_GUEST_OUTCOME_COMPLETED, s->cmpl);
}

/* A write of @val to GUEST_SERVING. */
static void snc_mbox_serving(SNCState *s, uint32_t val)
{
    if (val & ~SNC_GUEST_SERVING_ON) {
        snc_bad_access(s, "reserved GUEST_SERVING bits",
                       SNC_REG_GUEST_SERVING, 4, val);
        return;
    }
    s->guest_serving = val;
    if (!val) {
        snc_mbox_interrupt_all(s);
    }
}

/* A write of @val to REQ_CONS: within [REQ_CONS, REQ_PROD], mod 2^32. */
static void snc_mbox_consume(SNCState *s, uint32_t val)
{
    if (val - s->req_cons > s->req_prod - s->req_cons) {
        snc_bad_access(s, "REQ_CONS outside [REQ_CONS, REQ_PROD]",
                       SNC_REG_REQ_CONS, 4, val);
        return;
    }
    s->req_cons = val;
}

/* The request ring's 64-bit word at @off (8-aligned) in REQ_RING. */
static uint64_t snc_ring_word(SNCState *s, hwaddr off)
{
    unsigned slot = off / SNC_REQ_STRIDE;

    switch (off % SNC_REQ_STRIDE) {
    case SNC_REQ_ID:
        return s->req_id[slot] | (uint64_t)s->req_action[slot] << 32;
    case SNC_REQ_ADDR:
        return s->req_addr[slot];
    case SNC_REQ_SIZE:
        return s->req_size[slot];
    default:
        return s->req_node[slot];
    }
}

static bool snc_ring_read(SNCState *s, hwaddr addr, unsigned size,
                          uint64_t *val)
{
    hwaddr off = addr - SNC_REG_REQ_RING;
    uint64_t w;

    if (addr < SNC_REG_REQ_RING ||
        off >= SNC_RING_SIZE * SNC_REQ_STRIDE ||
        (size != 4 && size != 8) || (addr & (size - 1))) {
        return false;
    }
    w = snc_ring_word(s, off & ~7);
    *val = size == 8 ? w : (uint32_t)(w >> ((off & 4) * 8));
    return true;
}

/* BAR0 */

/*
 * Log a guest error, at most SNC_LOG_BURST of them in each window of
 * SNC_LOG_WINDOW_MS of host time.  A guest can make bad accesses in a
 * tight loop, and an unbounded log would fill the host's disk; the
 * first message of a window says how many the last one dropped.
 */
static void snc_guest_error(SNCState *s, const char *fmt, ...)
{
    int64_t now;
    va_list ap;
    FILE *f;

    if (!qemu_loglevel_mask(LOG_GUEST_ERROR)) {
        return;
    }
    now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    if (now - s->log_window >= SNC_LOG_WINDOW_MS) {
        s->log_window = now;
        s->log_count = 0;
        if (s->log_suppressed) {
            qemu_log("%s: %" PRIu64 " more guest errors not logged\n",
                     TYPE_SNC, s->log_suppressed);
            s->log_suppressed = 0;
        }
    }
    if (s->log_count >= SNC_LOG_BURST) {
        s->log_suppressed++;
        return;
    }
    s->log_count++;
    f = qemu_log_trylock();
    if (f) {
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        qemu_log_unlock(f);
    }
}

static void snc_bad_access(SNCState *s, const char *what, hwaddr addr,
                           unsigned size, uint64_t val)
{
    snc_guest_error(s, "%s: %s at 0x%03" HWADDR_PRIx
                    " (size %u, value 0x%" PRIx64 "), ignored\n",
                    TYPE_SNC, what, addr, size, val);
}

/* The 64-bit value of the register at @reg, or false if none is there. */
static bool snc_reg64(SNCState *s, hwaddr reg, uint64_t *val)
{
    switch (reg) {
    case SNC_REG_ZONE_BASE:
        *val = 0;
        return true;
    case SNC_REG_SEQ:
        *val = s->seq;
        return true;
    case SNC_REG_PERIOD_NS:
        *val = s->period_ns;
        return true;
    case SNC_REG_TOTAL:
        *val = snc_total(s);
        return true;
    case SNC_REG_HOT_DATA:
        *val = s->snap[s->hot_addr];
        return true;
    }
    return false;
}

static bool snc_reg32(SNCState *s, hwaddr reg, uint64_t *val)
{
    switch (reg) {
    case SNC_REG_ID:
        *val = SNC_ID;
        break;
    case SNC_REG_VERSION:
        *val = SNC_VERSION;
        break;
    case SNC_REG_CAPS:
        *val = s->available ? SNC_CAPS_COUNTING | SNC_CAPS_EXACT : 0;
        break;
    case SNC_REG_STATUS:
        *val = (s->running ? SNC_STATUS_RUNNING : 0) |
               (s->available ? 0 : SNC_STATUS_UNAVAILABLE) |
               (s->seq ? SNC_STATUS_SNAPSHOT : 0);
        break;
    case SNC_REG_NR_ZONES:
        *val = s->nr_zones;
        break;
    case SNC_REG_NR_NODES:
        *val = s->nr_nodes;
        break;
    case SNC_REG_ZONE_SHIFT:
        *val = s->zone_shift;
        break;
    case SNC_REG_CONTROL:
        *val = s->mode << SNC_CONTROL_MODE_SHIFT |
               (s->exact ? SNC_CONTROL_EXACT : 0);
        break;
    case SNC_REG_PERIOD_MS:
        *val = s->period_ms;
        break;
    case SNC_REG_NODE_FILTER:
        *val = s->node_filter;
        break;
    case SNC_REG_SAMPLE_US:
        *val = s->sample_us;
        break;
    case SNC_REG_INTR_STATUS:
        *val = s->intr_status;
        break;
    case SNC_REG_INTR_ENABLE:
        *val = s->intr_enable;
        break;
    case SNC_REG_HOT_ADDR:
        *val = s->hot_addr;
        break;
    case SNC_REG_GUEST_SERVING:
        *val = s->guest_serving;
        break;
    case SNC_REG_HOST_MODE:
        *val = s->host_mode;
        break;
    case SNC_REG_RING_SIZE:
        *val = SNC_RING_SIZE;
        break;
    case SNC_REG_REQ_PROD:
        *val = s->req_prod;
        break;
    case SNC_REG_REQ_CONS:
        *val = s->req_cons;
        break;
    case SNC_REG_CMPL_ID ... SNC_REG_CMPL_RANGE:
        *val = s->cmpl[(reg - SNC_REG_CMPL_ID) / 4];
        break;
    case SNC_REG_COMPLETE:
        *val = 0;
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
        if (addr == SNC_REG_HOT_DATA) {
            snc_hot_advance(s);
        }
    } else if (size == 4 && !(addr & 3) && snc_reg32(s, addr, &val)) {
        /* a 32-bit register */
    } else if (snc_ring_read(s, addr, size, &val)) {
        /* the request ring */
    } else if (size == 4 && !(addr & 3) && snc_reg64(s, addr & ~7, &val)) {
        if (addr & 4) {
            val >>= 32;
            if ((addr & ~7) == SNC_REG_HOT_DATA) {
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
    uint32_t cmd = val & (SNC_CONTROL_START | SNC_CONTROL_STOP |
                          SNC_CONTROL_SNAPSHOT);
    uint32_t mode = (val & SNC_CONTROL_MODE_MASK) >> SNC_CONTROL_MODE_SHIFT;
    Error *err = NULL;

    if ((val & ~SNC_CONTROL_VALID) || mode >= SNC_MODE__MAX ||
        ctpop32(cmd) > 1) {
        snc_bad_access(s, "reserved CONTROL value", SNC_REG_CONTROL, 4, val);
        return;
    }
    qatomic_set(&s->mode, mode);
    qatomic_set(&s->exact, !!(val & SNC_CONTROL_EXACT));
    if (cmd == SNC_CONTROL_START) {
        if (!s->available) {
            snc_bad_access(s, "START while counting is unavailable",
                           SNC_REG_CONTROL, 4, val);
            return;
        }
        if (!snc_start(s, &err)) {
            /* STATUS.RUNNING stays 0: the guest can see it failed. */
            snc_guest_error(s, "%s: START failed: %s\n", TYPE_SNC,
                            error_get_pretty(err));
            error_free(err);
        }
    } else if (cmd == SNC_CONTROL_STOP) {
        snc_stop(s);
    } else if (cmd == SNC_CONTROL_SNAPSHOT) {
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
    case SNC_REG_CONTROL:
        snc_write_control(s, val);
        break;
    case SNC_REG_PERIOD_MS:
        if (val > SNC_MAX_PERIOD_MS) {
            snc_bad_access(s, "PERIOD_MS above 2400000", addr, size, val);
        } else if (!snc_set_period(s, val, NULL)) {
            snc_bad_access(s, "PERIOD_MS below the minimum for NR_ZONES *"
                           " NR_NODES counters", addr, size, val);
        }
        break;
    case SNC_REG_NODE_FILTER:
        if (!snc_set_node_filter(s, val, NULL)) {
            snc_bad_access(s, "NODE_FILTER names absent nodes", addr, size,
                           val);
        }
        break;
    case SNC_REG_SAMPLE_US:
        if (!snc_set_sample_interval(s, val, NULL)) {
            snc_bad_access(s, "SAMPLE_US out of range", addr, size, val);
        }
        break;
    case SNC_REG_INTR_STATUS:
        s->intr_status &= ~val;
        snc_update_irq(s);
        break;
    case SNC_REG_INTR_ENABLE:
        if (val & ~SNC_INTR_VALID) {
            snc_bad_access(s, "reserved INTR_ENABLE bits", addr, size, val);
            return;
        }
        s->intr_enable = val;
        snc_update_irq(s);
        break;
    case SNC_REG_HOT_ADDR:
        if (val >= s->nr_counters) {
            snc_bad_access(s, "HOT_ADDR beyond the last counter", addr, size,
                           val);
            return;
        }
        s->hot_addr = val;
        break;
    case SNC_REG_GUEST_SERVING:
        snc_mbox_serving(s, val);
        break;
    case SNC_REG_REQ_CONS:
        snc_mbox_consume(s, val);
        break;
    case SNC_REG_CMPL_ID ... SNC_REG_CMPL_RANGE:
        s->cmpl[(addr - SNC_REG_CMPL_ID) / 4] = val;
        break;
    case SNC_REG_COMPLETE:
        snc_mbox_complete(s, val);
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
    uint64_t zone_size, ram_end;
    int nodes = ms->numa_state ? ms->numa_state->num_nodes : 0;

    if (snc_device) {
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
    ram_end = guest_ram_end();
    zone_size = MAX(DIV_ROUND_UP(ram_end, s->nr_zones),
                    1ULL << qemu_target_page_bits_min());
    s->zone_shift = ctz64(pow2ceil(zone_size));
    s->nr_nodes = MAX(nodes, 1);
    s->nr_counters = s->nr_zones * s->nr_nodes;
    if (!snc_check_period(s, s->period_ms, errp) ||
        !snc_check_sample_interval(s->sample_us, errp)) {
        error_prepend(errp, "property ");
        return;
    }
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
                          "snc-regs", SNC_REGS_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->regs);
    memory_region_init_io(&s->matrix, OBJECT(s), &snc_matrix_ops, s,
                          "snc-matrix",
                          pow2ceil((uint64_t)s->nr_counters * 8 +
                                   s->nr_zones));
    pci_register_bar(pdev, 2, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->matrix);
    snc_device = s;
    trace_snc_realize(s->nr_zones, s->nr_nodes, s->zone_shift, ram_end,
                      s->available);
}

static void snc_exit(PCIDevice *pdev)
{
    SNCState *s = SNC(pdev);

    snc_device = NULL;
    /* Waiters and jobs learn at once that the device is gone. */
    snc_mbox_interrupt_all(s);
    s->guest_serving = 0;
    snc_stop(s);
    timer_free(s->period_timer);
    timer_free(s->sample_timer);
    msi_uninit(pdev);
    g_free(s->home);
    if (s->ram_map) {
        /* A vCPU may still be in the observer: free after RCU. */
        g_free_rcu(s->ram_map, rcu);
        s->ram_map = NULL;
    }
    g_free(s->cpu_node);
    g_free(s->live);
    g_free(s->snap);
}

/*
 * A system reset stops counting and clears the interrupt state; the
 * configuration and the last snapshot survive it (docs/design/snc.md).
 */
static void snc_reset_hold(Object *obj, ResetType type)
{
    SNCState *s = SNC(obj);

    snc_stop(s);
    if (type == RESET_TYPE_SNAPSHOT_LOAD) {
        /* A snapshot's state follows: post_load sorts the requests. */
        snc_mbox_stash(s);
    } else {
        snc_mbox_reset(s);
    }
    s->intr_status = 0;
    s->intr_enable = 0;
    s->hot_addr = 0;
    snc_update_irq(s);
}

/* The checked fields, as the stream carries them (see SNCState.loaded). */
static void snc_copy_to_loaded(SNCState *s)
{
    s->loaded.running = s->running;
    s->loaded.mode = s->mode;
    s->loaded.exact = s->exact;
    s->loaded.node_filter = s->node_filter;
    s->loaded.period_ms = s->period_ms;
    s->loaded.sample_us = s->sample_us;
    s->loaded.hot_addr = s->hot_addr;
    s->loaded.guest_serving = s->guest_serving;
    s->loaded.host_mode = s->host_mode;
}

static int snc_pre_save(void *opaque)
{
    snc_copy_to_loaded(opaque);
    return 0;
}

/*
 * A device that counts on the destination before the stream arrives
 * (started on a -incoming defer destination, say) must not keep its
 * observer and sampler: the stream says whether it runs.  A version-1
 * stream carries no mailbox: its fields keep the destination's values.
 */
static int snc_pre_load(void *opaque)
{
    SNCState *s = opaque;

    snc_stop(s);
    snc_mbox_stash(s);
    snc_copy_to_loaded(s);
    return 0;
}

/*
 * After a load, the requests pending before it: one the stream also
 * holds (a loadvm of a snapshot taken while it was pending) lives on,
 * with its waiter; the others end as interrupted, as all do if the
 * stream is bad (!@ok).  IDs stay unique: numbering goes on from the
 * highest ID this device gave.
 */
static void snc_mbox_restore(SNCState *s, bool ok)
{
    for (unsigned i = 0; i < SNC_RING_SIZE; i++) {
        SNCRequest *r = &s->stash[i];
        int slot;

        if (r->action == SNC_REQ_ACTION_NONE) {
            continue;
        }
        slot = ok ? snc_mbox_find(s, r->id) : -1;
        if (slot >= 0) {
            s->waiter[slot] = r->waiter;
        } else {
            snc_mbox_finish(s, r, SNC_GUEST_OUTCOME_INTERRUPTED, NULL);
        }
        *r = (SNCRequest) { 0 };
    }
    if (s->next_id < s->stash_next_id) {
        s->next_id = s->stash_next_id;
    }
    s->stash_next_id = 0;
}

/* Whether the loaded mailbox is one the device could have made. */
static bool snc_mbox_valid(SNCState *s)
{
    unsigned i;

    if (s->loaded.host_mode >= SNC_HOST_MODE__MAX ||
        (s->loaded.guest_serving & ~SNC_GUEST_SERVING_ON)) {
        return false;
    }
    for (i = 0; i < SNC_RING_SIZE; i++) {
        if (s->req_action[i] == SNC_REQ_ACTION_NONE) {
            continue;
        }
        if (s->req_action[i] > SNC_REQ_ACTION_HINT || !s->req_id[i] ||
            s->req_node[i] >= s->nr_nodes || !s->req_size[i] ||
            s->req_size[i] % SNC_REQ_PAGE_SIZE ||
            s->req_size[i] / SNC_REQ_PAGE_SIZE > SNC_REQ_MAX_PAGES) {
            return false;
        }
    }
    return true;
}

static int snc_post_load(void *opaque, int version_id)
{
    SNCState *s = opaque;
    bool was_running = s->loaded.running;

    if (s->loaded.mode >= SNC_MODE__MAX ||
        s->loaded.hot_addr >= s->nr_counters ||
        !snc_check_node_filter(s, s->loaded.node_filter, NULL) ||
        !snc_check_period(s, s->loaded.period_ms, NULL) ||
        !snc_check_sample_interval(s->loaded.sample_us, NULL) ||
        !snc_mbox_valid(s)) {
        timer_del(s->period_timer);
        snc_mbox_restore(s, false);
        return -EINVAL;
    }
    snc_set_node_filter(s, s->loaded.node_filter, &error_abort);
    s->mode = s->loaded.mode;
    s->exact = s->loaded.exact;
    s->period_ms = s->loaded.period_ms;
    s->sample_us = s->loaded.sample_us;
    s->hot_addr = s->loaded.hot_addr;
    s->guest_serving = s->loaded.guest_serving;
    s->host_mode = s->loaded.host_mode;
    snc_mbox_restore(s, true);
    snc_update_topology(s);
    if (was_running && s->available &&
        tlb_set_ram_fill_observer(snc_ram_fill, s)) {
        /* Resume counting, and the period from where it was. */
        qatomic_set(&s->running, true);
        snc_sample(s);
        snc_arm_period(s);
        return 0;
    }
    timer_del(s->period_timer);
    if (was_running) {
        g_autofree char *path = object_get_canonical_path(OBJECT(s));

        warn_report("%s: counting stopped on migration: %s", path,
                    s->available ? "another device observes TLB fills" :
                    snc_unavailable_reason());
        trace_snc_stop(snc_total(s));
    }
    return 0;
}

static const VMStateDescription vmstate_snc = {
    .name = TYPE_SNC,
    .version_id = 2,
    .minimum_version_id = 1,
    .pre_save = snc_pre_save,
    .pre_load = snc_pre_load,
    .post_load = snc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, SNCState),
        VMSTATE_UINT32_EQUAL(nr_zones, SNCState, NULL),
        VMSTATE_UINT32_EQUAL(nr_nodes, SNCState, NULL),
        VMSTATE_UINT32_EQUAL(zone_shift, SNCState, NULL),
        VMSTATE_UINT32_EQUAL(nr_counters, SNCState, NULL),
        VMSTATE_BOOL(loaded.running, SNCState),
        VMSTATE_UINT32(loaded.mode, SNCState),
        VMSTATE_BOOL(loaded.exact, SNCState),
        VMSTATE_UINT32(loaded.node_filter, SNCState),
        VMSTATE_UINT32(loaded.period_ms, SNCState),
        VMSTATE_UINT32(loaded.sample_us, SNCState),
        VMSTATE_UINT32(intr_status, SNCState),
        VMSTATE_UINT32(intr_enable, SNCState),
        VMSTATE_UINT32(loaded.hot_addr, SNCState),
        VMSTATE_UINT64(seq, SNCState),
        VMSTATE_UINT64(period_ns, SNCState),
        VMSTATE_INT64(period_start, SNCState),
        VMSTATE_UINT64(total_done, SNCState),
        VMSTATE_TIMER_PTR(period_timer, SNCState),
        VMSTATE_VARRAY_UINT32(live, SNCState, nr_counters, 0,
                              vmstate_info_uint64, uint64_t),
        VMSTATE_VARRAY_UINT32(snap, SNCState, nr_counters, 0,
                              vmstate_info_uint64, uint64_t),
        /* Version 2: the request mailbox */
        VMSTATE_UINT32_V(loaded.guest_serving, SNCState, 2),
        VMSTATE_UINT32_V(loaded.host_mode, SNCState, 2),
        VMSTATE_UINT32_V(req_prod, SNCState, 2),
        VMSTATE_UINT32_V(req_cons, SNCState, 2),
        VMSTATE_UINT32_V(next_id, SNCState, 2),
        VMSTATE_UINT32_ARRAY_V(cmpl, SNCState, SNC_NR_CMPL_REGS, 2),
        VMSTATE_UINT32_ARRAY_V(req_id, SNCState, SNC_RING_SIZE, 2),
        VMSTATE_UINT32_ARRAY_V(req_action, SNCState, SNC_RING_SIZE, 2),
        VMSTATE_UINT64_ARRAY_V(req_addr, SNCState, SNC_RING_SIZE, 2),
        VMSTATE_UINT64_ARRAY_V(req_size, SNCState, SNC_RING_SIZE, 2),
        VMSTATE_UINT32_ARRAY_V(req_node, SNCState, SNC_RING_SIZE, 2),
        VMSTATE_UINT64_V(mbox_posted, SNCState, 2),
        VMSTATE_UINT64_V(mbox_served, SNCState, 2),
        VMSTATE_UINT64_V(mbox_failed, SNCState, 2),
        VMSTATE_UINT64_V(mbox_malformed, SNCState, 2),
        VMSTATE_UINT64_V(mbox_interrupted, SNCState, 2),
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
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = snc_realize;
    k->exit = snc_exit;
    k->vendor_id = SNC_PCI_VENDOR_ID;
    k->device_id = SNC_PCI_DEVICE_ID;
    k->revision = SNC_PCI_REVISION;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "Scalable Node Controller (NUMA touch counters)";
    dc->vmsd = &vmstate_snc;
    dc->hotpluggable = false;
    rc->phases.hold = snc_reset_hold;
    device_class_set_props(dc, snc_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo snc_types[] = {
    {
        .name = TYPE_SNC,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(SNCState),
        .class_init = snc_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(snc_types)
