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
#include "qapi/qapi-events-snc.h"
#include "monitor/monitor.h"
#include "qemu/job.h"
#include "qemu/main-loop.h"
#include "qemu/units.h"
#include "qemu/timer.h"
#include "block/aio.h"
#include "system/runstate.h"
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

/* Check the mode and the target node of requests to the guest. */
static bool snc_guest_check_target(SNCState *s, uint32_t node, Error **errp)
{
    if (s->host_mode != SNC_HOST_MODE_GUEST_ONLY &&
        s->host_mode != SNC_HOST_MODE_COOPERATIVE) {
        error_setg(errp, "Requests to the guest need 'host-mode' guest-only"
                   " or cooperative (snc-configure); it is %s",
                   SncHostMode_str(s->host_mode));
        return false;
    }
    if (node >= s->nr_nodes) {
        error_setg(errp, "'node' %u does not exist: the machine has %u"
                   " NUMA node%s", node, s->nr_nodes,
                   s->nr_nodes == 1 ? "" : "s");
        return false;
    }
    return true;
}

/* Check the range of a request; false with @errp set if it is bad. */
static bool snc_guest_check_range(uint64_t addr, uint64_t size, Error **errp)
{
    g_autoptr(GuestRamRange) range = NULL;

    if (addr % SNC_REQ_PAGE_SIZE) {
        error_setg(errp, "'addr' 0x%" PRIx64 " is not a multiple of %u",
                   addr, SNC_REQ_PAGE_SIZE);
        return false;
    }
    if (!size || size % SNC_REQ_PAGE_SIZE ||
        size / SNC_REQ_PAGE_SIZE > SNC_REQ_MAX_PAGES) {
        error_setg(errp, "'size' 0x%" PRIx64 " must be a nonzero multiple"
                   " of %u, of at most %u pages", size, SNC_REQ_PAGE_SIZE,
                   SNC_REQ_MAX_PAGES);
        return false;
    }
    range = guest_ram_range_visible(addr, size, errp);
    if (!range) {
        return false;
    }
    if (range->ram_bytes != size) {
        error_setg(errp, "range ['addr' 0x%" PRIx64 ", +'size' 0x%" PRIx64
                   ") is not all guest RAM: 0x%" PRIx64 " bytes of it are"
                   " holes, MMIO or ROM", addr, size, range->skipped_bytes);
        return false;
    }
    return true;
}

/* Check a request's arguments; false with @errp set if one is bad. */
static bool snc_guest_check(SNCState *s, uint64_t addr, uint64_t size,
                            uint32_t node, Error **errp)
{
    return snc_guest_check_target(s, node, errp) &&
           snc_guest_check_range(addr, size, errp);
}

/*
 * Check a request's arguments and post it to the guest; returns the
 * slot, or -1 with @errp set.
 */
