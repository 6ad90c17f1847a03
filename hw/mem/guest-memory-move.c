/*
 * Move a running guest's RAM between host NUMA nodes
 *
 * migrate-guest-range resolves a guest-physical range into RAM block
 * pieces (guest-ram-range.c) and cuts them into batches of at most
 * MOVE_BATCH_BYTES.  Each batch is one task for the mover's thread
 * pool; a move keeps at most 'workers' of its tasks in the pool at a
 * time, and submits the next one from the main loop when one ends.
 * For each batch a task:
 *
 *  1. asks the kernel where each page sits (move_pages without nodes),
 *     to tell pages already on the node and unpopulated pages apart;
 *  2. moves the pages that are elsewhere (move_pages with nodes);
 *  3. asks again about the pages the move reported as failed: a page of
 *     a transparent huge page is moved with its head, and the kernel
 *     reports its other subpages as busy.
 *
 * The pool has MOVE_MAX_WORKERS threads, shared by all moves: tasks of
 * concurrent moves beyond that wait in the pool's queue, in the order
 * they were submitted, so concurrent moves share the threads batch by
 * batch.  The pool is separate from the AioContext thread pool, so a
 * move never delays the block layer's aio=threads I/O.
 *
 * Before the first task starts, the whole range is bound to the node
 * (mbind without MPOL_MF_MOVE), so that pages the guest faults in
 * meanwhile are allocated there.  A piece that is a whole memory
 * backend is rebound through the backend, which then reports the new
 * policy in query-memdev.
 *
 * The tasks hold no lock while the kernel copies: vCPUs keep running,
 * and the kernel's migration entries make any access to a page in
 * flight wait for the copy, so the guest never sees stale data.  The
 * BQL is held only to resolve the range, to submit tasks and to finish
 * the move in the main loop.  A move that is cancelled, stopped by an
 * error or by QEMU's shutdown ends after the batches in flight; the
 * batches already done stay moved.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-guest-memory.h"
#include "qapi/qapi-events-guest-memory.h"
#include "qemu/atomic.h"
#include "qemu/bitmap.h"
#include "qemu/coroutine.h"
#include "qemu/job.h"
#include "qemu/main-loop.h"
#include "qemu/notify.h"
#include "qemu/queue.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "block/aio.h"
#include "block/thread-pool.h"
#include "monitor/monitor.h"
#include "system/runstate.h"
#include "guest-ram-range.h"
#include "guest-memory-numa.h"
#include "trace.h"

#define MOVE_BATCH_BYTES    (16 * MiB)

/* Worker threads of one move, and of all moves together. */
#define MOVE_MAX_WORKERS    8

typedef struct GuestMemoryMove {
    GuestRamRange *range;
    int node;
    unsigned workers;
    Job *job;                   /* NULL for a synchronous move */
    int64_t start_ns;
    int64_t end_ns;

    /* The batches: piece i has batches [first_batch[i], first_batch[i+1]) */
    uint64_t *first_batch;
    uint64_t nr_batches;

    /* Submission and completion, main loop only */
    uint64_t next_batch;        /* next batch to submit */
    unsigned next_piece;        /* the piece of @next_batch */
    unsigned running;           /* tasks submitted and not yet done */
    Coroutine *co;
    Error *err;                 /* first error of any task */

    bool stop;                  /* atomic: cancelled, failed or exiting */

    /* Counters, atomic: tasks update them concurrently */
    uint64_t pages;
    uint64_t moved;
    uint64_t already_on_node;
    uint64_t not_populated;
    uint64_t failures[GUEST_MEMORY_MOVE_FAILURE_REASON__MAX];
    uint64_t bytes_moved;

    QLIST_ENTRY(GuestMemoryMove) next;
} GuestMemoryMove;

/* One batch of a move, handed to a pool thread. */
typedef struct MoveTask {
    GuestMemoryMove *move;
    const GuestRamPiece *piece;
    uint64_t off;
    uint64_t len;
    bool done;                  /* the batch was examined */
    Error *err;
} MoveTask;

/* Moves in flight, to refuse overlapping ones.  Under the BQL. */
static QLIST_HEAD(, GuestMemoryMove) moves_in_flight =
    QLIST_HEAD_INITIALIZER(moves_in_flight);

/* The threads of all moves; created by the first move.  Under the BQL. */
static ThreadPool *move_pool;

