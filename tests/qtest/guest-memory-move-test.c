/*
 * QTest for migrate-guest-range and query-guest-memory-placement
 *
 * Tests that need two host NUMA nodes skip on a single-node host and
 * run for real inside the project's multi-node test host.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <numa.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/capability.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qjson.h"
#include "qapi/error.h"
#include "qemu/units.h"
#include "migration/bootfile.h"
#include "migration/i386/a-b-bootblock.h"

#define PAGE 4096

/* Host nodes QEMU may use, or 0 without NUMA support. */
static int host_nodes(void)
{
    return numa_available() < 0 ? 0 : numa_num_task_nodes();
}

static bool need_host_nodes(int n)
{
    if (host_nodes() < n) {
        g_autofree char *why =
            g_strdup_printf("needs %d host NUMA nodes, this host has %d",
                            n, host_nodes());
        g_test_skip(why);
        return false;
    }
    return true;
}

static uint64_t qdict_get_uint(const QDict *d, const char *key)
{
    uint64_t val;

    g_assert(qnum_get_try_uint(qobject_to(QNum, qdict_get(d, key)), &val));
    return val;
}

static QDict *move(QTestState *qts, uint64_t addr, uint64_t size, int node)
{
    return qtest_qmp_assert_success_ref(qts,
        "{'execute': 'migrate-guest-range', 'arguments':"
        " {'addr': %" PRIu64 ", 'size': %" PRIu64 ", 'node': %d}}",
        addr, size, node);
}

static QDict *placement(QTestState *qts, uint64_t addr, uint64_t size)
{
    return qtest_qmp_assert_success_ref(qts,
        "{'execute': 'query-guest-memory-placement', 'arguments':"
        " {'addr': %" PRIu64 ", 'size': %" PRIu64 "}}", addr, size);
}

/* Assert that a command failed and that its error mentions @needle. */
static void assert_error(QDict *rsp, const char *needle)
{
    QDict *err;

    g_assert(rsp);
    err = qdict_get_qdict(rsp, "error");
    g_assert(err);
    g_assert_cmpstr(qdict_get_str(err, "class"), ==, "GenericError");
    if (!strstr(qdict_get_str(err, "desc"), needle)) {
        g_error("error '%s' does not mention '%s'",
                qdict_get_str(err, "desc"), needle);
    }
    qobject_unref(rsp);
}

static void assert_move_error(QTestState *qts, const char *args,
                              const char *needle)
{
    QObject *obj = qobject_from_json(args, &error_abort);

    assert_error(qtest_qmp(qts, "{'execute': 'migrate-guest-range',"
                           " 'arguments': %p}", obj), needle);
}

/* The counts of a move add up to the pages it examined. */
static void assert_stats_consistent(QDict *stats)
{
    uint64_t pages = qdict_get_uint(stats, "pages");

    g_assert_cmpuint(qdict_get_uint(stats, "moved") +
                     qdict_get_uint(stats, "already-on-node") +
                     qdict_get_uint(stats, "not-populated") +
                     qdict_get_uint(stats, "failed"), ==, pages);
}

/* Bytes of the placement on @node, and the total over all nodes. */
static uint64_t bytes_on_node(QDict *info, int node, uint64_t *total)
{
    QListEntry *e;
    uint64_t on_node = 0;

    *total = 0;
    QLIST_FOREACH_ENTRY(qdict_get_qlist(info, "nodes"), e) {
        QDict *u = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(u, "node") == node) {
            on_node = qdict_get_uint(u, "bytes");
        }
        *total += qdict_get_uint(u, "bytes");
    }
    return on_node;
}

/* Every populated byte of the range sits on @node. */
static void assert_all_on_node(QTestState *qts, uint64_t addr,
                               uint64_t size, int node)
{
    QDict *info = placement(qts, addr, size);
    uint64_t total, on_node = bytes_on_node(info, node, &total);

    g_assert_cmpuint(total, >, 0);
    g_assert_cmpuint(on_node, ==, total);
    qobject_unref(info);
}

/* A pattern that differs in every byte, so shifted pages are caught. */
static uint8_t pattern_byte(uint64_t addr, unsigned seed)
{
    uint64_t x = (addr + seed) * 0x9e3779b97f4a7c15ULL;

    return x >> 56;
}

/*
 * qtest's protocol is a line per command, and both of its ends look for
 * the end of a line from the start of all they have buffered, each time
 * more arrives: a line of megabytes costs time quadratic in its length.
 * Under ASan inside the nested test host, one 12 MiB write did not end
 * in 17 minutes.  Patterns go in lines of at most PATTERN_CHUNK bytes.
 */
#define PATTERN_CHUNK   (64 * KiB)

static void write_pattern(QTestState *qts, uint64_t addr, uint64_t size,
                          unsigned seed)
{
    g_autofree uint8_t *buf = g_malloc(size);
    uint64_t i;

    for (i = 0; i < size; i++) {
        buf[i] = pattern_byte(addr + i, seed);
    }
    for (i = 0; i < size; i += PATTERN_CHUNK) {
        qtest_bufwrite(qts, addr + i, buf + i, MIN(PATTERN_CHUNK, size - i));
    }
}

static void check_pattern(QTestState *qts, uint64_t addr, uint64_t size,
                          unsigned seed)
{
    g_autofree uint8_t *buf = g_malloc(size);
    uint64_t i;

    for (i = 0; i < size; i += PATTERN_CHUNK) {
        qtest_bufread(qts, addr + i, buf + i, MIN(PATTERN_CHUNK, size - i));
    }
    for (i = 0; i < size; i++) {
        if (buf[i] != pattern_byte(addr + i, seed)) {
            g_error("byte at 0x%" PRIx64 " is 0x%02x, expected 0x%02x",
                    addr + i, buf[i], pattern_byte(addr + i, seed));
        }
    }
}

