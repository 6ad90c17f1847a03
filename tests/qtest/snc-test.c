/*
 * QTest for the Scalable Node Controller (snc)
 *
 * The counting tests run real guest code under TCG: the x86 boot block
 * of migration-test, which increments the first byte of every page from
 * 1 MiB to 100 MiB, forever, on the boot vCPU.  The machine has two
 * NUMA nodes of 64 MiB, so with 2048 zones a zone is 64 KiB, zones
 * 0-1023 are node 0's RAM and zones 1024-2047 node 1's.  The boot
 * block touches zones 16-1599; nothing touches zones 1600-2047.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "qobject/qnum.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "migration/bootfile.h"
#include "migration/i386/a-b-bootblock.h"
#include "hw/mem/snc_regs.h"

#define PAGE            4096
#define ZONES           2048
#define NODES           2
#define ZONE_SHIFT      16
#define FIRST_HOT       (X86_TEST_MEM_START >> ZONE_SHIFT)
#define END_HOT         (X86_TEST_MEM_END >> ZONE_SHIFT)
#define NODE1_FIRST     (64 * MiB >> ZONE_SHIFT)

/* CONTROL.MODE field for mode @m (ALL, REMOTE or TRACK_MAX) */
#define MODE(m)         SNC_CONTROL_MODE(SNC_CONTROL_MODE_##m)
#define RUN_SNAP        (SNC_STATUS_RUNNING | SNC_STATUS_SNAPSHOT)

#define SNC_TEST_PROPS  ",period-ms=0,sample-interval-us=1000"

typedef struct SNC {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar regs;
    QPCIBar matrix;
    uint64_t regs_size;
    uint64_t matrix_size;
    char *boot;
    char *log;
} SNC;

static char *boot_file(void)
{
    char *path;
    int fd = g_file_open_tmp("snc-test-boot-XXXXXX", &path, NULL);

    g_assert(fd >= 0);
    g_assert(write(fd, x86_bootsect, sizeof(x86_bootsect)) ==
             sizeof(x86_bootsect));
    close(fd);
    return path;
}

/* Find the device at 00:04.0 and map its BARs. */
static void snc_attach(SNC *s)
{
    s->bus = qpci_new_pc(s->qts, NULL);
    s->dev = qpci_device_find(s->bus, QPCI_DEVFN(4, 0));
    g_assert(s->dev);
    qpci_device_enable(s->dev);
    s->regs = qpci_iomap(s->dev, 0, &s->regs_size);
    s->matrix = qpci_iomap(s->dev, 2, &s->matrix_size);
}

/*
 * Start a pc machine with @machine's memory and CPU options, the boot
 * block and the device at 00:04.0 with the properties @props.  Under
 * TCG, wait until the boot block has written to the RAM page at
 * @ready, after the firmware's PCI setup.
 */
static SNC *snc_boot(const char *accel, const char *machine,
                     const char *props, uint64_t ready)
{
    SNC *s = g_new0(SNC, 1);
    int fd = g_file_open_tmp("snc-test-log-XXXXXX", &s->log, NULL);

    g_assert(fd >= 0);
    close(fd);
    s->boot = boot_file();
    s->qts = qtest_initf("-M pc -accel %s -nodefaults %s"
                         " -device snc,id=snc0,addr=04.0%s"
                         " -drive file=%s,format=raw -serial none"
                         " -d guest_errors -D %s",
                         accel, machine, props, s->boot, s->log);
    if (!strcmp(accel, "tcg")) {
        char c;

        do {
            g_usleep(10000);
            qtest_memread(s->qts, ready, &c, 1);
        } while (!c);
    }
    snc_attach(s);
    return s;
}

/*
 * Start a 2-node machine.  @boot_node is the node of vCPU 0, the one
 * that runs the boot block; vCPU 1 sits in the firmware, halted.  With
 * @accel "qtest" no guest code runs.  @extra adds device properties;
 * without it the period timer is off, so that periods end only when a
 * test says so, and the TLBs are flushed every millisecond.
 */
static SNC *snc_init(const char *accel, int boot_node, const char *extra)
{
    g_autofree char *machine =
        g_strdup_printf("-m 128M -smp 2"
                        " -object memory-backend-ram,id=m0,size=64M"
                        " -object memory-backend-ram,id=m1,size=64M"
                        " -numa node,nodeid=0,memdev=m0,cpus=%d"
                        " -numa node,nodeid=1,memdev=m1,cpus=%d",
                        boot_node, !boot_node);

    return snc_boot(accel, machine, extra ? extra : SNC_TEST_PROPS,
                    X86_TEST_MEM_END - PAGE);
}

/*
 * The destination of a migration from snc_init(..., 0, NULL): the same
 * machine, with -incoming @incoming.  Not attached: map the BARs with
 * snc_attach() once the state is loaded.
 */
static SNC *snc_dest_props(const char *accel, const char *props,
                           const char *incoming)
{
    SNC *s = g_new0(SNC, 1);

    s->boot = boot_file();
    g_assert(g_file_open_tmp("snc-test-log-XXXXXX", &s->log, NULL) >= 0);
    s->qts = qtest_initf("-M pc -accel %s -m 128M -smp 2 -nodefaults"
                         " -object memory-backend-ram,id=m0,size=64M"
                         " -object memory-backend-ram,id=m1,size=64M"
                         " -numa node,nodeid=0,memdev=m0,cpus=0"
                         " -numa node,nodeid=1,memdev=m1,cpus=1"
                         " -device snc,id=snc0,addr=04.0%s"
                         " -drive file=%s,format=raw -serial none"
                         " -d guest_errors -D %s -incoming %s", accel,
                         props, s->boot, s->log, incoming);
    return s;
}

static SNC *snc_dest_on(const char *accel, const char *incoming)
{
    return snc_dest_props(accel, SNC_TEST_PROPS, incoming);
}

static SNC *snc_dest(const char *incoming)
{
    return snc_dest_on("tcg", incoming);
}

static void snc_free(SNC *s)
{
    g_free(s->dev);
    qpci_free_pc(s->bus);
    qtest_quit(s->qts);
    unlink(s->boot);
    unlink(s->log);
    g_free(s->boot);
    g_free(s->log);
    g_free(s);
}

static uint32_t rd32(SNC *s, uint64_t off)
{
    return qpci_io_readl(s->dev, s->regs, off);
}

static uint64_t rd64(SNC *s, uint64_t off)
{
    return qpci_io_readq(s->dev, s->regs, off);
}

static void wr32(SNC *s, uint64_t off, uint32_t val)
{
    qpci_io_writel(s->dev, s->regs, off, val);
}

static uint64_t counter(SNC *s, unsigned zone, unsigned node)
{
    return qpci_io_readq(s->dev, s->matrix, (zone * NODES + node) * 8);
}

static uint8_t home(SNC *s, unsigned zone)
{
    return qpci_io_readb(s->dev, s->matrix, ZONES * NODES * 8 + zone);
}

static uint64_t node_sum(SNC *s, unsigned node, unsigned first, unsigned end)
{
    uint64_t sum = 0;

    for (unsigned z = first; z < end; z++) {
        sum += counter(s, z, node);
    }
    return sum;
}

static void hmp_pause(SNC *s)
{
    qtest_qmp_assert_success(s->qts, "{'execute': 'stop'}");
}

/* Count for @ms milliseconds of guest time, then take a snapshot. */
static void count_for(SNC *s, unsigned mode, unsigned ms)
{
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_START | SNC_CONTROL_MODE(mode));
    g_assert_cmphex(rd32(s, SNC_REG_STATUS) & SNC_STATUS_RUNNING, ==,
                    SNC_STATUS_RUNNING);
    g_usleep(ms * 1000);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT | SNC_CONTROL_MODE(mode));
}

/* Assert that every zone in [first, end) counted from @node, or none. */
static void assert_zones(SNC *s, unsigned node, unsigned first, unsigned end,
                         bool counted)
{
    for (unsigned z = first; z < end; z++) {
        uint64_t v = counter(s, z, node);

        if (counted ? !v : v) {
            g_error("zone %u, node %u: count %" PRIu64 ", expected %s", z,
                    node, v, counted ? "some" : "none");
        }
    }
}

static uint64_t qdict_uint(QDict *d, const char *key)
{
    uint64_t v;

    g_assert(qnum_get_try_uint(qobject_to(QNum, qdict_get(d, key)), &v));
    return v;
}

static void assert_error(QDict *rsp, const char *needle)
{
    QDict *err = qdict_get_qdict(rsp, "error");
    const char *desc;

    g_assert(err);
    desc = qdict_get_str(err, "desc");
    if (!strstr(desc, needle)) {
        g_error("error '%s' does not mention '%s'", desc, needle);
    }
    qobject_unref(rsp);
}

static char *read_log(SNC *s)
{
    char *text;

    g_assert(g_file_get_contents(s->log, &text, NULL, NULL));
    return text;
}

/* Assert that the guest error log holds each of the @n @needles. */
static void assert_logged(SNC *s, const char *const *needles, unsigned n)
{
    g_autofree char *log = read_log(s);

    for (unsigned i = 0; i < n; i++) {
        if (!strstr(log, needles[i])) {
            g_error("no guest error logged for '%s'; log:\n%s", needles[i],
                    log);
        }
    }
}

/*
 * query-snc-counters, with @top if it is not 0: the list of devices,
 * which must hold @nr of them.  Returns a reference.
 */
static QList *query_counters(QTestState *qts, uint32_t top, unsigned nr)
{
    QDict *rsp = top ?
        qtest_qmp(qts, "{'execute': 'query-snc-counters',"
                  " 'arguments': {'top': %u}}", top) :
        qtest_qmp(qts, "{'execute': 'query-snc-counters'}");
    QList *list = qdict_get_qlist(rsp, "return");

    g_assert(list);
    g_assert_cmpuint(qlist_size(list), ==, nr);
    qobject_ref(list);
    qobject_unref(rsp);
    return list;
}

/* The counters of the machine's only SNC.  Returns a reference. */
static QDict *query_one(QTestState *qts, uint32_t top)
{
    QList *list = query_counters(qts, top, 1);
    QDict *dev = qobject_to(QDict, qlist_pop(list));

    qobject_unref(list);
    return dev;
}

/* Identification, geometry and home nodes. */
static void test_regs_identity(void)
{
    SNC *s = snc_init("tcg", 0, "");
    QDict *rsp;
    QList *homes;

    g_assert_cmphex(rd32(s, SNC_REG_ID), ==, 0x30434e53);
    g_assert_cmphex(rd32(s, SNC_REG_VERSION), ==, 0x00020000);
    g_assert_cmphex(rd32(s, SNC_REG_CAPS), ==, 3);
    g_assert_cmphex(qpci_config_readw(s->dev, PCI_VENDOR_ID), ==, 0x1234);
    g_assert_cmphex(qpci_config_readw(s->dev, PCI_DEVICE_ID), ==, 0x534e);
    g_assert_cmpuint(s->regs_size, ==, 4096);
    /* 2048 zones x 2 nodes x 8 bytes, then 2048 home-node bytes */
    g_assert_cmpuint(s->matrix_size, ==, 64 * KiB);
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_NR_ZONES), ==, ZONES);
    g_assert_cmpuint(rd32(s, SNC_REG_NR_NODES), ==, NODES);
    g_assert_cmpuint(rd32(s, SNC_REG_ZONE_SHIFT), ==, ZONE_SHIFT);
    g_assert_cmphex(rd64(s, SNC_REG_ZONE_BASE), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 1000);
    g_assert_cmpuint(rd32(s, SNC_REG_SAMPLE_US), ==, 100000);
    g_assert_cmpuint(rd64(s, SNC_REG_SEQ), ==, 0);

    g_assert_cmpuint(home(s, 0), ==, 0);
    g_assert_cmpuint(home(s, NODE1_FIRST - 1), ==, 0);
    g_assert_cmpuint(home(s, NODE1_FIRST), ==, 1);
    g_assert_cmpuint(home(s, ZONES - 1), ==, 1);

    rsp = query_one(s->qts, 1);
    g_assert(qdict_get_bool(rsp, "available"));
    g_assert(!qdict_get_bool(rsp, "running"));
    g_assert_cmpuint(qdict_uint(rsp, "zones"), ==, ZONES);
    g_assert_cmpuint(qdict_uint(rsp, "zone-size"), ==, 1 << ZONE_SHIFT);
    g_assert_cmpstr(qdict_get_str(rsp, "qom-path"), ==,
                    "/machine/peripheral/snc0");
    g_assert_cmpstr(qdict_get_str(rsp, "id"), ==, "snc0");
    homes = qdict_get_qlist(rsp, "home-nodes");
    g_assert_cmpuint(qlist_size(homes), ==, ZONES);
    for (unsigned z = 0; z < ZONES; z++) {
        QNum *n = qobject_to(QNum, qlist_pop(homes));
        int64_t h = qnum_get_int(n);

        g_assert_cmpint(h, ==, home(s, z) == 0xff ? -1 : home(s, z));
        qobject_unref(n);
    }
    qobject_unref(rsp);
    snc_free(s);
}

/* The zones property sets the geometry: twice the zones, half the size. */
static void test_regs_zones(void)
{
    SNC *s = snc_init("qtest", 0, ",zones=4096");
    const uint64_t homes = 4096 * NODES * 8;

    g_assert_cmpuint(rd32(s, SNC_REG_ZONE_SHIFT), ==, ZONE_SHIFT - 1);
    g_assert_cmpuint(s->matrix_size, ==, 128 * KiB);
    g_assert_cmpuint(rd32(s, SNC_REG_NR_ZONES), ==, 4096);
    g_assert_cmpuint(qpci_io_readb(s->dev, s->matrix,
                                   homes + 2 * NODE1_FIRST - 1), ==, 0);
    g_assert_cmpuint(qpci_io_readb(s->dev, s->matrix,
                                   homes + 2 * NODE1_FIRST), ==, 1);
    g_assert_cmpuint(qpci_io_readb(s->dev, s->matrix, homes + 4095), ==, 1);
    snc_free(s);
}

/*
 * Without TCG (here: the qtest accelerator), counting is unavailable:
 * the registers and QMP say so, and start is refused.
 */
static void test_regs_unavailable(void)
{
    SNC *s = snc_init("qtest", 0, NULL);
    g_autofree char *log = NULL;
    QDict *rsp;

    g_assert_cmphex(rd32(s, SNC_REG_CAPS), ==, 0);
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, SNC_STATUS_UNAVAILABLE);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_START);
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, SNC_STATUS_UNAVAILABLE);

    rsp = query_one(s->qts, 0);
    g_assert(!qdict_get_bool(rsp, "available"));
    g_assert(strstr(qdict_get_str(rsp, "unavailable-reason"), "TCG"));
    qobject_unref(rsp);
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-control',"
                           " 'arguments': {'action': 'start'}}"), "TCG");
    log = read_log(s);
    g_assert(strstr(log, "START while counting is unavailable"));
    snc_free(s);
}

/* Mode "all": the boot vCPU's node counts exactly the zones it uses. */
static void test_count_all(void)
{
    SNC *s = snc_init("tcg", 0, NULL);

    count_for(s, SNC_CONTROL_MODE_ALL, 300);
    g_assert_cmpuint(rd64(s, SNC_REG_SEQ), ==, 1);
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, RUN_SNAP);
    g_assert_cmpuint(rd64(s, SNC_REG_PERIOD_NS), >=, 300 * 1000 * 1000 / 2);
    assert_zones(s, 0, FIRST_HOT, END_HOT, true);
    assert_zones(s, 0, END_HOT, ZONES, false);
    /* vCPU 1 is halted in the firmware: node 1 touched nothing. */
    assert_zones(s, 1, 0, ZONES, false);
    snc_free(s);
}

/* Touches are attributed to the toucher's node, not the zone's. */
static void test_count_attribution(void)
{
    SNC *s = snc_init("tcg", 1, NULL);

    count_for(s, SNC_CONTROL_MODE_ALL, 300);
    assert_zones(s, 1, FIRST_HOT, END_HOT, true);
    assert_zones(s, 0, 0, ZONES, false);
    snc_free(s);
}

