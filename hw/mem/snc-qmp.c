/*
 * QMP commands of the Scalable Node Controller
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-snc.h"
#include "snc.h"

typedef struct ZoneCount {
    uint32_t zone;
    uint64_t count;
} ZoneCount;

/* Hottest first; equal counts in zone order. */
static gint zone_count_cmp(gconstpointer a, gconstpointer b)
{
    const ZoneCount *za = a, *zb = b;

    if (za->count != zb->count) {
        return za->count > zb->count ? -1 : 1;
    }
    return za->zone < zb->zone ? -1 : za->zone > zb->zone;
}

static SncNodeCounters *node_counters(SNCState *s, uint32_t node,
                                      bool has_top, uint32_t top)
{
    SncNodeCounters *nc = g_new0(SncNodeCounters, 1);
    g_autoptr(GArray) hot = g_array_new(false, false, sizeof(ZoneCount));
    uint64List **counts_tail = &nc->counts;
    SncZoneCountList **top_tail = &nc->top;
    uint32_t z;

    nc->node = node;
    nc->has_counts = !has_top;
    nc->has_top = has_top;
    for (z = 0; z < s->nr_zones; z++) {
        uint64_t v = s->snap[z * s->nr_nodes + node];
        ZoneCount zc = { .zone = z, .count = v };

        nc->total += v;
        if (!has_top) {
            QAPI_LIST_APPEND(counts_tail, v);
        } else if (v) {
            g_array_append_val(hot, zc);
        }
    }
    if (has_top) {
        g_array_sort(hot, zone_count_cmp);
        for (z = 0; z < MIN(top, hot->len); z++) {
            ZoneCount *zc = &g_array_index(hot, ZoneCount, z);
            SncZoneCount *e = g_new0(SncZoneCount, 1);

            e->zone = zc->zone;
            e->addr = (uint64_t)zc->zone << s->zone_shift;
            e->count = zc->count;
            QAPI_LIST_APPEND(top_tail, e);
        }
    }
    return nc;
}

static SncCounters *snc_counters(SNCState *s, bool has_top, uint32_t top)
{
    SncCounters *info = g_new0(SncCounters, 1);
    SncNodeCountersList **nodes_tail;
    uint32List **src_tail;
    intList **home_tail;
    uint32_t i;

    info->qom_path = object_get_canonical_path(OBJECT(s));
    info->id = g_strdup(DEVICE(s)->id);
    info->available = s->available;
    if (!s->available) {
        info->unavailable_reason = g_strdup(snc_unavailable_reason());
    }
    info->running = s->running;
    info->mode = s->mode;
    info->exact = s->exact;
    src_tail = &info->source_nodes;
    for (i = 0; i < s->nr_nodes; i++) {
        if (s->node_filter & BIT(i)) {
            QAPI_LIST_APPEND(src_tail, i);
        }
    }
    info->period_ms = s->period_ms;
    info->sample_interval_us = s->sample_us;
    info->zones = s->nr_zones;
    info->zone_size = 1ULL << s->zone_shift;
    home_tail = &info->home_nodes;
    for (i = 0; i < s->nr_zones; i++) {
        QAPI_LIST_APPEND(home_tail,
                         s->home[i] == SNC_NO_NODE ? -1 : s->home[i]);
    }
    info->sequence = s->seq;
    info->period_ns = s->period_ns;
    info->total = snc_total(s);
    nodes_tail = &info->nodes;
    for (i = 0; i < s->nr_nodes; i++) {
        QAPI_LIST_APPEND(nodes_tail, node_counters(s, i, has_top, top));
    }
    return info;
}

SncCountersList *qmp_query_snc_counters(bool has_top, uint32_t top,
                                        Error **errp)
{
    g_autoptr(GSList) devices = NULL;
    SncCountersList *list = NULL, **tail = &list;
    GSList *d;

    if (has_top && (top == 0 || top > SNC_MAX_ZONES)) {
        error_setg(errp, "'top' must be from 1 to %u, not %u",
                   SNC_MAX_ZONES, top);
        return NULL;
    }
    devices = snc_list();
    for (d = devices; d; d = d->next) {
        QAPI_LIST_APPEND(tail, snc_counters(SNC(d->data), has_top, top));
    }
    return list;
}

void qmp_snc_configure(const char *device,
                       bool has_mode, SncMode mode, bool has_exact,
                       bool exact,
                       bool has_source_nodes, uint32List *source_nodes,
                       bool has_period_ms, uint32_t period_ms,
                       bool has_sample_interval_us,
                       uint32_t sample_interval_us, Error **errp)
{
    SNCState *s = snc_find(device, errp);
    uint32_t filter = 0;
    uint32List *n;

    if (!s) {
        return;
    }
    /* Check every argument before changing anything. */
    for (n = has_source_nodes ? source_nodes : NULL; n; n = n->next) {
        if (n->value >= s->nr_nodes) {
            error_setg(errp, "'source-nodes' names node %u, but the machine"
                       " has %u NUMA node%s", n->value, s->nr_nodes,
                       s->nr_nodes == 1 ? "" : "s");
            return;
        }
        filter |= BIT(n->value);
    }
    if ((has_period_ms && !snc_check_period(s, period_ms, errp)) ||
        (has_sample_interval_us &&
         !snc_check_sample_interval(sample_interval_us, errp))) {
        return;
    }

    if (has_mode) {
        qatomic_set(&s->mode, mode);
    }
    if (has_exact) {
        qatomic_set(&s->exact, exact);
    }
    if (has_source_nodes) {
        snc_set_node_filter(s, filter, &error_abort);
    }
    if (has_period_ms) {
        snc_set_period(s, period_ms, &error_abort);
    }
    if (has_sample_interval_us) {
        snc_set_sample_interval(s, sample_interval_us, &error_abort);
    }
}

void qmp_snc_control(const char *device, SncAction action, Error **errp)
{
    SNCState *s = snc_find(device, errp);

    if (!s) {
        return;
    }
    switch (action) {
    case SNC_ACTION_START:
        snc_start(s, errp);
        break;
    case SNC_ACTION_STOP:
        snc_stop(s);
        break;
    case SNC_ACTION_SNAPSHOT:
        snc_snapshot(s);
        break;
    default:
        g_assert_not_reached();
    }
}
