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
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "block/aio.h"
#include "guest-ram-range.h"
#include "snc.h"

#define SNC_DEFAULT_TIMEOUT_MS  10000
#define SNC_MAX_TIMEOUT_MS      3600000

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
    info->mailbox = g_new0(SncMailbox, 1);
    info->mailbox->host_mode = s->host_mode;
    info->mailbox->guest_serving = s->guest_serving & SNC_GUEST_SERVING_ON;
    info->mailbox->queue_depth = snc_mbox_depth(s);
    info->mailbox->queue_size = SNC_RING_SIZE;
    info->mailbox->posted = s->mbox_posted;
    info->mailbox->served = s->mbox_served;
    info->mailbox->failed = s->mbox_failed;
    info->mailbox->malformed = s->mbox_malformed;
    info->mailbox->interrupted = s->mbox_interrupted;
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
                       bool has_mode, SncMode mode,
                       bool has_host_mode, SncHostMode host_mode,
                       bool has_exact,
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
    if (has_host_mode) {
        s->host_mode = host_mode;
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

/*
 * Check a request's arguments and post it to the guest; returns the
 * slot, or -1 with @errp set.
 */
static int snc_guest_request(SNCState *s, uint32_t action, uint64_t addr,
                             uint64_t size, uint32_t node, Error **errp)
{
    g_autoptr(GuestRamRange) range = NULL;

    if (s->host_mode != SNC_HOST_MODE_GUEST_ONLY &&
        s->host_mode != SNC_HOST_MODE_COOPERATIVE) {
        error_setg(errp, "Requests to the guest need 'host-mode' guest-only"
                   " or cooperative (snc-configure); it is %s",
                   SncHostMode_str(s->host_mode));
        return -1;
    }
    if (addr % SNC_REQ_PAGE_SIZE) {
        error_setg(errp, "'addr' 0x%" PRIx64 " is not a multiple of %u",
                   addr, SNC_REQ_PAGE_SIZE);
        return -1;
    }
    if (!size || size % SNC_REQ_PAGE_SIZE ||
        size / SNC_REQ_PAGE_SIZE > SNC_REQ_MAX_PAGES) {
        error_setg(errp, "'size' 0x%" PRIx64 " must be a nonzero multiple"
                   " of %u, of at most %u pages", size, SNC_REQ_PAGE_SIZE,
                   SNC_REQ_MAX_PAGES);
        return -1;
    }
    if (node >= s->nr_nodes) {
        error_setg(errp, "'node' %u does not exist: the machine has %u"
                   " NUMA node%s", node, s->nr_nodes,
                   s->nr_nodes == 1 ? "" : "s");
        return -1;
    }
    range = guest_ram_range_visible(addr, size, errp);
    if (!range) {
        return -1;
    }
    if (range->ram_bytes != size) {
        error_setg(errp, "range ['addr' 0x%" PRIx64 ", +'size' 0x%" PRIx64
                   ") is not all guest RAM: 0x%" PRIx64 " bytes of it are"
                   " holes, MMIO or ROM", addr, size, range->skipped_bytes);
        return -1;
    }
    return snc_mbox_post(s, action, addr, size, node, errp);
}

static void snc_wait_timeout(void *opaque)
{
    SNCWaiter *w = opaque;

    if (!w->woken) {
        w->woken = true;
        aio_co_schedule(qemu_get_aio_context(), w->co);
    }
}

SncGuestCompletion *coroutine_fn
qmp_snc_guest_migrate(const char *device, uint64_t addr, uint64_t size,
                      uint32_t node, bool has_timeout_ms, uint32_t timeout_ms,
                      Error **errp)
{
    SNCState *s = snc_find(device, errp);
    SNCWaiter w = { .co = qemu_coroutine_self() };
    QEMUTimer *timer;
    uint32_t id;
    int slot;

    if (!s) {
        return NULL;
    }
    if (!has_timeout_ms) {
        timeout_ms = SNC_DEFAULT_TIMEOUT_MS;
    }
    if (!timeout_ms || timeout_ms > SNC_MAX_TIMEOUT_MS) {
        error_setg(errp, "'timeout-ms' %u is out of range: it must be from"
                   " 1 to %u", timeout_ms, SNC_MAX_TIMEOUT_MS);
        return NULL;
    }
    slot = snc_guest_request(s, SNC_REQ_ACTION_MIGRATE, addr, size, node,
                             errp);
    if (slot < 0) {
        return NULL;
    }
    id = s->req_id[slot];
    s->waiter[slot] = &w;
    timer = timer_new_ms(QEMU_CLOCK_REALTIME, snc_wait_timeout, &w);
    timer_mod(timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + timeout_ms);
    while (!w.woken) {
        qemu_coroutine_yield();
    }
    timer_free(timer);

    if (!w.done) {
        /* The request stays queued; its completion is only an event. */
        if (s->waiter[slot] == &w) {
            s->waiter[slot] = NULL;
        }
        error_setg(errp, "The guest did not complete request %u within"
                   " 'timeout-ms' %u; it stays queued until it completes",
                   id, timeout_ms);
        return NULL;
    }
    switch (w.result->outcome) {
    case SNC_GUEST_OUTCOME_COMPLETED:
        return w.result;
    case SNC_GUEST_OUTCOME_PROTOCOL_ERROR:
        error_setg(errp, "The guest driver's completion of request %u was"
                   " malformed (protocol error)", id);
        break;
    default:
        error_setg(errp, "Request %u was interrupted: the guest stopped"
                   " serving requests, or the machine was reset", id);
    }
    qapi_free_SncGuestCompletion(w.result);
    return NULL;
}

SncGuestRequest *qmp_snc_guest_hint(const char *device, uint64_t addr,
                                    uint64_t size, uint32_t node,
                                    Error **errp)
{
    SNCState *s = snc_find(device, errp);
    SncGuestRequest *req;
    int slot;

    if (!s) {
        return NULL;
    }
    slot = snc_guest_request(s, SNC_REQ_ACTION_HINT, addr, size, node, errp);
    if (slot < 0) {
        return NULL;
    }
    req = g_new0(SncGuestRequest, 1);
    req->id = s->req_id[slot];
    return req;
}