static void test_move_all_ram_to_node0(void)
{
    QTestState *qts = qtest_init("-M pc -m 128M -nodefaults");
    QDict *rsp, *stats, *info;
    uint64_t total, on_node0;

    write_pattern(qts, 16 * MiB, 4 * MiB, 1);
    rsp = move(qts, 0, 128 * MiB, 0);
    stats = qdict_get_qdict(rsp, "stats");
    assert_stats_consistent(stats);
    /* The whole backend is claimed, ROM window included. */
    g_assert_cmpuint(qdict_get_uint(stats, "pages"), ==, 128 * MiB / PAGE);
    g_assert_cmpuint(qdict_get_uint(stats, "failed"), ==, 0);
    g_assert_cmpuint(qdict_get_uint(stats, "moved") +
                     qdict_get_uint(stats, "already-on-node"), >=,
                     4 * MiB / PAGE);
    qobject_unref(rsp);

    info = placement(qts, 0, 128 * MiB);
    on_node0 = bytes_on_node(info, 0, &total);
    g_assert_cmpuint(on_node0, ==, total);
    g_assert_cmpuint(on_node0, >=, 4 * MiB);
    g_assert_cmpuint(total + qdict_get_uint(info, "not-populated-bytes"), ==,
                     128 * MiB);
    qobject_unref(info);
    qtest_quit(qts);
}

static void test_placement_default_range(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");
    QDict *info;
    uint64_t total;

    write_pattern(qts, 8 * MiB, 1 * MiB, 2);
    info = qtest_qmp_assert_success_ref(qts,
        "{'execute': 'query-guest-memory-placement'}");
    g_assert_cmpuint(qdict_get_uint(info, "addr"), ==, 0);
    g_assert_cmpuint(qdict_get_uint(info, "size"), ==, 64 * MiB);
    bytes_on_node(info, 0, &total);
    g_assert_cmpuint(total, >=, 1 * MiB);
    g_assert_cmpuint(total + qdict_get_uint(info, "not-populated-bytes"), ==,
                     64 * MiB);
    qobject_unref(info);
    qtest_quit(qts);
}

static void test_hmp_info(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");
    g_autofree char *out = NULL;

    write_pattern(qts, 0, 1 * MiB, 3);
    out = qtest_hmp(qts, "info guest-memory-placement");
    g_assert(strstr(out, "guest RAM 0x0-0x3ffffff:"));
    g_assert(strstr(out, "block pc.ram (memdev pc.ram) at 0x0"));
    g_assert(strstr(out, "node "));
    qtest_quit(qts);
}

static void test_error_node_offline(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");

    assert_move_error(qts, "{'addr': 0, 'size': 4096, 'node': 4095}",
                      "'node' 4095 is not an online host NUMA node");
    qtest_quit(qts);
}

static void test_error_size_zero(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");

    assert_move_error(qts, "{'addr': 0, 'size': 0, 'node': 0}",
                      "'size' must not be 0");
    assert_error(qtest_qmp(qts, "{'execute': 'query-guest-memory-placement',"
                           " 'arguments': {'size': 0}}"),
                 "'size' must not be 0");
    qtest_quit(qts);
}

static void test_error_unaligned(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");

    assert_move_error(qts, "{'addr': 100, 'size': 4096, 'node': 0}",
                      "'addr' 0x64 is not a multiple of the host page size");
    assert_move_error(qts, "{'addr': 0, 'size': 4097, 'node': 0}",
                      "'size' 0x1001 is not a multiple of the host page size");
    qtest_quit(qts);
}

static void test_error_outside_ram(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");

    assert_move_error(qts, "{'addr': 1099511627776, 'size': 4096,"
                      " 'node': 0}", "contains no guest RAM");
    /* The PCI hole below 4 GiB is not RAM either. */
    assert_move_error(qts, "{'addr': 3758096384, 'size': 1048576,"
                      " 'node': 0}", "contains no guest RAM");
    assert_move_error(qts, "{'addr': 18446744073709547520, 'size': 8192,"
                      " 'node': 0}", "overflows");
    qtest_quit(qts);
}

static void test_error_workers(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");

    assert_move_error(qts, "{'addr': 0, 'size': 4096, 'node': 0,"
                      " 'workers': 0}", "'workers' must be between 1 and 8");
    assert_move_error(qts, "{'addr': 0, 'size': 4096, 'node': 0,"
                      " 'workers': 9}", "'workers' must be between 1 and 8");
    qtest_quit(qts);
}

static void test_error_shared_needs_cap_sys_nice(void)
{
    QTestState *qts;

    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
        return;
    }
    /* Keep CAP_SYS_NICE from the QEMU this process starts (as root). */
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_NICE, 0, 0, 0) < 0) {
        g_assert_cmpint(errno, ==, EPERM);  /* not root: QEMU lacks it */
    }
    qts = qtest_init("-M pc -m 64M -nodefaults"
                     " -object memory-backend-memfd,id=m0,size=64M,share=on"
                     " -numa node,memdev=m0");
    assert_move_error(qts, "{'addr': 0, 'size': 1048576, 'node': 0}",
                      "RAM block 'm0' is a shared mapping: moving it needs"
                      " MPOL_MF_MOVE_ALL, and QEMU lacks CAP_SYS_NICE");
    qtest_quit(qts);
}

/*
 * A machine with enough unpopulated RAM that a move takes a while.  The
 * pc machine puts 3 GiB below the PCI hole and 5 GiB above 4 GiB, so its
 * RAM ends at 9 GiB.
 */
#define BIG_VM_RAM_END "9663676416"

static QTestState *init_big_vm(void)
{
    return qtest_init("-M pc,memory-backend=big -m 8G -nodefaults"
                      " -object memory-backend-ram,id=big,size=8G,"
                      "reserve=off");
}

/*
 * A machine whose whole move takes long enough to measure how promptly
 * something happens during it: 3 GiB below the PCI hole and 29 GiB
 * above 4 GiB, all unpopulated.
 */
#define HUGE_VM_ARGS "-M pc,memory-backend=huge -m 32G -nodefaults" \
    " -object memory-backend-ram,id=huge,size=32G,reserve=off"
#define HUGE_VM_RAM_END "35433480192"

