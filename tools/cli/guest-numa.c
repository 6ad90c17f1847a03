/*
 * guest-numa: move a running guest's RAM between host NUMA nodes, show
 * where it sits and which node touches which memory, for people.
 *
 * It talks to the project's QEMU through the host tools' shared QMP
 * client, either over a bare QEMU's QMP socket (--qmp) or through
 * libvirtd to a domain's QEMU (--domain).  Human output by default,
 * --json for scripts; the exit code tells what went wrong (see usage).
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cli-policy.h"
#include "qmp-client.h"
#include "qmp-libvirt.h"

enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_CONNECT = 3,
    EXIT_NOT_OURS = 4,
    EXIT_DENIED = 5,
};

/* The project's metadata namespace in a libvirt domain's definition. */
#define PLACEMENT_NS "https://numa-migrator.invalid/placement/1.0"
#define PLACEMENT_KEY "numa-migrator"

#define POLL_MS 200

static const char *opt_qmp;
static const char *opt_domain;
static const char *opt_connect;
static gboolean opt_json;
static gint opt_timeout = 10;
static gint opt_workers;
static gboolean opt_detach;
static gboolean opt_wait;
static const char *opt_cancel;
static const char *opt_job_id;
static gboolean opt_config;
static gint opt_top = 5;
static gint opt_period;
static gboolean opt_once;
static gint opt_count;

static GOptionEntry entries[] = {
    { "qmp", 0, 0, G_OPTION_ARG_STRING, &opt_qmp,
      "a bare QEMU's QMP socket (-qmp unix:SOCKET,server=on,wait=off)",
      "SOCKET" },
    { "domain", 'd', 0, G_OPTION_ARG_STRING, &opt_domain,
      "a libvirt domain", "NAME" },
    { "connect", 'c', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt URI for --domain (default: libvirt's)", "URI" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
      "print QEMU's answers as JSON, for scripts", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
      "seconds to wait for QEMU's answers (default 10)", "SECS" },
    { "workers", 'w', 0, G_OPTION_ARG_INT, &opt_workers,
      "move: worker threads, 1 to 8 (default 1)", "N" },
    { "detach", 0, 0, G_OPTION_ARG_NONE, &opt_detach,
      "move: start the job, print its id and return", NULL },
    { "wait", 0, 0, G_OPTION_ARG_NONE, &opt_wait,
      "move: wait for the job to end (the default)", NULL },
    { "cancel", 0, 0, G_OPTION_ARG_STRING, &opt_cancel,
      "move: cancel job JOB and wait for it to end", "JOB" },
    { "job-id", 0, 0, G_OPTION_ARG_STRING, &opt_job_id,
      "move: the job's id (default guest-numa-PID)", "JOB" },
    { "config", 0, 0, G_OPTION_ARG_NONE, &opt_config,
      "move cellN with --domain: also set the persistent definition's "
      "<numatune><memnode>", NULL },
    { "top", 'n', 0, G_OPTION_ARG_INT, &opt_top,
      "snc top: zones per node (default 5)", "N" },
    { "period", 0, 0, G_OPTION_ARG_INT, &opt_period,
      "snc top: set the SNC's period first", "MS" },
    { "once", 0, 0, G_OPTION_ARG_NONE, &opt_once,
      "snc top: print once and return (the default when piped)", NULL },
    { "count", 0, 0, G_OPTION_ARG_INT, &opt_count,
      "snc top: return after N refreshes", "N" },
    { NULL }
};

static const char description[] =
"Commands:\n"
"  move ADDR SIZE NODE      move guest RAM [ADDR, ADDR+SIZE) to host NODE\n"
"  move cellN [SIZE] NODE   move guest NUMA node N's RAM to host NODE\n"
"  move --cancel JOB        cancel a move job\n"
"  placement [ADDR SIZE]    which host nodes back the guest's RAM\n"
"  snc top                  the hottest zones per node (SNC counters)\n"
"  policy [ENGINE-OPTION...] run the policy engine, numa-policyd, on the\n"
"                           guest; the options after policy are its own\n"
"\n"
"Sizes and addresses take units: 4096, 0x100000, 64M, 1G (K, M, G, T are\n"
"powers of 1024).  A move runs as a QEMU job with a progress bar on a\n"
"terminal; it ends with the counts of GUEST_MEMORY_MOVE_COMPLETED.\n"
"snc top refreshes at every SNC_PERIOD_END on a terminal (Ctrl-C to\n"
"stop) and prints once when piped or with --once.\n"
"\n"
"Examples:\n"
"  guest-numa --qmp /run/vm0.qmp placement\n"
"  guest-numa --qmp /run/vm0.qmp move 0x40000000 512M 1 --workers 4\n"
"  guest-numa --domain vm0 move cell1 0 --config\n"
"  guest-numa --domain vm0 move cell0 1 --detach\n"
"  guest-numa --domain vm0 move --cancel guest-numa-1234\n"
"  guest-numa --domain vm0 --connect qemu:///system snc top -n 3\n"
"  guest-numa --qmp /run/vm0.qmp --json placement | jq .nodes\n"
"  guest-numa --domain vm0 policy --mode host-only --periods 10\n"
"\n"
"Exit codes:\n"
"  0  ok\n"
"  1  the operation failed (QEMU's message names the argument)\n"
"  2  usage error\n"
"  3  cannot connect: no socket, no daemon, no such domain, or the\n"
"     domain is not running\n"
"  4  the emulator lacks the project's commands (not the project's QEMU)\n"
"  5  not permitted\n"
"  policy ends with the engine's own exit code once it runs (see\n"
"  numa-policyd --help: 1 QEMU cannot be reached, has no SNC or went\n"
"  away; 2 a usage error of its options).\n"
"\n"
"See guest-numa(1) and docs/user-guide.md.";

/* ---- errors ---------------------------------------------------------- */

static G_GNUC_PRINTF(1, 2) int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "guest-numa: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'guest-numa --help'.\n");
    return EXIT_USAGE;
}

