/*
 * policy: the policy engine's decisions, as pure functions.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include "policy.h"

static const char *const mode_names[] = {
    [POLICY_MODE_OFF] = "off",
    [POLICY_MODE_HOST_ONLY] = "host-only",
    [POLICY_MODE_GUEST_ONLY] = "guest-only",
    [POLICY_MODE_COOPERATIVE] = "cooperative",
};

const char *policy_mode_name(PolicyMode mode)
{
    return mode < G_N_ELEMENTS(mode_names) ? mode_names[mode] : "?";
}

gboolean policy_mode_from_name(const char *name, PolicyMode *mode)
{
    for (guint i = 0; i < G_N_ELEMENTS(mode_names); i++) {
        if (g_strcmp0(name, mode_names[i]) == 0) {
            *mode = i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *policy_lever_name(PolicyLever lever)
{
    switch (lever) {
    case POLICY_LEVER_GUEST:
        return "guest";
    case POLICY_LEVER_HOST:
        return "host";
    default:
        return "none";
    }
}

void policy_config_init(PolicyConfig *config)
{
    *config = (PolicyConfig){
        .mode = POLICY_MODE_COOPERATIVE,
        .dominance = 0.6,
        .min_count = 64,
        .confirm_periods = 2,
        .settle_periods = 8,
        .budget_bytes = 0,
        .cooldown_periods = 3,
    };
}

void policy_counts_init(PolicyCounts *counts, guint nr_zones,
                        guint nr_nodes, guint64 zone_size)
{
    *counts = (PolicyCounts){
        .nr_zones = nr_zones,
        .nr_nodes = nr_nodes,
        .zone_size = zone_size,
        .home = g_new(gint, nr_zones),
        .counts = g_new0(guint64, (gsize)nr_zones * nr_nodes),
    };
    for (guint z = 0; z < nr_zones; z++) {
        counts->home[z] = POLICY_NO_NODE;
    }
}

void policy_counts_clear(PolicyCounts *counts)
{
    g_free(counts->home);
    g_free(counts->counts);
    memset(counts, 0, sizeof(*counts));
}

static void range_clear(gpointer data)
{
    PolicyRange *range = data;

    g_free(range->memdev);
}

void policy_placement_init(PolicyPlacement *placement)
{
    placement->ranges = g_array_new(FALSE, TRUE, sizeof(PolicyRange));
    g_array_set_clear_func(placement->ranges, range_clear);
}

void policy_placement_clear(PolicyPlacement *placement)
{
    g_clear_pointer(&placement->ranges, g_array_unref);
}

PolicyRange *policy_placement_add(PolicyPlacement *placement,
                                  guint64 addr, guint64 size,
                                  const char *memdev)
{
    PolicyRange *range;

    g_array_set_size(placement->ranges, placement->ranges->len + 1);
    range = &g_array_index(placement->ranges, PolicyRange,
                           placement->ranges->len - 1);
    range->addr = addr;
    range->size = size;
    range->memdev = g_strdup(memdev);
    return range;
}

static void memdev_clear(gpointer data)
{
    PolicyMemdev *memdev = data;

    g_free(memdev->id);
}

void policy_topology_init(PolicyTopology *topology)
{
    memset(topology, 0, sizeof(*topology));
    for (guint n = 0; n < POLICY_MAX_NODES; n++) {
        topology->vcpu_host_node[n] = POLICY_NO_NODE;
    }
    topology->memdevs = g_array_new(FALSE, TRUE, sizeof(PolicyMemdev));
    g_array_set_clear_func(topology->memdevs, memdev_clear);
}

void policy_topology_clear(PolicyTopology *topology)
{
    g_clear_pointer(&topology->memdevs, g_array_unref);
}

void policy_topology_add_memdev(PolicyTopology *topology, const char *id,
                                gint host_node)
{
    PolicyMemdev memdev = { .id = g_strdup(id), .host_node = host_node };

    g_array_append_val(topology->memdevs, memdev);
}

static gint memdev_node(const PolicyTopology *topology, const char *id)
{
    if (!topology || !id) {
        return POLICY_NO_NODE;
    }
    for (guint i = 0; i < topology->memdevs->len; i++) {
        const PolicyMemdev *m = &g_array_index(topology->memdevs,
                                               PolicyMemdev, i);

        if (g_str_equal(m->id, id)) {
            return m->host_node;
        }
    }
    return POLICY_NO_NODE;
}

void policy_topology_set_vcpus(PolicyTopology *topology,
                               const gint *guest_node,
                               const gint *host_node, guint nr)
{
    topology->nr_guest_nodes = 0;
    for (guint i = 0; i < nr; i++) {
        if (guest_node[i] >= 0 && guest_node[i] < POLICY_MAX_NODES) {
            topology->nr_guest_nodes = MAX(topology->nr_guest_nodes,
                                           (guint)guest_node[i] + 1);
        }
    }
    for (guint g = 0; g < topology->nr_guest_nodes; g++) {
        guint votes[POLICY_MAX_NODES] = { 0 };
        guint vcpus = 0, best = 0;

        topology->vcpu_host_node[g] = POLICY_NO_NODE;
        for (guint i = 0; i < nr; i++) {
            if (guest_node[i] != (gint)g) {
                continue;
            }
            vcpus++;
            if (host_node[i] >= 0 && host_node[i] < POLICY_MAX_NODES) {
                votes[host_node[i]]++;
            }
        }
        for (guint h = 0; h < POLICY_MAX_NODES; h++) {
            if (votes[h] > best) {
                best = votes[h];
                topology->vcpu_host_node[g] = h;
            }
        }
        if (2 * best <= vcpus) {
            topology->vcpu_host_node[g] = POLICY_NO_NODE;
        }
    }
}

gint policy_backing_node(const PolicyPlacement *placement,
                         const PolicyTopology *topology,
                         guint64 addr, guint64 size)
{
    double bytes[POLICY_MAX_NODES] = { 0 };
    const char *memdev = NULL;
    double best = 0;
    gint node = POLICY_NO_NODE;

    for (guint i = 0; i < placement->ranges->len; i++) {
        const PolicyRange *r = &g_array_index(placement->ranges,
                                              PolicyRange, i);
        guint64 start = MAX(r->addr, addr);
        guint64 end = MIN(r->addr + r->size, addr + size);
        double share;

        if (start >= end) {
            continue;
        }
        if (addr >= r->addr && addr < r->addr + r->size) {
            memdev = r->memdev;
        }
        share = (double)(end - start) / r->size;
        for (guint n = 0; n < POLICY_MAX_NODES; n++) {
            bytes[n] += r->bytes[n] * share;
        }
    }
    for (guint n = 0; n < POLICY_MAX_NODES; n++) {
        if (bytes[n] > best) {
            best = bytes[n];
            node = n;
        }
    }
    return node != POLICY_NO_NODE ? node : memdev_node(topology, memdev);
}

void policy_state_init(PolicyState *state, guint nr_zones)
{
    state->nr_zones = nr_zones;
    state->zones = g_new0(PolicyZoneState, nr_zones);
    state->moved = FALSE;
    for (guint z = 0; z < nr_zones; z++) {
        state->zones[z].candidate = POLICY_NO_NODE;
    }
}

void policy_state_clear(PolicyState *state)
{
    g_clear_pointer(&state->zones, g_free);
    state->nr_zones = 0;
    state->moved = FALSE;
}

/*
 * The zone's dominant toucher this period, or -1: the node with the
 * most touches, if it has at least min_count of them and at least the
 * dominance share of the zone's touches.  @contended: it has enough
 * touches but not that share.
 */
