/*
 * Tests of the policy's decisions, replayed from snapshots of QMP
 * replies: the JSON files in tests/policy/, which make-snapshots.py
 * there writes.
 *
 * Each snapshot holds query-cpus-fast and query-memdev replies, and
 * per period a query-snc-counters reply, one query-guest-memory-
 * placement reply per zone, and the host node each vCPU thread runs
 * on.  A test replays the periods through policy_decide() with one
 * configuration and compares each period's moves with the expected
 * ones, written "LEVER zZONE->NODE".
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <gio/gio.h>
#include <string.h>

#include "policy.h"
#include "policy-qmp.h"

#define MIB (1024 * 1024)

static JsonObject *load_snapshot(const char *name)
{
    g_autofree char *path = g_build_filename(SNAPSHOT_DIR, name, NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;

    json_parser_load_from_file(parser, path, &err);
    g_assert_no_error(err);
    return json_object_ref(json_node_get_object(
                               json_parser_get_root(parser)));
}

static gint thread_node(gint64 thread_id, gpointer opaque)
{
    JsonObject *map = opaque;
    g_autofree char *key = g_strdup_printf("%" G_GINT64_FORMAT, thread_id);

    return json_object_has_member(map, key) ?
           json_object_get_int_member(map, key) : POLICY_NO_NODE;
}

/* One period's inputs, parsed from @period of @snap. */
static void parse_period(JsonObject *snap, JsonObject *period,
                         PolicyCounts *counts, PolicyPlacement *placement,
                         PolicyTopology *topology)
{
    g_autoptr(GError) err = NULL;
    JsonArray *replies;

    policy_counts_from_qmp(json_object_get_member(period,
                                                  "query-snc-counters"),
                           NULL, counts, &err);
    g_assert_no_error(err);

    policy_placement_init(placement);
    replies = json_object_get_array_member(period,
                                           "query-guest-memory-placement");
    for (guint i = 0; i < json_array_get_length(replies); i++) {
        policy_placement_add_qmp(placement,
                                 json_array_get_element(replies, i), &err);
        g_assert_no_error(err);
    }

    policy_topology_init(topology);
    policy_topology_memdevs_from_qmp(topology,
                                     json_object_get_member(snap,
                                                            "query-memdev"),
                                     &err);
    g_assert_no_error(err);
    policy_topology_vcpus_from_qmp(topology,
                                   json_object_get_member(snap,
                                                          "query-cpus-fast"),
                                   thread_node,
                                   json_object_get_object_member(
                                       period, "vcpu-host-nodes"),
                                   &err);
    g_assert_no_error(err);
}

/*
 * Replay @name with @config.  @expected holds one string per period:
 * its moves, hottest first, separated by ", " ("" for none).  Also
 * checks what holds for every period: one move per zone, each a whole
 * zone, within the byte budget.
 */
static void replay_snapshot(JsonObject *snap, const char *name,
                            const PolicyConfig *config, gboolean moved,
                            const char *const *expected)
{
    JsonArray *periods = json_object_get_array_member(snap, "periods");
    PolicyState state = { .moved = moved };

    g_assert_cmpuint(json_array_get_length(periods), ==,
                     g_strv_length((char **)expected));
    for (guint p = 0; p < json_array_get_length(periods); p++) {
        PolicyCounts counts;
        PolicyPlacement placement;
        PolicyTopology topology;
        g_autoptr(GArray) moves = NULL;
        g_autoptr(GString) got = g_string_new(NULL);
        g_autoptr(GHashTable) zones = g_hash_table_new(NULL, NULL);
        guint64 bytes = 0;

        parse_period(snap, json_array_get_object_element(periods, p),
                     &counts, &placement, &topology);
        moves = policy_decide(config, &counts, &placement, &topology,
                              &state, &state);
        for (guint i = 0; i < moves->len; i++) {
            PolicyMove *m = &g_array_index(moves, PolicyMove, i);

            g_string_append_printf(got, "%s%s z%u->%d", i ? ", " : "",
                                   policy_lever_name(m->lever), m->zone,
                                   m->node);
            g_assert_false(g_hash_table_contains(zones,
                                                 GUINT_TO_POINTER(m->zone)));
            g_hash_table_add(zones, GUINT_TO_POINTER(m->zone));
            g_assert_cmpuint(m->addr, ==, m->zone * counts.zone_size);
            g_assert_cmpuint(m->size, ==, counts.zone_size);
            g_assert_cmpint(m->node, !=, m->from);
            bytes += m->size;
        }
        if (config->budget_bytes) {
            g_assert_cmpuint(bytes, <=, config->budget_bytes);
        }
        g_test_message("%s period %u (%s): %s", name, p + 1,
                       policy_mode_name(config->mode), got->str);
        g_assert_cmpstr(got->str, ==, expected[p]);

        policy_counts_clear(&counts);
        policy_placement_clear(&placement);
        policy_topology_clear(&topology);
    }
    policy_state_clear(&state);
}