/* Mode "remote": only node 1's zones count node 0's touches. */
static void test_count_remote(void)
{
    SNC *s = snc_init("tcg", 0, NULL);

    count_for(s, SNC_CONTROL_MODE_REMOTE, 300);
    g_assert_cmphex(rd32(s, SNC_REG_CONTROL), ==, MODE(REMOTE));
    assert_zones(s, 0, 0, NODE1_FIRST, false);
    assert_zones(s, 0, NODE1_FIRST, END_HOT, true);
    assert_zones(s, 0, END_HOT, ZONES, false);
    snc_free(s);
}

/* The source-node filter. */
static void test_count_filter(void)
{
    SNC *s = snc_init("tcg", 0, NULL);

    wr32(s, SNC_REG_NODE_FILTER, 0x2);
    count_for(s, SNC_CONTROL_MODE_ALL, 200);
    g_assert_cmpuint(rd64(s, SNC_REG_TOTAL), ==, 0);
    assert_zones(s, 0, 0, ZONES, false);

    wr32(s, SNC_REG_NODE_FILTER, 0x1);
    count_for(s, SNC_CONTROL_MODE_ALL, 200);
    g_assert_cmpuint(rd64(s, SNC_REG_TOTAL), >, 0);
    assert_zones(s, 0, FIRST_HOT, END_HOT, true);
    snc_free(s);
}

/*
 * Mode "track-max" keeps each counter's highest period; mode "all"
 * resets.  With the guest paused, the second period counts nothing.
 */
static void test_count_track_max(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    g_autofree uint64_t *first = g_new(uint64_t, ZONES);
    uint64_t sum = 0;
    unsigned z;

    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_START | MODE(TRACK_MAX));
    g_usleep(300 * 1000);
    hmp_pause(s);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT | MODE(TRACK_MAX));
    for (z = 0; z < ZONES; z++) {
        first[z] = counter(s, z, 0);
        sum += first[z];
    }
    g_assert_cmpuint(sum, >, 0);

    /* An empty period keeps every maximum. */
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT | MODE(TRACK_MAX));
    g_assert_cmpuint(rd64(s, SNC_REG_SEQ), ==, 2);
    for (z = 0; z < ZONES; z++) {
        g_assert_cmpuint(counter(s, z, 0), ==, first[z]);
    }

    /* A short busy period never lowers one. */
    qtest_qmp_assert_success(s->qts, "{'execute': 'cont'}");
    g_usleep(30 * 1000);
    hmp_pause(s);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT | MODE(TRACK_MAX));
    for (z = 0; z < ZONES; z++) {
        g_assert_cmpuint(counter(s, z, 0), >=, first[z]);
    }

    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT | MODE(ALL));
    g_assert_cmpuint(node_sum(s, 0, 0, ZONES), ==, 0);
    snc_free(s);
}

/*
 * Snapshot-and-reset loses no touch and counts none twice: across many
 * snapshots taken while the guest runs, the snapshots add up to the
 * device's running total once the vCPUs are paused.
 */
static void test_snapshot_atomic(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    uint64_t sum = 0, seq;
    int i;

    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_START);
    for (i = 1; i <= 20; i++) {
        g_usleep(20 * 1000);
        wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT);
        seq = rd64(s, SNC_REG_SEQ);
        g_assert_cmpuint(seq, ==, i);
        sum += node_sum(s, 0, 0, ZONES) + node_sum(s, 1, 0, ZONES);
    }
    hmp_pause(s);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT);
    sum += node_sum(s, 0, 0, ZONES) + node_sum(s, 1, 0, ZONES);
    g_assert_cmpuint(sum, >, 0);
    g_assert_cmpuint(sum, ==, rd64(s, SNC_REG_TOTAL));
    /* Nothing is left over for another period. */
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT);
    g_assert_cmpuint(node_sum(s, 0, 0, ZONES), ==, 0);
    snc_free(s);
}

/*
 * Exact mode counts every data access.  The boot block's "incb" is a
 * load and a store per page per pass, so each 16-page zone it sweeps
 * counts 32 per pass: all hot zones end within one pass of each other.
 */
static void test_count_exact(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    uint64_t lo = UINT64_MAX, hi = 0, v;
    unsigned z;

    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_START | SNC_CONTROL_EXACT);
    g_assert_cmphex(rd32(s, SNC_REG_CONTROL), ==, SNC_CONTROL_EXACT);
    g_usleep(300 * 1000);
    hmp_pause(s);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT | SNC_CONTROL_EXACT);
    for (z = FIRST_HOT; z < END_HOT; z++) {
        v = counter(s, z, 0);
        lo = MIN(lo, v);
        hi = MAX(hi, v);
    }
    g_test_message("exact counts per hot zone: %" PRIu64 " to %" PRIu64,
                   lo, hi);
    g_assert_cmpuint(lo, >=, 32);
    g_assert_cmpuint(hi - lo, <=, 32);
    assert_zones(s, 0, END_HOT, ZONES, false);
    snc_free(s);
}

/* The address/data pair: HOT_DATA reads walk the counters. */
static void test_hot_data(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    unsigned first = FIRST_HOT * NODES, last = ZONES * NODES - 1;
    uint64_t v;
    int i;

    count_for(s, SNC_CONTROL_MODE_ALL, 200);
    hmp_pause(s);
    wr32(s, SNC_REG_HOT_ADDR, first);
    for (i = 0; i < 6; i++) {
        v = rd64(s, SNC_REG_HOT_DATA);
        g_assert_cmpuint(v, ==, counter(s, (first + i) / NODES,
                                        (first + i) % NODES));
    }
    g_assert_cmpuint(rd32(s, SNC_REG_HOT_ADDR), ==, first + 6);

    /* 4-byte halves: the low half does not advance, the high half does. */
    wr32(s, SNC_REG_HOT_ADDR, first);
    v = rd32(s, SNC_REG_HOT_DATA);
    g_assert_cmpuint(rd32(s, SNC_REG_HOT_ADDR), ==, first);
    v |= (uint64_t)rd32(s, SNC_REG_HOT_DATA + 4) << 32;
    g_assert_cmpuint(v, ==, counter(s, FIRST_HOT, 0));
    g_assert_cmpuint(v, >, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_HOT_ADDR), ==, first + 1);

    /* The address wraps after the last counter. */
    wr32(s, SNC_REG_HOT_ADDR, last);
    rd64(s, SNC_REG_HOT_DATA);
    g_assert_cmpuint(rd32(s, SNC_REG_HOT_ADDR), ==, 0);
    snc_free(s);
}

/* Period timer, interrupt status and the rate-limited event. */
static void test_period_event(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    QDict *ev, *data;
    uint64_t seq;

    wr32(s, SNC_REG_INTR_ENABLE, 1);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'period-ms': 100}}");
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 100);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'action': 'start'}}");
    ev = qtest_qmp_eventwait_ref(s->qts, "SNC_PERIOD_END");
    data = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(data, "qom-path"), ==,
                    "/machine/peripheral/snc0");
    g_assert_cmpuint(qdict_uint(data, "sequence"), ==, 1);
    g_assert_cmpuint(qdict_uint(data, "total"), >, 0);
    qobject_unref(ev);
    g_assert_cmphex(rd32(s, SNC_REG_INTR_STATUS), ==, 1);
    wr32(s, SNC_REG_INTR_STATUS, 1);
    g_assert_cmphex(rd32(s, SNC_REG_INTR_STATUS) & ~1, ==, 0);

    /* Ten periods a second, one event a second: the next one says so. */
    ev = qtest_qmp_eventwait_ref(s->qts, "SNC_PERIOD_END");
    data = qdict_get_qdict(ev, "data");
    seq = qdict_uint(data, "sequence");
    g_assert_cmpuint(seq, >, 2);
    g_assert_cmpuint(qdict_uint(data, "missed"), ==, seq - 2);
    qobject_unref(ev);
    snc_free(s);
}

/* QMP agrees with the BAR, and snc-configure shows in the registers. */
static void test_qmp_query(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    QDict *rsp, *node, *zc;
    QList *nodes, *top, *counts;
    uint64_t prev = UINT64_MAX;
    QListEntry *e;
    unsigned z;

    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'mode': 'remote',"
                             " 'exact': true,"
                             " 'source-nodes': [0], 'period-ms': 0,"
                             " 'sample-interval-us': 2000}}");
    g_assert_cmphex(rd32(s, SNC_REG_CONTROL), ==,
                    MODE(REMOTE) | SNC_CONTROL_EXACT);
    g_assert_cmphex(rd32(s, SNC_REG_NODE_FILTER), ==, 1);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_SAMPLE_US), ==, 2000);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'mode': 'all',"
                             " 'exact': false, 'source-nodes': []}}");
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'action': 'start'}}");
    g_usleep(300 * 1000);
    hmp_pause(s);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'action': 'snapshot'}}");

    rsp = query_one(s->qts, 5);
    g_assert_cmpuint(qdict_uint(rsp, "sequence"), ==, rd64(s, SNC_REG_SEQ));
    g_assert_cmpuint(qdict_uint(rsp, "total"), ==, rd64(s, SNC_REG_TOTAL));
    nodes = qdict_get_qlist(rsp, "nodes");
    node = qobject_to(QDict, qlist_peek(nodes));
    g_assert_cmpuint(qdict_uint(node, "node"), ==, 0);
    g_assert_cmpuint(qdict_uint(node, "total"), ==,
                     node_sum(s, 0, 0, ZONES));
    top = qdict_get_qlist(node, "top");
    g_assert_cmpuint(qlist_size(top), ==, 5);
    QLIST_FOREACH_ENTRY(top, e) {
        zc = qobject_to(QDict, qlist_entry_obj(e));
        z = qdict_uint(zc, "zone");
        g_assert_cmpuint(qdict_uint(zc, "count"), ==, counter(s, z, 0));
        g_assert_cmpuint(qdict_uint(zc, "count"), <=, prev);
        g_assert_cmphex(qdict_uint(zc, "addr"), ==, (uint64_t)z << ZONE_SHIFT);
        prev = qdict_uint(zc, "count");
    }
    qobject_unref(rsp);

    /* A @top above the touched zones lists every touched zone. */
    rsp = query_one(s->qts, 65536);
    nodes = qdict_get_qlist(rsp, "nodes");
    node = qobject_to(QDict, qlist_peek(nodes));
    top = qdict_get_qlist(node, "top");
    for (z = 0, prev = 0; z < ZONES; z++) {
        prev += !!counter(s, z, 0);
    }
    g_assert_cmpuint(qlist_size(top), ==, prev);
    qobject_unref(rsp);

    rsp = query_one(s->qts, 0);
    nodes = qdict_get_qlist(rsp, "nodes");
    g_assert_cmpuint(qlist_size(nodes), ==, NODES);
    node = qobject_to(QDict, qlist_peek(nodes));
    counts = qdict_get_qlist(node, "counts");
    g_assert_cmpuint(qlist_size(counts), ==, ZONES);
    for (z = 0; z < ZONES; z++) {
        QNum *n = qobject_to(QNum, qlist_pop(counts));
        uint64_t v;

        g_assert(qnum_get_try_uint(n, &v));
        g_assert_cmpuint(v, ==, counter(s, z, 0));
        qobject_unref(n);
    }
    qobject_unref(rsp);
    snc_free(s);
}

/* Every QMP error names what was wrong, and changes nothing. */
static void test_qmp_errors(void)
{
    SNC *s = snc_init("tcg", 0, NULL);

    assert_error(qtest_qmp(s->qts, "{'execute': 'query-snc-counters',"
                           " 'arguments': {'top': 0}}"), "'top'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'query-snc-counters',"
                           " 'arguments': {'top': 65537}}"), "'top'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-configure',"
                           " 'arguments': {'device': 'snc1',"
                           " 'mode': 'remote'}}"), "'device' 'snc1'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-control',"
                           " 'arguments': {'device': '/machine',"
                           " 'action': 'start'}}"), "'device' '/machine'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-configure',"
                           " 'arguments': {'mode': 'remote',"
                           " 'source-nodes': [0, 2]}}"), "'source-nodes'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-configure',"
                           " 'arguments': {'mode': 'remote',"
                           " 'period-ms': 2400001}}"), "'period-ms'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-configure',"
                           " 'arguments': {'mode': 'remote',"
                           " 'sample-interval-us': 99}}"),
                 "'sample-interval-us'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-configure',"
                           " 'arguments': {'mode': 'hottest'}}"), "mode");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-control',"
                           " 'arguments': {'action': 'reboot'}}"), "action");
    /* The failed commands changed nothing. */
    g_assert_cmphex(rd32(s, SNC_REG_CONTROL), ==, MODE(ALL));
    g_assert_cmphex(rd32(s, SNC_REG_NODE_FILTER), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_SAMPLE_US), ==, 1000);
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, 0);
    snc_free(s);
}

/* 'device' names the SNC by ID or by QOM path. */
static void test_qmp_device_arg(void)
{
    SNC *s = snc_init("tcg", 0, NULL);

    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'device': 'snc0',"
                             " 'sample-interval-us': 3000}}");
    g_assert_cmpuint(rd32(s, SNC_REG_SAMPLE_US), ==, 3000);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'device':"
                             " '/machine/peripheral/snc0',"
                             " 'action': 'start'}}");
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, SNC_STATUS_RUNNING);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'device': 'snc0',"
                             " 'action': 'stop'}}");
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, 0);
    snc_free(s);
}

/*
 * Without the device, the query answers an empty list, on a pc machine
 * and under -machine none; the commands that act on a device fail and
 * say how to add one.
 */
static void test_qmp_no_device(void)
{
    static const char *const machines[] = { "-M pc -nodefaults",
                                            "-machine none" };

    for (unsigned i = 0; i < ARRAY_SIZE(machines); i++) {
        QTestState *qts = qtest_init(machines[i]);

        qobject_unref(query_counters(qts, 0, 0));
        qobject_unref(query_counters(qts, 8, 0));
        assert_error(qtest_qmp(qts, "{'execute': 'query-snc-counters',"
                               " 'arguments': {'top': 0}}"), "'top'");
        assert_error(qtest_qmp(qts, "{'execute': 'snc-control',"
                               " 'arguments': {'action': 'start'}}"),
                     "-device snc");
        assert_error(qtest_qmp(qts, "{'execute': 'snc-configure'}"),
                     "-device snc");
        assert_error(qtest_qmp(qts, "{'execute': 'snc-configure',"
                               " 'arguments': {'device': 'snc0'}}"),
                     "'device' 'snc0'");
        qtest_quit(qts);
    }
}