static void test_error_overlapping_move(void)
{
    QTestState *qts = init_big_vm();
    QDict *rsp;

    /* Send both at once, so the second arrives while the job runs. */
    qtest_qmp_send(qts, "{'execute': 'migrate-guest-range', 'arguments':"
                   " {'addr': 0, 'size': " BIG_VM_RAM_END ", 'node': 0,"
                   " 'job-id': 'big'}}");
    qtest_qmp_send(qts, "{'execute': 'migrate-guest-range', 'arguments':"
                   " {'addr': 4294967296, 'size': 4096, 'node': 0}}");
    rsp = qtest_qmp_receive(qts);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    assert_error(qtest_qmp_receive(qts), "is already running and overlaps");
    qtest_qmp_eventwait(qts, "GUEST_MEMORY_MOVE_COMPLETED");
    qtest_quit(qts);
}

static void test_vnuma_memdevs(void)
{
    QTestState *qts = qtest_init(
        "-M pc -m 128M -nodefaults"
        " -object memory-backend-ram,id=m0,size=64M"
        " -object memory-backend-memfd,id=m1,size=64M,share=on"
        " -numa node,memdev=m0 -numa node,memdev=m1");
    QDict *rsp, *info, *b;
    QList *blocks, *memdevs;
    QListEntry *e;
    int n = 0;

    write_pattern(qts, 60 * MiB, 8 * MiB, 4);
    rsp = move(qts, 0, 128 * MiB, 0);
    assert_stats_consistent(qdict_get_qdict(rsp, "stats"));
    g_assert_cmpuint(qdict_get_uint(qdict_get_qdict(rsp, "stats"), "failed"),
                     ==, 0);
    qobject_unref(rsp);

    info = placement(qts, 0, 128 * MiB);
    blocks = qdict_get_qlist(info, "blocks");
    g_assert_cmpint(qlist_size(blocks), ==, 2);
    b = qobject_to(QDict, qlist_peek(blocks));
    g_assert_cmpstr(qdict_get_str(b, "memdev"), ==, "m0");
    b = qobject_to(QDict, qlist_entry_obj(qlist_next(qlist_first(blocks))));
    g_assert_cmpstr(qdict_get_str(b, "memdev"), ==, "m1");
    g_assert_cmpuint(qdict_get_uint(b, "addr"), ==, 64 * MiB);
    qobject_unref(info);
    check_pattern(qts, 60 * MiB, 8 * MiB, 4);

    /* Both backends were moved whole: query-memdev agrees. */
    rsp = qtest_qmp(qts, "{'execute': 'query-memdev'}");
    memdevs = qdict_get_qlist(rsp, "return");
    QLIST_FOREACH_ENTRY(memdevs, e) {
        QDict *m = qobject_to(QDict, qlist_entry_obj(e));
        QList *hn = qdict_get_qlist(m, "host-nodes");

        g_assert_cmpstr(qdict_get_str(m, "policy"), ==, "bind");
        g_assert_cmpint(qlist_size(hn), ==, 1);
        g_assert_cmpint(qnum_get_int(qobject_to(QNum, qlist_peek(hn))), ==,
                        0);
        n++;
    }
    g_assert_cmpint(n, ==, 2);
    qobject_unref(rsp);
    qtest_quit(qts);
}

static void test_partial_move_keeps_memdev_policy(void)
{
    QTestState *qts = qtest_init(
        "-M pc -m 64M -nodefaults"
        " -object memory-backend-ram,id=m0,size=64M -numa node,memdev=m0");
    QDict *rsp, *m;

    qobject_unref(move(qts, 16 * MiB, 8 * MiB, 0));
    rsp = qtest_qmp(qts, "{'execute': 'query-memdev'}");
    m = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp, "return")));
    g_assert_cmpstr(qdict_get_str(m, "policy"), ==, "default");
    qobject_unref(rsp);
    qtest_quit(qts);
}

static void test_range_across_4g_split(void)
{
    /* 256 MiB below 4 GiB and 256 MiB above it. */
    QTestState *qts = qtest_init("-M pc,max-ram-below-4g=256M -m 512M"
                                 " -nodefaults");
    uint64_t start = 255 * MiB, end = 4 * GiB + 1 * MiB;
    QDict *rsp, *stats, *info, *b;
    QList *blocks;

    write_pattern(qts, start, 1 * MiB, 5);
    write_pattern(qts, 4 * GiB, 1 * MiB, 6);
    rsp = move(qts, start, end - start, 0);
    stats = qdict_get_qdict(rsp, "stats");
    assert_stats_consistent(stats);
    g_assert_cmpuint(qdict_get_uint(stats, "pages"), ==, 2 * MiB / PAGE);
    g_assert_cmpuint(qdict_get_uint(stats, "skipped-bytes"), ==,
                     4 * GiB - 256 * MiB);
    qobject_unref(rsp);

    info = placement(qts, start, end - start);
    blocks = qdict_get_qlist(info, "blocks");
    g_assert_cmpint(qlist_size(blocks), ==, 2);
    b = qobject_to(QDict, qlist_peek(blocks));
    g_assert_cmpstr(qdict_get_str(b, "block"), ==, "pc.ram");
    g_assert_cmpuint(qdict_get_uint(b, "addr"), ==, start);
    b = qobject_to(QDict, qlist_entry_obj(qlist_next(qlist_first(blocks))));
    g_assert_cmpstr(qdict_get_str(b, "block"), ==, "pc.ram");
    g_assert_cmpuint(qdict_get_uint(b, "addr"), ==, 4 * GiB);
    qobject_unref(info);

    check_pattern(qts, start, 1 * MiB, 5);
    check_pattern(qts, 4 * GiB, 1 * MiB, 6);
    qtest_quit(qts);
}

static bool job_listed(QTestState *qts, const char *id, uint64_t *current,
                       uint64_t *total)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-jobs'}");
    QListEntry *e;
    bool found = false;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *j = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(j, "id"), id)) {
            g_assert_cmpstr(qdict_get_str(j, "type"), ==,
                            "guest-memory-move");
            *current = qdict_get_uint(j, "current-progress");
            *total = qdict_get_uint(j, "total-progress");
            found = true;
        }
    }
    qobject_unref(rsp);
    return found;
}