static gint dominant_node(const PolicyConfig *config,
                          const PolicyCounts *counts, guint zone,
                          guint64 *count, gboolean *contended)
{
    guint64 total = 0, best = 0;
    gint node = POLICY_NO_NODE;

    for (guint n = 0; n < counts->nr_nodes; n++) {
        guint64 c = policy_count(counts, n, zone);

        total += c;
        if (c > best) {
            best = c;
            node = n;
        }
    }
    *count = best;
    *contended = FALSE;
    if (node == POLICY_NO_NODE || best < config->min_count) {
        return POLICY_NO_NODE;
    }
    if ((double)best < config->dominance * (double)total) {
        *contended = TRUE;
        return POLICY_NO_NODE;
    }
    return node;
}

gint policy_zone_toucher(const PolicyConfig *config,
                         const PolicyCounts *counts, guint zone)
{
    guint64 count;
    gboolean contended;

    if (counts->home[zone] == POLICY_NO_NODE) {
        return POLICY_NO_NODE;
    }
    return dominant_node(config, counts, zone, &count, &contended);
}

gboolean policy_backing_matters(const PolicyConfig *config,
                                const PolicyCounts *counts, guint zone)
{
    gint toucher = policy_zone_toucher(config, counts, zone);

    if (toucher == POLICY_NO_NODE) {
        return FALSE;
    }
    switch (config->mode) {
    case POLICY_MODE_HOST_ONLY:
        return TRUE;
    case POLICY_MODE_COOPERATIVE:
        return counts->home[zone] == toucher;
    default:
        return FALSE;
    }
}

