/*
 * numa-policyd: the policy engine.  Every SNC period it reads who
 * touched what, where the guest's RAM sits and where the vCPUs run,
 * decides with policy_decide() and pulls the levers.
 *
 *   numa-policyd --qmp SOCKET [--mode MODE] [--dry-run] [--csv FILE]
 *                [--periods N] [--device ID] [--period-ms MS] ...
 *
 * Each period, after the device's SNC_PERIOD_END event:
 *   - query-snc-counters: the count matrix of the period (its nonzero
 *     counts, as "top" lists);
 *   - query-cpus-fast: each vCPU's thread, whose CPU affinity (or the
 *     CPU it last ran on) gives the host node that runs it;
 *   - query-memdev, and query-guest-memory-placement per hot zone
 *     (the zones with a dominant toucher), for the backing host node;
 *   - policy_decide(), then for each host move a migrate-guest-range
 *     job, and for each guest move an snc-guest-migrate request to the
 *     guest's SNC driver, which moves the zone's pages to the toucher's
 *     guest node and answers with the counts.
 *
 * The guest lever needs a guest driver that serves the SNC's mailbox
 * ("guest-serving" in query-snc-counters).  While none does, the
 * guest-only and cooperative modes run as host-only and say so; they
 * come back when the guest serves again.  The engine writes the mode it
 * runs in to the SNC's mode register (snc-configure host-mode), which
 * the guest reads, and sets it to "off" when it stops.
 *
 * Output: a line per period and per decision, or a view redrawn each
 * period when stdout is a terminal, and with --csv one row per period
 * (docs/design/policy-engine.md gives the columns).  Exit code: 0,
 * 1 when QEMU cannot be reached, has no SNC or goes away, 2 on a usage
 * error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <glib.h>
#include <glib-unix.h>
#include <numa.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "policy.h"
#include "policy-qmp.h"
#include "qmp-client.h"

#define PROG "numa-policyd"

typedef struct Engine {
    QmpClient *qmp;
    PolicyConfig config;
    PolicyMode requested;       /* --mode; config.mode may degrade */
    gboolean dry_run;
    char *device;               /* the SNC's QOM path */
    FILE *csv;
    gboolean tty;
    PolicyState state;
    guint64 period;             /* periods handled */
    guint jobs_started, jobs_done, jobs_failed;
    guint requests_done, requests_failed;   /* guest lever */
    gboolean guest_serving;     /* at the last period */
    gboolean mode_written;      /* the mode register holds config.mode */
    guint64 last_sequence;      /* the last snapshot handled */
    gboolean have_sequence;
    guint64 bytes_moved;        /* this period, by finished jobs */
    guint64 bytes_moved_total;
    guint64 job_serial;
    GHashTable *host_jobs;      /* host job serial -> RangeJob */
    GHashTable *guest_jobs;     /* guest job serial -> RangeJob */
    /*
     * zone -> the period its last move of ours ended in.  The policy's
     * cooldown counts from the decision; a move that takes periods
     * would otherwise be decided again from counts that still show the
     * pages it is moving.
     */
    GHashTable *settled;
    guint64 zone_size;          /* of the last snapshot */
    GQueue *guest_queue;        /* RangeJobs waiting for room */
    /*
     * zone -> CachedPlacement: the last placement read of each hot
     * zone, so that a period reads only some of them (see
     * read_placement()).
     */
    GHashTable *placement_cache;
    guint placement_reads;      /* this period */
    double cpu_last;
} Engine;

typedef struct CachedPlacement {
    guint64 period;             /* when it was read */
    PolicyPlacement placement;
} CachedPlacement;

static void cached_placement_free(gpointer data)
{
    CachedPlacement *cp = data;

    policy_placement_clear(&cp->placement);
    g_free(cp);
}

static char *opt_qmp, *opt_mode = "cooperative", *opt_csv, *opt_device;
static gboolean opt_dry_run;
static gint opt_periods, opt_period_ms = -1, opt_timeout = 30;
static gint opt_guest_timeout = 10000;
/* query-snc-counters' largest "top": the most zones a device has. */
#define SNC_MAX_TOP 65536

static gint opt_confirm = -1, opt_settle = -1, opt_cooldown = -1;
static gint opt_refresh = 16;
static gint64 opt_min_count = -1, opt_budget = -1;
static double opt_dominance = -1;
static volatile sig_atomic_t quit;