static int snc_guest_request(SNCState *s, uint32_t action, uint64_t addr,
                             uint64_t size, uint32_t node, Error **errp)
{
    if (!snc_guest_check(s, addr, size, node, errp)) {
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

/* The waiting snc-guest-migrate commands (SNCWaiter), for quit */
static GSList *snc_waiting;
static Notifier snc_quit_notifier;
static Notifier snc_shutdown_notifier;

/* A QMP quit is queued: stop waiting, so that it runs at once. */
static void snc_quit_queued(Notifier *n, void *opaque)
{
    for (GSList *l = snc_waiting; l; l = l->next) {
        SNCWaiter *w = l->data;

        if (!w->woken) {
            w->quit = true;
            snc_wait_timeout(w);
        }
    }
}

static bool snc_check_timeout(bool has_timeout_ms, uint32_t *timeout_ms,
                              Error **errp)
{
    if (!has_timeout_ms) {
        *timeout_ms = SNC_DEFAULT_TIMEOUT_MS;
    }
    if (!*timeout_ms || *timeout_ms > SNC_MAX_TIMEOUT_MS) {
        error_setg(errp, "'timeout-ms' %u is out of range: it must be from"
                   " 1 to %u", *timeout_ms, SNC_MAX_TIMEOUT_MS);
        return false;
    }
    return true;
}

/*
 * The job form: the ranges in requests of SNC_JOB_CHUNK, up to
 * SNC_JOB_IN_FLIGHT of them in the queue at a time
 */

#define SNC_JOB_CHUNK           (2 * MiB)
#define SNC_JOB_IN_FLIGHT       8
#define SNC_JOB_MAX_RANGES      1024
#define SNC_JOB_FULL_POLL_NS    (10 * SCALE_MS)

/* One of a job's requests, while it is in the queue */
typedef struct SNCJobRequest {
    SNCWaiter w;                /* s->waiter[] points here: never moved */
    bool busy;
    uint32_t id;
    uint64_t len;
    int64_t deadline;           /* QEMU_CLOCK_REALTIME, ms */
} SNCJobRequest;

typedef struct SNCMigrateJob {
    Job common;
    SNCState *s;                /* referenced */
    GArray *ranges;             /* of SncGuestRange */
    uint64_t size;              /* bytes in all ranges */
    uint32_t node;
    uint32_t timeout_ms;
    QEMUBH *wake_bh;            /* job_enter() from the main loop */
    QEMUTimer *timer;           /* the oldest request's deadline */
    guint next_range;           /* where the next request starts */
    uint64_t next_off;
    SNCJobRequest req[SNC_JOB_IN_FLIGHT];
    SncGuestMigrateJobSummary sum;
} SNCMigrateJob;

static void snc_job_wake(void *opaque)
{
    SNCMigrateJob *j = opaque;

    job_enter(&j->common);
}

static void snc_job_deadline(void *opaque)
{
    SNCMigrateJob *j = opaque;

    qemu_bh_schedule(j->wake_bh);
}

/* Add the completion @c of one of the job's requests to its summary. */
static void snc_job_count(SNCMigrateJob *j, const SncGuestCompletion *c)
{
    SncGuestMigrateJobSummary *m = &j->sum;

    switch (c->outcome) {
    case SNC_GUEST_OUTCOME_COMPLETED:
        if (c->status) {
            m->failed++;
        } else {
            m->completed++;
        }
        break;
    case SNC_GUEST_OUTCOME_PROTOCOL_ERROR:
        m->protocol_errors++;
        break;
    default:
        m->interrupted++;
    }
    m->moved += c->moved;
    m->already_on_node += c->already_on_node;
    m->failed_busy += c->failed_busy;
    m->failed_shared += c->failed_shared;
    m->failed_pinned += c->failed_pinned;
    m->failed_no_memory += c->failed_no_memory;
    m->failed_bad_range += c->failed_bad_range;
}

static bool snc_job_all_posted(SNCMigrateJob *j)
{
    return j->next_range == j->ranges->len;
}

/* How many of the job's requests are in the queue. */
static unsigned snc_job_in_flight(SNCMigrateJob *j)
{
    unsigned n = 0;

    for (unsigned i = 0; i < SNC_JOB_IN_FLIGHT; i++) {
        n += j->req[i].busy;
    }
    return n;
}

/*
 * Whether the job may post another request now: its first whenever the
 * queue has room, more only while the queue is less than half full.
 */
static bool snc_job_may_post(SNCMigrateJob *j)
{
    unsigned in_flight = snc_job_in_flight(j);

    if (snc_job_all_posted(j) || in_flight == SNC_JOB_IN_FLIGHT ||
        snc_mbox_full(j->s)) {
        return false;
    }
    return !in_flight || snc_mbox_depth(j->s) < SNC_RING_SIZE / 2;
}

/* Post the job's requests while it may; false with @errp set. */
static bool snc_job_post(SNCMigrateJob *j, Error **errp)
{
    while (snc_job_may_post(j)) {
        SncGuestRange *r = &g_array_index(j->ranges, SncGuestRange,
                                          j->next_range);
        uint64_t len = MIN(SNC_JOB_CHUNK, r->size - j->next_off);
        SNCJobRequest *q = j->req;
        int slot;

        while (q->busy) {
            q++;
        }
        slot = snc_mbox_post(j->s, SNC_REQ_ACTION_MIGRATE,
                             r->addr + j->next_off, len, j->node, errp);
        if (slot < 0) {
            return false;
        }
        *q = (SNCJobRequest) {
            .w = { .bh = j->wake_bh },
            .busy = true,
            .id = j->s->req_id[slot],
            .len = len,
            .deadline = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                        j->timeout_ms,
        };
        j->s->waiter[slot] = &q->w;
        j->sum.requests++;
        j->next_off += len;
        if (j->next_off == r->size) {
            j->next_range++;
            j->next_off = 0;
        }
    }
    return true;
}

/*
 * Count the requests the guest completed; 0, or -EPROTO or -EINTR with
 * @errp set if one of them was malformed or interrupted.
 */
static int snc_job_reap(SNCMigrateJob *j, Error **errp)
{
    int ret = 0;

    for (unsigned i = 0; i < SNC_JOB_IN_FLIGHT; i++) {
        SNCJobRequest *q = &j->req[i];
        SncGuestOutcome outcome;

        if (!q->busy || !q->w.done) {
            continue;
        }
        q->busy = false;
        snc_job_count(j, q->w.result);
        outcome = q->w.result->outcome;
        g_clear_pointer(&q->w.result, qapi_free_SncGuestCompletion);
        job_progress_update(&j->common, q->len);
        if (ret) {
            continue;
        }
        if (outcome == SNC_GUEST_OUTCOME_PROTOCOL_ERROR) {
            error_setg(errp, "The guest driver's completion of request %u"
                       " was malformed (protocol error)", q->id);
            ret = -EPROTO;
        } else if (outcome == SNC_GUEST_OUTCOME_INTERRUPTED) {
            error_setg(errp, "Request %u was interrupted: the guest stopped"
                       " serving requests, or the machine was reset", q->id);
            ret = -EINTR;
        }
    }
    return ret;
}

/*
 * Let go of the requests in flight as the job ends: withdraw them (they
 * end as interrupted, never lost), or leave them queued for the guest,
 * their completions then only events.
 */
static void snc_job_drop(SNCMigrateJob *j, bool withdraw)
{
    for (unsigned i = 0; i < SNC_JOB_IN_FLIGHT; i++) {
        SNCJobRequest *q = &j->req[i];

        if (!q->busy) {
            continue;
        }
        if (withdraw) {
            j->sum.interrupted++;
            snc_mbox_withdraw(j->s, q->id);
        } else {
            snc_mbox_detach(j->s, &q->w);
        }
        q->busy = false;
    }
}

/* The request in flight that was posted first, or NULL. */
static SNCJobRequest *snc_job_oldest(SNCMigrateJob *j)
{
    SNCJobRequest *oldest = NULL;

    for (unsigned i = 0; i < SNC_JOB_IN_FLIGHT; i++) {
        SNCJobRequest *q = &j->req[i];

        if (q->busy && (!oldest || q->deadline < oldest->deadline)) {
            oldest = q;
        }
    }
    return oldest;
}

static int coroutine_fn snc_job_run(Job *job, Error **errp)
{
    SNCMigrateJob *j = container_of(job, SNCMigrateJob, common);
    int64_t full_until = 0;
    int ret;

    job_progress_set_remaining(job, j->size);
    for (;;) {
        int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
        SNCJobRequest *oldest;

        ret = snc_job_reap(j, errp);
        if (ret) {
            snc_job_drop(j, true);
            return ret;
        }
        if (job_is_cancelled(job)) {
            snc_job_drop(j, true);
            return -ECANCELED;
        }
        if (!snc_job_post(j, errp)) {
            snc_job_drop(j, true);
            return -EIO;
        }
        oldest = snc_job_oldest(j);
        if (!oldest && snc_job_all_posted(j)) {
            return 0;
        }

        if (!oldest) {
            /* The queue is full of other requests: wait for room. */
            if (!full_until) {
                full_until = now + j->timeout_ms;
            } else if (now >= full_until) {
                error_setg(errp, "The request queue stayed full for"
                           " 'timeout-ms' %u", j->timeout_ms);
                return -ETIMEDOUT;
            }
            job_sleep_ns(job, SNC_JOB_FULL_POLL_NS);
            continue;
        }
        full_until = 0;
        if (now >= oldest->deadline) {
            error_setg(errp, "The guest did not complete request %u within"
                       " 'timeout-ms' %u; it stays queued until it"
                       " completes", oldest->id, j->timeout_ms);
            snc_job_drop(j, false);
            return -ETIMEDOUT;
        }
        timer_mod(j->timer, oldest->deadline);
        job_yield(job);
        timer_del(j->timer);
    }
}

static bool snc_job_cancel(Job *job, bool force)
{
    return true;                /* the run loop withdraws the requests */
}

static void snc_job_clean(Job *job)
{
    SNCMigrateJob *j = container_of(job, SNCMigrateJob, common);

    j->sum.job_id = job->id;
    j->sum.qom_path = object_get_canonical_path(OBJECT(j->s));
    j->sum.addr = g_array_index(j->ranges, SncGuestRange, 0).addr;
    j->sum.size = j->size;
    j->sum.range_count = j->ranges->len;
    j->sum.node = j->node;
    j->sum.cancelled = job_is_cancelled(job);
    if (job->err && !j->sum.cancelled) {
        j->sum.error = (char *)error_get_pretty(job->err);
    }
    qapi_event_send_snc_guest_migrate_job_completed(&j->sum);
    g_free(j->sum.qom_path);
    j->sum.qom_path = NULL;
    j->sum.job_id = NULL;
    j->sum.error = NULL;
}

static void snc_job_free(Job *job)
{
    SNCMigrateJob *j = container_of(job, SNCMigrateJob, common);

    qemu_bh_delete(j->wake_bh);
    timer_free(j->timer);
    for (unsigned i = 0; i < SNC_JOB_IN_FLIGHT; i++) {
        qapi_free_SncGuestCompletion(j->req[i].w.result);
    }
    g_array_unref(j->ranges);
    object_unref(OBJECT(j->s));
}

static const JobDriver snc_migrate_job_driver = {
    .instance_size = sizeof(SNCMigrateJob),
    .job_type      = JOB_TYPE_SNC_GUEST_MIGRATE,
    .run           = snc_job_run,
    .cancel        = snc_job_cancel,
    .clean         = snc_job_clean,
    .free          = snc_job_free,
};

static gint snc_range_cmp(gconstpointer a, gconstpointer b)
{
    const SncGuestRange *ra = a, *rb = b;

    return ra->addr < rb->addr ? -1 : ra->addr > rb->addr;
}

/*
 * The ranges of snc-guest-migrate, @addr and @size or @ranges, each
 * checked as a request's; NULL with @errp set if one is bad.
 */
static GArray *snc_guest_ranges(bool has_addr, uint64_t addr, bool has_size,
                                uint64_t size, bool has_ranges,
                                SncGuestRangeList *ranges, bool job,
                                Error **errp)
{
    g_autoptr(GArray) a = g_array_new(false, false, sizeof(SncGuestRange));
    g_autoptr(GArray) sorted = NULL;
    SncGuestRangeList *l;
    guint i;

    if (has_ranges && (has_addr || has_size)) {
        error_setg(errp, "Give either 'addr' and 'size' or 'ranges', not"
                   " both");
        return NULL;
    }
    if (!has_ranges) {
        if (!has_addr || !has_size) {
            error_setg(errp, "Parameter '%s' is missing (or give 'ranges')",
                       has_addr ? "size" : "addr");
            return NULL;
        }
        if (!snc_guest_check_range(addr, size, errp)) {
            return NULL;
        }
        g_array_append_val(a, ((SncGuestRange) { addr, size }));
        return g_steal_pointer(&a);
    }
    if (!job) {
        error_setg(errp, "'ranges' needs 'job-id': without it the command"
                   " waits for a single request");
        return NULL;
    }
    if (!ranges) {
        error_setg(errp, "'ranges' is empty");
        return NULL;
    }
    for (l = ranges, i = 0; l; l = l->next, i++) {
        if (i == SNC_JOB_MAX_RANGES) {
            error_setg(errp, "'ranges' has more than %u ranges",
                       SNC_JOB_MAX_RANGES);
            return NULL;
        }
        if (!snc_guest_check_range(l->value->addr, l->value->size, errp)) {
            error_prepend(errp, "'ranges[%u]': ", i);
            return NULL;
        }
        g_array_append_val(a, *l->value);
    }
    sorted = g_array_copy(a);
    g_array_sort(sorted, snc_range_cmp);
    for (i = 1; i < sorted->len; i++) {
        SncGuestRange *p = &g_array_index(sorted, SncGuestRange, i - 1);
        SncGuestRange *r = &g_array_index(sorted, SncGuestRange, i);

        if (p->addr + p->size > r->addr) {
            error_setg(errp, "'ranges' overlap: [0x%" PRIx64 ", +0x%" PRIx64
                       ") and [0x%" PRIx64 ", +0x%" PRIx64 ")", p->addr,
                       p->size, r->addr, r->size);
            return NULL;
        }
    }
    return g_steal_pointer(&a);
}

/*
 * Start the job form over @ranges; every argument, the job identifier
 * included, was checked or is checked before anything is posted.
 */
static SncGuestMigrateResult *snc_guest_migrate_job(SNCState *s,
                                                    GArray *ranges,
                                                    uint32_t node,
                                                    uint32_t timeout_ms,
                                                    const char *job_id,
                                                    Error **errp)
{
    SncGuestMigrateResult *ret;
    SNCMigrateJob *j;

    if (!(s->guest_serving & SNC_GUEST_SERVING_ON)) {
        error_setg(errp, "No guest driver serves requests of the Scalable"
                   " Node Controller (GUEST_SERVING is 0)");
        return NULL;
    }
    j = job_create(job_id, &snc_migrate_job_driver, NULL,
                   qemu_get_aio_context(), JOB_DEFAULT, NULL, NULL, errp);
    if (!j) {
        return NULL;
    }
    j->s = s;
    object_ref(OBJECT(s));
    j->ranges = g_array_ref(ranges);
    for (guint i = 0; i < ranges->len; i++) {
        j->size += g_array_index(ranges, SncGuestRange, i).size;
    }
    j->node = node;
    j->timeout_ms = timeout_ms;
    j->wake_bh = qemu_bh_new(snc_job_wake, j);
    j->timer = timer_new_ms(QEMU_CLOCK_REALTIME, snc_job_deadline, j);
    job_start(&j->common);

    ret = g_new0(SncGuestMigrateResult, 1);
    ret->form = SNC_GUEST_MIGRATE_FORM_JOB;
    ret->u.job.job_id = g_strdup(job_id);
    return ret;
}

SncGuestMigrateResult *coroutine_fn
qmp_snc_guest_migrate(const char *device, bool has_addr, uint64_t addr,
                      bool has_size, uint64_t size, bool has_ranges,
                      SncGuestRangeList *ranges, uint32_t node,
                      bool has_timeout_ms, uint32_t timeout_ms,
                      const char *job_id, Error **errp)
{
    SNCState *s = snc_find(device, errp);
    SNCWaiter w = { .co = qemu_coroutine_self() };
    g_autoptr(GArray) checked = NULL;
    SncGuestMigrateResult *ret;
    QEMUTimer *timer;
    uint32_t id;
    int slot;

    if (!s || !snc_check_timeout(has_timeout_ms, &timeout_ms, errp) ||
        !snc_guest_check_target(s, node, errp)) {
        return NULL;
    }
    checked = snc_guest_ranges(has_addr, addr, has_size, size, has_ranges,
                               ranges, job_id, errp);
    if (!checked) {
        return NULL;
    }
    if (job_id) {
        return snc_guest_migrate_job(s, checked, node, timeout_ms, job_id,
                                     errp);
    }
    slot = snc_mbox_post(s, SNC_REQ_ACTION_MIGRATE, addr, size, node, errp);
    if (slot < 0) {
        return NULL;
    }
    id = s->req_id[slot];
    s->waiter[slot] = &w;
    if (!snc_quit_notifier.notify) {
        snc_quit_notifier.notify = snc_quit_queued;
        monitor_add_quit_notifier(&snc_quit_notifier);
        /*
         * A shutdown the guest asks for (or any other) ends the main
         * loop; monitor_cleanup() then waits for this command, and
         * nothing else would complete it.
         */
        snc_shutdown_notifier.notify = snc_quit_queued;
        qemu_register_shutdown_notifier(&snc_shutdown_notifier);
    }
    snc_waiting = g_slist_prepend(snc_waiting, &w);
    /*
     * An AioContext timer, not a main-loop one: monitor_cleanup() polls
     * only the AioContext, so the timeout still fires there.
     */
    timer = aio_timer_new(qemu_get_aio_context(), QEMU_CLOCK_REALTIME,
                          SCALE_MS, snc_wait_timeout, &w);
    timer_mod(timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + timeout_ms);
    while (!w.woken) {
        qemu_coroutine_yield();
    }
    timer_free(timer);
    snc_waiting = g_slist_remove(snc_waiting, &w);

    if (!w.done) {
        /* The request stays queued; its completion is only an event. */
        snc_mbox_detach(s, &w);
        if (w.quit) {
            error_setg(errp, "Stopped waiting for request %u because QEMU"
                       " is quitting; it stays queued", id);
            return NULL;
        }
        error_setg(errp, "The guest did not complete request %u within"
                   " 'timeout-ms' %u; it stays queued until it completes",
                   id, timeout_ms);
        return NULL;
    }
    switch (w.result->outcome) {
    case SNC_GUEST_OUTCOME_COMPLETED:
        ret = g_new0(SncGuestMigrateResult, 1);
        ret->form = SNC_GUEST_MIGRATE_FORM_WAIT;
        ret->u.wait = *w.result;
        g_free(w.result);
        return ret;
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