/* Stops the moves in flight when QEMU shuts down. */
static Notifier move_shutdown_notifier;
static Notifier move_quit_notifier;

typedef struct GuestMemoryMoveJob {
    Job common;
    GuestMemoryMove move;
} GuestMemoryMoveJob;

/* Scratch space for one batch of base pages. */
#define MOVE_BATCH_PAGES    (MOVE_BATCH_BYTES / 4096)
typedef struct MoveBuffers {
    void *pages[MOVE_BATCH_PAGES];
    void *todo[MOVE_BATCH_PAGES];
    int nodes[MOVE_BATCH_PAGES];
    int status[MOVE_BATCH_PAGES];
} MoveBuffers;

static GuestMemoryMoveFailureReason failure_reason(int err)
{
    switch (err) {
    case EBUSY:
    case EAGAIN:
        return GUEST_MEMORY_MOVE_FAILURE_REASON_BUSY;
    case ENOMEM:
        return GUEST_MEMORY_MOVE_FAILURE_REASON_NO_MEMORY;
    case EACCES:
        return GUEST_MEMORY_MOVE_FAILURE_REASON_SHARED;
    case EFAULT:
    case ENOENT:
        return GUEST_MEMORY_MOVE_FAILURE_REASON_FAULT;
    default:
        return GUEST_MEMORY_MOVE_FAILURE_REASON_OTHER;
    }
}

static uint64_t batch_bytes(const GuestRamPiece *p)
{
    return MAX(MOVE_BATCH_BYTES, p->page_size);
}

/*
 * Move one batch: @len bytes at @off into piece @p.  Returns false on a
 * major error, with @errp set.  Runs in a pool thread, without the BQL.
 */
static bool move_batch(GuestMemoryMove *m, const GuestRamPiece *p,
                       uint64_t off, uint64_t len, MoveBuffers *b,
                       Error **errp)
{
    unsigned long n = len / p->page_size, i, nr_todo = 0, nr_retry = 0;
    uint64_t moved = 0, already = 0, unpopulated = 0;
    uint8_t *start = p->host + off;

    for (i = 0; i < n; i++) {
        b->pages[i] = start + i * p->page_size;
    }

    /* 1. Where is each page now? */
    if (!guest_memory_page_nodes(b->pages, n, b->status, errp)) {
        goto fail;
    }

    for (i = 0; i < n; i++) {
        int st = b->status[i];

        if (st == m->node) {
            already++;
        } else if (st == -ENOENT || st == -EFAULT) {
            unpopulated++;
        } else if (st >= 0) {
            b->todo[nr_todo] = b->pages[i];
            b->nodes[nr_todo++] = m->node;
        } else {
            qatomic_inc(&m->failures[failure_reason(-st)]);
        }
    }

    /* 2. Move what is elsewhere. */
    if (nr_todo && !guest_memory_move_pages(b->todo, nr_todo, b->nodes,
                                            b->status, p->shared, errp)) {
        goto fail;
    }

    for (i = 0; i < nr_todo; i++) {
        if (b->status[i] == m->node) {
            moved++;
        } else {
            b->todo[nr_retry] = b->todo[i];
            b->nodes[nr_retry++] = b->status[i];
        }
    }

    /* 3. Subpages of a huge page moved with their head report EBUSY. */
    if (nr_retry && !guest_memory_page_nodes(b->todo, nr_retry, b->status,
                                             errp)) {
        goto fail;
    }
    for (i = 0; i < nr_retry; i++) {
        if (b->status[i] == m->node) {
            moved++;
        } else {
            int err = b->nodes[i] < 0 ? -b->nodes[i] : 0;

            qatomic_inc(&m->failures[failure_reason(err)]);
        }
    }

    qatomic_add(&m->pages, n);
    qatomic_add(&m->moved, moved);
    qatomic_add(&m->already_on_node, already);
    qatomic_add(&m->not_populated, unpopulated);
    qatomic_add(&m->bytes_moved, moved * p->page_size);
    trace_guest_memory_move_batch(p->block, p->gpa + off, n, moved, already,
                                  unpopulated, n - moved - already -
                                  unpopulated);
    return true;

fail:
    error_prepend(errp, "RAM block '%s' at 0x%" HWADDR_PRIx ": ", p->block,
                  p->gpa + off);
    return false;
}

