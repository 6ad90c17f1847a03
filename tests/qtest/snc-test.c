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
#include "qobject/qnum.h"
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
static SNC *snc_dest(const char *incoming)
{
    SNC *s = g_new0(SNC, 1);

    s->boot = boot_file();
    g_assert(g_file_open_tmp("snc-test-log-XXXXXX", &s->log, NULL) >= 0);
    s->qts = qtest_initf("-M pc -accel tcg -m 128M -smp 2 -nodefaults"
                         " -object memory-backend-ram,id=m0,size=64M"
                         " -object memory-backend-ram,id=m1,size=64M"
                         " -numa node,nodeid=0,memdev=m0,cpus=0"
                         " -numa node,nodeid=1,memdev=m1,cpus=1"
                         " -device snc,id=snc0,addr=04.0" SNC_TEST_PROPS
                         " -drive file=%s,format=raw -serial none"
                         " -incoming %s", s->boot, incoming);
    return s;
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
        int64_t h = qnum_get_int(qobject_to(QNum, qlist_pop(homes)));

        g_assert_cmpint(h, ==, home(s, z) == 0xff ? -1 : home(s, z));
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
    g_autofree char *log = NULL;
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
    log = read_log(s);
    for (unsigned i = 0; i < ARRAY_SIZE(logged); i++) {
        if (!strstr(log, logged[i])) {
            g_error("no guest error logged for '%s'; log:\n%s", logged[i],
                    log);
        }
    }
    snc_free(s);
}

static void migrate_to_file(QTestState *qts, const char *uri)
{
    QDict *rsp;
    const char *status;

    qtest_qmp_assert_success(qts, "{'execute': 'migrate',"
                             " 'arguments': {'uri': %s}}", uri);
    do {
        g_usleep(20000);
        rsp = qtest_qmp_assert_success_ref(qts,
                                           "{'execute': 'query-migrate'}");
        status = qdict_get_try_str(rsp, "status");
        g_assert(g_strcmp0(status, "failed"));
        if (!g_strcmp0(status, "completed")) {
            qobject_unref(rsp);
            break;
        }
        qobject_unref(rsp);
    } while (true);
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
    qtest_add_func("/snc/period/minimum", test_min_period);
    qtest_add_func("/snc/count/rom-never-counts", test_rom_never_counts);
    return g_test_run();
}