/* Replay @name from an engine's start. */
static void replay(const char *name, const PolicyConfig *config,
                   const char *const *expected)
{
    g_autoptr(JsonObject) snap = load_snapshot(name);

    replay_snapshot(snap, name, config, FALSE, expected);
}

/*
 * Replay @name with an engine that has moved zones before: its first
 * move is behind it, so an unsettled zone needs confirmation.
 */
static void replay_after_move(const char *name, const PolicyConfig *config,
                              const char *const *expected)
{
    g_autoptr(JsonObject) snap = load_snapshot(name);

    replay_snapshot(snap, name, config, TRUE, expected);
}

static void config_mode(PolicyConfig *config, PolicyMode mode)
{
    policy_config_init(config);
    config->mode = mode;
}

/* Eight periods without a move. */
static const char *const no_moves[] = {
    "", "", "", "", "", "", "", "", NULL,
};

/*
 * Replay @name in every mode, expecting no move at all, by an engine
 * that has moved zones before.
 */
static void replay_every_mode_still(const char *name)
{
    PolicyConfig config;

    for (PolicyMode mode = POLICY_MODE_OFF; mode <= POLICY_MODE_COOPERATIVE;
         mode++) {
        config_mode(&config, mode);
        replay_after_move(name, &config, no_moves);
    }
}

/*
 * A snapshot replayed in one mode with the default configuration, by an
 * engine that has moved zones before.
 */
typedef struct ModeCase {
    const char *snapshot;
    PolicyMode mode;
    const char *const expected[5];
} ModeCase;

static void test_mode_case(gconstpointer data)
{
    const ModeCase *c = data;
    PolicyConfig config;

    config_mode(&config, c->mode);
    replay_after_move(c->snapshot, &config, c->expected);
}

/*
 * A phase change one period after the start.  The zones' first toucher
 * held them for a period only, so, once the engine has moved anything,
 * each move waits for the new toucher's second period in a row.
 * Cooperative and guest-only modes pull the guest lever; host-only mode
 * moves the backing instead; off moves nothing.
 */
static const ModeCase phase_cooperative = {
    "phase-change.json", POLICY_MODE_COOPERATIVE,
    { "", "", "guest z0->1, guest z4->0, guest z5->0, guest z1->1", "" },
};
static const ModeCase phase_guest_only = {
    "phase-change.json", POLICY_MODE_GUEST_ONLY,
    { "", "", "guest z0->1, guest z4->0, guest z5->0, guest z1->1", "" },
};
static const ModeCase phase_host_only = {
    "phase-change.json", POLICY_MODE_HOST_ONLY,
    { "", "", "host z0->1, host z4->0, host z5->0, host z1->1", "" },
};
static const ModeCase phase_off = {
    "phase-change.json", POLICY_MODE_OFF, { "", "", "", "" },
};
/* Off and guest-only modes have no lever for a re-pin. */
static const ModeCase repin_off = {
    "repin.json", POLICY_MODE_OFF, { "", "", "" },
};
static const ModeCase repin_guest_only = {
    "repin.json", POLICY_MODE_GUEST_ONLY, { "", "", "" },
};

/*
 * A vCPU re-pin: the guest's view stays right, so cooperative mode
 * pulls the host lever at once (the toucher has dominated for two
 * periods already); the next snapshot shows the zones moved.
 */