/* Stop a move with @err, unless it already has an error.  BQL held. */
static void move_fail(GuestMemoryMove *m, Error *err)
{
    qatomic_set(&m->stop, true);
    if (!m->err) {
        m->err = err;
    } else {
        error_free(err);
    }
}

static void move_submit(GuestMemoryMove *m);

/* A task ended: account for it and keep the move going.  Main loop. */
static void move_task_done(void *opaque)
{
    g_autofree MoveTask *t = opaque;
    GuestMemoryMove *m = t->move;

    m->running--;
    if (t->err) {
        move_fail(m, t->err);
    } else if (t->done && m->job) {
        job_progress_update(m->job, t->len);
    }
    move_submit(m);
    if (!m->running) {
        aio_co_wake(m->co);
    }
}

/* Pool thread: move one batch, unless the move was stopped meanwhile. */
static int move_task(void *opaque)
{
    MoveTask *t = opaque;
    GuestMemoryMove *m = t->move;

    if (!qatomic_read(&m->stop)) {
        g_autofree MoveBuffers *b = g_new(MoveBuffers, 1);

        t->done = move_batch(m, t->piece, t->off, t->len, b, &t->err);
    }
    aio_bh_schedule_oneshot(qemu_get_aio_context(), move_task_done, t);
    return 0;
}

/* Keep @m->workers tasks of the move in the pool.  Main loop. */
static void move_submit(GuestMemoryMove *m)
{
    while (m->running < m->workers && m->next_batch < m->nr_batches &&
           !qatomic_read(&m->stop)) {
        MoveTask *t = g_new0(MoveTask, 1);
        const GuestRamPiece *p;

        /* Batches are submitted in increasing order: scan forward. */
        while (m->next_batch >= m->first_batch[m->next_piece + 1]) {
            m->next_piece++;
        }
        p = &m->range->pieces[m->next_piece];
        t->move = m;
        t->piece = p;
        t->off = (m->next_batch - m->first_batch[m->next_piece]) *
                 batch_bytes(p);
        t->len = MIN(batch_bytes(p), p->size - t->off);
        m->next_batch++;
        m->running++;
        thread_pool_submit(move_pool, move_task, t, NULL);
    }
}

/*
 * QEMU is shutting down, or a QMP quit is queued behind a synchronous
 * move: end every move after its batches in flight.
 */
static void move_shutdown(Notifier *n, void *opaque)
{
    GuestMemoryMove *m;

    QLIST_FOREACH(m, &moves_in_flight, next) {
        Error *err = NULL;

        if (!m->running && m->next_batch == m->nr_batches) {
            continue;           /* done, only the job's end is pending */
        }
        error_setg(&err, "the move was stopped because QEMU is shutting"
                   " down");
        move_fail(m, err);
    }
}

/* Create the mover's thread pool on first use.  BQL held. */
static void move_pool_init(void)
{
    if (move_pool) {
        return;
    }
    move_pool = thread_pool_new();
    thread_pool_set_max_threads(move_pool, MOVE_MAX_WORKERS);
    move_shutdown_notifier.notify = move_shutdown;
    qemu_register_shutdown_notifier(&move_shutdown_notifier);
    move_quit_notifier.notify = move_shutdown;
    monitor_add_quit_notifier(&move_quit_notifier);
}

/*
 * Validate the arguments and cut the range into batches.  Changes
 * nothing outside @m.  BQL held.
 */