static void test_job_progress_and_cancel(void)
{
    QTestState *qts = init_big_vm();
    QDict *ev, *data, *stats;
    uint64_t current = 0, total = 0;

    qobject_unref(qtest_qmp_assert_success_ref(qts,
        "{'execute': 'migrate-guest-range', 'arguments':"
        " {'addr': 0, 'size': " BIG_VM_RAM_END ", 'node': 0,"
        "  'job-id': 'mv'}}"));
    g_assert(job_listed(qts, "mv", &current, &total));
    g_assert_cmpuint(total, ==, 8 * GiB);
    g_assert_cmpuint(current, <=, total);

    qtest_qmp_assert_success(qts, "{'execute': 'job-cancel',"
                             " 'arguments': {'id': 'mv'}}");
    ev = qtest_qmp_eventwait_ref(qts, "GUEST_MEMORY_MOVE_COMPLETED");
    data = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(data, "job-id"), ==, "mv");
    g_assert(qdict_get_bool(data, "cancelled"));
    stats = qdict_get_qdict(data, "stats");
    assert_stats_consistent(stats);
    g_assert_cmpuint(qdict_get_uint(stats, "pages"), <, 8 * GiB / PAGE);
    qobject_unref(ev);
    qtest_quit(qts);
}

static void test_job_completes(void)
{
    QTestState *qts = qtest_init("-M pc -m 128M -nodefaults");
    QDict *ev, *data, *stats;
    uint64_t current, total;

    write_pattern(qts, 32 * MiB, 4 * MiB, 7);
    qobject_unref(qtest_qmp_assert_success_ref(qts,
        "{'execute': 'migrate-guest-range', 'arguments':"
        " {'addr': 0, 'size': 134217728, 'node': 0, 'job-id': 'mv',"
        "  'workers': 2}}"));
    ev = qtest_qmp_eventwait_ref(qts, "GUEST_MEMORY_MOVE_COMPLETED");
    data = qdict_get_qdict(ev, "data");
    g_assert(!qdict_get_bool(data, "cancelled"));
    g_assert(!qdict_haskey(data, "error"));
    g_assert_cmpint(qdict_get_int(data, "node"), ==, 0);
    stats = qdict_get_qdict(data, "stats");
    assert_stats_consistent(stats);
    g_assert_cmpuint(qdict_get_uint(stats, "pages"), ==, 128 * MiB / PAGE);
    qobject_unref(ev);
    /* Jobs dismiss themselves when they end. */
    g_assert(!job_listed(qts, "mv", &current, &total));
    check_pattern(qts, 32 * MiB, 4 * MiB, 7);
    qtest_quit(qts);
}

/*
 * Memory-policy ranges of QEMU's address space that bind to a node, as
 * /proc/PID/numa_maps lists them: a failed command must not add any.
 */
static int bound_vmas(QTestState *qts)
{
    g_autofree char *path =
        g_strdup_printf("/proc/%d/numa_maps", (int)qtest_pid(qts));
    g_autofree char *maps = NULL;
    g_auto(GStrv) lines = NULL;
    int i, n = 0;

    g_assert(g_file_get_contents(path, &maps, NULL, NULL));
    lines = g_strsplit(maps, "\n", -1);
    for (i = 0; lines[i]; i++) {
        if (strstr(lines[i], " bind:")) {
            n++;
        }
    }
    return n;
}

/* The policy query-memdev reports for memory backend @id. */
static char *memdev_policy(QTestState *qts, const char *id)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-memdev'}");
    QListEntry *e;
    char *policy = NULL;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *m = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(m, "id"), id)) {
            policy = g_strdup(qdict_get_str(m, "policy"));
        }
    }
    qobject_unref(rsp);
    g_assert(policy);
    return policy;
}

static void assert_memdev_policy(QTestState *qts, const char *id,
                                 const char *policy)
{
    g_autofree char *p = memdev_policy(qts, id);

    g_assert_cmpstr(p, ==, policy);
}

/*
 * A big VM with a second backend: "big" covers [0, 3 GiB) and [4 GiB,
 * 9 GiB), "m1" the 64 MiB after it.
 */
#define M1_RANGE "'addr': 9663676416, 'size': 67108864"

static QTestState *init_big_vm_with_m1(void)
{
    return qtest_init("-M pc -m 8256M -nodefaults"
                      " -object memory-backend-ram,id=big,size=8G,"
                      "reserve=off"
                      " -object memory-backend-ram,id=m1,size=64M"
                      " -numa node,memdev=big -numa node,memdev=m1");
}

/* A move of all of m1 with the free job identifier binds it. */
static void assert_m1_move_binds(QTestState *qts)
{
    qobject_unref(qtest_qmp_assert_success_ref(qts,
        "{'execute': 'migrate-guest-range', 'arguments':"
        " {" M1_RANGE ", 'node': 0, 'job-id': 'ok'}}"));
    qtest_qmp_eventwait(qts, "GUEST_MEMORY_MOVE_COMPLETED");
    assert_memdev_policy(qts, "m1", "bind");
}

/*
 * A command that fails on its job identifier leaves the memory policy
 * alone: neither the backend's (query-memdev) nor the kernel's.
 */
static void test_error_malformed_job_id(void)
{
    QTestState *qts = init_big_vm_with_m1();
    int bound = bound_vmas(qts);

    assert_move_error(qts, "{" M1_RANGE ", 'node': 0, 'job-id': '1bad'}",
                      "Invalid job ID '1bad'");
    assert_memdev_policy(qts, "m1", "default");
    g_assert_cmpint(bound_vmas(qts), ==, bound);
    assert_m1_move_binds(qts);
    qtest_quit(qts);
}

static void test_error_duplicate_job_id(void)
{
    QTestState *qts = init_big_vm_with_m1();
    QDict *rsp;
    int bound;

    /* A job on part of "big" holds the identifier 'j'. */
    qtest_qmp_send(qts, "{'execute': 'migrate-guest-range', 'arguments':"
                   " {'addr': 0, 'size': 4294967296, 'node': 0,"
                   " 'job-id': 'j'}}");
    qtest_qmp_send(qts, "{'execute': 'migrate-guest-range', 'arguments':"
                   " {" M1_RANGE ", 'node': 0, 'job-id': 'j'}}");
    rsp = qtest_qmp_receive(qts);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    bound = bound_vmas(qts);
    assert_error(qtest_qmp_receive(qts), "Job ID 'j' already in use");
    assert_memdev_policy(qts, "m1", "default");
    assert_memdev_policy(qts, "big", "default");
    g_assert_cmpint(bound_vmas(qts), ==, bound);
    qtest_qmp_eventwait(qts, "GUEST_MEMORY_MOVE_COMPLETED");
    assert_m1_move_binds(qts);
    qtest_quit(qts);
}