static gboolean is_denied(const char *msg)
{
    return strstr(msg, "not permitted") || strstr(msg, "ermission denied") ||
           strstr(msg, "access denied") || strstr(msg, "read only");
}

/* Print @err and return the exit code it means. */
static int fail(const GError *err)
{
    int code = EXIT_FAILED;

    if (err->domain == QMP_ERROR) {
        if (err->code == QMP_ERROR_COMMAND_NOT_FOUND) {
            fprintf(stderr, "guest-numa: %s\nguest-numa: the emulator lacks "
                    "the project's commands: is it the project's QEMU?\n",
                    err->message);
            return EXIT_NOT_OURS;
        }
        code = is_denied(err->message) ? EXIT_DENIED : EXIT_FAILED;
    } else if (err->domain == G_IO_ERROR) {
        if (err->code == G_IO_ERROR_PERMISSION_DENIED ||
            is_denied(err->message)) {
            code = EXIT_DENIED;
        } else if (err->code == G_IO_ERROR_TIMED_OUT) {
            code = EXIT_FAILED;
        } else {
            code = EXIT_CONNECT;
        }
    }
    fprintf(stderr, "guest-numa: %s\n", err->message);
    return code;
}

/* ---- units ----------------------------------------------------------- */

static gboolean parse_size(const char *s, guint64 *out)
{
    char *end;
    guint64 v, mult = 1;

    if (!s || !*s || *s == '-') {
        return FALSE;
    }
    errno = 0;
    v = g_ascii_strtoull(s, &end, 0);
    if (errno || end == s) {
        return FALSE;
    }
    switch (g_ascii_toupper(*end)) {
    case 'K': mult = 1ULL << 10; end++; break;
    case 'M': mult = 1ULL << 20; end++; break;
    case 'G': mult = 1ULL << 30; end++; break;
    case 'T': mult = 1ULL << 40; end++; break;
    default: break;
    }
    if (mult > 1 && (*end == 'i' || *end == 'I')) {
        end++;
    }
    if (*end == 'B' || *end == 'b') {
        end++;
    }
    if (*end || (v && mult > G_MAXUINT64 / v)) {
        return FALSE;
    }
    *out = v * mult;
    return TRUE;
}

static char *format_size(guint64 bytes)
{
    static const char *const units[] = { "B", "K", "M", "G", "T" };
    double v = bytes;
    guint u = 0;

    while (v >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
        v /= 1024;
        u++;
    }
    if (u == 0) {
        return g_strdup_printf("%" G_GUINT64_FORMAT "B", bytes);
    }
    return g_strdup_printf(v == (guint64)v ? "%.0f%s" : "%.1f%s", v,
                           units[u]);
}

/* ---- JSON helpers ---------------------------------------------------- */

static guint64 get_uint(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && json_node_get_value_type(n) == G_TYPE_INT64 ?
           (guint64)json_node_get_int(n) : 0;
}

static const char *get_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && json_node_get_value_type(n) == G_TYPE_STRING ?
           json_node_get_string(n) : NULL;
}

static JsonArray *get_array(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *get_object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static void print_json(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *text = NULL;

    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

static void print_json_object(JsonObject *o)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);

    print_json(node);
}

/* ---- guest NUMA cells ------------------------------------------------ */

typedef struct Cell {
    char *memdev;
    guint64 addr;           /* first guest-physical byte */
    guint64 end;            /* one past the last */
} Cell;

/*
 * The guest's NUMA cells, in guest NUMA node order, from the placement
 * of all guest RAM.  QEMU lays the cells' backends out one after the
 * other in node order; libvirt names them ram-nodeN, which is used
 * when present.  A cell split around the PCI hole spans the hole.
 */