static void on_signal(int sig G_GNUC_UNUSED)
{
    quit = 1;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * The host node that runs thread @tid: the node of every CPU in its
 * affinity mask when they share one, else the node of the CPU it last
 * ran on (field 39 of /proc/TID/stat); -1 when neither is known.
 */
static gint host_node_of_thread(gint64 tid, gpointer opaque G_GNUC_UNUSED)
{
    g_autofree char *path = NULL;
    g_autofree char *stat = NULL;
    cpu_set_t set;
    gint node = POLICY_NO_NODE;
    const char *p;
    int cpu;

    if (sched_getaffinity((pid_t)tid, sizeof(set), &set) == 0) {
        for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            int n;

            if (!CPU_ISSET(cpu, &set)) {
                continue;
            }
            n = numa_node_of_cpu(cpu);
            if (node == POLICY_NO_NODE) {
                node = n;
            } else if (n != node) {
                node = -2;
                break;
            }
        }
        if (node >= 0) {
            return node;
        }
    }
    path = g_strdup_printf("/proc/%" G_GINT64_FORMAT "/stat", tid);
    if (!g_file_get_contents(path, &stat, NULL, NULL) ||
        !(p = strrchr(stat, ')'))) {
        return POLICY_NO_NODE;
    }
    /* After "comm)", field 3 is the state; the CPU is field 39. */
    for (int field = 2; field < 39 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    if (!p || sscanf(p + 1, "%d", &cpu) != 1) {
        return POLICY_NO_NODE;
    }
    node = numa_node_of_cpu(cpu);
    return node < 0 ? POLICY_NO_NODE : node;
}

static JsonNode *execute(Engine *e, const char *command, JsonObject *args)
{
    g_autoptr(GError) err = NULL;
    JsonNode *ret = qmp_client_execute(e->qmp, command, args, &err);

    if (!ret) {
        if (err->domain == G_IO_ERROR) {
            fprintf(stderr, PROG ": QEMU went away: %s\n", err->message);
        } else {
            fprintf(stderr, PROG ": %s: %s\n", command, err->message);
        }
        exit(1);
    }
    return ret;
}

/*
 * Show the engine's mode to the guest through the SNC's mode register.
 * A dry run changes nothing, the register included.
 */
static void write_mode(Engine *e, PolicyMode mode)
{
    g_autoptr(JsonObject) args = json_object_new();

    if (e->dry_run) {
        return;
    }
    json_object_set_string_member(args, "device", e->device);
    json_object_set_string_member(args, "host-mode", policy_mode_name(mode));
    json_node_unref(execute(e, "snc-configure", args));
}

/*
 * Find the SNC (--device, or the only one), start it counting when it
 * is not, and apply --period-ms.
 */
static void setup_device(Engine *e)
{
    g_autoptr(JsonNode) reply = execute(e, "query-snc-counters", NULL);
    JsonArray *list = JSON_NODE_HOLDS_ARRAY(reply) ?
                      json_node_get_array(reply) : NULL;
    JsonObject *dev = NULL;
    g_autoptr(JsonObject) args = json_object_new();

    if (!list || json_array_get_length(list) == 0) {
        fprintf(stderr, PROG ": QEMU has no snc device (start it with "
                "-device snc)\n");
        exit(1);
    }
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *d = json_array_get_object_element(list, i);
        const char *path = json_object_get_string_member_with_default(
                               d, "qom-path", "");
        const char *id = json_object_get_string_member_with_default(
                             d, "id", "");

        if (!opt_device ? json_array_get_length(list) == 1 :
            !strcmp(opt_device, id) || !strcmp(opt_device, path) ||
            g_str_has_suffix(path, opt_device)) {
            dev = d;
            break;
        }
    }
    if (!dev) {
        fprintf(stderr, opt_device ?
                PROG ": no snc device named '%s'\n" :
                PROG ": %s%u snc devices: pick one with --device\n",
                opt_device ? opt_device : "",
                json_array_get_length(list));
        exit(opt_device ? 1 : 2);
    }
    if (!json_object_get_boolean_member_with_default(dev, "available",
                                                     FALSE)) {
        fprintf(stderr, PROG ": the snc device cannot count: %s\n",
                json_object_get_string_member_with_default(
                    dev, "unavailable-reason", "unknown reason"));
        exit(1);
    }
    e->device = g_strdup(json_object_get_string_member(dev, "qom-path"));
    json_object_set_string_member(args, "device", e->device);
    if (opt_period_ms >= 0) {
        g_autoptr(JsonObject) conf = json_object_new();

        json_object_set_string_member(conf, "device", e->device);
        json_object_set_int_member(conf, "period-ms", opt_period_ms);
        json_node_unref(execute(e, "snc-configure", conf));
    }
    if (!json_object_get_boolean_member_with_default(dev, "running",
                                                     FALSE)) {
        json_object_set_string_member(args, "action", "start");
        json_node_unref(execute(e, "snc-control", args));
    }
    printf(PROG ": %s: %" G_GINT64_FORMAT " zones of %" G_GINT64_FORMAT
           " bytes, period %" G_GINT64_FORMAT " ms, mode %s%s\n",
           e->device, json_object_get_int_member_with_default(dev, "zones",
                                                              0),
           json_object_get_int_member_with_default(dev, "zone-size", 0),
           opt_period_ms >= 0 ? opt_period_ms :
           json_object_get_int_member_with_default(dev, "period-ms", 0),
           policy_mode_name(e->config.mode),
           e->dry_run ? " (dry run)" : "");
    fflush(stdout);
}

/* Guest node @n's touches that hit its own zones, as a fraction. */
static double counter_locality(const PolicyCounts *c, guint n)
{
    guint64 local = 0, all = 0;

    for (guint z = 0; z < c->nr_zones; z++) {
        guint64 v = policy_count(c, n, z);

        all += v;
        local += c->home[z] == (gint)n ? v : 0;
    }
    return all ? (double)local / all : -1;
}

/* The zones with a dominant toucher: those whose backing matters. */
static GArray *hot_zones(const Engine *e, const PolicyCounts *c)
{
    GArray *hot = g_array_new(FALSE, FALSE, sizeof(guint));

    for (guint z = 0; z < c->nr_zones; z++) {
        if (policy_zone_toucher(&e->config, c, z) != POLICY_NO_NODE) {
            g_array_append_val(hot, z);
        }
    }
    return hot;
}

/*
 * The placement of the hot zones @hot whose backing can decide a move
 * (policy_backing_matters(): in cooperative mode the guest lever takes
 * the others whatever their backing, so at the start, when most zones
 * are the guest lever's, this saves a QMP round trip per zone before
 * the moves can start), into @placement.  A zone's backing changes only
 * when a move (ours, or the host kernel's own balancing) touches it, so
 * each zone is read again every --placement-refresh periods, staggered
 * over the zones, and at once when it has no reading yet or a move of
 * ours on it has finished.
 */