static bool move_init(GuestMemoryMove *m, uint64_t addr, uint64_t size,
                      uint16_t node, unsigned workers, Error **errp)
{
    GuestMemoryMove *other;
    unsigned i;

    if (!guest_memory_check_node(node, "node", errp)) {
        return false;
    }
    if (workers < 1 || workers > MOVE_MAX_WORKERS) {
        error_setg(errp, "'workers' must be between 1 and %d, not %u",
                   MOVE_MAX_WORKERS, workers);
        return false;
    }
    m->range = guest_ram_range_new(addr, size, "addr", "size", errp);
    if (!m->range) {
        return false;
    }
    for (i = 0; i < m->range->nr_pieces; i++) {
        const GuestRamPiece *p = &m->range->pieces[i];

        if (p->shared && !guest_memory_may_move_shared()) {
            error_setg(errp, "RAM block '%s' is a shared mapping: moving"
                       " it needs MPOL_MF_MOVE_ALL, and QEMU lacks"
                       " CAP_SYS_NICE", p->block);
            guest_ram_range_free(m->range);
            m->range = NULL;
            return false;
        }
    }
    QLIST_FOREACH(other, &moves_in_flight, next) {
        if (guest_ram_range_overlaps(m->range, other->range)) {
            error_setg(errp, "a move of guest range [0x%" HWADDR_PRIx
                       ", 0x%" HWADDR_PRIx ")%s%s%s is already running"
                       " and overlaps ['addr' 0x%" PRIx64 ", +'size' 0x%"
                       PRIx64 ")", other->range->addr,
                       other->range->addr + other->range->size,
                       other->job ? " (job '" : "",
                       other->job ? other->job->id : "",
                       other->job ? "')" : "", addr, size);
            guest_ram_range_free(m->range);
            m->range = NULL;
            return false;
        }
    }

    m->node = node;
    m->workers = workers;
    m->first_batch = g_new0(uint64_t, m->range->nr_pieces + 1);
    for (i = 0; i < m->range->nr_pieces; i++) {
        const GuestRamPiece *p = &m->range->pieces[i];

        m->first_batch[i + 1] = m->first_batch[i] +
                                DIV_ROUND_UP(p->size, batch_bytes(p));
    }
    m->nr_batches = m->first_batch[m->range->nr_pieces];
    return true;
}

/* Make a validated move visible to overlap checks; BQL held. */
static void move_register(GuestMemoryMove *m)
{
    move_pool_init();
    QLIST_INSERT_HEAD(&moves_in_flight, m, next);
}

/* Run the tasks and wait for all of them, from a coroutine. */
static void coroutine_fn move_run(GuestMemoryMove *m)
{
    trace_guest_memory_move_start(m->range->addr, m->range->size, m->node,
                                  m->workers, m->nr_batches);
    m->start_ns = get_clock();
    m->co = qemu_coroutine_self();
    move_submit(m);
    while (m->running) {
        qemu_coroutine_yield();
    }
    m->end_ns = get_clock();
}

/*
 * Bind the whole range to the node before any page moves, so that a page
 * the guest faults in while the move runs is allocated there too.  Done
 * once per piece and not per batch: mbind() takes the mmap lock for
 * writing, which would serialize the tasks.  A piece that is a whole
 * memory backend is rebound by the backend, so that query-memdev reports
 * the new policy.  BQL held.
 */
static bool move_bind(GuestMemoryMove *m, Error **errp)
{
    DECLARE_BITMAP(host_nodes, MAX_NODES + 1) = { 0 };
    unsigned i;

    if (m->node < MAX_NODES) {
        set_bit(m->node, host_nodes);
    }
    for (i = 0; i < m->range->nr_pieces; i++) {
        const GuestRamPiece *p = &m->range->pieces[i];

        if (p->whole_memdev && m->node < MAX_NODES) {
            if (!host_memory_backend_rebind(p->memdev, host_nodes,
                                            HOST_MEM_POLICY_BIND, errp)) {
                error_prepend(errp, "memory backend '%s': ",
                              object_get_canonical_path_component(
                                  OBJECT(p->memdev)));
                return false;
            }
            trace_guest_memory_move_memdev_bound(
                object_get_canonical_path_component(OBJECT(p->memdev)),
                m->node);
        } else if (!guest_memory_bind(p->host, p->size, m->node, errp)) {
            error_prepend(errp, "RAM block '%s': ", p->block);
            return false;
        }
    }
    return true;
}

static GuestMemoryMoveStats *move_stats(GuestMemoryMove *m)
{
    GuestMemoryMoveStats *s = g_new0(GuestMemoryMoveStats, 1);
    GuestMemoryMoveFailureList **tail = &s->failures;
    int r;

    s->pages = m->pages;
    s->moved = m->moved;
    s->already_on_node = m->already_on_node;
    s->not_populated = m->not_populated;
    for (r = 0; r < GUEST_MEMORY_MOVE_FAILURE_REASON__MAX; r++) {
        GuestMemoryMoveFailure *f;

        if (!m->failures[r]) {
            continue;
        }
        f = g_new0(GuestMemoryMoveFailure, 1);
        f->reason = r;
        f->pages = m->failures[r];
        s->failed += f->pages;
        QAPI_LIST_APPEND(tail, f);
    }
    s->bytes_moved = m->bytes_moved;
    s->skipped_bytes = m->range->skipped_bytes;
    s->duration_ns = m->end_ns - m->start_ns;
    return s;
}