/*
 * The project's queries, each called without arguments by
 * /guest-memory/query/machine-none.
 */
static const char *const project_queries[] = {
    "query-guest-memory-placement",
    "query-snc-counters",
};

/* Every query of the project answers, empty, on a machine without RAM. */
static void test_queries_machine_none(void)
{
    QTestState *qts = qtest_init("-machine none -nodefaults");
    QDict *info, *rsp_list;
    int i;

    for (i = 0; i < ARRAY_SIZE(project_queries); i++) {
        QDict *rsp = qtest_qmp(qts, "{'execute': %s}", project_queries[i]);

        if (!qdict_haskey(rsp, "return")) {
            g_error("%s failed under -machine none: %s", project_queries[i],
                    qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
        }
        qobject_unref(rsp);
    }

    info = qtest_qmp_assert_success_ref(qts,
        "{'execute': 'query-guest-memory-placement'}");
    g_assert_cmpuint(qdict_get_uint(info, "addr"), ==, 0);
    g_assert_cmpuint(qdict_get_uint(info, "size"), ==, 0);
    g_assert(qlist_empty(qdict_get_qlist(info, "nodes")));
    g_assert(qlist_empty(qdict_get_qlist(info, "blocks")));
    g_assert_cmpuint(qdict_get_uint(info, "not-populated-bytes"), ==, 0);
    qobject_unref(info);

    /* No snc device: an empty list of them. */
    rsp_list = qtest_qmp(qts, "{'execute': 'query-snc-counters'}");
    g_assert(qlist_empty(qdict_get_qlist(rsp_list, "return")));
    qobject_unref(rsp_list);
    qtest_quit(qts);
}

/* A default range that starts past the end of guest RAM is empty. */
static void test_placement_past_ram_end(void)
{
    QTestState *qts = qtest_init("-M pc -m 64M -nodefaults");
    QDict *info;
    g_autofree char *out = NULL;

    info = qtest_qmp_assert_success_ref(qts,
        "{'execute': 'query-guest-memory-placement',"
        " 'arguments': {'addr': 1073741824}}");
    g_assert_cmpuint(qdict_get_uint(info, "addr"), ==, 1 * GiB);
    g_assert_cmpuint(qdict_get_uint(info, "size"), ==, 0);
    g_assert(qlist_empty(qdict_get_qlist(info, "blocks")));
    qobject_unref(info);
    out = qtest_hmp(qts, "info guest-memory-placement 0x40000000");
    g_assert(strstr(out, "no guest RAM at or above 0x40000000"));
    qtest_quit(qts);
}

/*
 * Time a synchronous move of all of the VM's RAM, then start another
 * one and let a tenth of it run.  Returns the time of a whole move.
 */
static int64_t start_sync_move_of_all_ram(QTestState *qts)
{
    QDict *rsp = qtest_qmp_assert_success_ref(qts,
        "{'execute': 'migrate-guest-range', 'arguments':"
        " {'addr': 0, 'size': " HUGE_VM_RAM_END ", 'node': 0}}");
    int64_t full_ns = qdict_get_uint(qdict_get_qdict(rsp, "stats"),
                                     "duration-ns");

    qobject_unref(rsp);
    g_test_message("a move of all RAM takes %" PRId64 " ms",
                   full_ns / 1000000);
    qtest_qmp_send(qts, "{'execute': 'migrate-guest-range', 'arguments':"
                   " {'addr': 0, 'size': " HUGE_VM_RAM_END ", 'node': 0}}");
    g_usleep(full_ns / 10 / 1000);
    return full_ns;
}

/*
 * quit, from a human monitor, while QMP waits for a synchronous move of
 * all of a big VM's RAM: QEMU exits after the batches in flight instead
 * of finishing the move.  (QMP commands, quit included, wait for a
 * synchronous move to end.)
 */
static void test_quit_ends_sync_move(void)
{
    g_autofree char *dir = g_dir_make_tmp("guest-memory-move-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/hmp", dir);
    int listener = qtest_socket_server(path);
    QTestState *qts;
    int64_t full_ns, t0, quit_ns;
    char buf[256];
    int fd;

    qts = qtest_initf(HUGE_VM_ARGS " -chardev socket,id=hmp,path=%s"
                      " -mon chardev=hmp,mode=readline", path);
    fd = accept(listener, NULL, NULL);
    g_assert(fd >= 0);
    close(listener);
    unlink(path);
    rmdir(dir);

    full_ns = start_sync_move_of_all_ram(qts);
    t0 = g_get_monotonic_time();
    g_assert_cmpint(write(fd, "quit\n", 5), ==, 5);
    /* The monitor's socket closes when QEMU exits. */
    while (read(fd, buf, sizeof(buf)) > 0) {
        continue;
    }
    quit_ns = (g_get_monotonic_time() - t0) * 1000;
    qtest_wait_qemu(qts);
    g_test_message("QEMU exited %" PRId64 " us after quit",
                   quit_ns / 1000);
    /* Finishing the move would take about 9/10 of @full_ns. */
    g_assert_cmpint(quit_ns, <, full_ns / 2);
    close(fd);
    qtest_quit(qts);
}

/*
 * quit, on the QMP monitor that waits for a synchronous move of all of
 * a big VM's RAM: the move stops after the batches in flight and fails,
 * the quit runs and QEMU exits, instead of the quit waiting behind the
 * whole move.
 */
static void test_qmp_quit_ends_sync_move(void)
{
    QTestState *qts = qtest_init(HUGE_VM_ARGS);
    QDict *rsp;
    int64_t full_ns, t0, quit_ns;

    full_ns = start_sync_move_of_all_ram(qts);
    t0 = g_get_monotonic_time();
    qtest_qmp_send(qts, "{'execute': 'quit'}");
    rsp = qtest_qmp_receive(qts);
    g_assert(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"),
                            "stopped because QEMU is shutting down"));
    qobject_unref(rsp);
    rsp = qtest_qmp_receive(qts);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qtest_wait_qemu(qts);
    quit_ns = (g_get_monotonic_time() - t0) * 1000;
    g_test_message("QEMU exited %" PRId64 " us after quit",
                   quit_ns / 1000);
    /* Finishing the move would take about 9/10 of @full_ns. */
    g_assert_cmpint(quit_ns, <, full_ns / 2);
    qtest_quit(qts);
}