static void read_placement(Engine *e, const PolicyCounts *c, GArray *hot,
                           PolicyPlacement *placement)
{
    e->placement_reads = 0;
    for (guint i = 0; i < hot->len; i++) {
        guint z = g_array_index(hot, guint, i);
        CachedPlacement *cp = g_hash_table_lookup(e->placement_cache,
                                                  GUINT_TO_POINTER(z));

        if (!policy_backing_matters(&e->config, c, z)) {
            continue;
        }
        if (!cp || (e->period + z) % opt_refresh == 0) {
            g_autoptr(JsonObject) args = json_object_new();
            g_autoptr(JsonNode) reply = NULL;
            g_autoptr(GError) err = NULL;

            json_object_set_int_member(args, "addr", z * c->zone_size);
            json_object_set_int_member(args, "size", c->zone_size);
            reply = execute(e, "query-guest-memory-placement", args);
            cp = g_new0(CachedPlacement, 1);
            policy_placement_init(&cp->placement);
            if (!policy_placement_add_qmp(&cp->placement, reply, &err)) {
                fprintf(stderr, PROG ": %s\n", err->message);
                exit(1);
            }
            cp->period = e->period;
            g_hash_table_insert(e->placement_cache, GUINT_TO_POINTER(z),
                                cp);
            e->placement_reads++;
        }
        for (guint r = 0; r < cp->placement.ranges->len; r++) {
            const PolicyRange *from = &g_array_index(cp->placement.ranges,
                                                     PolicyRange, r);
            PolicyRange *to = policy_placement_add(placement, from->addr,
                                                   from->size,
                                                   from->memdev);

            memcpy(to->bytes, from->bytes, sizeof(to->bytes));
        }
    }
}

/*
 * A period's moves by one lever to one node over adjacent zones become
 * one job: a migrate-guest-range job of up to HOST_JOB_MAX bytes, or an
 * snc-guest-migrate job of up to GUEST_JOB_MAX.  The guest lever's jobs
 * run at most GUEST_JOBS_IN_FLIGHT at a time: each job has at least one
 * request in the device's 16-entry queue (QEMU lets a job post more
 * only while the queue is less than half full), so that the guest's
 * driver always finds the next one waiting.  Host jobs start at once;
 * each command costs a QMP round trip, which a nested or loaded host
 * makes long.
 */
#define GUEST_JOBS_IN_FLIGHT 8
#define GUEST_JOB_MAX (4 * 1024 * 1024)
#define HOST_JOB_MAX (64 * 1024 * 1024)

typedef struct RangeJob {
    guint64 addr;
    guint64 size;
    gint node;
} RangeJob;

/* Note that the zones of [@addr, @addr + @size) moved this period. */
static void settle(Engine *e, guint64 addr, guint64 size)
{
    for (guint64 a = addr; e->zone_size && a < addr + size;
         a += e->zone_size) {
        g_hash_table_insert(e->settled, GSIZE_TO_POINTER(a / e->zone_size),
                            GSIZE_TO_POINTER(e->period));
    }
}

/* Whether a move of ours on @zone ended less than a cooldown ago. */
static gboolean recently_settled(Engine *e, guint zone)
{
    gpointer when;

    return g_hash_table_lookup_extended(e->settled, GUINT_TO_POINTER(zone),
                                        NULL, &when) &&
           e->period < GPOINTER_TO_SIZE(when) + e->config.cooldown_periods;
}

static gboolean range_job_covers(const RangeJob *j, guint64 addr)
{
    return addr >= j->addr && addr < j->addr + j->size;
}

static gboolean range_jobs_hold(GHashTable *jobs, guint64 addr)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, jobs);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (range_job_covers(value, addr)) {
            return TRUE;
        }
    }
    return FALSE;
}

/*
 * Whether a move of ours of the zone at @addr has not finished yet: a
 * host job or a guest job over it, running or queued.
 */
static gboolean zone_in_flight(Engine *e, guint64 addr)
{
    if (range_jobs_hold(e->host_jobs, addr) ||
        range_jobs_hold(e->guest_jobs, addr)) {
        return TRUE;
    }
    for (GList *l = e->guest_queue->head; l; l = l->next) {
        if (range_job_covers(l->data, addr)) {
            return TRUE;
        }
    }
    return FALSE;
}

static gint range_job_order(gconstpointer a, gconstpointer b)
{
    const PolicyMove *ma = a, *mb = b;

    if (ma->node != mb->node) {
        return ma->node < mb->node ? -1 : 1;
    }
    return ma->addr < mb->addr ? -1 : ma->addr > mb->addr;
}

static void start_guest_job(Engine *e, RangeJob *j)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autofree char *id = NULL;
    g_autoptr(GError) err = NULL;
    JsonNode *ret;

    id = g_strdup_printf("policyd-g%" G_GUINT64_FORMAT, ++e->job_serial);
    json_object_set_string_member(args, "device", e->device);
    json_object_set_int_member(args, "addr", j->addr);
    json_object_set_int_member(args, "size", j->size);
    json_object_set_int_member(args, "node", j->node);
    json_object_set_int_member(args, "timeout-ms", opt_guest_timeout);
    json_object_set_string_member(args, "job-id", id);
    ret = qmp_client_execute(e->qmp, "snc-guest-migrate", args, &err);
    if (!ret) {
        if (err->domain == G_IO_ERROR) {
            fprintf(stderr, PROG ": QEMU went away: %s\n", err->message);
            exit(1);
        }
        /*
         * Refused (the guest stopped serving, the range holds no RAM):
         * its zones cool down like moved ones, and the next period's
         * mailbox state decides the mode.
         */
        fprintf(stderr, PROG ": snc-guest-migrate [0x%" G_GINT64_MODIFIER
                "x, +0x%" G_GINT64_MODIFIER "x) to node %d: %s\n",
                j->addr, j->size, j->node, err->message);
        e->requests_failed++;
        g_free(j);
        return;
    }
    json_node_unref(ret);
    g_hash_table_insert(e->guest_jobs, GSIZE_TO_POINTER(e->job_serial), j);
}