/*
 * Which lever fixes the zone, if any.  The guest lever applies when
 * the zone's home guest node is not its toucher's; the host lever when
 * the host node backing it is not the one running the toucher's vCPUs.
 * Cooperative mode prefers the guest lever, which keeps the guest's
 * NUMA view true; the host lever then follows if the backing is still
 * wrong once the zone has cooled down.
 */
static PolicyLever choose_lever(const PolicyConfig *config, gint home,
                                gint toucher, gint backing,
                                gint vcpu_host, gint *target, gint *from)
{
    gboolean guest = home != toucher;
    gboolean host = vcpu_host != POLICY_NO_NODE &&
                    backing != POLICY_NO_NODE && backing != vcpu_host;
    gboolean use_guest = FALSE, use_host = FALSE;

    switch (config->mode) {
    case POLICY_MODE_OFF:
        break;
    case POLICY_MODE_GUEST_ONLY:
        use_guest = guest;
        break;
    case POLICY_MODE_HOST_ONLY:
        use_host = host;
        break;
    case POLICY_MODE_COOPERATIVE:
        use_guest = guest;
        use_host = !guest && host;
        break;
    }
    if (use_guest) {
        *target = toucher;
        *from = home;
        return POLICY_LEVER_GUEST;
    }
    if (use_host) {
        *target = vcpu_host;
        *from = backing;
        return POLICY_LEVER_HOST;
    }
    return POLICY_LEVER_NONE;
}

static gint move_hotter_first(gconstpointer a, gconstpointer b)
{
    const PolicyMove *ma = a, *mb = b;

    if (ma->count != mb->count) {
        return ma->count > mb->count ? -1 : 1;
    }
    return ma->zone < mb->zone ? -1 : ma->zone > mb->zone;
}