/* Device creation errors: QEMU refuses to start and says why. */
static void assert_refused(const char *args, const char *needle)
{
    g_autofree char *cmd = g_strdup_printf("%s -M pc -nodefaults -S"
                                           " -display none %s",
                                           getenv("QTEST_QEMU_BINARY"), args);
    g_autofree char *out = NULL, *err = NULL;
    int status;

    g_assert(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
    g_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    if (!strstr(err, needle)) {
        g_error("'%s' failed with '%s', which does not mention '%s'", args,
                err, needle);
    }
}

static void test_device_errors(void)
{
    assert_refused("-device snc -device snc", "at most one snc");
    assert_refused("-device snc,zones=1000", "'zones'");
    assert_refused("-device snc,zones=131072", "'zones'");
    assert_refused("-device snc,period-ms=2400001", "'period-ms'");
    assert_refused("-device snc,sample-interval-us=10",
                   "'sample-interval-us'");
}

/* Every class of bad guest access is logged and ignored. */
static void test_bad_access(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    uint64_t matrix0;
    static const char *const logged[] = {
        "bad register read", "bad register write size or alignment",
        "reserved CONTROL value", "PERIOD_MS above", "NODE_FILTER names",
        "SAMPLE_US out of range", "reserved INTR_ENABLE",
        "HOT_ADDR beyond", "read-only or reserved register",
        "read-only counter matrix", "bad counter matrix read",
    };

    count_for(s, SNC_CONTROL_MODE_ALL, 100);
    hmp_pause(s);
    matrix0 = counter(s, FIRST_HOT, 0);

    /* Reads of holes, wrong sizes, unaligned reads: 0. */
    g_assert_cmphex(rd32(s, 0x01c), ==, 0);
    g_assert_cmphex(rd32(s, SNC_REG_RESERVED), ==, 0);
    g_assert_cmphex(rd32(s, 0xffc), ==, 0);
    g_assert_cmphex(rd64(s, SNC_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readb(s->dev, s->regs, SNC_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readw(s->dev, s->regs, SNC_REG_ID + 1), ==, 0);
    g_assert_cmphex(rd32(s, SNC_REG_ID + 2), ==, 0);

    /* Writes that must change nothing. */
    wr32(s, SNC_REG_ID, 0xdeadbeef);
    wr32(s, SNC_REG_NR_ZONES, 4);
    wr32(s, SNC_REG_SEQ, 7);
    qpci_io_writeb(s->dev, s->regs, SNC_REG_CONTROL, SNC_CONTROL_START);
    qpci_io_writeq(s->dev, s->regs, SNC_REG_CONTROL, SNC_CONTROL_START);
    wr32(s, SNC_REG_CONTROL + 2, SNC_CONTROL_START);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_START | SNC_CONTROL_STOP);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_MODE(3));
    wr32(s, SNC_REG_CONTROL, 0x200 | SNC_CONTROL_START);
    wr32(s, SNC_REG_PERIOD_MS, 2400001);
    wr32(s, SNC_REG_NODE_FILTER, 0x4);
    wr32(s, SNC_REG_SAMPLE_US, 5);
    wr32(s, SNC_REG_SAMPLE_US, 2000000);
    wr32(s, SNC_REG_INTR_ENABLE, 0x4);
    wr32(s, SNC_REG_HOT_ADDR, ZONES * NODES);
    wr32(s, 0x900, 1);
    qpci_io_writeq(s->dev, s->matrix, 0, 0);
    qpci_io_writel(s->dev, s->matrix, FIRST_HOT * NODES * 8, 0);
    g_assert_cmphex(qpci_io_readl(s->dev, s->matrix, 2), ==, 0);
    g_assert_cmphex(qpci_io_readl(s->dev, s->matrix, 0xfffc), ==, 0);

    g_assert_cmphex(rd32(s, SNC_REG_ID), ==, 0x30434e53);
    g_assert_cmpuint(rd32(s, SNC_REG_NR_ZONES), ==, ZONES);
    g_assert_cmpuint(rd64(s, SNC_REG_SEQ), ==, 1);
    g_assert_cmphex(rd32(s, SNC_REG_CONTROL), ==, MODE(ALL));
    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, RUN_SNAP);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 0);
    g_assert_cmphex(rd32(s, SNC_REG_NODE_FILTER), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_SAMPLE_US), ==, 1000);
    g_assert_cmphex(rd32(s, SNC_REG_INTR_ENABLE), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_HOT_ADDR), ==, 0);
    g_assert_cmpuint(counter(s, FIRST_HOT, 0), ==, matrix0);

    /* QEMU is alive and said what it ignored. */
    qtest_qmp_assert_success(s->qts, "{'execute': 'query-status'}");
    assert_logged(s, logged, ARRAY_SIZE(logged));
    snc_free(s);
}

/* Wait until query-migrate says @want; it must never say @never. */
static void wait_migrate_status(QTestState *qts, const char *want,
                                const char *never)
{
    QDict *rsp;
    const char *status;

    do {
        g_usleep(20000);
        rsp = qtest_qmp_assert_success_ref(qts,
                                           "{'execute': 'query-migrate'}");
        status = qdict_get_try_str(rsp, "status");
        g_assert(g_strcmp0(status, never));
        if (!g_strcmp0(status, want)) {
            qobject_unref(rsp);
            break;
        }
        qobject_unref(rsp);
    } while (true);
}

static void migrate_to_file(QTestState *qts, const char *uri)
{
    qtest_qmp_assert_success(qts, "{'execute': 'migrate',"
                             " 'arguments': {'uri': %s}}", uri);
    wait_migrate_status(qts, "completed", "failed");
}

/* Wait until an incoming migration has been loaded. */
static void wait_incoming(QTestState *qts)
{
    QDict *rsp;
    bool done;

    do {
        g_usleep(20000);
        rsp = qtest_qmp_assert_success_ref(qts,
                                           "{'execute': 'query-status'}");
        done = strcmp(qdict_get_str(rsp, "status"), "inmigrate");
        qobject_unref(rsp);
    } while (!done);
}

/* Registers and counters survive a save and restore; counting goes on. */
static void test_save_restore(void)
{
    static const unsigned regs[] = {
        SNC_REG_CONTROL, SNC_REG_PERIOD_MS, SNC_REG_NODE_FILTER,
        SNC_REG_SAMPLE_US, SNC_REG_INTR_STATUS, SNC_REG_INTR_ENABLE,
        SNC_REG_HOT_ADDR, SNC_REG_STATUS,
    };
    static const unsigned regs64[] = {
        SNC_REG_SEQ, SNC_REG_PERIOD_NS, SNC_REG_TOTAL,
    };
    SNC *src = snc_init("tcg", 0, NULL), *dst;
    g_autofree char *path = NULL, *uri = NULL;
    g_autofree uint64_t *matrix = g_new(uint64_t, ZONES * NODES);
    uint32_t vals[ARRAY_SIZE(regs)];
    uint64_t vals64[ARRAY_SIZE(regs64)];
    int fd;
    unsigned i;

    fd = g_file_open_tmp("snc-test-state-XXXXXX", &path, NULL);
    g_assert(fd >= 0);
    close(fd);
    uri = g_strdup_printf("file:%s", path);

    qtest_qmp_assert_success(src->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'mode': 'track-max',"
                             " 'source-nodes': [0], 'period-ms': 60000,"
                             " 'sample-interval-us': 700}}");
    count_for(src, SNC_CONTROL_MODE_TRACK_MAX, 200);
    wr32(src, SNC_REG_INTR_ENABLE, 1);
    wr32(src, SNC_REG_HOT_ADDR, 77);
    hmp_pause(src);
    for (i = 0; i < ARRAY_SIZE(regs); i++) {
        vals[i] = rd32(src, regs[i]);
    }
    for (i = 0; i < ARRAY_SIZE(regs64); i++) {
        vals64[i] = rd64(src, regs64[i]);
    }
    for (i = 0; i < ZONES * NODES; i++) {
        matrix[i] = counter(src, i / NODES, i % NODES);
    }
    g_assert_cmpuint(vals64[2], >, 0);
    migrate_to_file(src->qts, uri);

    dst = snc_dest(uri);
    wait_incoming(dst->qts);
    snc_attach(dst);
    hmp_pause(dst);

    for (i = 0; i < ARRAY_SIZE(regs); i++) {
        g_assert_cmphex(rd32(dst, regs[i]), ==, vals[i]);
    }
    for (i = 0; i < ARRAY_SIZE(regs64); i++) {
        g_assert_cmphex(rd64(dst, regs64[i]), ==, vals64[i]);
    }
    for (i = 0; i < ZONES * NODES; i++) {
        g_assert_cmpuint(counter(dst, i / NODES, i % NODES), ==, matrix[i]);
    }

    /* The restored device still counts the restored guest's touches. */
    qtest_qmp_assert_success(dst->qts, "{'execute': 'cont'}");
    g_usleep(200 * 1000);
    g_assert_cmpuint(rd64(dst, SNC_REG_TOTAL), >, vals64[2]);

    snc_free(dst);
    snc_free(src);
    unlink(path);
}

/*
 * A system reset stops counting and clears the interrupt state and
 * HOT_ADDR; the configuration and the last snapshot survive it.  The
 * guest is paused, so the firmware does not run again: the test maps
 * the BARs itself after the reset.
 */
static void test_system_reset(void)
{
    SNC *s = snc_init("tcg", 0, NULL);
    uint64_t seq, matrix0;

    wr32(s, SNC_REG_INTR_ENABLE, SNC_INTR_PERIOD_END);
    wr32(s, SNC_REG_HOT_ADDR, 5);
    count_for(s, SNC_CONTROL_MODE_REMOTE, 100);
    hmp_pause(s);
    seq = rd64(s, SNC_REG_SEQ);
    matrix0 = counter(s, NODE1_FIRST, 0);
    g_assert_cmpuint(matrix0, >, 0);
    g_assert_cmphex(rd32(s, SNC_REG_INTR_STATUS), ==, SNC_INTR_PERIOD_END);

    qtest_qmp_assert_success(s->qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(s->qts, "RESET");
    g_free(s->dev);
    qpci_free_pc(s->bus);
    snc_attach(s);

    g_assert_cmphex(rd32(s, SNC_REG_STATUS), ==, SNC_STATUS_SNAPSHOT);
    g_assert_cmphex(rd32(s, SNC_REG_INTR_STATUS), ==, 0);
    g_assert_cmphex(rd32(s, SNC_REG_INTR_ENABLE), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_HOT_ADDR), ==, 0);
    g_assert_cmphex(rd32(s, SNC_REG_CONTROL), ==, MODE(REMOTE));
    g_assert_cmpuint(rd32(s, SNC_REG_SAMPLE_US), ==, 1000);
    g_assert_cmpuint(rd64(s, SNC_REG_SEQ), ==, seq);
    g_assert_cmpuint(counter(s, NODE1_FIRST, 0), ==, matrix0);

    /* The reset released the TLB observer: counting starts again. */
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'action': 'start'}}");
    g_assert_cmphex(rd32(s, SNC_REG_STATUS) & SNC_STATUS_RUNNING, ==,
                    SNC_STATUS_RUNNING);
    snc_free(s);
}

/* Save @src's state to a new file; returns its "file:" URI. */
static char *save_state(SNC *src, char **path)
{
    int fd = g_file_open_tmp("snc-test-state-XXXXXX", path, NULL);
    char *uri;

    g_assert(fd >= 0);
    close(fd);
    uri = g_strdup_printf("file:%s", *path);
    migrate_to_file(src->qts, uri);
    return uri;
}

/*
 * A running device keeps ending periods after a restore: the period
 * timer and the PERIOD_END interrupt status survive the load.
 */
static void test_restore_period_timer(void)
{
    SNC *src = snc_init("tcg", 0, NULL), *dst;
    g_autofree char *path = NULL, *uri = NULL;
    uint64_t seq;
    int i;

    wr32(src, SNC_REG_INTR_ENABLE, SNC_INTR_PERIOD_END);
    wr32(src, SNC_REG_PERIOD_MS, 50);
    wr32(src, SNC_REG_CONTROL, SNC_CONTROL_START);
    g_usleep(200 * 1000);
    hmp_pause(src);
    seq = rd64(src, SNC_REG_SEQ);
    g_assert_cmpuint(seq, >, 0);
    uri = save_state(src, &path);

    dst = snc_dest(uri);
    wait_incoming(dst->qts);
    snc_attach(dst);
    hmp_pause(dst);
    g_assert_cmphex(rd32(dst, SNC_REG_STATUS), ==, RUN_SNAP);
    wr32(dst, SNC_REG_INTR_STATUS, SNC_INTR_PERIOD_END);
    g_assert_cmphex(rd32(dst, SNC_REG_INTR_STATUS), ==, 0);
    qtest_qmp_assert_success(dst->qts, "{'execute': 'cont'}");

    /* Periods of 50 ms of guest time: several end within 10 s. */
    for (i = 0; i < 1000 && rd64(dst, SNC_REG_SEQ) < seq + 3; i++) {
        g_usleep(10000);
    }
    g_assert_cmpuint(rd64(dst, SNC_REG_SEQ), >=, seq + 3);
    g_assert_cmphex(rd32(dst, SNC_REG_INTR_STATUS), ==, SNC_INTR_PERIOD_END);

    snc_free(dst);
    snc_free(src);
    unlink(path);
}

/*
 * A stream from a device with another geometry does not load: the
 * destination's device has half the zones.  The load fails, QEMU keeps
 * running and answers QMP, and its device keeps its own geometry.
 */
static void test_geometry_mismatch(void)
{
    SNC *src = snc_init("qtest", 0, NULL), *dst;
    g_autofree char *path = NULL, *uri = NULL;
    QDict *rsp;

    uri = save_state(src, &path);
    dst = snc_dest_props("qtest", SNC_TEST_PROPS ",zones=1024", "defer");
    qtest_qmp_assert_success(dst->qts, "{'execute': 'migrate-incoming',"
                             " 'arguments': {'uri': %s,"
                             " 'exit-on-error': false}}", uri);
    wait_migrate_status(dst->qts, "failed", "completed");

    rsp = query_one(dst->qts, 1);
    g_assert_cmpuint(qdict_uint(rsp, "zones"), ==, 1024);
    qobject_unref(rsp);
    snc_free(dst);
    snc_free(src);
    unlink(path);
}

/*
 * Loading a stream in which the device was stopped stops a device that
 * was started on the destination before the load: its TLB-fill observer
 * is released, so it can be started again, and counts.
 */
static void test_load_stops_running(void)
{
    SNC *src = snc_init("tcg", 0, NULL), *dst;
    g_autofree char *path = NULL, *uri = NULL;

    count_for(src, SNC_CONTROL_MODE_ALL, 100);
    wr32(src, SNC_REG_CONTROL, SNC_CONTROL_STOP);
    hmp_pause(src);
    uri = save_state(src, &path);

    dst = snc_dest("defer");
    qtest_qmp_assert_success(dst->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'action': 'start'}}");
    qtest_qmp_assert_success(dst->qts, "{'execute': 'migrate-incoming',"
                             " 'arguments': {'uri': %s}}", uri);
    wait_incoming(dst->qts);
    snc_attach(dst);
    g_assert_cmphex(rd32(dst, SNC_REG_STATUS), ==, SNC_STATUS_SNAPSHOT);

    qtest_qmp_assert_success(dst->qts, "{'execute': 'snc-control',"
                             " 'arguments': {'action': 'start'}}");
    g_assert_cmphex(rd32(dst, SNC_REG_STATUS) & SNC_STATUS_RUNNING, ==,
                    SNC_STATUS_RUNNING);
    /* The source was paused, so is the destination. */
    qtest_qmp_assert_success(dst->qts, "{'execute': 'cont'}");
    g_usleep(200 * 1000);
    g_assert_cmpuint(rd64(dst, SNC_REG_TOTAL), >, 0);

    snc_free(dst);
    snc_free(src);
    unlink(path);
}

/*
 * A nonzero period must be at least SNC_MIN_PERIOD_MS(counters): 32 ms
 * for 65536 zones and 2 nodes.  A guest write below it is logged and
 * ignored; QMP and the property refuse it and name 'period-ms'.
 */
static void test_min_period(void)
{
    SNC *s = snc_init("qtest", 0, ",zones=65536,period-ms=0");
    unsigned min = SNC_MIN_PERIOD_MS(65536 * NODES);
    g_autofree char *log = NULL;

    g_assert_cmpuint(min, ==, 32);
    wr32(s, SNC_REG_PERIOD_MS, 1);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 0);
    wr32(s, SNC_REG_PERIOD_MS, min - 1);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 0);
    wr32(s, SNC_REG_PERIOD_MS, min);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, min);
    wr32(s, SNC_REG_PERIOD_MS, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 0);
    log = read_log(s);
    g_assert(strstr(log, "PERIOD_MS below the minimum"));

    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-configure',"
                           " 'arguments': {'period-ms': 31}}"),
                 "'period-ms' 31 is below the minimum of 32");
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 0);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'period-ms': 32}}");
    g_assert_cmpuint(rd32(s, SNC_REG_PERIOD_MS), ==, 32);
    snc_free(s);

    assert_refused("-device snc,zones=65536,period-ms=1", "'period-ms' 1");
}

/*
 * Only node RAM counts.  Guest RAM ends at 85 MiB; with 64 zones a zone
 * is 2 MiB.  The device's own 4 MiB option ROM, mapped at 84 MiB, shows
 * where RAM does not hide it: at 85-88 MiB, in zone 42 after 1 MiB of
 * RAM and as all of zone 43.  The boot block reads (and tries to write)
 * every page to 100 MiB, the ROM's pages included.  Zone 43 has no
 * home node and must count nothing; zone 42 must count only its RAM
 * half, about half of what the all-RAM zone 41 counts.
 */