static void test_repin(void)
{
    static const char *const expected[] = {
        "", "host z0->1, host z1->1, host z2->1, host z3->1", "", NULL,
    };
    PolicyConfig config;

    config_mode(&config, POLICY_MODE_COOPERATIVE);
    replay("repin.json", &config, expected);
    config_mode(&config, POLICY_MODE_HOST_ONLY);
    replay("repin.json", &config, expected);
}

/*
 * Before the engine's first move every zone counts as settled: the
 * phase change moves in its first period, not its second.
 */
static void test_before_first_move(void)
{
    static const char *const expected[] = {
        "", "guest z0->1, guest z4->0, guest z5->0, guest z1->1", "", "",
        NULL,
    };
    PolicyConfig config;

    config_mode(&config, POLICY_MODE_COOPERATIVE);
    replay("phase-change.json", &config, expected);
}

/*
 * Which zones' backing the engine reads: in period 2 of the phase
 * change, zone 0 (home 0) is touched by node 1.  Host-only mode can
 * move its backing; cooperative mode leaves it to the guest lever, as
 * it leaves zone 0 of period 1, which node 0 touches, to the host one.
 */
static void test_backing_matters(void)
{
    g_autoptr(JsonObject) snap = load_snapshot("phase-change.json");
    JsonArray *periods = json_object_get_array_member(snap, "periods");
    PolicyConfig config;

    for (guint p = 0; p < 2; p++) {
        PolicyCounts counts;
        PolicyPlacement placement;
        PolicyTopology topology;
        gint toucher = p ? 1 : 0;

        parse_period(snap, json_array_get_object_element(periods, p),
                     &counts, &placement, &topology);
        config_mode(&config, POLICY_MODE_COOPERATIVE);
        g_assert_cmpint(counts.home[0], ==, 0);
        g_assert_cmpint(policy_zone_toucher(&config, &counts, 0), ==,
                        toucher);
        g_assert_cmpint(policy_backing_matters(&config, &counts, 0), ==, !p);
        config_mode(&config, POLICY_MODE_HOST_ONLY);
        g_assert_true(policy_backing_matters(&config, &counts, 0));
        config_mode(&config, POLICY_MODE_GUEST_ONLY);
        g_assert_false(policy_backing_matters(&config, &counts, 0));
        policy_counts_clear(&counts);
        policy_placement_clear(&placement);
        policy_topology_clear(&topology);
    }
}

/*
 * A phase change after eight periods of one toucher per zone: a settled
 * zone follows its new toucher in the change's first period.  One more
 * period of settling needed, or none ever (settle 0), and it waits for
 * the second as above.
 */
static void test_settled_phase_change(void)
{
    static const char *const at_once[] = {
        "", "", "", "", "", "", "", "",
        "guest z0->1, guest z4->0, guest z5->0, guest z1->1", "", NULL,
    };
    static const char *const confirmed[] = {
        "", "", "", "", "", "", "", "",
        "", "guest z0->1, guest z4->0, guest z5->0, guest z1->1", NULL,
    };
    PolicyConfig config;

    config_mode(&config, POLICY_MODE_COOPERATIVE);
    g_assert_cmpuint(config.settle_periods, ==, 8);
    replay_after_move("settled-phase-change.json", &config, at_once);
    config.settle_periods = 9;
    replay_after_move("settled-phase-change.json", &config, confirmed);
    config.settle_periods = 0;
    replay_after_move("settled-phase-change.json", &config, confirmed);
    /* Settling off: not even the first move follows a single period. */
    replay("settled-phase-change.json", &config, confirmed);
}

/* Too few touches, or no clear dominant node: nothing moves. */
static void test_noise(void)
{
    static const char *const expected[] = { "", "", "", "", NULL };
    static const char *const loose[] = {
        "", "guest z5->0", "", "", NULL,
    };
    static const char *const loose_first[] = {
        "guest z5->0", "", "", "", NULL,
    };
    PolicyConfig config;

    config_mode(&config, POLICY_MODE_COOPERATIVE);
    replay("noise.json", &config, expected);
    replay_after_move("noise.json", &config, expected);

    /*
     * The same counts with a looser ratio: zone 5 (55 %) moves, in its
     * second period, or in its first when it is the engine's first move.
     */
    config.dominance = 0.54;
    replay_after_move("noise.json", &config, loose);
    replay("noise.json", &config, loose_first);
}