static GArray *guest_cells(JsonObject *placement)
{
    GArray *cells = g_array_new(FALSE, TRUE, sizeof(Cell));
    JsonArray *blocks = get_array(placement, "blocks");

    for (guint i = 0; blocks && i < json_array_get_length(blocks); i++) {
        JsonObject *b = json_array_get_object_element(blocks, i);
        const char *memdev = get_str(b, "memdev");
        guint64 addr = get_uint(b, "addr"), size = get_uint(b, "size");
        guint j;

        if (!memdev) {
            continue;
        }
        for (j = 0; j < cells->len; j++) {
            Cell *c = &g_array_index(cells, Cell, j);

            if (g_str_equal(c->memdev, memdev)) {
                c->addr = MIN(c->addr, addr);
                c->end = MAX(c->end, addr + size);
                break;
            }
        }
        if (j == cells->len) {
            Cell c = { g_strdup(memdev), addr, addr + size };

            g_array_append_val(cells, c);
        }
    }
    /* libvirt's names give the node numbers outright. */
    for (guint j = 0; j < cells->len; j++) {
        Cell *c = &g_array_index(cells, Cell, j);
        g_autofree char *want = g_strdup_printf("ram-node%u", j);

        if (!g_str_equal(c->memdev, want)) {
            for (guint k = j + 1; k < cells->len; k++) {
                Cell *d = &g_array_index(cells, Cell, k);

                if (g_str_equal(d->memdev, want)) {
                    Cell t = *c;

                    *c = *d;
                    *d = t;
                    break;
                }
            }
        }
    }
    return cells;
}

static void cells_free(GArray *cells)
{
    for (guint i = 0; i < cells->len; i++) {
        g_free(g_array_index(cells, Cell, i).memdev);
    }
    g_array_free(cells, TRUE);
}

/* The guest cell whose backend is @memdev, or -1. */
static int cell_of(GArray *cells, const char *memdev)
{
    for (guint i = 0; memdev && i < cells->len; i++) {
        if (g_str_equal(g_array_index(cells, Cell, i).memdev, memdev)) {
            return i;
        }
    }
    return -1;
}

/* ---- placement ------------------------------------------------------- */

static JsonObject *query_placement(QmpClient *client, gboolean ranged,
                                   guint64 addr, guint64 size, GError **errp)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;

    if (ranged) {
        json_object_set_int_member(args, "addr", addr);
        json_object_set_int_member(args, "size", size);
    }
    ret = qmp_client_execute(client, "query-guest-memory-placement", args,
                             errp);
    if (!ret) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(ret)) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "query-guest-memory-placement: not an object");
        return NULL;
    }
    return json_object_ref(json_node_get_object(ret));
}

static char *nodes_text(JsonArray *nodes)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);
        g_autofree char *sz = format_size(get_uint(n, "bytes"));

        g_string_append_printf(s, "%s%" G_GUINT64_FORMAT ": %s",
                               i ? ", " : "", get_uint(n, "node"), sz);
    }
    if (!s->len) {
        g_string_append(s, "-");
    }
    return g_string_free(s, FALSE);
}

static int cmd_placement(QmpClient *client, char **args, int nargs)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonObject) all = NULL;
    g_autoptr(JsonObject) p = NULL;
    GArray *cells;
    guint64 addr = 0, size = 0;
    JsonArray *blocks;

    if (nargs != 0 && nargs != 2) {
        return usage_error("placement takes no argument, or ADDR SIZE");
    }
    if (nargs == 2 && (!parse_size(args[0], &addr) ||
                       !parse_size(args[1], &size))) {
        return usage_error("placement: bad ADDR or SIZE '%s %s'", args[0],
                           args[1]);
    }
    p = query_placement(client, nargs == 2, addr, size, &err);
    if (!p) {
        return fail(err);
    }
    if (opt_json) {
        print_json_object(p);
        return EXIT_OK;
    }
    all = nargs == 2 ? query_placement(client, FALSE, 0, 0, &err) :
                       json_object_ref(p);
    if (!all) {
        return fail(err);
    }
    cells = guest_cells(all);
    printf("%-5s %-14s %-18s %-18s %8s %6s  %-24s %s\n", "CELL", "MEMDEV",
           "BLOCK", "ADDR", "SIZE", "PAGE", "HOST NODES", "NOT POPULATED");
    blocks = get_array(p, "blocks");
    for (guint i = 0; blocks && i < json_array_get_length(blocks); i++) {
        JsonObject *b = json_array_get_object_element(blocks, i);
        const char *memdev = get_str(b, "memdev");
        int cell = cell_of(cells, memdev);
        g_autofree char *cs = cell >= 0 ? g_strdup_printf("%d", cell) :
                                          g_strdup("-");
        g_autofree char *sz = format_size(get_uint(b, "size"));
        g_autofree char *ps = format_size(get_uint(b, "page-size"));
        g_autofree char *ns = nodes_text(get_array(b, "nodes"));
        g_autofree char *np = format_size(get_uint(b, "not-populated") *
                                          get_uint(b, "page-size"));

        printf("%-5s %-14s %-18s 0x%-16" G_GINT64_MODIFIER "x %8s %6s  "
               "%-24s %s\n", cs, memdev ? memdev : "-",
               get_str(b, "block"), get_uint(b, "addr"), sz, ps, ns, np);
    }
    {
        g_autofree char *ns = nodes_text(get_array(p, "nodes"));
        g_autofree char *np = format_size(get_uint(p, "not-populated-bytes"));
        g_autofree char *sz = format_size(get_uint(p, "size"));

        printf("total %s: %s; not populated %s\n", sz, ns, np);
    }
    cells_free(cells);
    return EXIT_OK;
}

