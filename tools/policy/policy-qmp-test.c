/*
 * Tests of the policy's parser on live replies of the project's QEMU:
 * a stopped pc machine with two guest NUMA nodes and an SNC, read
 * through the shared QMP client.  The snapshots of policy-test are
 * written by hand in the same format; these tests keep the parser
 * honest against what QEMU really sends.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib/gstdio.h>

#include "policy.h"
#include "policy-qmp.h"
#include "test-qemu.h"

#define MIB (1024 * 1024)

/*
 * 128 MiB in two nodes of 64 MiB: m0 bound to host node 0, which every
 * Linux host has, m1 with the default policy.  The SNC cuts 128 MiB
 * into 2048 zones of 64 KiB.
 */
static const char *const machine[] = {
    "-machine", "pc", "-accel", "tcg", "-S", "-m", "128M", "-smp", "2",
    "-object", "memory-backend-ram,id=m0,size=64M,host-nodes=0,policy=bind",
    "-object", "memory-backend-ram,id=m1,size=64M",
    "-numa", "node,nodeid=0,memdev=m0,cpus=0",
    "-numa", "node,nodeid=1,memdev=m1,cpus=1",
    "-device", "snc,id=snc0",
    NULL,
};

typedef TestQemu Fixture;

static void fixture_setup(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    test_qemu_start(f, machine);
}

static void fixture_teardown(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    test_qemu_stop(f);
}

static JsonNode *run(Fixture *f, const char *command, JsonObject *args)
{
    g_autoptr(GError) err = NULL;
    JsonNode *ret = qmp_client_execute(f->client, command, args, &err);

    g_assert_no_error(err);
    return ret;
}

/* The counters, in both reply forms, and the zones' home nodes. */
static void test_counters(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) top = NULL;
    g_autoptr(JsonNode) full = NULL;
    g_autoptr(GError) err = NULL;
    PolicyCounts counts;

    if (!f->client) {
        return;
    }
    json_object_set_int_member(args, "top", 2);
    top = run(f, "query-snc-counters", args);
    full = run(f, "query-snc-counters", NULL);

    g_assert_true(policy_counts_from_qmp(top, "snc0", &counts, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(counts.nr_zones, ==, 2048);
    g_assert_cmpuint(counts.zone_size, ==, 64 * 1024);
    g_assert_cmpuint(counts.sequence, ==, 0);
    /* The legacy VGA and ROM hole at 768 KiB holds no RAM. */
    g_assert_cmpint(counts.home[0], ==, 0);
    g_assert_cmpint(counts.home[12], ==, POLICY_NO_NODE);
    g_assert_cmpint(counts.home[1023], ==, 0);
    g_assert_cmpint(counts.home[1024], ==, 1);
    policy_counts_clear(&counts);

    g_assert_true(policy_counts_from_qmp(full, NULL, &counts, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(counts.nr_zones, ==, 2048);
    g_assert_cmpint(counts.home[2047], ==, 1);
    policy_counts_clear(&counts);
}

/* Placement, memdevs, vCPUs: the backing of untouched RAM. */
static gint task_node(gint64 thread_id, gpointer opaque)
{
    g_autofree char *task = g_strdup_printf("/proc/%s/task/%" G_GINT64_FORMAT,
                                            (const char *)opaque, thread_id);

    /* A real vCPU thread of this QEMU; this host's first node runs it. */
    g_assert_true(g_file_test(task, G_FILE_TEST_IS_DIR));
    return 0;
}

static void test_placement_topology(Fixture *f,
                                    gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) placement_reply = NULL;
    g_autoptr(JsonNode) memdevs = NULL;
    g_autoptr(JsonNode) cpus = NULL;
    g_autoptr(GError) err = NULL;
    PolicyPlacement placement;
    PolicyTopology topology;

    if (!f->client) {
        return;
    }
    json_object_set_int_member(args, "addr", 0);
    json_object_set_int_member(args, "size", 128 * MIB);
    placement_reply = run(f, "query-guest-memory-placement", args);
    memdevs = run(f, "query-memdev", NULL);
    cpus = run(f, "query-cpus-fast", NULL);

    policy_placement_init(&placement);
    policy_topology_init(&topology);
    g_assert_true(policy_placement_add_qmp(&placement, placement_reply,
                                           &err));
    g_assert_no_error(err);
    g_assert_cmpuint(placement.ranges->len, >=, 2);
    g_assert_true(policy_topology_memdevs_from_qmp(&topology, memdevs,
                                                   &err));
    g_assert_no_error(err);
    g_assert_cmpuint(topology.memdevs->len, ==, 2);
    g_assert_true(policy_topology_vcpus_from_qmp(
                      &topology, cpus, task_node,
                      (gpointer)g_subprocess_get_identifier(f->proc),
                      &err));
    g_assert_no_error(err);
    g_assert_cmpuint(topology.nr_guest_nodes, ==, 2);
    g_assert_cmpint(topology.vcpu_host_node[0], ==, 0);
    g_assert_cmpint(topology.vcpu_host_node[1], ==, 0);

    /*
     * Nothing is populated yet (no vCPU has run): node 0's zones are
     * backed where m0 binds them, node 1's are unknown.
     */
    g_assert_cmpint(policy_backing_node(&placement, &topology, 0,
                                        64 * 1024), ==, 0);
    g_assert_cmpint(policy_backing_node(&placement, &topology, 64 * MIB,
                                        64 * 1024), ==, POLICY_NO_NODE);

    policy_placement_clear(&placement);
    policy_topology_clear(&topology);
}

/*
 * The mailbox as QEMU reports it: nobody serves it in a stopped
 * machine, and the mode register follows snc-configure.
 */
static void test_mailbox(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) before = NULL;
    g_autoptr(JsonNode) after = NULL;
    g_autoptr(GError) err = NULL;
    PolicyMailbox mb;

    if (!f->client) {
        return;
    }
    before = run(f, "query-snc-counters", NULL);
    json_object_set_string_member(args, "host-mode", "cooperative");
    json_node_unref(run(f, "snc-configure", args));
    after = run(f, "query-snc-counters", NULL);

    g_assert_true(policy_mailbox_from_qmp(before, "snc0", &mb, &err));
    g_assert_no_error(err);
    g_assert_false(mb.guest_serving);
    g_assert_cmpint(mb.host_mode, ==, POLICY_MODE_OFF);
    g_assert_cmpuint(mb.queue_depth, ==, 0);
    g_assert_cmpuint(mb.queue_size, >=, 16);
    g_assert_true(policy_mailbox_from_qmp(after, NULL, &mb, &err));
    g_assert_no_error(err);
    g_assert_cmpint(mb.host_mode, ==, POLICY_MODE_COOPERATIVE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/policy/qmp/counters", Fixture, NULL, fixture_setup,
               test_counters, fixture_teardown);
    g_test_add("/policy/qmp/placement-topology", Fixture, NULL,
               fixture_setup, test_placement_topology, fixture_teardown);
    g_test_add("/policy/qmp/mailbox", Fixture, NULL, fixture_setup,
               test_mailbox, fixture_teardown);
    return g_test_run();
}
