/*
 * policy: the policy engine's decisions, as pure functions.
 *
 * Each SNC period the engine gathers three facts: the counters (which
 * guest node touched which zone), the placement (which host node backs
 * each guest-physical range) and the topology (which host node runs
 * each guest node's vCPUs).  policy_decide() turns them, with the
 * configuration and the previous period's state, into a list of moves
 * and the next state.  Nothing here does I/O: policy-qmp.c fills the
 * inputs from QMP replies, so that the decisions can be replayed from
 * recorded replies.  docs/design/policy-engine.md gives the rules.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef POLICY_H
#define POLICY_H

#include <glib.h>

G_BEGIN_DECLS

/* Guest and host node numbers are below this (QEMU's MAX_NODES). */
#define POLICY_MAX_NODES 128
#define POLICY_NO_NODE (-1)

typedef enum {
    POLICY_MODE_OFF,
    POLICY_MODE_HOST_ONLY,
    POLICY_MODE_GUEST_ONLY,
    POLICY_MODE_COOPERATIVE,
} PolicyMode;

typedef enum {
    POLICY_LEVER_NONE,
    POLICY_LEVER_GUEST,     /* the guest moves the pages to a guest node */
    POLICY_LEVER_HOST,      /* migrate-guest-range to a host node */
} PolicyLever;

const char *policy_mode_name(PolicyMode mode);
gboolean policy_mode_from_name(const char *name, PolicyMode *mode);
const char *policy_lever_name(PolicyLever lever);

typedef struct PolicyConfig {
    PolicyMode mode;
    /*
     * Hysteresis.  A zone's dominant toucher is the guest node with the
     * most touches; it counts only with at least @min_count touches and
     * at least @dominance (0.5 < @dominance <= 1) of the zone's touches,
     * in each of @confirm_periods periods in a row, all with the same
     * node; a settled zone needs only one such period.  Until the
     * first move, every zone counts as settled: no touch can yet be the
     * echo of a move.  After it, a zone is settled once one dominant
     * toucher has held it for @settle_periods periods in a row.  A move
     * unsettles it, and so do a dominant toucher that it loses sooner
     * and a period in which its top node has @min_count touches but not
     * the @dominance share (0: no zone is ever settled, every move waits
     * @confirm_periods).
     */
    double dominance;
    guint64 min_count;
    guint confirm_periods;
    guint settle_periods;
    /* Bytes moved per period, both levers together; 0: no limit. */
    guint64 budget_bytes;
    /* Periods a zone is left alone after a move. */
    guint cooldown_periods;
} PolicyConfig;

/*
 * The defaults: cooperative, 0.6, 64 touches, 2 periods (settled zones:
 * after 8), no budget, a cooldown of 3.
 */
void policy_config_init(PolicyConfig *config);

/* One SNC device's snapshot: the zone x node count matrix. */
typedef struct PolicyCounts {
    guint64 sequence;       /* the snapshot's period number */
    guint nr_zones;
    guint nr_nodes;         /* rows: guest nodes 0 .. nr_nodes - 1 */
    guint64 zone_size;
    gint *home;             /* [nr_zones]: home guest node, or -1 */
    guint64 *counts;        /* [nr_nodes * nr_zones], row per node */
} PolicyCounts;

void policy_counts_init(PolicyCounts *counts, guint nr_zones,
                        guint nr_nodes, guint64 zone_size);
void policy_counts_clear(PolicyCounts *counts);

static inline guint64 policy_count(const PolicyCounts *counts, guint node,
                                   guint zone)
{
    return counts->counts[(gsize)node * counts->nr_zones + zone];
}

/* A guest-physical range and the bytes of it on each host node. */
typedef struct PolicyRange {
    guint64 addr;
    guint64 size;
    char *memdev;           /* the memory backend's id, or NULL */
    guint64 bytes[POLICY_MAX_NODES];
} PolicyRange;

typedef struct PolicyPlacement {
    GArray *ranges;         /* of PolicyRange, in the order added */
} PolicyPlacement;