/* ---- move ------------------------------------------------------------ */

static gboolean parse_node(const char *s, guint *node)
{
    char *end;
    guint64 v;

    errno = 0;
    v = g_ascii_strtoull(s, &end, 10);
    if (errno || end == s || *end || v > G_MAXUINT16) {
        return FALSE;
    }
    *node = v;
    return TRUE;
}

/* Find job @id in query-jobs: its progress, or FALSE if it is gone. */
static gboolean job_progress(QmpClient *client, const char *id,
                             guint64 *cur, guint64 *total, GError **errp)
{
    g_autoptr(JsonNode) ret = qmp_client_execute(client, "query-jobs", NULL,
                                                 errp);
    JsonArray *jobs;

    if (!ret || !JSON_NODE_HOLDS_ARRAY(ret)) {
        return FALSE;
    }
    jobs = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(jobs); i++) {
        JsonObject *j = json_array_get_object_element(jobs, i);

        if (g_strcmp0(get_str(j, "id"), id) == 0) {
            *cur = get_uint(j, "current-progress");
            *total = get_uint(j, "total-progress");
            return TRUE;
        }
    }
    return FALSE;
}

static void draw_bar(const char *id, guint64 cur, guint64 total)
{
    const int width = 40;
    double frac = total ? (double)cur / total : 0;
    int fill = frac * width;
    g_autofree char *c = format_size(cur);
    g_autofree char *t = format_size(total);

    fprintf(stderr, "\r%s [", id);
    for (int i = 0; i < width; i++) {
        fputc(i < fill ? '#' : '.', stderr);
    }
    fprintf(stderr, "] %3.0f%% %s/%s", frac * 100, c, t);
    fflush(stderr);
}

static void print_stats(JsonObject *ev)
{
    JsonObject *st = get_object(ev, "stats");
    JsonArray *failures = get_array(st, "failures");
    g_autofree char *moved = format_size(get_uint(st, "bytes-moved"));
    g_autofree char *skipped = format_size(get_uint(st, "skipped-bytes"));

    printf("job %s to node %" G_GUINT64_FORMAT ": %s\n", get_str(ev, "job-id"),
           get_uint(ev, "node"),
           get_str(ev, "error") ? "failed" :
           json_object_get_boolean_member_with_default(ev, "cancelled",
                                                       FALSE) ?
           "cancelled" : "done");
    printf("  pages %" G_GUINT64_FORMAT ": moved %" G_GUINT64_FORMAT
           ", already there %" G_GUINT64_FORMAT ", not populated %"
           G_GUINT64_FORMAT ", failed %" G_GUINT64_FORMAT "\n",
           get_uint(st, "pages"), get_uint(st, "moved"),
           get_uint(st, "already-on-node"), get_uint(st, "not-populated"),
           get_uint(st, "failed"));
    for (guint i = 0; failures && i < json_array_get_length(failures); i++) {
        JsonObject *f = json_array_get_object_element(failures, i);

        printf("  failed (%s): %" G_GUINT64_FORMAT " pages\n",
               get_str(f, "reason"), get_uint(f, "pages"));
    }
    printf("  moved %s, skipped %s (not RAM), in %.3f s\n", moved, skipped,
           get_uint(st, "duration-ns") / 1e9);
}

/*
 * Wait for job @id's GUEST_MEMORY_MOVE_COMPLETED, drawing its progress
 * on a terminal; @size is the range's length if known (the job counts
 * its progress in bytes of the range, once it has started).  Returns
 * the event's data, or NULL with @errp set.
 */