static void test_rom_never_counts(void)
{
    g_autofree char *rom = NULL, *props = NULL;
    g_autofree uint8_t *zeros = g_malloc0(4 * MiB);
    uint64_t z41, z42;
    SNC *s;

    g_assert(g_file_open_tmp("snc-test-rom-XXXXXX", &rom, NULL) >= 0);
    g_assert(g_file_set_contents(rom, (char *)zeros, 4 * MiB, NULL));
    props = g_strdup_printf(",zones=64,period-ms=0,sample-interval-us=1000"
                            ",romfile=%s", rom);
    s = snc_boot("tcg", "-m 85M", props, 85 * MiB - PAGE);
    g_assert_cmpuint(rd32(s, SNC_REG_ZONE_SHIFT), ==, 21);
    qpci_config_writel(s->dev, PCI_ROM_ADDRESS,
                       84 * MiB | PCI_ROM_ADDRESS_ENABLE);

    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_START);
    g_assert_cmpuint(qpci_io_readb(s->dev, s->matrix, 64 * 8 + 41), ==, 0);
    g_assert_cmpuint(qpci_io_readb(s->dev, s->matrix, 64 * 8 + 42), ==, 0);
    g_assert_cmphex(qpci_io_readb(s->dev, s->matrix, 64 * 8 + 43), ==,
                    SNC_NO_NODE);
    g_usleep(500 * 1000);
    hmp_pause(s);
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT);

    z41 = qpci_io_readq(s->dev, s->matrix, 41 * 8);
    z42 = qpci_io_readq(s->dev, s->matrix, 42 * 8);
    g_test_message("zone 41 (RAM) %" PRIu64 ", zone 42 (half RAM, half"
                   " ROM) %" PRIu64, z41, z42);
    g_assert_cmpuint(z41, >, 0);
    g_assert_cmpuint(z42, >, 0);
    g_assert_cmpuint(z42 * 4, <, z41 * 3);
    g_assert_cmpuint(qpci_io_readq(s->dev, s->matrix, 43 * 8), ==, 0);
    snc_free(s);
    unlink(rom);
}

/* The request mailbox, with the qtest accelerator playing the guest */

#define MB_ADDR         (64 * MiB)      /* node 1's first page */
#define MB_EVENT        "SNC_GUEST_MIGRATE_COMPLETED"

/* Counts of a completion, in CMPL_MOVED .. CMPL_RANGE order */
typedef struct MbCounts {
    uint32_t c[7];
} MbCounts;

static const char *const mb_count_keys[7] = {
    "moved", "already-on-node", "failed-busy", "failed-shared",
    "failed-pinned", "failed-no-memory", "failed-bad-range",
};

/*
 * A 2-node machine under the qtest accelerator with the host in
 * cooperative mode; with @serving, the "driver" has announced itself.
 */
static SNC *mb_init(bool serving)
{
    SNC *s = snc_init("qtest", 0, NULL);

    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'host-mode': 'cooperative'}}");
    if (serving) {
        wr32(s, SNC_REG_GUEST_SERVING, SNC_GUEST_SERVING_ON);
    }
    return s;
}

static uint32_t slot_rd32(SNC *s, unsigned slot, unsigned field)
{
    return rd32(s, SNC_REG_REQ_RING + slot * SNC_REQ_STRIDE + field);
}

static uint64_t slot_rd64(SNC *s, unsigned slot, unsigned field)
{
    return rd64(s, SNC_REG_REQ_RING + slot * SNC_REQ_STRIDE + field);
}

/* Post a hint of @pages pages at MB_ADDR; returns its ID. */
static uint32_t mb_hint(SNC *s, unsigned pages)
{
    QDict *rsp = qtest_qmp(s->qts, "{'execute': 'snc-guest-hint',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': %u, 'node': 1}}", (uint64_t)MB_ADDR,
                           pages * PAGE);
    QDict *ret = qdict_get_qdict(rsp, "return");
    uint32_t id;

    g_assert(ret);
    id = qdict_uint(ret, "id");
    qobject_unref(rsp);
    return id;
}

/* Stage a completion of @id and ring the COMPLETE doorbell. */
static void mb_complete(SNC *s, uint32_t id, int32_t status,
                        const MbCounts *n)
{
    wr32(s, SNC_REG_CMPL_ID, id);
    wr32(s, SNC_REG_CMPL_STATUS, (uint32_t)status);
    for (unsigned i = 0; i < 7; i++) {
        wr32(s, SNC_REG_CMPL_MOVED + i * 4, n ? n->c[i] : 0);
    }
    wr32(s, SNC_REG_COMPLETE, SNC_COMPLETE_DOORBELL);
}

/* Assert a completion's outcome, status and counts. */
static void mb_assert_completion(QDict *c, uint32_t id, const char *outcome,
                                 int32_t status, const MbCounts *n)
{
    g_assert_cmpuint(qdict_uint(c, "id"), ==, id);
    g_assert_cmpstr(qdict_get_str(c, "outcome"), ==, outcome);
    g_assert_cmpint(qdict_get_int(c, "status"), ==, status);
    for (unsigned i = 0; i < 7; i++) {
        g_assert_cmpuint(qdict_uint(c, mb_count_keys[i]), ==,
                         n ? n->c[i] : 0);
    }
}

/* Wait for the completion event of @id and check it. */
static void mb_assert_event(SNC *s, uint32_t id, const char *outcome,
                            int32_t status, const MbCounts *n)
{
    QDict *ev = qtest_qmp_eventwait_ref(s->qts, MB_EVENT);

    mb_assert_completion(qdict_get_qdict(ev, "data"), id, outcome, status,
                         n);
    qobject_unref(ev);
}

/* No completion event is queued. */
static void mb_assert_no_event(SNC *s)
{
    QDict *ev;

    /* A query flushes QEMU's output; an event would come before it. */
    qtest_qmp_assert_success(s->qts, "{'execute': 'query-status'}");
    ev = qtest_qmp_event_ref(s->qts, MB_EVENT);
    g_assert(!ev);
}

/* The mailbox member of query-snc-counters.  Returns a reference. */
static QDict *mb_query(SNC *s)
{
    QDict *dev = query_one(s->qts, 1);
    QDict *mb = qdict_get_qdict(dev, "mailbox");

    qobject_ref(mb);
    qobject_unref(dev);
    return mb;
}

/* Wait until REQ_PROD reaches @prod: a command posts asynchronously. */
static void mb_wait_prod(SNC *s, uint32_t prod)
{
    for (int i = 0; i < 500 && rd32(s, SNC_REG_REQ_PROD) != prod; i++) {
        g_usleep(10000);
    }
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, prod);
}

static void mb_send_migrate(SNC *s, unsigned pages, uint32_t timeout_ms)
{
    qtest_qmp_send(s->qts, "{'execute': 'snc-guest-migrate',"
                   " 'arguments': {'addr': %" PRIu64 ", 'size': %u,"
                   " 'node': 1, 'timeout-ms': %u}}", (uint64_t)MB_ADDR,
                   pages * PAGE, timeout_ms);
}

/* The mailbox registers of version 2 and their reset values. */
static void test_mbox_regs(void)
{
    SNC *s = mb_init(false);

    g_assert_cmphex(rd32(s, SNC_REG_VERSION), ==, SNC_VERSION);
    g_assert_cmphex(rd32(s, SNC_REG_GUEST_SERVING), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_HOST_MODE), ==,
                     SNC_HOSTMODE_COOPERATIVE);
    g_assert_cmpuint(rd32(s, SNC_REG_RING_SIZE), ==, SNC_RING_SIZE);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_CONS), ==, 0);
    for (unsigned i = 0; i < SNC_RING_SIZE; i++) {
        g_assert_cmpuint(slot_rd32(s, i, SNC_REQ_ACTION), ==,
                         SNC_REQ_ACTION_NONE);
    }
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'host-mode': 'guest-only'}}");
    g_assert_cmpuint(rd32(s, SNC_REG_HOST_MODE), ==,
                     SNC_HOSTMODE_GUEST_ONLY);
    /* Read-only to the guest */
    wr32(s, SNC_REG_HOST_MODE, SNC_HOSTMODE_OFF);
    g_assert_cmpuint(rd32(s, SNC_REG_HOST_MODE), ==,
                     SNC_HOSTMODE_GUEST_ONLY);
    wr32(s, SNC_REG_GUEST_SERVING, SNC_GUEST_SERVING_ON);
    g_assert_cmphex(rd32(s, SNC_REG_GUEST_SERVING), ==, 1);
    snc_free(s);
}

/*
 * A full round trip: the command posts, the guest takes the request
 * from the ring and completes it, the command returns the counts and
 * the event repeats them.
 */
static void test_mbox_round_trip(void)
{
    SNC *s = mb_init(true);
    MbCounts n = { { 200, 50, 1, 2, 3, 0, 0 } };
    QDict *rsp, *mb;
    uint32_t id;

    wr32(s, SNC_REG_INTR_ENABLE, SNC_INTR_REQUEST);
    mb_send_migrate(s, 256, 60000);
    mb_wait_prod(s, 1);
    g_assert_cmphex(rd32(s, SNC_REG_INTR_STATUS), ==, SNC_INTR_REQUEST);
    id = slot_rd32(s, 0, SNC_REQ_ID);
    g_assert_cmpuint(id, !=, 0);
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_MIGRATE);
    g_assert_cmphex(slot_rd64(s, 0, SNC_REQ_ADDR), ==, MB_ADDR);
    g_assert_cmphex(slot_rd32(s, 0, SNC_REQ_ADDR + 4), ==, 0);
    g_assert_cmphex(slot_rd64(s, 0, SNC_REQ_SIZE), ==, 256 * PAGE);
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_NODE), ==, 1);
    wr32(s, SNC_REG_INTR_STATUS, SNC_INTR_REQUEST);
    wr32(s, SNC_REG_REQ_CONS, 1);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_CONS), ==, 1);

    mb_complete(s, id, 0, &n);
    rsp = qtest_qmp_receive(s->qts);
    g_assert(qdict_haskey(rsp, "return"));
    mb_assert_completion(qdict_get_qdict(rsp, "return"), id, "completed", 0,
                         &n);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"), "action"),
                    ==, "migrate");
    qobject_unref(rsp);
    mb_assert_event(s, id, "completed", 0, &n);

    /* The slot is free again. */
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_NONE);
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_ID), ==, 0);

    /* A completion with an errno counts as failed, and still returns. */
    mb_send_migrate(s, 1, 60000);
    mb_wait_prod(s, 2);
    mb_complete(s, slot_rd32(s, 1, SNC_REQ_ID), -22, NULL);
    rsp = qtest_qmp_receive(s->qts);
    mb_assert_completion(qdict_get_qdict(rsp, "return"), id + 1,
                         "completed", -22, NULL);
    qobject_unref(rsp);

    mb = mb_query(s);
    g_assert_true(qdict_get_bool(mb, "guest-serving"));
    g_assert_cmpstr(qdict_get_str(mb, "host-mode"), ==, "cooperative");
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 0);
    g_assert_cmpuint(qdict_uint(mb, "queue-size"), ==, 16);
    g_assert_cmpuint(qdict_uint(mb, "posted"), ==, 2);
    g_assert_cmpuint(qdict_uint(mb, "served"), ==, 1);
    g_assert_cmpuint(qdict_uint(mb, "failed"), ==, 1);
    g_assert_cmpuint(qdict_uint(mb, "malformed"), ==, 0);
    g_assert_cmpuint(qdict_uint(mb, "interrupted"), ==, 0);
    qobject_unref(mb);
    snc_free(s);
}

/* Without a serving driver, requests fail at once; so they do off mode. */
static void test_mbox_driver_absent(void)
{
    SNC *s = mb_init(false);
    int64_t start = g_get_monotonic_time();
    QDict *mb;

    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1}}", (uint64_t)MB_ADDR),
                 "No guest driver serves requests");
    /* The default timeout is 10 s: the answer came without waiting. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-hint',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1}}", (uint64_t)MB_ADDR),
                 "No guest driver serves requests");

    /* A driver that stopped serving is absent too. */
    wr32(s, SNC_REG_GUEST_SERVING, SNC_GUEST_SERVING_ON);
    wr32(s, SNC_REG_GUEST_SERVING, 0);
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-hint',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1}}", (uint64_t)MB_ADDR),
                 "No guest driver serves requests");
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 0);

    /* A serving driver, but the host mode posts nothing. */
    wr32(s, SNC_REG_GUEST_SERVING, SNC_GUEST_SERVING_ON);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'host-mode': 'host-only'}}");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-hint',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1}}", (uint64_t)MB_ADDR),
                 "'host-mode' guest-only or cooperative");
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "posted"), ==, 0);
    qobject_unref(mb);
    snc_free(s);
}

/* Bad arguments name the argument and post nothing. */
static void test_mbox_bad_args(void)
{
    SNC *s = mb_init(true);
    static const struct {
        const char *args;
        const char *needle;
    } cases[] = {
        { "'addr': 67108865, 'size': 4096, 'node': 1", "'addr'" },
        { "'addr': 67108864, 'size': 0, 'node': 1", "'size'" },
        { "'addr': 67108864, 'size': 100, 'node': 1", "'size'" },
        { "'addr': 67108864, 'size': 4096, 'node': 2", "'node' 2" },
        /* Beyond the 128 MiB of RAM, and across its end */
        { "'addr': 1073741824, 'size': 4096, 'node': 0", "'addr'" },
        { "'addr': 134213632, 'size': 8192, 'node': 0", "not all guest RAM" },
        { "'addr': 67108864, 'size': 4096, 'node': 1, 'timeout-ms': 0",
          "'timeout-ms'" },
        { "'device': 'nosuch', 'addr': 67108864, 'size': 4096, 'node': 1",
          "'device' 'nosuch'" },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *json = g_strdup_printf("{%s}", cases[i].args);
        QObject *args = qobject_from_json(json, &error_abort);

        assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                               " 'arguments': %p}", args), cases[i].needle);
    }
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 0);
    snc_free(s);
}

/* 16 requests fill the queue; the 17th is refused at once. */
static void test_mbox_queue_full(void)
{
    SNC *s = mb_init(true);
    uint32_t first = 0, id;
    QDict *mb;

    for (unsigned i = 0; i < SNC_RING_SIZE; i++) {
        id = mb_hint(s, 1);
        if (!i) {
            first = id;
        }
        g_assert_cmpuint(id, ==, first + i);
        g_assert_cmpuint(slot_rd32(s, i, SNC_REQ_ID), ==, id);
        g_assert_cmpuint(slot_rd32(s, i, SNC_REQ_ACTION), ==,
                         SNC_REQ_ACTION_HINT);
    }
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-hint',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1}}", (uint64_t)MB_ADDR),
                 "request queue is full");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1}}", (uint64_t)MB_ADDR),
                 "request queue is full");
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, SNC_RING_SIZE);
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, SNC_RING_SIZE);
    g_assert_cmpuint(qdict_uint(mb, "posted"), ==, SNC_RING_SIZE);
    qobject_unref(mb);

    /* Completing the oldest frees the next slot, slot 0. */
    mb_complete(s, first, 0, NULL);
    mb_assert_event(s, first, "completed", 0, NULL);
    id = mb_hint(s, 1);
    g_assert_cmpuint(id, ==, first + SNC_RING_SIZE);
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_ID), ==, id);
    snc_free(s);
}

/*
 * Completions out of their declared ranges: an unknown ID changes
 * nothing; bad counts or status end the request as a protocol error
 * with zero counts; every case is logged.
 */