/* 32 MiB per period: two 16 MiB zones, the hottest first. */
static void test_budget(void)
{
    static const char *const expected[] = {
        "", "host z0->1, host z1->1", "host z2->1, host z3->1", "", NULL,
    };
    static const char *const unlimited[] = {
        "", "host z0->1, host z1->1, host z2->1, host z3->1", "", "", NULL,
    };
    PolicyConfig config;

    config_mode(&config, POLICY_MODE_COOPERATIVE);
    config.budget_bytes = 32 * MIB;
    replay("budget.json", &config, expected);

    /* A budget smaller than a zone moves nothing. */
    config.budget_bytes = 16 * MIB - 1;
    replay("budget.json", &config, (const char *const[]){
        "", "", "", "", NULL });

    config.budget_bytes = 0;
    replay("budget.json", &config, unlimited);
}

/*
 * Ping-pong bait: zone 2's dominant toucher flips every period.  It
 * never confirms a toucher, and never holds the zone long enough to
 * settle it: once the engine has moved anything, no lever moves it, in
 * any mode.  An engine that starts on it follows its first toucher,
 * since that is its first move, and never moves it back.  With
 * confirmation switched off the cooldown still keeps it from moving
 * back at once.
 */
static void test_ping_pong(void)
{
    static const char *const once_guest[] = {
        "guest z2->1", "", "", "", "", "", "", "", NULL,
    };
    static const char *const once_host[] = {
        "host z2->1", "", "", "", "", "", "", "", NULL,
    };
    static const char *const unconfirmed[] = {
        "guest z2->1", "", "", "", "guest z2->1", "", "", "", NULL,
    };
    PolicyConfig config;

    replay_every_mode_still("ping-pong.json");
    config_mode(&config, POLICY_MODE_OFF);
    replay("ping-pong.json", &config, no_moves);
    config_mode(&config, POLICY_MODE_HOST_ONLY);
    replay("ping-pong.json", &config, once_host);
    config_mode(&config, POLICY_MODE_GUEST_ONLY);
    replay("ping-pong.json", &config, once_guest);
    config_mode(&config, POLICY_MODE_COOPERATIVE);
    replay("ping-pong.json", &config, once_guest);
    config.confirm_periods = 1;
    replay_after_move("ping-pong.json", &config, unconfirmed);
}

/* A deep copy: json_node_copy() shares the containers. */
static JsonNode *deep_copy(JsonNode *node)
{
    g_autofree char *text = json_to_string(node, FALSE);

    return json_from_string(text, NULL);
}