static JsonObject *wait_job(QmpClient *client, const char *id, guint64 size,
                            GError **errp)
{
    gboolean bar = !opt_json && isatty(STDERR_FILENO);
    guint64 cur = 0, total = size;
    int gone = 0;

    for (;;) {
        g_autoptr(QmpEvent) ev = NULL;

        /* Progress first, so that a terminal sees the bar at once. */
        if (job_progress(client, id, &cur, &total, errp)) {
            gone = 0;
            total = MAX(total, size);
            if (bar) {
                draw_bar(id, cur, total);
            }
        } else if (*errp) {
            return NULL;
        } else if (++gone * POLL_MS > opt_timeout * 1000) {
            /* Gone, and no event: never wait for ever. */
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "job %s ended without its "
                        "GUEST_MEMORY_MOVE_COMPLETED event", id);
            return NULL;
        }
        ev = qmp_client_wait_event(client, "GUEST_MEMORY_MOVE_COMPLETED",
                                   POLL_MS, errp);
        if (!ev && *errp) {
            return NULL;
        }
        if (ev && g_strcmp0(get_str(ev->data, "job-id"), id) == 0) {
            if (bar) {
                JsonObject *st = get_object(ev->data, "stats");
                guint64 done = get_uint(st, "bytes-moved") +
                               get_uint(st, "skipped-bytes");

                /* The job's last progress, or what the event counted. */
                total = MAX(total, done);
                if (!json_object_get_boolean_member_with_default(
                        ev->data, "cancelled", FALSE) &&
                    !get_str(ev->data, "error")) {
                    cur = total;
                }
                draw_bar(id, cur, total);
                fprintf(stderr, "\n");
            }
            return json_object_ref(ev->data);
        }
    }
}

static int report_end(JsonObject *ev)
{
    const char *error = get_str(ev, "error");

    if (opt_json) {
        print_json_object(ev);
    } else {
        print_stats(ev);
    }
    if (error) {
        fprintf(stderr, "guest-numa: job %s: %s\n", get_str(ev, "job-id"),
                error);
        return is_denied(error) ? EXIT_DENIED : EXIT_FAILED;
    }
    return EXIT_OK;
}

static int cmd_cancel(QmpClient *client)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) ev = NULL;

    json_object_set_string_member(args, "id", opt_cancel);
    ret = qmp_client_execute(client, "job-cancel", args, &err);
    if (!ret) {
        g_prefix_error(&err, "move --cancel %s: ", opt_cancel);
        return fail(err);
    }
    ev = wait_job(client, opt_cancel, 0, &err);
    if (!ev) {
        return fail(err);
    }
    return report_end(ev);
}

/*
 * The element @name under @parent whose attribute @attr is @value
 * (any such element if @attr is NULL), or NULL.
 */
static xmlNodePtr find_child(xmlNodePtr parent, const char *name,
                             const char *attr, const char *value)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next) {
        xmlChar *v;
        gboolean match;

        if (c->type != XML_ELEMENT_NODE ||
            !xmlStrEqual(c->name, BAD_CAST name)) {
            continue;
        }
        if (!attr) {
            return c;
        }
        v = xmlGetProp(c, BAD_CAST attr);
        match = v && xmlStrEqual(v, BAD_CAST value);
        xmlFree(v);
        if (match) {
            return c;
        }
    }
    return NULL;
}

/* Set @parent's child @name with @attr=@value: found, or added. */
static xmlNodePtr set_child(xmlNodePtr parent, const char *name,
                            const char *attr, const char *value)
{
    xmlNodePtr c = find_child(parent, name, attr, value);

    if (!c) {
        c = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
        if (attr) {
            xmlSetProp(c, BAD_CAST attr, BAD_CAST value);
        }
    }
    return c;
}

static char *dump_xml(xmlNodePtr node)
{
    xmlBufferPtr buf = xmlBufferCreate();
    char *text;

    xmlNodeDump(buf, node->doc, node, 0, 0);
    text = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return text;
}

static void report_virt_error(const char *what)
{
    virErrorPtr e = virGetLastError();

    fprintf(stderr, "guest-numa: %s: %s\n", what,
            e && e->message ? e->message : "unknown error");
}

/*
 * Record a whole cell's move in the domain: in its metadata (live, and
 * with --config persistent), one <cell id= nodeset=> per cell moved,
 * and with --config in the persistent <numatune><memnode>, so that the
 * next start binds the cell there.
 */