/* Threads of the QEMU process, from /proc/PID/status. */
static int qemu_threads(QTestState *qts)
{
    g_autofree char *path =
        g_strdup_printf("/proc/%d/status", (int)qtest_pid(qts));
    g_autofree char *status = NULL;
    const char *t;

    g_assert(g_file_get_contents(path, &status, NULL, NULL));
    t = strstr(status, "\nThreads:");
    g_assert(t);
    return atoi(t + strlen("\nThreads:"));
}

static int jobs_running(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-jobs'}");
    int n = qlist_size(qdict_get_qlist(rsp, "return"));

    qobject_unref(rsp);
    return n;
}

/*
 * Three moves of 8 workers each run at once: all of them progress, on
 * at most 8 threads added to QEMU.
 */
static void test_job_worker_cap(void)
{
    /* [0, 3 GiB), then the RAM above 4 GiB in two halves */
    static const uint64_t ranges[][2] = {
        { 0, 3 * GiB },
        { 4 * GiB, 14 * GiB + 512 * MiB },
        { 18 * GiB + 512 * MiB, 14 * GiB + 512 * MiB },
    };
    QTestState *qts = qtest_init(HUGE_VM_ARGS);
    int before = qemu_threads(qts), most = before, i;

    for (i = 0; i < ARRAY_SIZE(ranges); i++) {
        g_autofree char *id = g_strdup_printf("mv%d", i);

        qobject_unref(qtest_qmp_assert_success_ref(qts,
            "{'execute': 'migrate-guest-range', 'arguments':"
            " {'addr': %" PRIu64 ", 'size': %" PRIu64 ", 'node': 0,"
            "  'job-id': %s, 'workers': 8}}",
            ranges[i][0], ranges[i][1], id));
    }
    while (jobs_running(qts)) {
        most = MAX(most, qemu_threads(qts));
        g_usleep(5000);
    }
    g_test_message("threads: %d before, %d at most during the moves",
                   before, most);
    g_assert_cmpint(most - before, <=, 8);
    for (i = 0; i < ARRAY_SIZE(ranges); i++) {
        QDict *ev = qtest_qmp_eventwait_ref(qts,
                                            "GUEST_MEMORY_MOVE_COMPLETED");
        QDict *data = qdict_get_qdict(ev, "data");

        g_assert(!qdict_get_bool(data, "cancelled"));
        g_assert(!qdict_haskey(data, "error"));
        qobject_unref(ev);
    }
    qtest_quit(qts);
}

/*
 * With one thread in the main loop's thread pool, aio=threads I/O still
 * completes while a move runs: the mover has threads of its own.
 */
static void test_job_io_not_starved(void)
{
    g_autofree char *img = NULL;
    g_autofree char *out = NULL;
    QTestState *qts;
    uint64_t current, total;
    int fd = g_file_open_tmp("guest-memory-move-img-XXXXXX", &img, NULL);

    g_assert(fd >= 0);
    g_assert(ftruncate(fd, 1 * MiB) == 0);
    close(fd);
    qts = qtest_initf(HUGE_VM_ARGS
                      " -object main-loop,id=ml,thread-pool-min=0,"
                      "thread-pool-max=1"
                      " -blockdev file,node-name=disk,filename=%s,"
                      "aio=threads", img);
    qobject_unref(qtest_qmp_assert_success_ref(qts,
        "{'execute': 'migrate-guest-range', 'arguments':"
        " {'addr': 0, 'size': " HUGE_VM_RAM_END ", 'node': 0,"
        "  'job-id': 'mv', 'workers': 8}}"));
    /* Synchronous: returns once the read completed, silent if it did. */
    out = qtest_hmp(qts, "qemu-io disk \"read -q 0 4k\"");
    g_assert_cmpstr(out, ==, "");
    /* The read did not wait for the move to end. */
    g_assert(job_listed(qts, "mv", &current, &total));
    g_assert_cmpuint(current, <, total);
    qtest_qmp_assert_success(qts, "{'execute': 'job-cancel',"
                             " 'arguments': {'id': 'mv'}}");
    qtest_qmp_eventwait(qts, "GUEST_MEMORY_MOVE_COMPLETED");
    qtest_quit(qts);
    unlink(img);
}

/* A pattern survives moves to every host node, byte for byte. */
static void test_pattern_survives_moves(void)
{
    QTestState *qts = qtest_init("-M pc -m 128M -nodefaults");
    int node, nodes = MAX(host_nodes(), 1);

    write_pattern(qts, 20 * MiB, 8 * MiB, 8);
    for (node = nodes - 1; node >= 0; node--) {
        QDict *rsp = move(qts, 16 * MiB, 16 * MiB, node);

        assert_stats_consistent(qdict_get_qdict(rsp, "stats"));
        qobject_unref(rsp);
        assert_all_on_node(qts, 16 * MiB, 16 * MiB, node);
        check_pattern(qts, 20 * MiB, 8 * MiB, 8);
    }
    qtest_quit(qts);
}