/* Start queued guest jobs while there is room. */
static void start_guest_jobs(Engine *e)
{
    while (g_hash_table_size(e->guest_jobs) < GUEST_JOBS_IN_FLIGHT &&
           !g_queue_is_empty(e->guest_queue)) {
        start_guest_job(e, g_queue_pop_head(e->guest_queue));
    }
}

/*
 * The period's moves by @lever as jobs over runs of adjacent zones to
 * one node, each at most @max bytes.  handle_period() has already
 * dropped the moves of zones that a move of ours holds.
 */
static GList *range_jobs(GArray *moves, PolicyLever lever, guint64 max)
{
    g_autoptr(GArray) picked = g_array_new(FALSE, FALSE, sizeof(PolicyMove));
    GList *jobs = NULL;
    RangeJob *j = NULL;

    for (guint i = 0; i < moves->len; i++) {
        const PolicyMove *m = &g_array_index(moves, PolicyMove, i);

        if (m->lever == lever) {
            g_array_append_val(picked, *m);
        }
    }
    g_array_sort(picked, range_job_order);
    for (guint i = 0; i < picked->len; i++) {
        const PolicyMove *m = &g_array_index(picked, PolicyMove, i);

        if (j && j->node == m->node && j->addr + j->size == m->addr &&
            j->size + m->size <= max) {
            j->size += m->size;
            continue;
        }
        j = g_new(RangeJob, 1);
        *j = (RangeJob){ .addr = m->addr, .size = m->size, .node = m->node };
        jobs = g_list_prepend(jobs, j);
    }
    return g_list_reverse(jobs);
}

/* Queue the period's guest moves, and start what there is room for. */
static void queue_guest_moves(Engine *e, GArray *moves)
{
    GList *jobs = range_jobs(moves, POLICY_LEVER_GUEST, GUEST_JOB_MAX);

    for (GList *l = jobs; l; l = l->next) {
        g_queue_push_tail(e->guest_queue, l->data);
    }
    g_list_free(jobs);
    start_guest_jobs(e);
}

/* Say on stderr why requests of guest job @id failed. */
static void guest_job_explain(const char *id, JsonObject *d)
{
    static const char *const fields[] = {
        "failed", "protocol-errors", "interrupted", "moved",
        "already-on-node", "failed-busy", "failed-shared", "failed-pinned",
        "failed-no-memory", "failed-bad-range",
    };
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        gint64 v = json_object_get_int_member_with_default(d, fields[i], 0);

        if (v) {
            g_string_append_printf(s, " %s %" G_GINT64_FORMAT, fields[i], v);
        }
    }
    fprintf(stderr, PROG ": guest job %s, [0x%" G_GINT64_MODIFIER "x, +0x%"
            G_GINT64_MODIFIER "x) to node %" G_GINT64_FORMAT ", %"
            G_GINT64_FORMAT " requests:%s\n", id,
            json_object_get_int_member_with_default(d, "addr", 0),
            json_object_get_int_member_with_default(d, "size", 0),
            json_object_get_int_member_with_default(d, "node", 0),
            json_object_get_int_member_with_default(d, "requests", 0),
            s->str);
}

/* Account a finished guest job of ours, and start the next. */
static void guest_job_completed(Engine *e, QmpEvent *ev)
{
    const char *id = json_object_get_string_member_with_default(
                         ev->data, "job-id", "");
    JsonObject *d = ev->data;
    guint64 completed, failed;

    if (!g_str_has_prefix(id, "policyd-g") ||
        !g_hash_table_remove(e->guest_jobs, GSIZE_TO_POINTER(
                                 g_ascii_strtoull(id + 9, NULL, 10)))) {
        return;
    }
    completed = json_object_get_int_member_with_default(d, "completed", 0);
    failed = json_object_get_int_member_with_default(d, "failed", 0) +
             json_object_get_int_member_with_default(d, "protocol-errors",
                                                     0) +
             json_object_get_int_member_with_default(d, "interrupted", 0);
    if (json_object_has_member(d, "error")) {
        fprintf(stderr, PROG ": guest job %s: %s\n", id,
                json_object_get_string_member_with_default(d, "error",
                                                           "?"));
        failed = MAX(failed, 1);
    } else if (failed) {
        guest_job_explain(id, d);
    }
    settle(e, json_object_get_int_member_with_default(d, "addr", 0),
           json_object_get_int_member_with_default(d, "size", 0));
    e->requests_done += completed > failed ? completed - failed : 0;
    e->requests_failed += failed;
    e->bytes_moved += json_object_get_int_member_with_default(d, "moved",
                                                              0) * 4096;
    start_guest_jobs(e);
}

/*
 * Start migrate-guest-range jobs for the period's host moves.  A zone
 * whose previous job still runs (a slow host can outlast the cooldown)
 * is left to it: its backing is read again when that job ends.
 */