static void test_mbox_bad_completion(void)
{
    SNC *s = mb_init(true);
    MbCounts too_many = { { 2, 0, 0, 0, 0, 0, 0 } };
    MbCounts sum_over = { { 1, 1, 1, 0, 0, 0, 0 } };
    MbCounts ok = { { 0, 0, 0, 0, 0, 0, 2 } };
    uint32_t a, b, c, d, e, f;
    QDict *mb;
    static const char *const logged[] = {
        "unknown request ID", "a count exceeds the request's pages",
        "add up to more than the request's pages",
        "CMPL_STATUS is not 0 or a negative errno",
        "COMPLETE value other than 1", "REQ_CONS outside",
        "reserved GUEST_SERVING bits", "read-only or reserved register",
    };

    a = mb_hint(s, 1);
    b = mb_hint(s, 2);
    c = mb_hint(s, 2);
    d = mb_hint(s, 2);
    e = mb_hint(s, 2);
    f = mb_hint(s, 2);

    /* Unknown IDs: 0, one never posted; nothing completes. */
    mb_complete(s, 0, 0, NULL);
    mb_complete(s, f + 100, 0, NULL);
    mb_assert_no_event(s);

    /* A count beyond the request's pages */
    mb_complete(s, a, 0, &too_many);
    mb_assert_event(s, a, "protocol-error", 0, NULL);
    /* Counts within each bound, but their sum beyond */
    mb_complete(s, b, 0, &sum_over);
    mb_assert_event(s, b, "protocol-error", 0, NULL);
    /* A positive status, and one below -4095 */
    mb_complete(s, c, 5, NULL);
    mb_assert_event(s, c, "protocol-error", 0, NULL);
    mb_complete(s, d, -4096, NULL);
    mb_assert_event(s, d, "protocol-error", 0, NULL);

    /* A doorbell value other than 1 does nothing. */
    wr32(s, SNC_REG_CMPL_ID, e);
    wr32(s, SNC_REG_COMPLETE, 2);
    mb_assert_no_event(s);
    /* A request completes once; the second time its ID is unknown. */
    mb_complete(s, e, -4095, &ok);
    mb_assert_event(s, e, "completed", -4095, &ok);
    mb_complete(s, e, 0, NULL);
    mb_assert_no_event(s);

    /* Index and register garbage: ignored. */
    wr32(s, SNC_REG_REQ_CONS, 7);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_CONS), ==, 0);
    wr32(s, SNC_REG_REQ_CONS, 0xffffffff);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_CONS), ==, 0);
    wr32(s, SNC_REG_REQ_CONS, 6);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_CONS), ==, 6);
    wr32(s, SNC_REG_REQ_CONS, 5);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_CONS), ==, 6);
    wr32(s, SNC_REG_REQ_PROD, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 6);
    wr32(s, SNC_REG_REQ_RING + 5 * SNC_REQ_STRIDE + SNC_REQ_NODE, 0);
    g_assert_cmpuint(slot_rd32(s, 5, SNC_REQ_NODE), ==, 1);
    wr32(s, SNC_REG_GUEST_SERVING, 3);
    g_assert_cmphex(rd32(s, SNC_REG_GUEST_SERVING), ==, 1);

    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 1);
    g_assert_cmpuint(qdict_uint(mb, "malformed"), ==, 4);
    g_assert_cmpuint(qdict_uint(mb, "failed"), ==, 1);
    g_assert_cmpuint(qdict_uint(mb, "served"), ==, 0);
    qobject_unref(mb);

    /* The good request is untouched and still completes. */
    g_assert_cmpuint(slot_rd32(s, 5, SNC_REQ_ID), ==, f);
    mb_complete(s, f, 0, &ok);
    mb_assert_event(s, f, "completed", 0, &ok);

    assert_logged(s, logged, ARRAY_SIZE(logged));
    snc_free(s);
}

/*
 * A waiting snc-guest-migrate times out with an error; the request
 * stays queued and its later completion is an event.
 */
static void test_mbox_timeout(void)
{
    SNC *s = mb_init(true);
    MbCounts n = { { 1, 0, 0, 0, 0, 0, 0 } };
    QDict *rsp, *mb;
    uint32_t id;

    mb_send_migrate(s, 1, 300);
    rsp = qtest_qmp_receive(s->qts);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 1);
    id = slot_rd32(s, 0, SNC_REQ_ID);
    assert_error(rsp, "did not complete request");
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 1);
    qobject_unref(mb);
    mb_complete(s, id, 0, &n);
    mb_assert_event(s, id, "completed", 0, &n);
    snc_free(s);
}

/*
 * The driver stops serving while a command waits: the request ends as
 * interrupted, the command fails, the event says so.
 */
static void test_mbox_stop_serving(void)
{
    SNC *s = mb_init(true);
    uint32_t id;

    mb_send_migrate(s, 4, 5000);
    mb_wait_prod(s, 1);
    id = slot_rd32(s, 0, SNC_REQ_ID);
    wr32(s, SNC_REG_GUEST_SERVING, 0);
    assert_error(qtest_qmp_receive(s->qts), "was interrupted");
    mb_assert_event(s, id, "interrupted", 0, NULL);
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_NONE);
    snc_free(s);
}

/*
 * A system reset (the guest writes the reset control register while a
 * command waits) ends every pending request as interrupted, each with
 * its event, and clears the mailbox; HOST_MODE, the host's setting,
 * survives.
 */
static void test_mbox_reset(void)
{
    SNC *s = mb_init(true);
    uint32_t h1, h2, m;
    QDict *mb;

    h1 = mb_hint(s, 1);
    h2 = mb_hint(s, 1);
    mb_send_migrate(s, 1, 5000);
    mb_wait_prod(s, 3);
    m = slot_rd32(s, 2, SNC_REQ_ID);
    wr32(s, SNC_REG_REQ_CONS, 2);
    wr32(s, SNC_REG_CMPL_ID, h1);

    qtest_outb(s->qts, 0xcf9, 0x06);
    assert_error(qtest_qmp_receive(s->qts), "was interrupted");
    mb_assert_event(s, h1, "interrupted", 0, NULL);
    mb_assert_event(s, h2, "interrupted", 0, NULL);
    mb_assert_event(s, m, "interrupted", 0, NULL);
    qtest_qmp_eventwait(s->qts, "RESET");

    g_free(s->dev);
    qpci_free_pc(s->bus);
    snc_attach(s);
    g_assert_cmphex(rd32(s, SNC_REG_GUEST_SERVING), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_CONS), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_CMPL_ID), ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_HOST_MODE), ==,
                     SNC_HOSTMODE_COOPERATIVE);
    for (unsigned i = 0; i < SNC_RING_SIZE; i++) {
        g_assert_cmpuint(slot_rd32(s, i, SNC_REQ_ACTION), ==,
                         SNC_REQ_ACTION_NONE);
    }
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "interrupted"), ==, 3);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 0);
    qobject_unref(mb);

    /* IDs are never reused, so a stale completion matches nothing. */
    wr32(s, SNC_REG_GUEST_SERVING, SNC_GUEST_SERVING_ON);
    g_assert_cmpuint(mb_hint(s, 1), ==, m + 1);
    mb_complete(s, h1, 0, NULL);
    mb_assert_no_event(s);
    snc_free(s);
}

/*
 * Pending requests survive a save and restore with the vmstate: the
 * destination's guest sees the same ring and completes them there.
 */
static void test_mbox_save_restore(void)
{
    SNC *src = mb_init(true), *dst;
    g_autofree char *path = NULL, *uri = NULL;
    MbCounts n = { { 2, 1, 0, 0, 0, 0, 0 } };
    uint32_t ids[3];
    QDict *mb;

    for (unsigned i = 0; i < 3; i++) {
        ids[i] = mb_hint(src, 4);
    }
    mb_complete(src, ids[1], 0, NULL);
    mb_assert_event(src, ids[1], "completed", 0, NULL);
    wr32(src, SNC_REG_REQ_CONS, 3);
    wr32(src, SNC_REG_INTR_ENABLE, SNC_INTR_REQUEST);
    hmp_pause(src);
    uri = save_state(src, &path);

    dst = snc_dest_on("qtest", uri);
    wait_incoming(dst->qts);
    snc_attach(dst);
    g_assert_cmphex(rd32(dst, SNC_REG_GUEST_SERVING), ==, 1);
    g_assert_cmpuint(rd32(dst, SNC_REG_HOST_MODE), ==,
                     SNC_HOSTMODE_COOPERATIVE);
    g_assert_cmpuint(rd32(dst, SNC_REG_REQ_PROD), ==, 3);
    g_assert_cmpuint(rd32(dst, SNC_REG_REQ_CONS), ==, 3);
    g_assert_cmphex(rd32(dst, SNC_REG_INTR_STATUS), ==, SNC_INTR_REQUEST);
    g_assert_cmphex(rd32(dst, SNC_REG_INTR_ENABLE), ==, SNC_INTR_REQUEST);
    g_assert_cmpuint(slot_rd32(dst, 0, SNC_REQ_ID), ==, ids[0]);
    g_assert_cmpuint(slot_rd32(dst, 1, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_NONE);
    g_assert_cmpuint(slot_rd32(dst, 2, SNC_REQ_ID), ==, ids[2]);
    g_assert_cmpuint(slot_rd32(dst, 2, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_HINT);
    g_assert_cmphex(slot_rd64(dst, 2, SNC_REQ_ADDR), ==, MB_ADDR);
    g_assert_cmphex(slot_rd64(dst, 2, SNC_REQ_SIZE), ==, 4 * PAGE);
    g_assert_cmpuint(slot_rd32(dst, 2, SNC_REQ_NODE), ==, 1);
    mb = mb_query(dst);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 2);
    g_assert_cmpuint(qdict_uint(mb, "posted"), ==, 3);
    g_assert_cmpuint(qdict_uint(mb, "served"), ==, 1);
    qobject_unref(mb);

    mb_complete(dst, ids[2], 0, &n);
    mb_assert_event(dst, ids[2], "completed", 0, &n);
    mb_complete(dst, ids[0], -16, NULL);
    mb_assert_event(dst, ids[0], "completed", -16, NULL);
    /* New requests continue the source's numbering. */
    g_assert_cmpuint(mb_hint(dst, 1), ==, ids[2] + 1);

    snc_free(dst);
    snc_free(src);
    unlink(path);
}

/* Wait until job @id concludes without an error, then dismiss it. */
static void wait_job(QTestState *qts, const char *id)
{
    bool done = false;

    while (!done) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-jobs'}");
        QList *jobs = qdict_get_qlist(rsp, "return");
        QListEntry *e;

        g_assert(jobs);
        QLIST_FOREACH_ENTRY(jobs, e) {
            QDict *job = qobject_to(QDict, qlist_entry_obj(e));

            if (!strcmp(qdict_get_str(job, "id"), id) &&
                !strcmp(qdict_get_str(job, "status"), "concluded")) {
                g_assert(!qdict_haskey(job, "error"));
                done = true;
            }
        }
        qobject_unref(rsp);
        if (!done) {
            g_usleep(10000);
        }
    }
    qtest_qmp_assert_success(qts, "{'execute': 'job-dismiss',"
                             " 'arguments': {'id': %s}}", id);
}

/*
 * loadvm of a snapshot taken with requests pending: those requests
 * live on (no interrupted event, the guest completes them again); a
 * request posted after the snapshot ends as interrupted; IDs are not
 * reused.
 */
static void test_mbox_loadvm(void)
{
    SNC *s = mb_init(true);
    g_autofree char *img = NULL;
    uint32_t a, b, c;
    int fd;

    fd = g_file_open_tmp("snc-test-img-XXXXXX", &img, NULL);
    g_assert(fd >= 0);
    close(fd);
    qtest_qmp_assert_success(s->qts, "{'execute': 'blockdev-add',"
                             " 'arguments': {'driver': 'file',"
                             " 'filename': %s, 'node-name': 'f0'}}", img);
    qtest_qmp_assert_success(s->qts, "{'execute': 'blockdev-create',"
                             " 'arguments': {'job-id': 'c0', 'options':"
                             " {'driver': 'qcow2', 'file': 'f0',"
                             " 'size': 1048576}}}");
    wait_job(s->qts, "c0");
    qtest_qmp_assert_success(s->qts, "{'execute': 'blockdev-add',"
                             " 'arguments': {'driver': 'qcow2',"
                             " 'file': 'f0', 'node-name': 'q0'}}");

    a = mb_hint(s, 1);
    b = mb_hint(s, 2);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snapshot-save',"
                             " 'arguments': {'job-id': 's0', 'tag': 'snap',"
                             " 'vmstate': 'q0', 'devices': ['q0']}}");
    wait_job(s->qts, "s0");

    /* After the snapshot, a completes and c is posted. */
    mb_complete(s, a, 0, NULL);
    mb_assert_event(s, a, "completed", 0, NULL);
    c = mb_hint(s, 1);

    qtest_qmp_assert_success(s->qts, "{'execute': 'snapshot-load',"
                             " 'arguments': {'job-id': 'l0', 'tag': 'snap',"
                             " 'vmstate': 'q0', 'devices': ['q0']}}");
    wait_job(s->qts, "l0");
    mb_assert_event(s, c, "interrupted", 0, NULL);
    mb_assert_no_event(s);

    g_assert_cmphex(rd32(s, SNC_REG_GUEST_SERVING), ==, 1);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 2);
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_ID), ==, a);
    g_assert_cmpuint(slot_rd32(s, 1, SNC_REQ_ID), ==, b);
    g_assert_cmpuint(slot_rd32(s, 2, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_NONE);
    g_assert_cmpuint(mb_hint(s, 1), ==, c + 1);
    mb_complete(s, a, 0, NULL);
    mb_assert_event(s, a, "completed", 0, NULL);
    mb_complete(s, b, 0, NULL);
    mb_assert_event(s, b, "completed", 0, NULL);
    snc_free(s);
    unlink(img);
}

/*
 * A version-1 stream, saved by a QEMU built before the mailbox (register
 * map 1.0), loads: the counting state arrives, the mailbox is as after a
 * reset.  The stream is SNC_V1_STREAM, relative to QEMU's build tree as
 * bios-tables-test's data is.  With SNC_TEST_V1_QEMU naming such a QEMU,
 * the test saves a stream with it instead, and SNC_TEST_V1_SAVE=FILE also
 * keeps that stream, gzipped, in FILE: that is how SNC_V1_STREAM was made.
 */
#define SNC_V1_STREAM   "tests/data/snc/snc-v1.stream.gz"

/*
 * The machine of the version-1 stream, at both ends.  Its firmware is a
 * blank image, it has no ACPI tables, whose ROMs the stream would carry,
 * and little RAM: nothing runs under the qtest accelerator, and the stream
 * keeps little more than what the test is about.
 */
static char *v1_stream_args(char **boot, char **bios)
{
    g_autofree char *blank = g_malloc0(256 * KiB);
    int fd;

    *boot = boot_file();
    fd = g_file_open_tmp("snc-test-bios-XXXXXX", bios, NULL);
    g_assert(fd >= 0);
    close(fd);
    g_assert(g_file_set_contents(*bios, blank, 256 * KiB, NULL));
    return g_strdup_printf("-M pc,acpi=off -bios %s -accel qtest -m 16M"
                           " -smp 2 -nodefaults"
                           " -object memory-backend-ram,id=m0,size=8M"
                           " -object memory-backend-ram,id=m1,size=8M"
                           " -numa node,nodeid=0,memdev=m0,cpus=0"
                           " -numa node,nodeid=1,memdev=m1,cpus=1"
                           " -device snc,id=snc0,addr=04.0" SNC_TEST_PROPS
                           " -drive file=%s,format=raw -serial none",
                           *bios, *boot);
}

/* Save a version-1 stream with the QEMU of SNC_TEST_V1_QEMU into @path. */
static void save_v1_stream(const char *path)
{
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    g_autofree char *boot = NULL, *bios = NULL, *args = NULL;
    const char *save = getenv("SNC_TEST_V1_SAVE");
    QTestState *old;
    SNC *src;

    args = v1_stream_args(&boot, &bios);
    old = qtest_init_with_env("SNC_TEST_V1_QEMU", args, true);
    src = g_new0(SNC, 1);
    src->qts = old;
    snc_attach(src);
    g_assert_cmphex(rd32(src, SNC_REG_VERSION), ==, 0x00010000);
    wr32(src, SNC_REG_PERIOD_MS, 250);
    wr32(src, SNC_REG_INTR_ENABLE, SNC_INTR_PERIOD_END);
    wr32(src, SNC_REG_HOT_ADDR, 9);
    migrate_to_file(old, uri);
    if (save) {
        g_autofree char *cmd = g_strdup_printf("gzip -9n <'%s' >'%s'",
                                               path, save);

        g_assert_cmpint(system(cmd), ==, 0);
    }
    g_free(src->dev);
    qpci_free_pc(src->bus);
    qtest_quit(old);
    g_free(src);
    unlink(boot);
    unlink(bios);
}