static void test_multinode_move_and_back(void)
{
    QTestState *qts;
    QDict *rsp, *stats;

    if (!need_host_nodes(2)) {
        return;
    }
    qts = qtest_init("-M pc -m 128M -nodefaults"
                     " -object memory-backend-ram,id=m0,size=128M,"
                     "host-nodes=0,policy=bind -numa node,memdev=m0");
    /* Populate 12 of the 16 MiB, on node 0. */
    write_pattern(qts, 8 * MiB, 12 * MiB, 9);
    assert_all_on_node(qts, 8 * MiB, 16 * MiB, 0);

    rsp = move(qts, 8 * MiB, 16 * MiB, 1);
    stats = qdict_get_qdict(rsp, "stats");
    assert_stats_consistent(stats);
    g_assert_cmpuint(qdict_get_uint(stats, "moved"), ==, 12 * MiB / PAGE);
    g_assert_cmpuint(qdict_get_uint(stats, "not-populated"), ==,
                     4 * MiB / PAGE);
    g_assert_cmpuint(qdict_get_uint(stats, "bytes-moved"), ==, 12 * MiB);
    qobject_unref(rsp);
    assert_all_on_node(qts, 8 * MiB, 16 * MiB, 1);

    /* Pages the guest touches from now on are allocated on node 1 too. */
    write_pattern(qts, 20 * MiB, 4 * MiB, 10);
    assert_all_on_node(qts, 20 * MiB, 4 * MiB, 1);

    rsp = move(qts, 8 * MiB, 16 * MiB, 0);
    g_assert_cmpuint(qdict_get_uint(qdict_get_qdict(rsp, "stats"), "moved"),
                     ==, 16 * MiB / PAGE);
    qobject_unref(rsp);
    assert_all_on_node(qts, 8 * MiB, 16 * MiB, 0);
    check_pattern(qts, 8 * MiB, 12 * MiB, 9);
    check_pattern(qts, 20 * MiB, 4 * MiB, 10);
    qtest_quit(qts);
}

/*
 * The bootblock increments the first byte of every page from
 * X86_TEST_MEM_START to X86_TEST_MEM_END, in order, forever.  With the
 * guest stopped, every page holds the same value except for one step
 * down by one where the guest was.  The rest of each page in the moved
 * range holds a pattern written before the guest started.
 */
static void check_writing_guest(QTestState *qts, uint64_t mv, uint64_t len)
{
    uint64_t a;
    uint8_t first, last, b;
    bool edge = false;

    qtest_memread(qts, X86_TEST_MEM_START, &first, 1);
    last = first;
    for (a = X86_TEST_MEM_START + PAGE; a < X86_TEST_MEM_END; a += PAGE) {
        qtest_memread(qts, a, &b, 1);
        if (b == last) {
            continue;
        }
        if ((uint8_t)(b + 1) == last && !edge) {
            edge = true;
            last = b;
            continue;
        }
        g_error("page 0x%" PRIx64 " holds %u after %u: the guest's write"
                " was lost or a stale copy came back", a, b, last);
    }
    for (a = mv; a < mv + len; a += PAGE) {
        check_pattern(qts, a + 1, PAGE - 1, 11);
    }
}

static void test_multinode_writing_guest_integrity(void)
{
    const uint64_t mv = 32 * MiB, len = 4 * MiB;
    g_autofree char *boot = NULL;
    QTestState *qts;
    int fd, i, rounds = 100;
    uint64_t a;
    char c;

    if (!need_host_nodes(2)) {
        return;
    }
    fd = g_file_open_tmp("guest-memory-move-boot-XXXXXX", &boot, NULL);
    g_assert(fd >= 0);
    g_assert(write(fd, x86_bootsect, sizeof(x86_bootsect)) ==
             sizeof(x86_bootsect));
    close(fd);

    qts = qtest_initf("-M pc -accel tcg -m 128M -nodefaults -S"
                      " -object memory-backend-ram,id=m0,size=128M,"
                      "host-nodes=0,policy=bind -numa node,memdev=m0"
                      " -drive file=%s,format=raw -serial none", boot);
    for (a = mv; a < mv + len; a += PAGE) {
        write_pattern(qts, a + 1, PAGE - 1, 11);
    }
    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");

    /* Wait until the guest writes to the whole range. */
    do {
        g_usleep(10000);
        qtest_memread(qts, X86_TEST_MEM_END - PAGE, &c, 1);
    } while (!c);

    for (i = 1; i <= rounds; i++) {
        QDict *rsp = move(qts, mv, len, i % 2);
        QDict *stats = qdict_get_qdict(rsp, "stats");

        assert_stats_consistent(stats);
        g_assert_cmpuint(qdict_get_uint(stats, "failed"), ==, 0);
        /* The guest has written every page: all of them move. */
        g_assert_cmpuint(qdict_get_uint(stats, "moved"), ==, len / PAGE);
        qobject_unref(rsp);
    }

    qtest_qmp_assert_success(qts, "{'execute': 'stop'}");
    check_writing_guest(qts, mv, len);
    assert_all_on_node(qts, mv, len, rounds % 2);
    qtest_quit(qts);
    unlink(boot);
}

/*
 * The backends that libvirt domains use, each moved between two host
 * nodes with its data intact: <memoryBacking> with <source
 * type='memfd'/> and <access mode='shared'/> (vhost-user, virtiofs),
 * <hugepages/> (a file on hugetlbfs, preallocated, or a hugetlb memfd
 * when shared too), and <allocation mode='immediate'/> (prealloc).
 */
typedef struct BackendCase {
    const char *object;     /* the -object, id m0, 64 MiB, unbound */
    bool on_hugetlbfs;      /* add mem-path=$QTEST_HUGETLBFS */
    bool huge;              /* needs free 2 MiB pages on node 0 */
    bool prealloc;          /* every page is populated from the start */
} BackendCase;

static const BackendCase backend_shared_memfd = {
    .object = "memory-backend-memfd,id=m0,size=64M,share=on",
};
static const BackendCase backend_hugetlbfs_file = {
    .object = "memory-backend-file,id=m0,size=64M,prealloc=on",
    .on_hugetlbfs = true, .huge = true, .prealloc = true,
};
static const BackendCase backend_shared_hugetlb_memfd = {
    .object = "memory-backend-memfd,id=m0,size=64M,share=on,hugetlb=on,"
              "hugetlbsize=2M",
    .huge = true,
};
static const BackendCase backend_prealloc_ram = {
    .object = "memory-backend-ram,id=m0,size=64M,prealloc=on",
    .prealloc = true,
};