static void start_host_moves(Engine *e, GArray *moves)
{
    GList *jobs = range_jobs(moves, POLICY_LEVER_HOST, HOST_JOB_MAX);

    for (GList *l = jobs; l; l = l->next) {
        g_autoptr(JsonObject) args = json_object_new();
        g_autofree char *id = NULL;
        g_autoptr(GError) err = NULL;
        RangeJob *j = l->data;
        JsonNode *ret;

        id = g_strdup_printf("policyd-%" G_GUINT64_FORMAT, ++e->job_serial);
        json_object_set_int_member(args, "addr", j->addr);
        json_object_set_int_member(args, "size", j->size);
        json_object_set_int_member(args, "node", j->node);
        json_object_set_string_member(args, "job-id", id);
        ret = qmp_client_execute(e->qmp, "migrate-guest-range", args, &err);
        if (!ret) {
            if (err->domain == G_IO_ERROR) {
                fprintf(stderr, PROG ": QEMU went away: %s\n",
                        err->message);
                exit(1);
            }
            /* A refused move changes nothing: report it and go on. */
            fprintf(stderr, PROG ": migrate-guest-range [0x%"
                    G_GINT64_MODIFIER "x, +0x%" G_GINT64_MODIFIER "x): %s\n",
                    j->addr, j->size, err->message);
            e->jobs_failed++;
            g_free(j);
            continue;
        }
        json_node_unref(ret);
        e->jobs_started++;
        g_hash_table_insert(e->host_jobs, GSIZE_TO_POINTER(e->job_serial), j);
    }
    g_list_free(jobs);
}

/* Account a finished move job of ours. */
static void job_completed(Engine *e, QmpEvent *ev)
{
    const char *id = json_object_get_string_member_with_default(
                         ev->data, "job-id", "");
    g_autofree RangeJob *j = NULL;
    JsonObject *stats;

    if (!g_str_has_prefix(id, "policyd-")) {
        return;
    }
    /* The zones' backing changed: read it again. */
    if (g_hash_table_steal_extended(e->host_jobs, GSIZE_TO_POINTER(
                                        g_ascii_strtoull(id + 8, NULL, 10)),
                                    NULL, (gpointer *)&j)) {
        for (guint64 a = j->addr; e->zone_size && a < j->addr + j->size;
             a += e->zone_size) {
            g_hash_table_remove(e->placement_cache,
                                GUINT_TO_POINTER(a / e->zone_size));
        }
        settle(e, j->addr, j->size);
    }
    if (json_object_has_member(ev->data, "error") ||
        json_object_get_boolean_member_with_default(ev->data, "cancelled",
                                                    FALSE)) {
        e->jobs_failed++;
    } else {
        e->jobs_done++;
    }
    stats = json_object_get_object_member(ev->data, "stats");
    if (stats) {
        e->bytes_moved += json_object_get_int_member_with_default(
                              stats, "bytes-moved", 0);
    }
}

/* "guest:Z>N host:Z>N ...": the period's decisions, for the CSV. */
static char *decisions_text(GArray *moves)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < moves->len; i++) {
        const PolicyMove *m = &g_array_index(moves, PolicyMove, i);

        g_string_append_printf(s, "%s%s:%u>%d", i ? " " : "",
                               policy_lever_name(m->lever), m->zone,
                               m->node);
    }
    return g_string_free(s, FALSE);
}

static void csv_header(Engine *e, guint nr_nodes)
{
    fprintf(e->csv, "period,sequence");
    for (guint n = 0; n < nr_nodes; n++) {
        fprintf(e->csv, ",local_%u", n);
    }
    fprintf(e->csv, ",hot_zones,placement_reads,backed_near_vcpus,"
            "moves_guest,moves_host,"
            "decided_bytes,bytes_moved,jobs_started,jobs_done,jobs_failed,"
            "requests_done,requests_failed,guest_serving,mode,"
            "cpu_ms,decisions\n");
}

