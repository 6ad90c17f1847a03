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
#include "qemu/coroutine.h"
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

/*
 * A request the host is waiting for in snc-guest-migrate, linked to its
 * ring slot; never migrated.  The device fills @result and, when the
 * request completes, schedules @bh if it is set (the job form, whose
 * coroutine only a job_enter() may resume), or else wakes @co.
 */
typedef struct SNCWaiter {
    Coroutine *co;
    QEMUBH *bh;
    SncGuestCompletion *result;
    bool done;                  /* @result is set */
    bool woken;                 /* @co is scheduled */
    bool quit;                  /* woken because a QMP quit is queued */
} SNCWaiter;

/* One request, out of its ring slot */
typedef struct SNCRequest {
    uint32_t id;
    uint32_t action;            /* SNC_REQ_ACTION_NONE: none */
    uint64_t addr;
    uint64_t size;
    uint32_t node;
    SNCWaiter *waiter;
} SNCRequest;

/* Completion staging registers, CMPL_ID to CMPL_RANGE */
#define SNC_NR_CMPL_REGS \
    ((SNC_REG_CMPL_RANGE - SNC_REG_CMPL_ID) / 4 + 1)

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

    /*
     * What a migration stream says of the fields above and below that
     * snc_post_load() checks: the stream is loaded here, and reaches the
     * device only if the checks pass, so that a stream which fails to
     * load, wherever it fails, leaves those fields as they were.
     */
    struct {
        bool running;
        uint32_t mode;
        bool exact;
        uint32_t node_filter;
        uint32_t period_ms;
        uint32_t sample_us;
        uint32_t hot_addr;
        uint32_t guest_serving;
        uint32_t host_mode;
    } loaded;

    /* Request mailbox; BQL */
    uint32_t guest_serving;
    uint32_t host_mode;         /* SncHostMode */
    uint32_t req_prod;
    uint32_t req_cons;
    uint32_t next_id;
    uint32_t cmpl[SNC_NR_CMPL_REGS];
    uint32_t req_id[SNC_RING_SIZE];
    uint32_t req_action[SNC_RING_SIZE];     /* SNC_REQ_ACTION_NONE: free */
    uint64_t req_addr[SNC_RING_SIZE];
    uint64_t req_size[SNC_RING_SIZE];
    uint32_t req_node[SNC_RING_SIZE];
    SNCWaiter *waiter[SNC_RING_SIZE];
    uint64_t mbox_posted;
    uint64_t mbox_served;
    uint64_t mbox_failed;
    uint64_t mbox_malformed;
    uint64_t mbox_interrupted;
    /*
     * The last requests the host withdrew (a cancelled job's), whose
     * completion by the guest is dropped without a guest error; not
     * migrated.
     */
    uint32_t withdrawn[SNC_RING_SIZE];
    uint32_t withdrawn_next;
    /* The requests pending before a load, until post_load; not migrated */
    SNCRequest stash[SNC_RING_SIZE];
    uint32_t stash_next_id;

    QEMUTimer *period_timer;
    QEMUTimer *sample_timer;
    int64_t last_event;         /* QEMU_CLOCK_REALTIME ms */
    uint64_t missed_events;

    /* Guest-error log rate limit; BQL, not migrated */
    int64_t log_window;         /* QEMU_CLOCK_REALTIME ms */
    uint32_t log_count;         /* messages logged in the window */
    uint64_t log_suppressed;    /* messages dropped in the window */
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

/*
 * Post a request of @action for [@addr, @addr + @size) to node @node;
 * returns its slot, or -1 with @errp set (driver absent, queue full).
 * The caller checked the range and the node.
 */
int snc_mbox_post(SNCState *s, uint32_t action, uint64_t addr,
                  uint64_t size, uint32_t node, Error **errp);

/* Requests outstanding in the ring */
unsigned snc_mbox_depth(SNCState *s);

/* Whether snc_mbox_post() would refuse a request for a full queue */
bool snc_mbox_full(SNCState *s);

/*
 * Withdraw outstanding request @id: it ends at once as interrupted (its
 * event is sent, no waiter is woken), and a later completion of it by
 * the guest is dropped quietly.  Does nothing if @id is not outstanding.
 */
void snc_mbox_withdraw(SNCState *s, uint32_t id);

/*
 * Unlink waiter @w from its request, which stays queued: a loadvm may
 * have moved the request to another slot.
 */
void snc_mbox_detach(SNCState *s, SNCWaiter *w);

#endif /* HW_MEM_SNC_H */