void policy_placement_init(PolicyPlacement *placement);
void policy_placement_clear(PolicyPlacement *placement);
PolicyRange *policy_placement_add(PolicyPlacement *placement,
                                  guint64 addr, guint64 size,
                                  const char *memdev);

/*
 * The host node backing [@addr, @addr + @size): the node with the most
 * populated bytes in it (a range that only partly overlaps counts in
 * proportion to the overlap), the lowest on a tie.  With no populated
 * byte, the node of the memory backend that holds @addr, if that is
 * bound to one node; otherwise -1.
 */
struct PolicyTopology;
gint policy_backing_node(const PolicyPlacement *placement,
                         const struct PolicyTopology *topology,
                         guint64 addr, guint64 size);

typedef struct PolicyMemdev {
    char *id;
    gint host_node;         /* the one node it is bound to, or -1 */
} PolicyMemdev;

typedef struct PolicyTopology {
    guint nr_guest_nodes;
    /* [guest node]: the host node that runs its vCPUs, or -1 */
    gint vcpu_host_node[POLICY_MAX_NODES];
    GArray *memdevs;        /* of PolicyMemdev */
} PolicyTopology;

void policy_topology_init(PolicyTopology *topology);
void policy_topology_clear(PolicyTopology *topology);
void policy_topology_add_memdev(PolicyTopology *topology, const char *id,
                                gint host_node);

/*
 * Set each guest node's vCPU host node from @nr vCPUs, the i-th in
 * guest node @guest_node[i] and running on host node @host_node[i]
 * (-1: unknown).  A guest node gets the host node that runs the
 * majority of its vCPUs, or -1 when no host node has a majority.
 */
void policy_topology_set_vcpus(PolicyTopology *topology,
                               const gint *guest_node,
                               const gint *host_node, guint nr);

typedef struct PolicyZoneState {
    PolicyLever owner;      /* the lever that moved it, while cooling */
    guint cooldown;         /* periods left before it may move again */
    gint candidate;         /* the last period's dominant node, or -1 */
    guint streak;           /* periods in a row @candidate dominated */
    gboolean settled;       /* one toucher held it settle_periods */
} PolicyZoneState;

typedef struct PolicyState {
    guint nr_zones;
    PolicyZoneState *zones;
    gboolean moved;         /* a move was decided in some period */
} PolicyState;

void policy_state_init(PolicyState *state, guint nr_zones);
void policy_state_clear(PolicyState *state);

typedef struct PolicyMove {
    PolicyLever lever;
    guint zone;
    guint64 addr;
    guint64 size;
    gint node;              /* target: a guest node or a host node */
    gint from;              /* home guest node or backing host node */
    gint toucher;           /* the dominant guest node */
    guint64 count;          /* its touches in the period */
} PolicyMove;

/*
 * Zone @zone's dominant toucher this period (the node with the most
 * touches, with at least @min_count of them and the @dominance share),
 * or POLICY_NO_NODE, also for a zone without RAM.
 */
gint policy_zone_toucher(const PolicyConfig *config,
                         const PolicyCounts *counts, guint zone);

/*
 * Whether zone @zone's backing can decide a move this period: it has a
 * dominant toucher and the mode's host lever may apply to it, in
 * host-only mode always, in cooperative mode only where the guest lever
 * does not (the zone's home is its toucher's node).
 */
gboolean policy_backing_matters(const PolicyConfig *config,
                                const PolicyCounts *counts, guint zone);

/*
 * Decide one period's moves.  @prev is the previous period's state
 * (NULL, or one for another number of zones: start afresh); @next, an
 * initialised or zeroed state that may be @prev, receives the new one.
 * Returns the moves, hottest first, at most one per zone.
 */
GArray *policy_decide(const PolicyConfig *config,
                      const PolicyCounts *counts,
                      const PolicyPlacement *placement,
                      const PolicyTopology *topology,
                      const PolicyState *prev, PolicyState *next);

G_END_DECLS

#endif /* POLICY_H */