static void test_mbox_v1_stream(void)
{
    g_autofree char *path = NULL, *uri = NULL, *args = NULL, *bios = NULL;
    SNC *dst = g_new0(SNC, 1);
    int fd;

    if (getenv("SNC_TEST_V1_QEMU")) {
        fd = g_file_open_tmp("snc-test-state-XXXXXX", &path, NULL);
        g_assert(fd >= 0);
        close(fd);
        save_v1_stream(path);
        uri = g_strdup_printf("file:%s", path);
    } else {
        g_assert_true(g_file_test(SNC_V1_STREAM, G_FILE_TEST_IS_REGULAR));
        uri = g_strdup("'exec:gzip -dc " SNC_V1_STREAM "'");
    }

    args = v1_stream_args(&dst->boot, &bios);
    g_assert(g_file_open_tmp("snc-test-log-XXXXXX", &dst->log, NULL) >= 0);
    dst->qts = qtest_initf("%s -d guest_errors -D %s -incoming %s", args,
                           dst->log, uri);
    wait_incoming(dst->qts);
    snc_attach(dst);
    g_assert_cmphex(rd32(dst, SNC_REG_VERSION), ==, SNC_VERSION);
    g_assert_cmpuint(rd32(dst, SNC_REG_PERIOD_MS), ==, 250);
    g_assert_cmphex(rd32(dst, SNC_REG_INTR_ENABLE), ==, SNC_INTR_PERIOD_END);
    g_assert_cmpuint(rd32(dst, SNC_REG_HOT_ADDR), ==, 9);
    g_assert_cmphex(rd32(dst, SNC_REG_GUEST_SERVING), ==, 0);
    g_assert_cmpuint(rd32(dst, SNC_REG_REQ_PROD), ==, 0);
    g_assert_cmpuint(slot_rd32(dst, 0, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_NONE);

    snc_free(dst);
    unlink(bios);
    if (path) {
        unlink(path);
    }
}

/*
 * A stream whose device state is out of range does not load.  The source
 * holds one hint, at an address found nowhere else in the SNC's section,
 * and HOT_ADDR at a value found once before it.  The vmstate's fields sit
 * at fixed offsets from those two: the registers before hot_addr, and the
 * mailbox's registers and ring around the hint's slot (SNC_RING_SIZE IDs,
 * actions, addresses, sizes and nodes, after the completion registers).
 * The hint is the device's first request, so its ID is 1.
 * Each case changes one field to a value the device would never have
 * taken, and the load must fail in snc_post_load() (-EINVAL) while QEMU
 * keeps running and answering QMP.  The stream as saved loads.
 */
#define CORRUPT_ADDR    (MB_ADDR + 0x123000)
#define CORRUPT_HOT     0x5b7
#define CMPL_REGS       ((SNC_REG_CMPL_RANGE - SNC_REG_CMPL_ID) / 4 + 1)
#define SLOT_TO_CMPL    (-8 * SNC_RING_SIZE - 4 * CMPL_REGS)

static const struct {
    const char *what;
    bool from_hot;              /* else from the slot's address */
    int offset;                 /* from there, in bytes */
    unsigned len;               /* of the field: 4 or 8 */
    uint64_t saved, corrupt;
} stream_corruptions[] = {
    { "HOT_ADDR beyond the counters", true, 0, 4, CORRUPT_HOT, UINT32_MAX },
    { "SAMPLE_US below the minimum", true, -12, 4, 1000,
      SNC_MIN_SAMPLE_US - 1 },
    { "PERIOD_MS above the maximum", true, -16, 4, 0,
      SNC_MAX_PERIOD_MS + 1 },
    { "a node filter naming a third node", true, -20, 4, 0, 1u << 2 },
    { "an unknown counting mode", true, -25, 4, 0, UINT32_MAX },
    { "an unknown host mode", false, SLOT_TO_CMPL - 16, 4,
      SNC_HOSTMODE_COOPERATIVE, SNC_HOSTMODE_COOPERATIVE + 1 },
    { "GUEST_SERVING with a reserved bit", false, SLOT_TO_CMPL - 20, 4,
      SNC_GUEST_SERVING_ON, SNC_GUEST_SERVING_ON | 2 },
    { "a request with ID 0", false, -8 * SNC_RING_SIZE, 4, 1, 0 },
    { "an action beyond hint", false, -4 * SNC_RING_SIZE, 4,
      SNC_REQ_ACTION_HINT, SNC_REQ_ACTION_HINT + 1 },
    { "a size that is not whole pages", false, 8 * SNC_RING_SIZE, 8,
      5 * PAGE, 5 * PAGE + 1 },
    { "a node the machine lacks", false, 16 * SNC_RING_SIZE, 4, 1, 2 },
};

static uint64_t stream_field(const uint8_t *p, unsigned len)
{
    return len == 8 ? ldq_be_p(p) : ldl_be_p(p);
}

static void stream_set_field(uint8_t *p, unsigned len, uint64_t val)
{
    if (len == 8) {
        stq_be_p(p, val);
    } else {
        stl_be_p(p, val);
    }
}

/* The one occurrence of @pat in [@from, @to). */
static uint8_t *stream_find_once(uint8_t *from, uint8_t *to,
                                 const void *pat, size_t len)
{
    uint8_t *p = memmem(from, to - from, pat, len);

    g_assert_nonnull(p);
    g_assert_null(memmem(p + 1, to - p - 1, pat, len));
    return p;
}

/* What loading a stream must end in. */
typedef enum StreamOutcome {
    STREAM_LOADS,
    STREAM_REFUSED,             /* by snc_post_load(), -EINVAL */
    STREAM_LOADS_OR_NOT,
} StreamOutcome;

/*
 * Load @data into a new destination with exit-on-error: false, check the
 * outcome, and that QEMU still reports the device and its state after it.
 */
static void load_stream(const uint8_t *data, size_t size, StreamOutcome want,
                        const char *what)
{
    g_autofree char *path = NULL, *uri = NULL;
    const char *status;
    SNC *dst;
    QDict *rsp;
    int fd;

    fd = g_file_open_tmp("snc-test-state-XXXXXX", &path, NULL);
    g_assert(fd >= 0);
    close(fd);
    g_assert(g_file_set_contents(path, (const char *)data, size, NULL));
    uri = g_strdup_printf("file:%s", path);

    dst = snc_dest_on("qtest", "defer");
    qtest_qmp_assert_success(dst->qts, "{'execute': 'migrate-incoming',"
                             " 'arguments': {'uri': %s,"
                             " 'exit-on-error': false}}", uri);
    for (;;) {
        g_usleep(20000);
        rsp = qtest_qmp_assert_success_ref(dst->qts,
                                           "{'execute': 'query-migrate'}");
        status = qdict_get_try_str(rsp, "status");
        if (!g_strcmp0(status, "completed") || !g_strcmp0(status, "failed")) {
            break;
        }
        qobject_unref(rsp);
    }
    g_test_message("a stream with %s: %s", what, status);
    if (want == STREAM_LOADS) {
        g_assert_cmpstr(status, ==, "completed");
    } else if (want == STREAM_REFUSED) {
        g_assert_cmpstr(status, ==, "failed");
        /* snc_post_load()'s -EINVAL, not a stream that broke off. */
        g_assert_nonnull(strstr(qdict_get_str(rsp, "error-desc"),
                                "Invalid argument"));
    }
    qobject_unref(rsp);
    qobject_unref(qtest_qmp_assert_success_ref(dst->qts,
                  "{'execute': 'query-snc-counters'}"));
    qtest_qmp_assert_success(dst->qts, "{'execute': 'query-status'}");
    snc_free(dst);
    unlink(path);
}

/* A saved stream for the corruption tests, and where its anchors are. */
typedef struct CorruptibleStream {
    uint8_t *data;
    gsize size;
    uint8_t *regs;              /* the section's first field */
    uint8_t *hot;               /* hot_addr */
    uint8_t *slot;              /* the hint's address in the ring */
} CorruptibleStream;

static void corruptible_stream(CorruptibleStream *cs)
{
    static const char section[] = "0000:00:04.0/snc";
    SNC *src = mb_init(true);
    g_autofree char *path = NULL, *uri = NULL;
    uint8_t addr_be[8], hot_be[4];
    uint8_t *sec;
    QDict *rsp;

    wr32(src, SNC_REG_HOT_ADDR, CORRUPT_HOT);
    rsp = qtest_qmp_assert_success_ref(src->qts,
                                       "{'execute': 'snc-guest-hint',"
                                       " 'arguments': {'addr': %" PRIu64 ","
                                       " 'size': %u, 'node': 1}}",
                                       (uint64_t)CORRUPT_ADDR, 5 * PAGE);
    g_assert_cmpuint(qdict_uint(rsp, "id"), ==, 1);
    qobject_unref(rsp);
    hmp_pause(src);
    uri = save_state(src, &path);
    snc_free(src);
    g_assert(g_file_get_contents(path, (char **)&cs->data, &cs->size, NULL));
    unlink(path);

    sec = memmem(cs->data, cs->size, section, strlen(section));
    g_assert_nonnull(sec);
    /* After the name, the instance and the version: 4 bytes each. */
    cs->regs = sec + strlen(section) + 8;
    stq_be_p(addr_be, CORRUPT_ADDR);
    cs->slot = stream_find_once(sec, cs->data + cs->size, addr_be,
                                sizeof(addr_be));
    stl_be_p(hot_be, CORRUPT_HOT);
    cs->hot = stream_find_once(sec, cs->slot, hot_be, sizeof(hot_be));
}

static void test_corrupt_stream(void)
{
    CorruptibleStream cs;

    corruptible_stream(&cs);
    load_stream(cs.data, cs.size, STREAM_LOADS, "nothing changed");
    for (unsigned i = 0; i < ARRAY_SIZE(stream_corruptions); i++) {
        uint8_t *f = (stream_corruptions[i].from_hot ? cs.hot : cs.slot) +
                     stream_corruptions[i].offset;
        unsigned len = stream_corruptions[i].len;

        g_assert_cmphex(stream_field(f, len), ==, stream_corruptions[i].saved);
        stream_set_field(f, len, stream_corruptions[i].corrupt);
        load_stream(cs.data, cs.size, STREAM_REFUSED,
                    stream_corruptions[i].what);
        stream_set_field(f, len, stream_corruptions[i].saved);
    }
    g_free(cs.data);
}

/*
 * Random bytes of the device's state in a saved stream: the registers up
 * to the period timer, and the mailbox from its registers to its
 * counters.  Whether the stream loads or not, QEMU keeps running, answers
 * QMP and reports the device's counters.  SNC_TEST_STREAM_ROUNDS sets
 * the number of streams (default 12); g_test's seed (--seed) picks the
 * bytes.
 */
static void test_random_stream_bytes(void)
{
    const char *env = getenv("SNC_TEST_STREAM_ROUNDS");
    unsigned rounds = env ? atoi(env) : 12;
    CorruptibleStream cs;

    corruptible_stream(&cs);
    for (unsigned i = 0; i < rounds; i++) {
        g_autofree uint8_t *copy = g_memdup2(cs.data, cs.size);
        unsigned flips = g_test_rand_int_range(1, 5);
        g_autofree char *what = g_strdup_printf("%u bytes changed", flips);
        uint8_t *from, *to;

        for (unsigned f = 0; f < flips; f++) {
            if (g_test_rand_bit()) {
                from = cs.regs;
                to = cs.hot + 4 + 5 * 8;
            } else {
                from = cs.slot + SLOT_TO_CMPL - 20;
                to = cs.slot + 20 * SNC_RING_SIZE + 5 * 8;
            }
            copy[(from - cs.data) + g_test_rand_int_range(0, to - from)] ^=
                g_test_rand_int_range(1, 256);
        }
        load_stream(copy, cs.size, STREAM_LOADS_OR_NOT, what);
    }
    g_free(cs.data);
}

/*
 * A QMP quit sent while snc-guest-migrate waits for the guest does not
 * wait behind it: the command fails at once, the request stays queued,
 * and QEMU quits.
 */
static void test_mbox_quit_while_waiting(void)
{
    SNC *s = mb_init(true);
    int64_t t0, quit_us;
    QDict *rsp;

    mb_send_migrate(s, 1, 60000);
    mb_wait_prod(s, 1);
    t0 = g_get_monotonic_time();
    qtest_qmp_send(s->qts, "{'execute': 'quit'}");
    rsp = qtest_qmp_receive(s->qts);
    assert_error(rsp, "because QEMU is quitting");
    rsp = qtest_qmp_receive(s->qts);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qtest_wait_qemu(s->qts);
    quit_us = g_get_monotonic_time() - t0;
    g_test_message("QEMU exited %" PRId64 " us after quit", quit_us);
    /* Without the quit notifier, the command waits its 60 s. */
    g_assert_cmpint(quit_us, <, 5 * G_USEC_PER_SEC);
    snc_free(s);
}

/*
 * The guest powers the machine off (ACPI S5 through the PIIX4 PM
 * device, 00:01.3) while snc-guest-migrate waits for it: QEMU must
 * exit at once.  The main loop ends on the shutdown request and
 * monitor_cleanup() waits for the command, which only the device's
 * shutdown notifier ends.
 */
#define PIIX4_PM_CONFIG (0x80000000 | (1 << 11) | (3 << 8))
#define PIIX4_PM_BASE   0xb000
#define ACPI_PM1_CNT    (PIIX4_PM_BASE + 4)
#define ACPI_SLP_EN     (1 << 13)      /* SLP_TYP 0: S5 on PIIX4 */

static void test_mbox_poweroff_while_waiting(void)
{
    SNC *s = mb_init(true);
    int64_t t0, exit_us;
    QDict *rsp;

    mb_send_migrate(s, 1, 60000);
    mb_wait_prod(s, 1);
    /* PMBA, then PMIOSE in PMREGMISC: the PM registers at 0xb000. */
    qtest_outl(s->qts, 0xcf8, PIIX4_PM_CONFIG | 0x40);
    qtest_outl(s->qts, 0xcfc, PIIX4_PM_BASE | 1);
    qtest_outl(s->qts, 0xcf8, PIIX4_PM_CONFIG | 0x80);
    qtest_outb(s->qts, 0xcfc, 1);
    t0 = g_get_monotonic_time();
    qtest_outw(s->qts, ACPI_PM1_CNT, ACPI_SLP_EN);
    rsp = qtest_qmp_receive(s->qts);
    assert_error(rsp, "because QEMU is quitting");
    qtest_wait_qemu(s->qts);
    exit_us = g_get_monotonic_time() - t0;
    g_test_message("QEMU exited %" PRId64 " us after the power-off",
                   exit_us);
    /* Without the shutdown notifier, QEMU never exits. */
    g_assert_cmpint(exit_us, <, 5 * G_USEC_PER_SEC);
    snc_free(s);
}

/* snc-guest-migrate as a job */

#define MB_JOB_EVENT    "SNC_GUEST_MIGRATE_JOB_COMPLETED"
#define MB_CHUNK        (2 * MiB)       /* the job's request size */

/* Start a job "@id" over @size bytes at MB_ADDR; expect success. */
static void mb_job_start(SNC *s, const char *id, uint64_t size)
{
    QDict *rsp = qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': %" PRIu64 ", 'node': 1,"
                           " 'timeout-ms': 60000, 'job-id': %s}}",
                           (uint64_t)MB_ADDR, size, id);
    QDict *ret = qdict_get_qdict(rsp, "return");

    g_assert(ret);
    g_assert_cmpstr(qdict_get_str(ret, "form"), ==, "job");
    g_assert_cmpstr(qdict_get_str(ret, "job-id"), ==, id);
    qobject_unref(rsp);
}

/*
 * query-jobs: the one job, which must be @id of type snc-guest-migrate.
 * Returns a reference.
 */
static QDict *mb_job_query(SNC *s, const char *id)
{
    QDict *rsp = qtest_qmp(s->qts, "{'execute': 'query-jobs'}");
    QList *jobs = qdict_get_qlist(rsp, "return");
    QDict *job;

    g_assert_cmpuint(qlist_size(jobs), ==, 1);
    job = qobject_to(QDict, qlist_peek(jobs));
    g_assert_cmpstr(qdict_get_str(job, "id"), ==, id);
    g_assert_cmpstr(qdict_get_str(job, "type"), ==, "snc-guest-migrate");
    qobject_ref(job);
    qobject_unref(rsp);
    return job;
}

/* Assert the job's progress, in bytes. */
static void mb_job_assert_progress(SNC *s, const char *id, uint64_t cur,
                                   uint64_t total)
{
    QDict *job = mb_job_query(s, id);

    g_assert_cmpuint(qdict_get_int(job, "current-progress"), ==, cur);
    g_assert_cmpuint(qdict_get_int(job, "total-progress"), ==, total);
    qobject_unref(job);
}