static int persist_cell(QmpClient *client, guint cell, guint node)
{
    virDomainPtr dom = qmp_client_libvirt_domain(client);
    g_autofree char *cs = g_strdup_printf("%u", cell);
    g_autofree char *ns = g_strdup_printf("%u", node);
    g_autofree char *meta = NULL;
    unsigned int flags = VIR_DOMAIN_AFFECT_LIVE;
    xmlDocPtr doc = NULL;
    xmlNodePtr root, c;
    char *old;

    if (!dom) {
        return EXIT_OK;
    }
    /* Keep what earlier moves recorded for the other cells. */
    old = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                               PLACEMENT_NS, VIR_DOMAIN_AFFECT_LIVE);
    if (old) {
        doc = xmlReadMemory(old, strlen(old), NULL, NULL, XML_PARSE_NOBLANKS);
        free(old);
    }
    if (!doc || !(root = xmlDocGetRootElement(doc))) {
        xmlFreeDoc(doc);
        doc = xmlNewDoc(BAD_CAST "1.0");
        root = xmlNewNode(NULL, BAD_CAST "placement");
        xmlDocSetRootElement(doc, root);
    }
    c = set_child(root, "cell", "id", cs);
    xmlSetProp(c, BAD_CAST "nodeset", BAD_CAST ns);
    meta = dump_xml(root);
    xmlFreeDoc(doc);
    if (opt_config) {
        flags |= VIR_DOMAIN_AFFECT_CONFIG;
    }
    if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, meta,
                             PLACEMENT_KEY, PLACEMENT_NS, flags) < 0) {
        report_virt_error("cannot record the placement in the domain's "
                          "metadata");
        return EXIT_FAILED;
    }
    if (!opt_config) {
        return EXIT_OK;
    }

    old = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    if (!old) {
        report_virt_error("cannot read the persistent definition");
        return EXIT_FAILED;
    }
    doc = xmlReadMemory(old, strlen(old), NULL, NULL, 0);
    free(old);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        xmlFreeDoc(doc);
        fprintf(stderr, "guest-numa: the persistent definition is not "
                "XML\n");
        return EXIT_FAILED;
    }
    c = set_child(set_child(root, "numatune", NULL, NULL), "memnode",
                  "cellid", cs);
    xmlSetProp(c, BAD_CAST "mode", BAD_CAST "strict");
    xmlSetProp(c, BAD_CAST "nodeset", BAD_CAST ns);
    {
        g_autofree char *def_xml = dump_xml(root);
        virDomainPtr def = virDomainDefineXML(virDomainGetConnect(dom),
                                              def_xml);

        xmlFreeDoc(doc);
        if (!def) {
            report_virt_error("cannot update the persistent <numatune>");
            return EXIT_FAILED;
        }
        virDomainFree(def);
    }
    return EXIT_OK;
}

static int cmd_move(QmpClient *client, char **args, int nargs)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonObject) margs = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) ev = NULL;
    g_autofree char *job = NULL;
    guint64 addr = 0, size = 0;
    guint node;
    int cell = -1, rc;

    if (opt_cancel) {
        if (nargs) {
            return usage_error("move --cancel JOB takes no other argument");
        }
        return cmd_cancel(client);
    }
    if (opt_detach && opt_wait) {
        return usage_error("move: --detach and --wait exclude each other");
    }
    if (g_str_has_prefix(args[0] ? args[0] : "", "cell")) {
        guint n;

        if (nargs != 2 && nargs != 3) {
            return usage_error("usage: move cellN [SIZE] NODE");
        }
        if (!parse_node(args[0] + 4, &n)) {
            return usage_error("move: bad cell '%s' (cellN, N a guest "
                               "NUMA node)", args[0]);
        }
        cell = n;
    } else if (nargs != 3) {
        return usage_error("usage: move ADDR SIZE NODE | move cellN [SIZE] "
                           "NODE | move --cancel JOB");
    } else if (!parse_size(args[0], &addr)) {
        return usage_error("move: bad ADDR '%s'", args[0]);
    }
    if (nargs == 3 && !parse_size(args[1], &size)) {
        return usage_error("move: bad SIZE '%s' (e.g. 4096, 64M, 1G)",
                           args[1]);
    }
    if (!parse_node(args[nargs - 1], &node)) {
        return usage_error("move: bad NODE '%s' (a host NUMA node number)",
                           args[nargs - 1]);
    }
    if (opt_config && (cell < 0 || !opt_domain)) {
        return usage_error("move: --config needs cellN and --domain");
    }
    if (opt_config && opt_detach) {
        return usage_error("move: --config needs the move to end: "
                           "drop --detach");
    }
    if (cell >= 0) {
        g_autoptr(JsonObject) all = query_placement(client, FALSE, 0, 0,
                                                    &err);
        GArray *cells;
        Cell *c;

        if (!all) {
            return fail(err);
        }
        cells = guest_cells(all);
        if ((guint)cell >= cells->len) {
            fprintf(stderr, "guest-numa: move: the guest has no NUMA node "
                    "%d (it has %u with their own memory backend)\n", cell,
                    cells->len);
            cells_free(cells);
            return EXIT_FAILED;
        }
        c = &g_array_index(cells, Cell, cell);
        addr = c->addr;
        if (!size) {
            size = c->end - c->addr;
        } else if (size > c->end - c->addr) {
            cells_free(cells);
            return usage_error("move: SIZE is larger than cell %d", cell);
        }
        cells_free(cells);
    }
    job = opt_job_id ? g_strdup(opt_job_id) :
                       g_strdup_printf("guest-numa-%d", (int)getpid());
    json_object_set_int_member(margs, "addr", addr);
    json_object_set_int_member(margs, "size", size);
    json_object_set_int_member(margs, "node", node);
    json_object_set_string_member(margs, "job-id", job);
    if (opt_workers) {
        json_object_set_int_member(margs, "workers", opt_workers);
    }
    ret = qmp_client_execute(client, "migrate-guest-range", margs, &err);
    if (!ret) {
        return fail(err);
    }
    if (opt_detach) {
        if (opt_json) {
            g_autoptr(JsonObject) o = json_object_new();

            json_object_set_string_member(o, "job-id", job);
            print_json_object(o);
        } else {
            printf("%s\n", job);
        }
        return EXIT_OK;
    }
    ev = wait_job(client, job, size, &err);
    if (!ev) {
        return fail(err);
    }
    rc = report_end(ev);
    if (rc == EXIT_OK && cell >= 0 &&
        !json_object_get_boolean_member_with_default(ev, "cancelled",
                                                     FALSE)) {
        rc = persist_cell(client, cell, node);
    }
    return rc;
}