static void report(Engine *e, const PolicyCounts *c,
                   const PolicyTopology *topo, const PolicyPlacement *pl,
                   GArray *hot, GArray *moves)
{
    guint guest = 0, host = 0, near = 0;
    guint64 decided = 0;
    double cpu = cpu_seconds(), cpu_ms = (cpu - e->cpu_last) * 1e3;
    g_autofree char *text = decisions_text(moves);

    e->cpu_last = cpu;
    for (guint i = 0; i < moves->len; i++) {
        const PolicyMove *m = &g_array_index(moves, PolicyMove, i);

        guest += m->lever == POLICY_LEVER_GUEST;
        host += m->lever == POLICY_LEVER_HOST;
        decided += m->size;
    }
    /* Hot zones whose backing is the host node of their toucher's vCPUs */
    for (guint i = 0; i < hot->len; i++) {
        guint z = g_array_index(hot, guint, i), d = 0;
        gint b;

        for (guint n = 1; n < c->nr_nodes; n++) {
            d = policy_count(c, n, z) > policy_count(c, d, z) ? n : d;
        }
        b = policy_backing_node(pl, topo, (guint64)z * c->zone_size,
                                c->zone_size);
        near += b != POLICY_NO_NODE && b == topo->vcpu_host_node[d];
    }
    if (e->csv) {
        if (e->period == 1) {
            csv_header(e, c->nr_nodes);
        }
        fprintf(e->csv, "%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT,
                e->period, c->sequence);
        for (guint n = 0; n < c->nr_nodes; n++) {
            fprintf(e->csv, ",%.3f", counter_locality(c, n));
        }
        /* Without the placement, the backing is not known: empty. */
        fprintf(e->csv, ",%u,%u,", hot->len, e->placement_reads);
        if (pl->ranges->len) {
            fprintf(e->csv, "%u", near);
        }
        fprintf(e->csv, ",%u,%u,%" G_GUINT64_FORMAT ",%"
                G_GUINT64_FORMAT ",%u,%u,%u,%u,%u,%d,%s,%.2f,%s\n",
                guest, host, decided, e->bytes_moved,
                e->jobs_started, e->jobs_done, e->jobs_failed,
                e->requests_done, e->requests_failed, e->guest_serving,
                policy_mode_name(e->config.mode), cpu_ms, text);
        fflush(e->csv);
    }
    if (e->tty) {
        printf("\033[H\033[J");
        printf(PROG ": %s, mode %s%s%s, period %" G_GUINT64_FORMAT
               " (sequence %" G_GUINT64_FORMAT ")\n\n", e->device,
               policy_mode_name(e->config.mode),
               e->config.mode != e->requested ?
               " (no guest lever: the guest does not serve requests)" : "",
               e->dry_run ? " (dry run)" : "", e->period, c->sequence);
        for (guint n = 0; n < c->nr_nodes; n++) {
            double l = counter_locality(c, n);
            int bar = l < 0 ? 0 : (int)(l * 40 + 0.5);

            printf("  node %2u  %-40.*s  ", n, bar,
                   "########################################");
            if (l < 0) {
                printf("idle\n");
            } else {
                printf("%5.1f%% local\n", l * 100);
            }
        }
        printf("\n  hot zones %u, backed near their vCPUs %u (%u read "
               "this period)\n", hot->len, near, e->placement_reads);
        printf("  decisions: %u guest, %u host (%" G_GUINT64_FORMAT
               " KiB)\n", guest, host, decided >> 10);
        printf("  guest requests: %u done, %u failed (guest %s)\n",
               e->requests_done, e->requests_failed,
               e->guest_serving ? "serving" : "not serving");
        printf("  jobs: %u started, %u done, %u failed; moved %"
               G_GUINT64_FORMAT " KiB (all periods: %" G_GUINT64_FORMAT
               " KiB)\n", e->jobs_started, e->jobs_done, e->jobs_failed,
               e->bytes_moved >> 10, e->bytes_moved_total >> 10);
        printf("  cpu %.2f ms this period\n", cpu_ms);
    } else {
        printf("period %" G_GUINT64_FORMAT " sequence %" G_GUINT64_FORMAT
               ": %u hot zones, %u backed near their vCPUs, %u guest and"
               " %u host decisions, %" G_GUINT64_FORMAT " bytes moved\n",
               e->period, c->sequence, hot->len, near, guest, host,
               e->bytes_moved);
    }
    for (guint i = 0; i < moves->len && !e->tty; i++) {
        const PolicyMove *m = &g_array_index(moves, PolicyMove, i);

        printf("  %s %s zone %u addr 0x%" G_GINT64_MODIFIER "x from %d to"
               " %d (toucher %d, %" G_GUINT64_FORMAT " touches)\n",
               e->dry_run ? "would move" : "move",
               policy_lever_name(m->lever), m->zone, m->addr, m->from,
               m->node, m->toucher, m->count);
    }
    fflush(stdout);
}

/*
 * The guest lever works while a guest driver serves the mailbox.  When
 * none does, guest-only and cooperative run as host-only, which works
 * for any guest, until one serves again; each change is said once.  A
 * dry run keeps the requested mode, whose decisions are only printed.
 */
static void update_guest_lever(Engine *e, gboolean serving)
{
    gboolean wants = e->requested == POLICY_MODE_GUEST_ONLY ||
                     e->requested == POLICY_MODE_COOPERATIVE;
    PolicyMode mode = e->requested;

    if (wants && !serving) {
        mode = e->dry_run ? e->requested : POLICY_MODE_HOST_ONLY;
    }
    if (wants && (serving != e->guest_serving || !e->period)) {
        if (!serving) {
            fprintf(stderr, PROG ": the guest does not serve SNC requests:"
                    " %s\n", e->dry_run ?
                    "guest decisions are printed only" :
                    "guest lever unavailable, continuing host-only");
        } else if (e->period) {
            fprintf(stderr, PROG ": the guest serves SNC requests again: "
                    "%s\n", policy_mode_name(mode));
        }
    }
    e->guest_serving = serving;
    if (mode != e->config.mode || !e->mode_written) {
        e->config.mode = mode;
        write_mode(e, mode);
        e->mode_written = TRUE;
    }
}

/*
 * The period's counters.  "top" with room for every zone lists only the
 * zones each node touched: the same matrix without its zeros, which
 * would be most of the reply, and of the engine's time to parse it.
 */
static JsonNode *read_counters(Engine *e)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_int_member(args, "top", SNC_MAX_TOP);
    return execute(e, "query-snc-counters", args);
}

