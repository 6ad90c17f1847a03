/*
 * Scalable Node Controller: per-zone, per-node touch counters
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MEM_SNC_H
#define HW_MEM_SNC_H

#include "hw/pci/pci_device.h"
#include "qapi/qapi-types-snc.h"
#include "qom/object.h"
#include "qemu/rcu.h"
#include "snc_regs.h"

#define TYPE_SNC "snc"
OBJECT_DECLARE_SIMPLE_TYPE(SNCState, SNC)

#define SNC_DEFAULT_ZONES       2048

/*
 * The guest-physical runs of NUMA-node RAM that the zones cover, sorted
 * and disjoint: the only addresses whose touches count.  Replaced as a
 * whole under RCU, since vCPU threads read it without the BQL.
 */
typedef struct SNCRamRun {
    hwaddr start;
    hwaddr end;                 /* exclusive */
} SNCRamRun;

typedef struct SNCRamMap {
    struct rcu_head rcu;
    unsigned nr_runs;
    SNCRamRun runs[];
} SNCRamMap;

struct SNCState {
    PCIDevice parent_obj;

    MemoryRegion regs;          /* BAR0 */
    MemoryRegion matrix;        /* BAR2 */

    /* Properties */
    uint32_t nr_zones;
    uint32_t period_ms;
    uint32_t sample_us;

    /* Geometry, fixed at realize */
    uint32_t nr_nodes;
    uint32_t nr_counters;       /* nr_zones * nr_nodes */
    uint32_t zone_shift;
    uint8_t *home;              /* [nr_zones] */
    SNCRamMap *ram_map;         /* RCU */
    uint8_t *cpu_node;          /* by cpu_index, SNC_NO_NODE if unknown */
    uint32_t nr_cpu_node;

    /* Counting; read by vCPU threads without the BQL */
    bool available;
    bool running;
    uint32_t mode;              /* SncMode */
    bool exact;                 /* count every data access */
    uint32_t node_mask;         /* counted source nodes */
    uint64_t *live;             /* [zone][node] */
    uint64_t total_done;        /* moved to snapshots since start; BQL */

    /* Snapshot and registers; BQL */
    uint64_t *snap;             /* [zone][node] */
    uint64_t seq;
    uint64_t period_ns;
    int64_t period_start;
    uint32_t node_filter;       /* as written; 0 = all */
    uint32_t hot_addr;
    uint32_t intr_status;
    uint32_t intr_enable;

    QEMUTimer *period_timer;
    QEMUTimer *sample_timer;
    int64_t last_event;         /* QEMU_CLOCK_REALTIME ms */
    uint64_t missed_events;
};

/*
 * The SNC that @device names (a QOM path or a device ID), or without
 * @device the machine's only one; NULL with @errp set if there is none.
 */
SNCState *snc_find(const char *device, Error **errp);

/* Every SNC of the machine, sorted by QOM path; free with g_slist_free. */
GSList *snc_list(void);

uint32_t snc_min_period(SNCState *s);

const char *snc_unavailable_reason(void);
bool snc_start(SNCState *s, Error **errp);
void snc_stop(SNCState *s);
void snc_snapshot(SNCState *s);
uint64_t snc_total(SNCState *s);
bool snc_set_node_filter(SNCState *s, uint32_t filter, Error **errp);
bool snc_check_period(SNCState *s, uint64_t period_ms, Error **errp);
bool snc_check_sample_interval(uint64_t sample_us, Error **errp);
bool snc_set_period(SNCState *s, uint64_t period_ms, Error **errp);
bool snc_set_sample_interval(SNCState *s, uint64_t sample_us,
                             Error **errp);

#endif /* HW_MEM_SNC_H */