/* The parser picks one device from a list and reads "top" replies. */
static void test_parse_devices(void)
{
    g_autoptr(JsonObject) snap = load_snapshot("repin.json");
    JsonObject *period = json_array_get_object_element(
        json_object_get_array_member(snap, "periods"), 0);
    JsonNode *reply = json_object_get_member(period, "query-snc-counters");
    g_autoptr(JsonNode) two = deep_copy(reply);
    JsonArray *list = json_node_get_array(two);
    g_autoptr(JsonObject) other = json_object_new();
    g_autoptr(GError) err = NULL;
    PolicyCounts counts;

    /* The whole QOM path, its last component, or the only device. */
    g_assert_true(policy_counts_from_qmp(reply, "/machine/peripheral/snc0",
                                         &counts, &err));
    g_assert_cmpuint(counts.nr_zones, ==, 8);
    g_assert_cmpuint(counts.nr_nodes, ==, 2);
    g_assert_cmpuint(counts.zone_size, ==, 16 * MIB);
    g_assert_cmpuint(counts.sequence, ==, 1);
    g_assert_cmpint(counts.home[3], ==, 0);
    g_assert_cmpint(counts.home[4], ==, 1);
    /* top-4 replies: listed zones count, the others are 0. */
    g_assert_cmpuint(policy_count(&counts, 0, 0), ==, 800);
    g_assert_cmpuint(policy_count(&counts, 0, 4), ==, 0);
    g_assert_cmpuint(policy_count(&counts, 1, 7), ==, 800);
    policy_counts_clear(&counts);
    g_assert_true(policy_counts_from_qmp(reply, NULL, &counts, &err));
    policy_counts_clear(&counts);

    /* Two devices: a name is needed, and must exist. */
    json_object_set_string_member(other, "id", "/machine/peripheral/snc1");
    json_array_add_object_element(list, json_object_ref(other));
    g_assert_false(policy_counts_from_qmp(two, NULL, &counts, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error(&err);
    g_assert_false(policy_counts_from_qmp(two, "snc2", &counts, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "snc2"));
    g_clear_error(&err);
    /* snc1 is picked, and its missing members are reported by name. */
    g_assert_false(policy_counts_from_qmp(two, "snc1", &counts, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull(strstr(err->message, "'zones' is missing"));
    g_clear_error(&err);

    /* A home node that is not an integer, or out of range. */
    {
        g_autoptr(JsonNode) bent = deep_copy(reply);
        JsonObject *dev = json_array_get_object_element(
            json_node_get_array(bent), 0);
        JsonArray *homes = json_array_new();

        for (guint z = 0; z < 8; z++) {
            json_array_add_int_element(homes, z == 3 ? 128 : 0);
        }
        json_object_set_array_member(dev, "home-nodes", homes);
        g_assert_false(policy_counts_from_qmp(bent, NULL, &counts, &err));
        g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_cmpstr(err->message, ==, "query-snc-counters: member "
                        "'home-nodes' has 128 at 3, not in [-1, 127]");
        g_clear_error(&err);
        json_array_remove_element(homes, 3);
        json_array_add_string_element(homes, "x");
        g_assert_false(policy_counts_from_qmp(bent, NULL, &counts, &err));
        g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_nonnull(strstr(err->message, "not an integer"));
        g_clear_error(&err);
    }

    /* A device that cannot count says why. */
    json_object_set_boolean_member(other, "available", FALSE);
    json_object_set_string_member(other, "unavailable-reason",
                                  "KVM gives no touch information");
    g_assert_false(policy_counts_from_qmp(two, "snc1", &counts, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_assert_nonnull(strstr(err->message, "KVM gives no touch"));
}

/*
 * Recorded in a 2-node guest on a single-node host, every thread on
 * its own node's data: all is local, no lever has anything to do.
 */
static void test_recorded_local(void)
{
    replay_every_mode_still("recorded-local-2-nodes.json");
}

/*
 * The same recorded counts, as if guest node 1's vCPU threads ran on
 * host node 1 while all RAM stays on host node 0: the host lever
 * moves node 1's hot zones (its buffer, in zones 1040-1043 and from
 * 2016 on), and only those, in the first period: nothing has moved
 * before, so no toucher needs confirming.  Zone 1034,
 * which both nodes share about equally, is not among them: in period 7
 * node 1 has 61 % of its touches, in period 8 59 %.  The
 * recorded placement does not show the moves, so a long cooldown
 * keeps them from being repeated.
 */
static void test_recorded_repin(void)
{
    static const char *const expected[] = {
        "host z1042->1, host z1043->1, host z2017->1, host z2016->1, "
        "host z1041->1, host z2018->1, host z2019->1, host z1040->1, "
        "host z2020->1, host z2022->1",
        "", "", "", "", "", "", "", NULL,
    };
    g_autoptr(JsonObject) snap = load_snapshot("recorded-local-2-nodes.json");
    JsonArray *cpus = json_object_get_array_member(snap, "query-cpus-fast");
    JsonArray *periods = json_object_get_array_member(snap, "periods");
    PolicyConfig config;

    for (guint p = 0; p < json_array_get_length(periods); p++) {
        JsonObject *map = json_object_get_object_member(
            json_array_get_object_element(periods, p), "vcpu-host-nodes");

        for (guint i = 0; i < json_array_get_length(cpus); i++) {
            JsonObject *cpu = json_array_get_object_element(cpus, i);
            JsonObject *props = json_object_get_object_member(cpu, "props");
            g_autofree char *thread = g_strdup_printf(
                "%" G_GINT64_FORMAT,
                json_object_get_int_member(cpu, "thread-id"));

            json_object_set_int_member(
                map, thread, json_object_get_int_member(props, "node-id"));
        }
    }
    config_mode(&config, POLICY_MODE_COOPERATIVE);
    config.cooldown_periods = 100;
    replay_snapshot(snap, "recorded-local-2-nodes.json (re-pinned)",
                    &config, FALSE, expected);
}

/* Backing node: the majority of populated bytes, else the memdev's. */
static void test_backing_node(void)
{
    PolicyPlacement placement;
    PolicyTopology topology;
    PolicyRange *r;
    const gint guest[] = { 0, 0, 0, 1, 1 };
    const gint host[] = { 1, 1, 0, 0, -1 };

    policy_placement_init(&placement);
    policy_topology_init(&topology);
    policy_topology_add_memdev(&topology, "m0", 0);

    /* 32 MiB: 8 MiB on node 0, 4 MiB on node 1, the rest untouched. */
    r = policy_placement_add(&placement, 0, 32 * MIB, "m0");
    r->bytes[0] = 8 * MIB;
    r->bytes[1] = 4 * MIB;
    g_assert_cmpint(policy_backing_node(&placement, &topology, 0,
                                        16 * MIB), ==, 0);
    /* An unpopulated range: where its memdev allocates. */
    r = policy_placement_add(&placement, 32 * MIB, 16 * MIB, "m0");
    g_assert_cmpint(policy_backing_node(&placement, &topology, 32 * MIB,
                                        16 * MIB), ==, 0);
    r = policy_placement_add(&placement, 48 * MIB, 16 * MIB, "m9");
    g_assert_cmpint(policy_backing_node(&placement, &topology, 48 * MIB,
                                        16 * MIB), ==, POLICY_NO_NODE);
    /* Outside every range: unknown. */
    g_assert_cmpint(policy_backing_node(&placement, &topology, 64 * MIB,
                                        16 * MIB), ==, POLICY_NO_NODE);

    /* vCPUs: guest node 0 mostly on host 1; node 1 split: unknown. */
    policy_topology_set_vcpus(&topology, guest, host, G_N_ELEMENTS(guest));
    g_assert_cmpuint(topology.nr_guest_nodes, ==, 2);
    g_assert_cmpint(topology.vcpu_host_node[0], ==, 1);
    g_assert_cmpint(topology.vcpu_host_node[1], ==, POLICY_NO_NODE);

    policy_placement_clear(&placement);
    policy_topology_clear(&topology);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/policy/phase-change", &phase_cooperative,
                         test_mode_case);
    g_test_add_func("/policy/repin", test_repin);
    g_test_add_func("/policy/noise", test_noise);
    g_test_add_func("/policy/budget", test_budget);
    g_test_add_func("/policy/ping-pong", test_ping_pong);
    g_test_add_func("/policy/before-first-move", test_before_first_move);
    g_test_add_func("/policy/backing-matters", test_backing_matters);
    g_test_add_func("/policy/settled-phase-change",
                    test_settled_phase_change);
    g_test_add_data_func("/policy/mode/off/phase-change", &phase_off,
                         test_mode_case);
    g_test_add_data_func("/policy/mode/off/repin", &repin_off,
                         test_mode_case);
    g_test_add_data_func("/policy/mode/host-only/phase-change",
                         &phase_host_only, test_mode_case);
    g_test_add_data_func("/policy/mode/guest-only/phase-change",
                         &phase_guest_only, test_mode_case);
    g_test_add_data_func("/policy/mode/guest-only/repin",
                         &repin_guest_only, test_mode_case);
    g_test_add_func("/policy/parse/devices", test_parse_devices);
    g_test_add_func("/policy/backing-node", test_backing_node);
    g_test_add_func("/policy/recorded/local", test_recorded_local);
    g_test_add_func("/policy/recorded/repin", test_recorded_repin);
    return g_test_run();
}