/* Wait until the job's progress is @cur bytes of @total. */
static void mb_job_wait_progress(SNC *s, const char *id, uint64_t cur,
                                 uint64_t total)
{
    QDict *job = NULL;

    for (int i = 0; i < 500; i++) {
        qobject_unref(job);
        job = mb_job_query(s, id);
        if (qdict_get_int(job, "current-progress") == cur) {
            break;
        }
        g_usleep(10000);
    }
    g_assert_cmpuint(qdict_get_int(job, "current-progress"), ==, cur);
    g_assert_cmpuint(qdict_get_int(job, "total-progress"), ==, total);
    qobject_unref(job);
}

/*
 * The job posts the range in 2 MiB requests, all three at once;
 * query-jobs shows the bytes completed, in any order, and the end event
 * sums the counts of every request, a failed one included.
 */
static void test_mbox_job_progress(void)
{
    SNC *s = mb_init(true);
    const MbCounts n[3] = {
        { { 500, 12, 0, 0, 0, 0, 0 } },
        { { 0, 0, 0, 0, 0, 0, 0 } },
        { { 256, 0, 3, 4, 5, 6, 7 } },
    };
    static const unsigned order[3] = { 1, 0, 2 };
    uint32_t id[3];
    QDict *ev, *d, *mb;
    unsigned i;

    mb_job_start(s, "gm0", 3 * MB_CHUNK);
    mb_wait_prod(s, 3);
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 3);
    qobject_unref(mb);
    mb_job_assert_progress(s, "gm0", 0, 3 * MB_CHUNK);
    for (i = 0; i < 3; i++) {
        g_assert_cmphex(slot_rd64(s, i, SNC_REQ_ADDR), ==,
                        MB_ADDR + i * MB_CHUNK);
        g_assert_cmphex(slot_rd64(s, i, SNC_REQ_SIZE), ==, MB_CHUNK);
        g_assert_cmpuint(slot_rd32(s, i, SNC_REQ_NODE), ==, 1);
        id[i] = slot_rd32(s, i, SNC_REQ_ID);
    }
    wr32(s, SNC_REG_REQ_CONS, 3);
    /* Completions in another order than the posts. */
    for (i = 0; i < 3; i++) {
        unsigned k = order[i];

        mb_complete(s, id[k], k == 1 ? -16 : 0, &n[k]);
        mb_assert_event(s, id[k], "completed", k == 1 ? -16 : 0, &n[k]);
        if (i < 2) {
            mb_job_wait_progress(s, "gm0", (i + 1) * MB_CHUNK,
                                 3 * MB_CHUNK);
        }
    }

    ev = qtest_qmp_eventwait_ref(s->qts, MB_JOB_EVENT);
    d = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(d, "job-id"), ==, "gm0");
    g_assert_cmpstr(qdict_get_str(d, "qom-path"), ==,
                    "/machine/peripheral/snc0");
    g_assert_cmphex(qdict_uint(d, "addr"), ==, MB_ADDR);
    g_assert_cmphex(qdict_uint(d, "size"), ==, 3 * MB_CHUNK);
    g_assert_cmpuint(qdict_uint(d, "range-count"), ==, 1);
    g_assert_cmpuint(qdict_uint(d, "node"), ==, 1);
    g_assert_false(qdict_get_bool(d, "cancelled"));
    g_assert_false(qdict_haskey(d, "error"));
    g_assert_cmpuint(qdict_uint(d, "requests"), ==, 3);
    g_assert_cmpuint(qdict_uint(d, "completed"), ==, 2);
    g_assert_cmpuint(qdict_uint(d, "failed"), ==, 1);
    g_assert_cmpuint(qdict_uint(d, "protocol-errors"), ==, 0);
    g_assert_cmpuint(qdict_uint(d, "interrupted"), ==, 0);
    for (i = 0; i < 7; i++) {
        g_assert_cmpuint(qdict_uint(d, mb_count_keys[i]), ==,
                         n[0].c[i] + n[1].c[i] + n[2].c[i]);
    }
    qobject_unref(ev);
    snc_free(s);
}

/*
 * The job's end event, which must say that it was cancelled with
 * @requests posted, of which @interrupted were withdrawn.
 */
static void mb_job_assert_cancelled(SNC *s, uint32_t requests,
                                    uint32_t interrupted)
{
    QDict *ev = qtest_qmp_eventwait_ref(s->qts, MB_JOB_EVENT);
    QDict *d = qdict_get_qdict(ev, "data");

    g_assert_true(qdict_get_bool(d, "cancelled"));
    g_assert_false(qdict_haskey(d, "error"));
    g_assert_cmpuint(qdict_uint(d, "requests"), ==, requests);
    g_assert_cmpuint(qdict_uint(d, "completed"), ==, requests - interrupted);
    g_assert_cmpuint(qdict_uint(d, "interrupted"), ==, interrupted);
    qobject_unref(ev);
}

/*
 * job-cancel with requests pending, one of which the guest has taken:
 * every request in flight is withdrawn and ends as interrupted (its
 * event says so), the slots are free, and the guest's late completion
 * of the taken one is dropped: no second event, no guest error.
 */
static void test_mbox_job_cancel(void)
{
    SNC *s = mb_init(true);
    g_autofree char *log = NULL;
    uint32_t id[4];
    QDict *mb;
    unsigned i;

    mb_job_start(s, "gm1", 4 * MB_CHUNK);
    mb_wait_prod(s, 4);
    for (i = 0; i < 4; i++) {
        id[i] = slot_rd32(s, i, SNC_REQ_ID);
    }
    wr32(s, SNC_REG_REQ_CONS, 1);
    mb_complete(s, id[0], 0, NULL);
    mb_assert_event(s, id[0], "completed", 0, NULL);
    mb_job_wait_progress(s, "gm1", MB_CHUNK, 4 * MB_CHUNK);
    wr32(s, SNC_REG_REQ_CONS, 2);

    qtest_qmp_assert_success(s->qts, "{'execute': 'job-cancel',"
                             " 'arguments': {'id': 'gm1'}}");
    for (i = 1; i < 4; i++) {
        mb_assert_event(s, id[i], "interrupted", 0, NULL);
    }
    mb_job_assert_cancelled(s, 4, 3);
    for (i = 0; i < 4; i++) {
        g_assert_cmpuint(slot_rd32(s, i, SNC_REQ_ACTION), ==,
                         SNC_REQ_ACTION_NONE);
    }
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 4);

    /* The guest finishes the request it had taken. */
    mb_complete(s, id[1], 0, NULL);
    mb_assert_no_event(s);
    log = read_log(s);
    g_assert_null(strstr(log, "unknown request"));
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 0);
    g_assert_cmpuint(qdict_uint(mb, "posted"), ==, 4);
    g_assert_cmpuint(qdict_uint(mb, "served"), ==, 1);
    g_assert_cmpuint(qdict_uint(mb, "interrupted"), ==, 3);
    qobject_unref(mb);
    snc_free(s);
}

/*
 * job-cancel while the request is still in the ring, not taken: it is
 * withdrawn the same way, and its slot reads as empty.
 */
static void test_mbox_job_cancel_untaken(void)
{
    SNC *s = mb_init(true);
    uint32_t id;

    mb_job_start(s, "gm2", MB_CHUNK + PAGE);
    mb_wait_prod(s, 2);
    id = slot_rd32(s, 0, SNC_REQ_ID);
    mb_complete(s, id, 0, NULL);
    mb_assert_event(s, id, "completed", 0, NULL);
    mb_job_wait_progress(s, "gm2", MB_CHUNK, MB_CHUNK + PAGE);
    /* The tail request is one page. */
    g_assert_cmphex(slot_rd64(s, 1, SNC_REQ_SIZE), ==, PAGE);
    id = slot_rd32(s, 1, SNC_REQ_ID);
    qtest_qmp_assert_success(s->qts, "{'execute': 'job-cancel',"
                             " 'arguments': {'id': 'gm2'}}");
    mb_assert_event(s, id, "interrupted", 0, NULL);
    mb_job_assert_cancelled(s, 2, 1);
    g_assert_cmpuint(slot_rd32(s, 1, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_NONE);
    g_assert_cmpuint(slot_rd32(s, 1, SNC_REQ_ID), ==, 0);
    snc_free(s);
}

/*
 * Every bad use of 'ranges' fails, naming what is wrong: given with
 * 'addr', without 'job-id', a bad range (by its index), overlapping
 * ranges, none or too many of them, and neither 'addr' nor 'ranges'.
 */
static void mb_job_bad_ranges(SNC *s)
{
    QList *many = qlist_new();

    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ", 'node': 1,"
                           " 'ranges': [{'addr': %" PRIu64 ", 'size': 4096}],"
                           " 'job-id': 'gm4'}}", (uint64_t)MB_ADDR,
                           (uint64_t)MB_ADDR), "not both");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'node': 1,"
                           " 'ranges': [{'addr': %" PRIu64 ", 'size': 4096}]"
                           "}}", (uint64_t)MB_ADDR), "'ranges' needs 'job-id'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'node': 1,"
                           " 'ranges': [{'addr': %" PRIu64 ", 'size': 4096},"
                           " {'addr': %" PRIu64 ", 'size': 4096}],"
                           " 'job-id': 'gm4'}}", (uint64_t)MB_ADDR,
                           (uint64_t)MB_ADDR + 1), "'ranges[1]': 'addr'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'node': 1,"
                           " 'ranges': [{'addr': %" PRIu64 ", 'size': 0}],"
                           " 'job-id': 'gm4'}}", (uint64_t)MB_ADDR),
                 "'ranges[0]': 'size'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'node': 1,"
                           " 'ranges': [{'addr': %" PRIu64 ", 'size': 8192},"
                           " {'addr': %" PRIu64 ", 'size': 4096}],"
                           " 'job-id': 'gm4'}}", (uint64_t)MB_ADDR + PAGE,
                           (uint64_t)MB_ADDR + 2 * PAGE), "overlap");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'node': 1, 'ranges': [],"
                           " 'job-id': 'gm4'}}"), "'ranges' is empty");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'size': 4096, 'node': 1,"
                           " 'job-id': 'gm4'}}"), "'addr' is missing");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ", 'node': 1,"
                           " 'job-id': 'gm4'}}", (uint64_t)MB_ADDR),
                 "'size' is missing");
    for (unsigned i = 0; i < 1025; i++) {
        QDict *r = qdict_new();

        qdict_put_int(r, "addr", MB_ADDR + i * PAGE);
        qdict_put_int(r, "size", PAGE);
        qlist_append(many, r);
    }
    /* %p takes the reference to @many. */
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'node': 1, 'ranges': %p,"
                           " 'job-id': 'gm4'}}", many), "more than 1024");
}

/*
 * A job-id in use, or malformed, and every bad argument fail before
 * anything is posted: the running job and the mailbox are unchanged.
 */
static void test_mbox_job_bad_args(void)
{
    SNC *s = mb_init(true);
    QDict *mb;
    uint32_t id;

    mb_job_start(s, "gm3", MB_CHUNK);
    mb_wait_prod(s, 1);
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1, 'job-id': 'gm3'}}",
                           (uint64_t)MB_ADDR), "gm3");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1, 'job-id': '#x'}}",
                           (uint64_t)MB_ADDR), "#x");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 7, 'job-id': 'gm4'}}",
                           (uint64_t)MB_ADDR), "'node' 7");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1, 'timeout-ms': 0,"
                           " 'job-id': 'gm4'}}", (uint64_t)MB_ADDR),
                 "'timeout-ms'");
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': %" PRIu64 ", 'node': 1,"
                           " 'job-id': 'gm4'}}", (uint64_t)MB_ADDR,
                           (uint64_t)128 * MiB), "not all guest RAM");
    mb_job_bad_ranges(s);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 1);
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "posted"), ==, 1);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 1);
    qobject_unref(mb);
    mb_job_assert_progress(s, "gm3", 0, MB_CHUNK);

    /* The first job is undisturbed and completes. */
    id = slot_rd32(s, 0, SNC_REQ_ID);
    mb_complete(s, id, 0, NULL);
    mb_assert_event(s, id, "completed", 0, NULL);
    qobject_unref(qtest_qmp_eventwait_ref(s->qts, MB_JOB_EVENT));

    /* Without a serving driver the job is refused at once. */
    wr32(s, SNC_REG_GUEST_SERVING, 0);
    assert_error(qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': 4096, 'node': 1, 'job-id': 'gm5'}}",
                           (uint64_t)MB_ADDR), "No guest driver");
    snc_free(s);
}

/*
 * A job over several ranges posts them in order, each cut into 2 MiB
 * requests, and keeps at most 8 in the queue: more than its first only
 * while the queue is less than half full, so that a second job still
 * finds room.  The end event counts the ranges.
 */
static void test_mbox_job_ranges(void)
{
    SNC *s = mb_init(true);
    /* 1 page, then 2 MiB + 1 page, then 17 full requests: 20 requests */
    const uint64_t addr[3] = {
        MB_ADDR + 8 * MiB, MB_ADDR, MB_ADDR + 16 * MiB,
    };
    const uint64_t size[3] = { PAGE, MB_CHUNK + PAGE, 17 * MB_CHUNK };
    uint64_t want_addr[20], want_size[20];
    uint32_t cons, id;
    QDict *rsp, *ev, *d, *mb;
    unsigned i, n = 0;

    for (i = 0; i < 3; i++) {
        for (uint64_t off = 0; off < size[i]; off += MB_CHUNK) {
            want_addr[n] = addr[i] + off;
            want_size[n++] = MIN(MB_CHUNK, size[i] - off);
        }
    }
    g_assert_cmpuint(n, ==, 20);
    rsp = qtest_qmp(s->qts, "{'execute': 'snc-guest-migrate',"
                    " 'arguments': {'node': 1, 'job-id': 'gm7',"
                    " 'ranges': [{'addr': %" PRIu64 ", 'size': %" PRIu64 "},"
                    " {'addr': %" PRIu64 ", 'size': %" PRIu64 "},"
                    " {'addr': %" PRIu64 ", 'size': %" PRIu64 "}]}}",
                    addr[0], size[0], addr[1], size[1], addr[2], size[2]);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);

    mb_wait_prod(s, 8);
    mb_assert_no_event(s);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 8);

    /* A second job gets its first request in, and no more. */
    mb_job_start(s, "gm8", 2 * MB_CHUNK);
    mb_wait_prod(s, 9);
    mb = mb_query(s);
    g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, 9);
    qobject_unref(mb);
    id = slot_rd32(s, 8, SNC_REQ_ID);
    qtest_qmp_assert_success(s->qts, "{'execute': 'job-cancel',"
                             " 'arguments': {'id': 'gm8'}}");
    mb_assert_event(s, id, "interrupted", 0, NULL);
    mb_job_assert_cancelled(s, 1, 1);
    cons = 9;

    /*
     * Serve the first job to its end, one request at a time: each
     * completion lets it post one more, and it never has more than 8.
     */
    for (i = 0; i < 20; i++) {
        unsigned slot = (i < 8 ? i : i + 1) % SNC_RING_SIZE;

        mb_wait_prod(s, MIN(9 + i, 21));
        mb = mb_query(s);
        g_assert_cmpuint(qdict_uint(mb, "queue-depth"), ==, MIN(8, 20 - i));
        qobject_unref(mb);
        g_assert_cmphex(slot_rd64(s, slot, SNC_REQ_ADDR), ==, want_addr[i]);
        g_assert_cmphex(slot_rd64(s, slot, SNC_REQ_SIZE), ==, want_size[i]);
        id = slot_rd32(s, slot, SNC_REQ_ID);
        wr32(s, SNC_REG_REQ_CONS, ++cons);
        mb_complete(s, id, 0, NULL);
        mb_assert_event(s, id, "completed", 0, NULL);
    }

    ev = qtest_qmp_eventwait_ref(s->qts, MB_JOB_EVENT);
    d = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(d, "job-id"), ==, "gm7");
    g_assert_cmphex(qdict_uint(d, "addr"), ==, addr[0]);
    g_assert_cmphex(qdict_uint(d, "size"), ==, size[0] + size[1] + size[2]);
    g_assert_cmpuint(qdict_uint(d, "range-count"), ==, 3);
    g_assert_cmpuint(qdict_uint(d, "requests"), ==, 20);
    g_assert_cmpuint(qdict_uint(d, "completed"), ==, 20);
    qobject_unref(ev);
    snc_free(s);
}