static void handle_period(Engine *e)
{
    g_autoptr(JsonNode) counters = read_counters(e);
    g_autoptr(JsonNode) cpus = execute(e, "query-cpus-fast", NULL);
    g_autoptr(JsonNode) memdevs = execute(e, "query-memdev", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) hot = NULL;
    g_autoptr(GArray) moves = NULL;
    PolicyCounts c;
    PolicyPlacement pl;
    PolicyTopology topo;
    PolicyMailbox mailbox;

    policy_placement_init(&pl);
    policy_topology_init(&topo);
    if (!policy_counts_from_qmp(counters, e->device, &c, &err) ||
        !policy_mailbox_from_qmp(counters, e->device, &mailbox, &err) ||
        !policy_topology_vcpus_from_qmp(&topo, cpus, host_node_of_thread,
                                        NULL, &err) ||
        !policy_topology_memdevs_from_qmp(&topo, memdevs, &err)) {
        fprintf(stderr, PROG ": %s\n", err->message);
        exit(1);
    }
    /* Events queued while a slow period ran name a period seen. */
    if (e->have_sequence && c.sequence == e->last_sequence) {
        policy_counts_clear(&c);
        policy_placement_clear(&pl);
        policy_topology_clear(&topo);
        return;
    }
    e->have_sequence = TRUE;
    e->last_sequence = c.sequence;
    e->zone_size = c.zone_size;
    update_guest_lever(e, mailbox.guest_serving);
    hot = hot_zones(e, &c);
    e->placement_reads = 0;
    if (e->config.mode == POLICY_MODE_HOST_ONLY ||
        e->config.mode == POLICY_MODE_COOPERATIVE) {
        read_placement(e, &c, hot, &pl);
    }
    moves = policy_decide(&e->config, &c, &pl, &topo, &e->state,
                          &e->state);
    e->period++;
    /* A zone with a move of ours running or just ended stays put. */
    for (guint i = moves->len; i-- > 0;) {
        const PolicyMove *m = &g_array_index(moves, PolicyMove, i);

        if (zone_in_flight(e, m->addr) || recently_settled(e, m->zone)) {
            g_array_remove_index(moves, i);
        }
    }
    if (!e->dry_run) {
        start_host_moves(e, moves);
        queue_guest_moves(e, moves);
    }
    report(e, &c, &topo, &pl, hot, moves);
    e->bytes_moved_total += e->bytes_moved;
    e->bytes_moved = 0;
    policy_counts_clear(&c);
    policy_placement_clear(&pl);
    policy_topology_clear(&topo);
}

static void run(Engine *e)
{
    while (!quit && (!opt_periods || e->period < (guint64)opt_periods)) {
        g_autoptr(GError) err = NULL;
        g_autoptr(QmpEvent) ev = qmp_client_next_event(e->qmp, 500, &err);

        if (!ev) {
            if (err) {
                fprintf(stderr, PROG ": QEMU went away: %s\n",
                        err->message);
                exit(1);
            }
            continue;
        }
        if (!strcmp(ev->name, "GUEST_MEMORY_MOVE_COMPLETED")) {
            job_completed(e, ev);
        } else if (!strcmp(ev->name, "SNC_GUEST_MIGRATE_JOB_COMPLETED")) {
            guest_job_completed(e, ev);
        } else if (!strcmp(ev->name, "SNC_PERIOD_END") &&
                   !g_strcmp0(json_object_get_string_member_with_default(
                                  ev->data, "qom-path", ""), e->device)) {
            handle_period(e);
        }
    }
}

static GOptionEntry entries[] = {
    { "qmp", 'q', 0, G_OPTION_ARG_FILENAME, &opt_qmp,
      "QEMU's QMP socket (-qmp unix:PATH,server=on,wait=off)", "PATH" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &opt_mode,
      "off, host-only, guest-only or cooperative (default)", "MODE" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
      "print the decisions, move nothing", NULL },
    { "csv", 'c', 0, G_OPTION_ARG_FILENAME, &opt_csv,
      "write one CSV row per period to FILE", "FILE" },
    { "periods", 'p', 0, G_OPTION_ARG_INT, &opt_periods,
      "stop after N periods (default 0: until SIGINT or SIGTERM)", "N" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &opt_device,
      "the snc device's id or QOM path (default: the only one)", "ID" },
    { "period-ms", 0, 0, G_OPTION_ARG_INT, &opt_period_ms,
      "set the SNC's period (default: keep it)", "MS" },
    { "dominance", 0, 0, G_OPTION_ARG_DOUBLE, &opt_dominance,
      "a zone's dominant toucher's share, 0.5 < R <= 1 (default 0.6)",
      "R" },
    { "min-count", 0, 0, G_OPTION_ARG_INT64, &opt_min_count,
      "its minimum touches in a period (default 64)", "N" },
    { "confirm", 0, 0, G_OPTION_ARG_INT, &opt_confirm,
      "periods in a row it must dominate, 1 to 100 (default 2)", "K" },
    { "settle", 0, 0, G_OPTION_ARG_INT, &opt_settle,
      "periods one toucher must hold a zone before a change of toucher "
      "is followed at once, 0 to 1000 (default 8; 0: never, not even "
      "before the first move)", "S" },
    { "budget", 0, 0, G_OPTION_ARG_INT64, &opt_budget,
      "bytes moved per period at most (default 0: no limit)", "BYTES" },
    { "cooldown", 0, 0, G_OPTION_ARG_INT, &opt_cooldown,
      "periods a zone stays after a move, 0 to 1000 (default 3)", "C" },
    { "placement-refresh", 0, 0, G_OPTION_ARG_INT, &opt_refresh,
      "read a hot zone's backing again every N periods, 1 to 1000 "
      "(default 16; 1: every period)", "N" },
    { "guest-timeout", 0, 0, G_OPTION_ARG_INT, &opt_guest_timeout,
      "milliseconds a guest request may take, 1 to 3600000 "
      "(default 10000)", "MS" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout,
      "seconds to wait for QEMU's answers, 1 to 3600 (default 30)", "S" },
    { NULL },
};

static void usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see --help)\n");
    va_end(ap);
    exit(2);
}