GArray *policy_decide(const PolicyConfig *config,
                      const PolicyCounts *counts,
                      const PolicyPlacement *placement,
                      const PolicyTopology *topology,
                      const PolicyState *prev, PolicyState *next)
{
    g_autoptr(GArray) candidates = g_array_new(FALSE, TRUE,
                                               sizeof(PolicyMove));
    GArray *moves = g_array_new(FALSE, TRUE, sizeof(PolicyMove));
    PolicyZoneState *zones = g_new0(PolicyZoneState, counts->nr_zones);
    gboolean have_prev = prev && prev->nr_zones == counts->nr_zones;
    /*
     * Before the first move every touch is the guest's own.  After it,
     * some are the echo of moves: the copies, and frames that a move
     * emptied and the guest filled again, which look like a new toucher
     * for a period or two.
     */
    gboolean before_first_move = config->settle_periods &&
                                 !(prev && prev->moved);
    guint confirm = MAX(config->confirm_periods, 1);
    guint64 used = 0;
    gboolean moved;

    for (guint z = 0; z < counts->nr_zones; z++) {
        PolicyZoneState *zs = &zones[z];
        guint64 addr = (guint64)z * counts->zone_size;
        gboolean cooling, contended = FALSE;
        guint64 count;
        gint toucher, backing, vcpu_host;
        guint need;
        PolicyMove move = { .zone = z, .addr = addr,
                            .size = counts->zone_size };

        if (have_prev) {
            *zs = prev->zones[z];
        } else {
            zs->candidate = POLICY_NO_NODE;
        }
        /* A zone moved in the last cooldown periods is left alone. */
        cooling = zs->cooldown > 0;
        if (cooling && --zs->cooldown == 0) {
            zs->owner = POLICY_LEVER_NONE;
        }

        toucher = counts->home[z] == POLICY_NO_NODE ? POLICY_NO_NODE :
                  dominant_node(config, counts, z, &count, &contended);
        if (contended ||
            (zs->candidate != toucher && zs->candidate != POLICY_NO_NODE &&
             zs->streak < config->settle_periods)) {
            /*
             * Shared, or its toucher changed too soon: the next toucher
             * must confirm itself.
             */
            zs->settled = FALSE;
        }
        if (toucher == POLICY_NO_NODE) {
            zs->candidate = POLICY_NO_NODE;
            zs->streak = 0;
            continue;
        }
        if (zs->candidate == toucher) {
            zs->streak++;
        } else {
            zs->candidate = toucher;
            zs->streak = 1;
        }
        if (config->settle_periods && zs->streak >= config->settle_periods) {
            zs->settled = TRUE;
        }
        /*
         * A settled zone follows a new toucher at once: after a long
         * tenure, a change is a phase change, not noise.
         */
        need = zs->settled || before_first_move ? 1 : confirm;
        if (cooling || zs->streak < need) {
            continue;
        }

        backing = placement ?
                  policy_backing_node(placement, topology, addr,
                                      counts->zone_size) :
                  POLICY_NO_NODE;
        vcpu_host = topology && (guint)toucher < topology->nr_guest_nodes ?
                    topology->vcpu_host_node[toucher] : POLICY_NO_NODE;
        move.lever = choose_lever(config, counts->home[z], toucher, backing,
                                  vcpu_host, &move.node, &move.from);
        if (move.lever != POLICY_LEVER_NONE) {
            move.toucher = toucher;
            move.count = count;
            g_array_append_val(candidates, move);
        }
    }

    /* The hottest zones first, as many as the byte budget allows. */
    g_array_sort(candidates, move_hotter_first);
    for (guint i = 0; i < candidates->len; i++) {
        PolicyMove *move = &g_array_index(candidates, PolicyMove, i);
        PolicyZoneState *zs = &zones[move->zone];

        if (config->budget_bytes &&
            used + move->size > config->budget_bytes) {
            continue;
        }
        used += move->size;
        g_array_append_val(moves, *move);
        zs->cooldown = config->cooldown_periods;
        zs->owner = zs->cooldown ? move->lever : POLICY_LEVER_NONE;
        /*
         * A moved zone needs a fresh run of dominance to move again, of
         * k periods until a toucher has held it long enough to settle.
         */
        zs->candidate = POLICY_NO_NODE;
        zs->streak = 0;
        zs->settled = FALSE;
    }

    moved = (prev && prev->moved) || moves->len > 0;
    policy_state_clear(next);
    next->nr_zones = counts->nr_zones;
    next->zones = zones;
    next->moved = moved;
    return moves;
}