/*
 * The guest stops serving while a job waits: its requests end as
 * interrupted and the job fails with an error saying so.
 */
static void test_mbox_job_interrupted(void)
{
    SNC *s = mb_init(true);
    uint32_t id[2];
    QDict *ev, *d;

    mb_job_start(s, "gm6", 2 * MB_CHUNK);
    mb_wait_prod(s, 2);
    id[0] = slot_rd32(s, 0, SNC_REQ_ID);
    id[1] = slot_rd32(s, 1, SNC_REQ_ID);
    wr32(s, SNC_REG_GUEST_SERVING, 0);
    mb_assert_event(s, id[0], "interrupted", 0, NULL);
    mb_assert_event(s, id[1], "interrupted", 0, NULL);
    ev = qtest_qmp_eventwait_ref(s->qts, MB_JOB_EVENT);
    d = qdict_get_qdict(ev, "data");
    g_assert_false(qdict_get_bool(d, "cancelled"));
    g_assert_nonnull(strstr(qdict_get_str(d, "error"), "interrupted"));
    g_assert_cmpuint(qdict_uint(d, "requests"), ==, 2);
    g_assert_cmpuint(qdict_uint(d, "interrupted"), ==, 2);
    qobject_unref(ev);
    snc_free(s);
}

/*
 * A malicious guest: the qtest accelerator writes seeded random values
 * of random sizes to random offsets of both BARs, interleaved with
 * reads, for SNC_FUZZ_SECONDS (default 5) seconds; SNC_FUZZ_SEED picks
 * the seed (default 1).  In alternate phases of FUZZ_PHASE_MS the
 * mailbox is active: the host is cooperative, the "driver" serves,
 * QMP posts hints and the guest completes them with garbage.  QEMU
 * must keep answering QMP promptly, keep the guest-error log within
 * its rate limit, and work normally after a reset.
 */

#define FUZZ_PHASE_MS           500
#define FUZZ_QMP_EVERY          1024    /* accesses between QMP probes */
#define FUZZ_QMP_MAX_US         (2 * G_USEC_PER_SEC)

typedef struct Fuzz {
    SNC *s;
    GRand *rand;
    uint64_t accesses;
    uint64_t hints;
    uint64_t completions;
    uint64_t qmp_probes;
    int64_t qmp_max_us;
} Fuzz;

/* A value a register check might let through, or any value at all. */
static uint64_t fuzz_value(Fuzz *f)
{
    switch (g_rand_int_range(f->rand, 0, 4)) {
    case 0:
        return g_rand_int_range(f->rand, 0, 64);
    case 1:
        return 1ULL << g_rand_int_range(f->rand, 0, 64);
    case 2:
        return rd32(f->s, SNC_REG_REQ_PROD) + g_rand_int_range(f->rand,
                                                                -2, 3);
    default:
        return (uint64_t)g_rand_int(f->rand) << 32 | g_rand_int(f->rand);
    }
}

/* One access of 1, 2, 4 or 8 bytes at a random offset of a BAR. */
static void fuzz_access(Fuzz *f)
{
    SNC *s = f->s;
    bool regs = g_rand_int_range(f->rand, 0, 4) != 0;
    QPCIBar bar = regs ? s->regs : s->matrix;
    uint64_t bar_size = regs ? s->regs_size : s->matrix_size;
    unsigned size = 1u << g_rand_int_range(f->rand, 0, 4);
    uint64_t off, val;

    if (regs && g_rand_boolean(f->rand)) {
        /* Half the register accesses hit the mailbox. */
        off = SNC_REG_GUEST_SERVING +
              g_rand_int_range(f->rand, 0, 0x1000 - SNC_REG_GUEST_SERVING);
    } else {
        off = g_rand_int_range(f->rand, 0, bar_size);
    }
    if (g_rand_boolean(f->rand)) {
        off &= ~(uint64_t)(size - 1);
    }
    off = MIN(off, bar_size - size);
    if (g_rand_boolean(f->rand)) {
        switch (size) {
        case 1:
            qpci_io_readb(s->dev, bar, off);
            break;
        case 2:
            qpci_io_readw(s->dev, bar, off);
            break;
        case 4:
            qpci_io_readl(s->dev, bar, off);
            break;
        default:
            qpci_io_readq(s->dev, bar, off);
        }
    } else {
        val = fuzz_value(f);
        switch (size) {
        case 1:
            qpci_io_writeb(s->dev, bar, off, val);
            break;
        case 2:
            qpci_io_writew(s->dev, bar, off, val);
            break;
        case 4:
            qpci_io_writel(s->dev, bar, off, val);
            break;
        default:
            qpci_io_writeq(s->dev, bar, off, val);
        }
    }
    f->accesses++;
}

/* Drop the events that QMP commands queued, so the queue stays short. */
static void fuzz_drain_events(Fuzz *f)
{
    static const char *const events[] = {
        MB_EVENT, "SNC_PERIOD_END", "RESET",
    };
    QDict *ev;

    for (unsigned i = 0; i < ARRAY_SIZE(events); i++) {
        while ((ev = qtest_qmp_event_ref(f->s->qts, events[i]))) {
            qobject_unref(ev);
        }
    }
}

/* Post a hint of random size; a full queue or no driver is an error. */
static void fuzz_hint(Fuzz *f)
{
    QDict *rsp = qtest_qmp(f->s->qts, "{'execute': 'snc-guest-hint',"
                           " 'arguments': {'addr': %" PRIu64 ","
                           " 'size': %u, 'node': 1}}", (uint64_t)MB_ADDR,
                           g_rand_int_range(f->rand, 1, 64) * PAGE);

    g_assert(qdict_haskey(rsp, "return") || qdict_haskey(rsp, "error"));
    f->hints += qdict_haskey(rsp, "return");
    qobject_unref(rsp);
}

/* Complete the request in a random slot with garbage counts. */
static void fuzz_complete(Fuzz *f)
{
    SNC *s = f->s;
    unsigned slot = g_rand_int_range(f->rand, 0, SNC_RING_SIZE);
    uint32_t id = slot_rd32(s, slot, SNC_REQ_ID);

    if (!g_rand_int_range(f->rand, 0, 4)) {
        id = fuzz_value(f);
    }
    wr32(s, SNC_REG_CMPL_ID, id);
    for (uint64_t r = SNC_REG_CMPL_STATUS; r < SNC_REG_COMPLETE; r += 4) {
        wr32(s, r, g_rand_boolean(f->rand) ? 0 : fuzz_value(f));
    }
    wr32(s, SNC_REG_COMPLETE,
         g_rand_int_range(f->rand, 0, 4) ? SNC_COMPLETE_DOORBELL :
         fuzz_value(f));
    f->completions++;
}

/* query-snc-counters answers within FUZZ_QMP_MAX_US. */
static void fuzz_probe_qmp(Fuzz *f)
{
    int64_t t0 = g_get_monotonic_time(), us;
    QDict *dev = query_one(f->s->qts, 1);

    us = g_get_monotonic_time() - t0;
    qobject_unref(dev);
    f->qmp_probes++;
    f->qmp_max_us = MAX(f->qmp_max_us, us);
    g_assert_cmpint(us, <, FUZZ_QMP_MAX_US);
}

static unsigned count_lines(const char *text)
{
    unsigned n = 0;

    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    return n;
}

static void test_fuzz_random_registers(void)
{
    const char *env_s = getenv("SNC_FUZZ_SECONDS");
    const char *env_seed = getenv("SNC_FUZZ_SEED");
    double seconds = env_s ? g_ascii_strtod(env_s, NULL) : 5;
    uint32_t seed = env_seed ? g_ascii_strtoull(env_seed, NULL, 0) : 1;
    Fuzz f = { .s = mb_init(true), .rand = g_rand_new_with_seed(seed) };
    SNC *s = f.s;
    int64_t t0 = g_get_monotonic_time(), now, phase_end = 0;
    int64_t end = t0 + (int64_t)(seconds * G_USEC_PER_SEC);
    unsigned max_lines;
    g_autofree char *log = NULL;
    bool mailbox = false;
    MbCounts n = { { 3, 1, 0, 0, 0, 0, 0 } };
    QDict *rsp;
    uint32_t id;

    g_test_message("seed %" PRIu32 ", %.0f s", seed, seconds);
    while ((now = g_get_monotonic_time()) < end) {
        if (now >= phase_end) {
            mailbox = !mailbox;
            phase_end = now + FUZZ_PHASE_MS * 1000;
            qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                                     " 'arguments': {'host-mode': %s}}",
                                     mailbox ? "cooperative" : "off");
            if (mailbox) {
                wr32(s, SNC_REG_GUEST_SERVING, SNC_GUEST_SERVING_ON);
            }
        }
        for (unsigned i = 0; i < FUZZ_QMP_EVERY; i++) {
            fuzz_access(&f);
            if (mailbox && !g_rand_int_range(f.rand, 0, 64)) {
                fuzz_hint(&f);
            }
            if (mailbox && !g_rand_int_range(f.rand, 0, 64)) {
                fuzz_complete(&f);
            }
            if (!g_rand_int_range(f.rand, 0, 256)) {
                qtest_clock_step(s->qts, g_rand_int_range(f.rand, 1, 100) *
                                 1000000LL);
            }
        }
        fuzz_probe_qmp(&f);
        fuzz_drain_events(&f);
    }
    now = g_get_monotonic_time();
    g_test_message("%" PRIu64 " accesses, %" PRIu64 " hints posted, %"
                   PRIu64 " completions in %.1f s; %" PRIu64
                   " QMP probes, slowest %" PRId64 " us",
                   f.accesses, f.hints, f.completions,
                   (now - t0) / (double)G_USEC_PER_SEC, f.qmp_probes,
                   f.qmp_max_us);

    /* QMP answers promptly. */
    fuzz_probe_qmp(&f);

    /*
     * The log holds at most SNC_LOG_BURST messages and one "not logged"
     * line per window, and it said that it dropped some.
     */
    log = read_log(s);
    max_lines = ((now - t0) / (SNC_LOG_WINDOW_MS * 1000) + 2) *
                (SNC_LOG_BURST + 1);
    g_test_message("guest-error log: %u lines, %zu bytes (limit %u lines)",
                   count_lines(log), strlen(log), max_lines);
    g_assert_cmpuint(count_lines(log), <=, max_lines);
    g_assert(strstr(log, "more guest errors not logged"));

    /* After a reset the device works: a clean mailbox round trip. */
    qtest_outb(s->qts, 0xcf9, 0x06);
    qtest_qmp_eventwait(s->qts, "RESET");
    fuzz_drain_events(&f);
    g_free(s->dev);
    qpci_free_pc(s->bus);
    snc_attach(s);
    g_assert_cmphex(rd32(s, SNC_REG_ID), ==, SNC_ID);
    g_assert_cmphex(rd32(s, SNC_REG_STATUS) & SNC_STATUS_RUNNING, ==, 0);
    g_assert_cmpuint(rd32(s, SNC_REG_REQ_PROD), ==, 0);
    qtest_qmp_assert_success(s->qts, "{'execute': 'snc-configure',"
                             " 'arguments': {'host-mode': 'cooperative',"
                             " 'period-ms': 0}}");
    wr32(s, SNC_REG_GUEST_SERVING, SNC_GUEST_SERVING_ON);
    mb_send_migrate(s, 4, 60000);
    mb_wait_prod(s, 1);
    id = slot_rd32(s, 0, SNC_REQ_ID);
    g_assert_cmpuint(slot_rd32(s, 0, SNC_REQ_ACTION), ==,
                     SNC_REQ_ACTION_MIGRATE);
    wr32(s, SNC_REG_REQ_CONS, 1);
    mb_complete(s, id, 0, &n);
    rsp = qtest_qmp_receive(s->qts);
    g_assert(qdict_haskey(rsp, "return"));
    mb_assert_completion(qdict_get_qdict(rsp, "return"), id, "completed", 0,
                         &n);
    qobject_unref(rsp);

    /* And a snapshot: SEQ counts on from what the reset left. */
    wr32(s, SNC_REG_CONTROL, SNC_CONTROL_SNAPSHOT);
    g_assert_cmpuint(rd64(s, SNC_REG_SEQ), >=, 1);
    fuzz_probe_qmp(&f);

    g_rand_free(f.rand);
    snc_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/snc/regs/identity", test_regs_identity);
    qtest_add_func("/snc/regs/zones-property", test_regs_zones);
    qtest_add_func("/snc/regs/unavailable-without-tcg",
                   test_regs_unavailable);
    qtest_add_func("/snc/regs/bad-access", test_bad_access);
    qtest_add_func("/snc/count/all", test_count_all);
    qtest_add_func("/snc/count/attribution", test_count_attribution);
    qtest_add_func("/snc/count/remote", test_count_remote);
    qtest_add_func("/snc/count/filter", test_count_filter);
    qtest_add_func("/snc/count/track-max", test_count_track_max);
    qtest_add_func("/snc/count/exact", test_count_exact);
    qtest_add_func("/snc/snapshot/atomic", test_snapshot_atomic);
    qtest_add_func("/snc/snapshot/hot-data", test_hot_data);
    qtest_add_func("/snc/period/event", test_period_event);
    qtest_add_func("/snc/qmp/query", test_qmp_query);
    qtest_add_func("/snc/qmp/errors", test_qmp_errors);
    qtest_add_func("/snc/qmp/device-argument", test_qmp_device_arg);
    qtest_add_func("/snc/qmp/no-device", test_qmp_no_device);
    qtest_add_func("/snc/device/errors", test_device_errors);
    qtest_add_func("/snc/device/system-reset", test_system_reset);
    qtest_add_func("/snc/migration/save-restore", test_save_restore);
    qtest_add_func("/snc/migration/period-timer", test_restore_period_timer);
    qtest_add_func("/snc/migration/load-stops-running",
                   test_load_stops_running);
    qtest_add_func("/snc/migration/geometry-mismatch",
                   test_geometry_mismatch);
    qtest_add_func("/snc/migration/corrupt-stream", test_corrupt_stream);
    qtest_add_func("/snc/migration/random-stream-bytes",
                   test_random_stream_bytes);
    qtest_add_func("/snc/period/minimum", test_min_period);
    qtest_add_func("/snc/count/rom-never-counts", test_rom_never_counts);
    qtest_add_func("/snc/mailbox/registers", test_mbox_regs);
    qtest_add_func("/snc/mailbox/round-trip", test_mbox_round_trip);
    qtest_add_func("/snc/mailbox/driver-absent", test_mbox_driver_absent);
    qtest_add_func("/snc/mailbox/bad-arguments", test_mbox_bad_args);
    qtest_add_func("/snc/mailbox/queue-full", test_mbox_queue_full);
    qtest_add_func("/snc/mailbox/bad-completion", test_mbox_bad_completion);
    qtest_add_func("/snc/mailbox/timeout", test_mbox_timeout);
    qtest_add_func("/snc/mailbox/stop-serving", test_mbox_stop_serving);
    qtest_add_func("/snc/mailbox/reset", test_mbox_reset);
    qtest_add_func("/snc/mailbox/save-restore", test_mbox_save_restore);
    qtest_add_func("/snc/mailbox/loadvm", test_mbox_loadvm);
    qtest_add_func("/snc/mailbox/version-1-stream", test_mbox_v1_stream);
    qtest_add_func("/snc/mailbox/quit-while-waiting",
                   test_mbox_quit_while_waiting);
    qtest_add_func("/snc/mailbox/poweroff-while-waiting",
                   test_mbox_poweroff_while_waiting);
    qtest_add_func("/snc/mailbox/job/progress", test_mbox_job_progress);
    qtest_add_func("/snc/mailbox/job/cancel", test_mbox_job_cancel);
    qtest_add_func("/snc/mailbox/job/cancel-untaken",
                   test_mbox_job_cancel_untaken);
    qtest_add_func("/snc/mailbox/job/bad-arguments", test_mbox_job_bad_args);
    qtest_add_func("/snc/mailbox/job/ranges", test_mbox_job_ranges);
    qtest_add_func("/snc/mailbox/job/interrupted",
                   test_mbox_job_interrupted);
    qtest_add_func("/snc/fuzz/random-registers", test_fuzz_random_registers);
    return g_test_run();
}