/* Finish a move in the main loop; returns its error, if any. */
static Error *move_finish(GuestMemoryMove *m)
{
    QLIST_REMOVE(m, next);
    trace_guest_memory_move_done(m->moved, m->already_on_node,
                                 m->not_populated, m->end_ns - m->start_ns,
                                 qatomic_read(&m->stop));
    return m->err;
}

static void move_cleanup(GuestMemoryMove *m)
{
    guest_ram_range_free(m->range);
    g_free(m->first_batch);
}

/* The job form */

static int coroutine_fn move_job_run(Job *job, Error **errp)
{
    GuestMemoryMoveJob *s = container_of(job, GuestMemoryMoveJob, common);
    GuestMemoryMove *m = &s->move;
    uint64_t total = 0;
    unsigned i;

    for (i = 0; i < m->range->nr_pieces; i++) {
        total += m->range->pieces[i].size;
    }
    job_progress_set_remaining(job, total);
    move_run(m);
    if (m->err) {
        error_propagate(errp, error_copy(m->err));
        return -EIO;
    }
    return 0;
}

static bool move_job_cancel(Job *job, bool force)
{
    GuestMemoryMoveJob *s = container_of(job, GuestMemoryMoveJob, common);

    qatomic_set(&s->move.stop, true);
    return true;
}

static void move_job_clean(Job *job)
{
    GuestMemoryMoveJob *s = container_of(job, GuestMemoryMoveJob, common);
    GuestMemoryMove *m = &s->move;
    g_autoptr(GuestMemoryMoveStats) stats = NULL;
    Error *err = move_finish(m);

    stats = move_stats(m);
    qapi_event_send_guest_memory_move_completed(job->id, m->node,
                                                job_is_cancelled(job),
                                                err ? error_get_pretty(err)
                                                    : NULL,
                                                stats);
}

static void move_job_free(Job *job)
{
    GuestMemoryMoveJob *s = container_of(job, GuestMemoryMoveJob, common);

    error_free(s->move.err);
    move_cleanup(&s->move);
}

static const JobDriver guest_memory_move_job_driver = {
    .instance_size = sizeof(GuestMemoryMoveJob),
    .job_type      = JOB_TYPE_GUEST_MEMORY_MOVE,
    .run           = move_job_run,
    .cancel        = move_job_cancel,
    .clean         = move_job_clean,
    .free          = move_job_free,
};

/*
 * Every argument, the job identifier included, is checked before the
 * range is bound: a command that fails changes no memory policy.
 */
GuestMemoryMoveInfo *coroutine_fn
qmp_migrate_guest_range(uint64_t addr, uint64_t size, uint16_t node,
                        const char *job_id, bool has_workers,
                        uint8_t workers, Error **errp)
{
    GuestMemoryMoveInfo *info;
    GuestMemoryMove m = { 0 };
    Error *err;

    if (!has_workers) {
        workers = 1;
    }

    if (!move_init(&m, addr, size, node, workers, errp)) {
        return NULL;
    }

    if (job_id) {
        GuestMemoryMoveJob *s;

        s = job_create(job_id, &guest_memory_move_job_driver, NULL,
                       qemu_get_aio_context(), JOB_DEFAULT, NULL, NULL,
                       errp);
        if (!s) {
            move_cleanup(&m);
            return NULL;
        }
        s->move = m;
        s->move.job = &s->common;
        if (!move_bind(&s->move, errp)) {
            job_early_fail(&s->common);
            return NULL;
        }
        move_register(&s->move);
        job_start(&s->common);
        return g_new0(GuestMemoryMoveInfo, 1);
    }

    if (!move_bind(&m, errp)) {
        move_cleanup(&m);
        return NULL;
    }
    move_register(&m);
    move_run(&m);
    err = move_finish(&m);
    if (err) {
        error_propagate(errp, err);
        move_cleanup(&m);
        return NULL;
    }
    info = g_new0(GuestMemoryMoveInfo, 1);
    info->stats = move_stats(&m);
    move_cleanup(&m);
    return info;
}