/* ---- snc top --------------------------------------------------------- */

static void print_top(JsonArray *devs)
{
    for (guint d = 0; d < json_array_get_length(devs); d++) {
        JsonObject *dev = json_array_get_object_element(devs, d);
        JsonArray *nodes = get_array(dev, "nodes");
        guint64 zsize = get_uint(dev, "zone-size");
        g_autofree char *zs = format_size(zsize);
        const char *id = get_str(dev, "id");

        printf("%s: %s, period %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
               " ms), zones of %s, %" G_GUINT64_FORMAT " touches\n",
               id ? id : get_str(dev, "qom-path"),
               json_object_get_boolean_member_with_default(dev, "running",
                                                           FALSE) ?
               "running" : "stopped",
               get_uint(dev, "sequence"), get_uint(dev, "period-ms"), zs,
               get_uint(dev, "total"));
        if (!json_object_get_boolean_member_with_default(dev, "available",
                                                         TRUE)) {
            printf("  unavailable: %s\n",
                   get_str(dev, "unavailable-reason"));
            continue;
        }
        for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
            JsonObject *n = json_array_get_object_element(nodes, i);
            JsonArray *top = get_array(n, "top");
            guint64 total = get_uint(n, "total");

            printf("  node %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT
                   " touches\n", get_uint(n, "node"), total);
            for (guint k = 0; top && k < json_array_get_length(top); k++) {
                JsonObject *z = json_array_get_object_element(top, k);
                guint64 count = get_uint(z, "count");

                printf("    zone %-6" G_GUINT64_FORMAT " 0x%-12"
                       G_GINT64_MODIFIER "x %10" G_GUINT64_FORMAT " %5.1f%%\n",
                       get_uint(z, "zone"), get_uint(z, "addr"), count,
                       total ? 100.0 * count / total : 0.0);
            }
        }
    }
}

static int cmd_snc(QmpClient *client, char **args, int nargs)
{
    g_autoptr(GError) err = NULL;
    gboolean live = !opt_once && !opt_json && isatty(STDOUT_FILENO);
    int shown = 0;

    if (nargs != 1 || !g_str_equal(args[0], "top")) {
        return usage_error("usage: snc top [-n N] [--period MS] [--once]");
    }
    if (opt_top < 1) {
        return usage_error("snc top: -n must be at least 1");
    }
    if (opt_count > 0) {
        live = !opt_json;
    }
    if (opt_period) {
        g_autoptr(JsonObject) a = json_object_new();
        g_autoptr(JsonNode) r = NULL;

        json_object_set_int_member(a, "period-ms", opt_period);
        r = qmp_client_execute(client, "snc-configure", a, &err);
        if (!r) {
            return fail(err);
        }
    }
    for (;;) {
        g_autoptr(JsonObject) a = json_object_new();
        g_autoptr(JsonNode) ret = NULL;
        g_autoptr(QmpEvent) ev = NULL;

        json_object_set_int_member(a, "top", opt_top);
        ret = qmp_client_execute(client, "query-snc-counters", a, &err);
        if (!ret) {
            return fail(err);
        }
        if (!JSON_NODE_HOLDS_ARRAY(ret)) {
            fprintf(stderr, "guest-numa: query-snc-counters: not a list\n");
            return EXIT_FAILED;
        }
        if (opt_json) {
            print_json(ret);
        } else {
            if (live && isatty(STDOUT_FILENO)) {
                printf("\033[H\033[2J");
            }
            if (!json_array_get_length(json_node_get_array(ret))) {
                fprintf(stderr, "guest-numa: the machine has no SNC "
                        "(-device snc)\n");
                return EXIT_FAILED;
            }
            print_top(json_node_get_array(ret));
        }
        fflush(stdout);
        shown++;
        if (!live || (opt_count > 0 && shown >= opt_count)) {
            return EXIT_OK;
        }
        /* The next refresh comes with the next period's end. */
        ev = qmp_client_wait_event(client, "SNC_PERIOD_END",
                                   opt_timeout * 1000, &err);
        if (!ev) {
            if (err) {
                return fail(err);
            }
            fprintf(stderr, "guest-numa: no SNC_PERIOD_END within %d s: "
                    "is the SNC started and the guest running?\n",
                    opt_timeout);
            return EXIT_FAILED;
        }
        if (!live) {
            continue;
        }
        printf("\n");
    }
}