/*
 * 2 MiB pages a preallocated 64 MiB backend needs on node 0, where it
 * starts.  Node 1 needs none: the kernel allocates the huge pages that
 * a move needs on the target node, and the pool follows the pages.
 */
#define BACKEND_HUGE_PAGES 32

static bool need_free_huge_pages(unsigned pages)
{
    const char *path = "/sys/devices/system/node/node0/hugepages/"
                       "hugepages-2048kB/free_hugepages";
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        g_ascii_strtoull(text, NULL, 10) < pages) {
        g_autofree char *why = g_strdup_printf(
            "needs %u free 2 MiB pages on host node 0"
            " (scripts/testhost-qtests.sh reserves them)", pages);
        g_test_skip(why);
        return false;
    }
    return true;
}

static void test_multinode_backend(const void *data)
{
    const BackendCase *c = data;
    /*
     * Small, as the test host's memory copies are emulated: a pattern
     * of 256 KiB across the boundary of two 2 MiB pages.
     */
    const uint64_t base = 16 * MiB, len = 8 * MiB;
    const uint64_t at = base + 2 * MiB - 128 * KiB, filled = 256 * KiB;
    const char *dir = g_getenv("QTEST_HUGETLBFS");
    QTestState *qts;
    QDict *rsp, *stats;
    int to;

    if (!need_host_nodes(2)) {
        return;
    }
    if (c->on_hugetlbfs && !dir) {
        g_test_skip("needs a hugetlbfs mount named by QTEST_HUGETLBFS"
                    " (scripts/testhost-qtests.sh mounts one)");
        return;
    }
    if (c->huge && !need_free_huge_pages(BACKEND_HUGE_PAGES)) {
        return;
    }
    qts = qtest_initf("-M pc -m 64M -nodefaults -object %s%s%s,"
                      "host-nodes=0,policy=bind -numa node,memdev=m0",
                      c->object, c->on_hugetlbfs ? ",mem-path=" : "",
                      c->on_hugetlbfs ? dir : "");
    write_pattern(qts, at, filled, 12);
    assert_all_on_node(qts, base, len, 0);

    /* To node 1 and back: every populated page moves, each time. */
    for (to = 1; to >= 0; to--) {
        rsp = move(qts, base, len, to);
        stats = qdict_get_qdict(rsp, "stats");
        assert_stats_consistent(stats);
        g_assert_cmpuint(qdict_get_uint(stats, "failed"), ==, 0);
        g_assert_cmpuint(qdict_get_uint(stats, "already-on-node"), ==, 0);
        g_assert_cmpuint(qdict_get_uint(stats, "bytes-moved"), >=,
                         c->prealloc ? len : filled);
        if (c->prealloc) {
            g_assert_cmpuint(qdict_get_uint(stats, "not-populated"), ==, 0);
        }
        qobject_unref(rsp);
        assert_all_on_node(qts, base, len, to);
        check_pattern(qts, at, filled, 12);
    }
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/guest-memory/move/all-ram-to-node0",
                   test_move_all_ram_to_node0);
    qtest_add_func("/guest-memory/move/pattern-survives",
                   test_pattern_survives_moves);
    qtest_add_func("/guest-memory/move/vnuma-memdevs", test_vnuma_memdevs);
    qtest_add_func("/guest-memory/move/partial-keeps-memdev-policy",
                   test_partial_move_keeps_memdev_policy);
    qtest_add_func("/guest-memory/move/across-4g-split",
                   test_range_across_4g_split);
    qtest_add_func("/guest-memory/placement/default-range",
                   test_placement_default_range);
    qtest_add_func("/guest-memory/placement/hmp-info", test_hmp_info);
    qtest_add_func("/guest-memory/error/node-offline",
                   test_error_node_offline);
    qtest_add_func("/guest-memory/error/size-zero", test_error_size_zero);
    qtest_add_func("/guest-memory/error/unaligned", test_error_unaligned);
    qtest_add_func("/guest-memory/error/outside-ram",
                   test_error_outside_ram);
    qtest_add_func("/guest-memory/error/workers", test_error_workers);
    qtest_add_func("/guest-memory/error/shared-needs-cap-sys-nice",
                   test_error_shared_needs_cap_sys_nice);
    qtest_add_func("/guest-memory/error/overlapping-move",
                   test_error_overlapping_move);
    qtest_add_func("/guest-memory/error/duplicate-job-id",
                   test_error_duplicate_job_id);
    qtest_add_func("/guest-memory/job/progress-and-cancel",
                   test_job_progress_and_cancel);
    qtest_add_func("/guest-memory/job/completes", test_job_completes);
    qtest_add_func("/guest-memory/job/worker-cap", test_job_worker_cap);
    qtest_add_func("/guest-memory/job/io-not-starved",
                   test_job_io_not_starved);
    qtest_add_func("/guest-memory/move/quit-ends-sync-move",
                   test_quit_ends_sync_move);
    qtest_add_func("/guest-memory/move/qmp-quit-ends-sync-move",
                   test_qmp_quit_ends_sync_move);
    qtest_add_func("/guest-memory/error/malformed-job-id",
                   test_error_malformed_job_id);
    qtest_add_func("/guest-memory/query/machine-none",
                   test_queries_machine_none);
    qtest_add_func("/guest-memory/placement/past-ram-end",
                   test_placement_past_ram_end);
    qtest_add_func("/guest-memory/multinode/move-and-back",
                   test_multinode_move_and_back);
    qtest_add_func("/guest-memory/multinode/writing-guest-integrity",
                   test_multinode_writing_guest_integrity);
    qtest_add_data_func("/guest-memory/multinode/backend/shared-memfd",
                        &backend_shared_memfd, test_multinode_backend);
    qtest_add_data_func("/guest-memory/multinode/backend/hugetlbfs-file",
                        &backend_hugetlbfs_file, test_multinode_backend);
    qtest_add_data_func("/guest-memory/multinode/backend/"
                        "shared-hugetlb-memfd",
                        &backend_shared_hugetlb_memfd,
                        test_multinode_backend);
    qtest_add_data_func("/guest-memory/multinode/backend/prealloc-ram",
                        &backend_prealloc_ram, test_multinode_backend);

    return g_test_run();
}