static void parse_options(Engine *e, int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- drive NUMA placement from the SNC's counts");
    g_autoptr(GError) err = NULL;
    PolicyConfig *cf = &e->config;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Example: watch a guest started with -device snc and\n"
        "-qmp unix:/tmp/vm.qmp,server=on,wait=off for 10 periods of 1 s,\n"
        "printing what the engine would move:\n"
        "  numa-policyd --qmp /tmp/vm.qmp --period-ms 1000 --dry-run \\\n"
        "      --periods 10 --csv policy.csv\n");
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        usage_error("%s", err->message);
    }
    if (argc > 1) {
        usage_error("unexpected argument '%s'", argv[1]);
    }
    if (!opt_qmp) {
        usage_error("--qmp SOCKET is required");
    }
    policy_config_init(cf);
    if (!policy_mode_from_name(opt_mode, &cf->mode)) {
        usage_error("bad --mode '%s' (off, host-only, guest-only or "
                    "cooperative)", opt_mode);
    }
    e->requested = cf->mode;
    if (opt_dominance != -1) {
        if (!(opt_dominance > 0.5 && opt_dominance <= 1)) {
            usage_error("bad --dominance %g (0.5 < R <= 1)", opt_dominance);
        }
        cf->dominance = opt_dominance;
    }
    if (opt_min_count != -1) {
        if (opt_min_count < 1) {
            usage_error("bad --min-count %" G_GINT64_FORMAT " (at least 1)",
                        opt_min_count);
        }
        cf->min_count = opt_min_count;
    }
    if (opt_confirm != -1) {
        if (opt_confirm < 1 || opt_confirm > 100) {
            usage_error("bad --confirm %d (1 to 100)", opt_confirm);
        }
        cf->confirm_periods = opt_confirm;
    }
    if (opt_settle != -1) {
        if (opt_settle < 0 || opt_settle > 1000) {
            usage_error("bad --settle %d (0 to 1000)", opt_settle);
        }
        cf->settle_periods = opt_settle;
    }
    if (opt_budget != -1) {
        if (opt_budget < 0) {
            usage_error("bad --budget %" G_GINT64_FORMAT " (at least 0)",
                        opt_budget);
        }
        cf->budget_bytes = opt_budget;
    }
    if (opt_cooldown != -1) {
        if (opt_cooldown < 0 || opt_cooldown > 1000) {
            usage_error("bad --cooldown %d (0 to 1000)", opt_cooldown);
        }
        cf->cooldown_periods = opt_cooldown;
    }
    if (opt_periods < 0) {
        usage_error("bad --periods %d (at least 0)", opt_periods);
    }
    if (opt_period_ms != -1 && (opt_period_ms < 0 ||
                                opt_period_ms > 2400000)) {
        usage_error("bad --period-ms %d (0 to 2400000)", opt_period_ms);
    }
    if (opt_refresh < 1 || opt_refresh > 1000) {
        usage_error("bad --placement-refresh %d (1 to 1000)", opt_refresh);
    }
    if (opt_guest_timeout < 1 || opt_guest_timeout > 3600000) {
        usage_error("bad --guest-timeout %d (1 to 3600000)",
                    opt_guest_timeout);
    }
    if (opt_timeout < 1 || opt_timeout > 3600) {
        usage_error("bad --timeout %d (1 to 3600)", opt_timeout);
    }
    e->dry_run = opt_dry_run;
}

int main(int argc, char **argv)
{
    Engine e = { 0 };
    g_autoptr(GError) err = NULL;
    struct sigaction sa = { .sa_handler = on_signal };
    double cpu_start;

    parse_options(&e, argc, argv);
    if (opt_csv) {
        e.csv = fopen(opt_csv, "w");
        if (!e.csv) {
            fprintf(stderr, PROG ": cannot write %s: %s\n", opt_csv,
                    g_strerror(errno));
            return 1;
        }
    }
    if (numa_available() < 0) {
        fprintf(stderr, PROG ": the host has no NUMA support\n");
        return 1;
    }
    e.tty = isatty(STDOUT_FILENO);
    /* A guest request may take --guest-timeout on top of the answer. */
    e.qmp = qmp_client_new_socket(opt_qmp,
                                  opt_timeout * 1000 + opt_guest_timeout);
    if (!qmp_client_connect(e.qmp, &err)) {
        fprintf(stderr, PROG ": cannot reach QEMU at %s: %s\n", opt_qmp,
                err->message);
        return 1;
    }
    setup_device(&e);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    policy_state_init(&e.state, 0);
    e.host_jobs = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    e.guest_jobs = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    e.guest_queue = g_queue_new();
    e.settled = g_hash_table_new(NULL, NULL);
    e.placement_cache = g_hash_table_new_full(NULL, NULL, NULL,
                                              cached_placement_free);
    cpu_start = e.cpu_last = cpu_seconds();
    run(&e);
    if (e.mode_written) {
        write_mode(&e, POLICY_MODE_OFF);
    }
    if (e.period) {
        fprintf(stderr, PROG ": %" G_GUINT64_FORMAT " periods, %.1f ms of"
                " CPU per period\n", e.period,
                (cpu_seconds() - cpu_start) * 1e3 / e.period);
    }
    policy_state_clear(&e.state);
    g_hash_table_destroy(e.host_jobs);
    g_hash_table_destroy(e.guest_jobs);
    g_queue_free_full(e.guest_queue, g_free);
    g_hash_table_destroy(e.settled);
    g_hash_table_destroy(e.placement_cache);
    qmp_client_free(e.qmp);
    g_free(e.device);
    if (e.csv) {
        fclose(e.csv);
    }
    return 0;
}