/* ---- policy ---------------------------------------------------------- */

/*
 * The index in @argv of the command word "policy", or 0 if the command
 * is another.  What follows it is the engine's, so it has to be cut
 * off before GOptionContext sees options that it does not know.
 */
static int find_policy(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const GOptionEntry *e;

        if (g_str_equal(argv[i], "--")) {
            return 0;
        }
        if (argv[i][0] != '-') {
            return g_str_equal(argv[i], "policy") ? i : 0;
        }
        /* Skip the value of one of guest-numa's options. */
        for (e = entries; e->long_name; e++) {
            g_autofree char *l = g_strconcat("--", e->long_name, NULL);

            if (e->arg != G_OPTION_ARG_NONE &&
                (g_str_equal(argv[i], l) ||
                 (e->short_name && argv[i][1] == e->short_name &&
                  !argv[i][2]))) {
                i++;
                break;
            }
        }
    }
    return 0;
}

static int cmd_policy(QmpClient *client, char **engine_args)
{
    g_autofree char *engine = cli_policy_engine();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GError) err = NULL;
    int rc;

    if (!engine) {
        fprintf(stderr, "guest-numa: policy: no numa-policyd beside "
                "guest-numa or on the PATH (set GUEST_NUMA_POLICYD)\n");
        return EXIT_FAILED;
    }
    /* The engine's first query: is this the project's QEMU? */
    ret = qmp_client_execute(client, "query-snc-counters", NULL, &err);
    if (!ret) {
        return fail(err);
    }
    rc = cli_policy_run(client, opt_qmp, engine, engine_args,
                        g_strv_length(engine_args));
    return rc < 0 ? EXIT_FAILED : rc;
}

/* ---- main ------------------------------------------------------------ */

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(QmpClient) client = NULL;
    g_auto(GStrv) engine_args = NULL;
    char **args;
    int nargs, policy_at;

    ctx = g_option_context_new("[--qmp SOCKET | --domain NAME] COMMAND ...");
    g_option_context_set_summary(ctx,
        "Move a running guest's RAM between host NUMA nodes and show where "
        "it sits,\nthrough the project's QEMU (a bare QEMU's QMP socket, "
        "or a libvirt domain).");
    g_option_context_set_description(ctx, description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    policy_at = find_policy(argc, argv);
    if (policy_at) {
        engine_args = g_strdupv(argv + policy_at + 1);
        argc = policy_at + 1;
    }
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        return usage_error("%s", err->message);
    }
    args = argv + 1;
    nargs = argc - 1;
    if (nargs < 1) {
        return usage_error("no command (move, placement, snc top, "
                           "policy)");
    }
    if (!!opt_qmp == !!opt_domain) {
        return usage_error("give one of --qmp SOCKET and --domain NAME");
    }
    if (opt_connect && !opt_domain) {
        return usage_error("--connect goes with --domain");
    }
    if (opt_timeout < 1) {
        return usage_error("--timeout must be at least 1");
    }
    if (opt_workers < 0 || opt_workers > 255) {
        return usage_error("--workers must be between 1 and 8");
    }
    if (!g_str_equal(args[0], "move") && !g_str_equal(args[0], "placement") &&
        !g_str_equal(args[0], "snc") && !g_str_equal(args[0], "policy")) {
        return usage_error("unknown command '%s'", args[0]);
    }
    if (!g_str_equal(args[0], "move") &&
        (opt_workers || opt_detach || opt_wait || opt_cancel || opt_job_id ||
         opt_config)) {
        return usage_error("--workers, --detach, --wait, --cancel, --job-id "
                           "and --config go with move");
    }
    if (!g_str_equal(args[0], "snc") && (opt_period || opt_once ||
                                         opt_count)) {
        return usage_error("--period, --once and --count go with snc top");
    }

    if (g_str_equal(args[0], "policy") && opt_json) {
        return usage_error("--json does not go with policy (see the "
                           "engine's --csv)");
    }

    client = opt_qmp ? qmp_client_new_socket(opt_qmp, opt_timeout * 1000) :
                       qmp_client_new_libvirt(opt_connect, opt_domain);
    if (!qmp_client_connect(client, &err)) {
        return fail(err);
    }
    if (g_str_equal(args[0], "move")) {
        return cmd_move(client, args + 1, nargs - 1);
    }
    if (g_str_equal(args[0], "placement")) {
        return cmd_placement(client, args + 1, nargs - 1);
    }
    if (g_str_equal(args[0], "policy")) {
        return cmd_policy(client, engine_args);
    }
    return cmd_snc(client, args + 1, nargs - 1);
}
