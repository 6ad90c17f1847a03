/*
 * policy-qmp: the policy's inputs from QMP replies.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <gio/gio.h>
#include <string.h>

#include "policy-qmp.h"

static gboolean bad(GError **errp, const char *what, const char *member,
                    const char *why)
{
    g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s: member '%s' %s", what, member, why);
    return FALSE;
}

/* Integer member @member of @obj, in [@min, @max]. */
static gboolean get_int(JsonObject *obj, const char *what,
                        const char *member, gint64 min, gint64 max,
                        gint64 *value, GError **errp)
{
    JsonNode *node = json_object_get_member(obj, member);

    if (!node) {
        return bad(errp, what, member, "is missing");
    }
    if (json_node_get_value_type(node) != G_TYPE_INT64) {
        return bad(errp, what, member, "is not an integer");
    }
    *value = json_node_get_int(node);
    if (*value < min || *value > max) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: member '%s' is %" G_GINT64_FORMAT
                    ", not in [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                    what, member, *value, min, max);
        return FALSE;
    }
    return TRUE;
}

/* Integer element @i of list @member, in [@min, @max]. */
static gboolean get_int_element(JsonArray *array, guint i, const char *what,
                                const char *member, gint64 min, gint64 max,
                                gint64 *value, GError **errp)
{
    JsonNode *node = json_array_get_element(array, i);

    if (json_node_get_value_type(node) != G_TYPE_INT64) {
        return bad(errp, what, member, "has an element that is not an "
                   "integer");
    }
    *value = json_node_get_int(node);
    if (*value < min || *value > max) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: member '%s' has %" G_GINT64_FORMAT " at %u, not "
                    "in [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                    what, member, *value, i, min, max);
        return FALSE;
    }
    return TRUE;
}

static JsonArray *get_array(JsonObject *obj, const char *what,
                            const char *member, GError **errp)
{
    JsonNode *node = json_object_get_member(obj, member);

    if (!node || !JSON_NODE_HOLDS_ARRAY(node)) {
        bad(errp, what, member, node ? "is not a list" : "is missing");
        return NULL;
    }
    return json_node_get_array(node);
}

/* Object element @i of @array, or NULL with @errp set. */
static JsonObject *get_element(JsonArray *array, guint i, const char *what,
                               const char *member, GError **errp)
{
    JsonNode *node = json_array_get_element(array, i);

    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        bad(errp, what, member, "has an element that is not an object");
        return NULL;
    }
    return json_node_get_object(node);
}

/* @reply as a list, or NULL with @errp set. */
static JsonArray *reply_list(JsonNode *reply, const char *what,
                             GError **errp)
{
    if (!reply || !JSON_NODE_HOLDS_ARRAY(reply)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: the reply is not a list", what);
        return NULL;
    }
    return json_node_get_array(reply);
}

static const char *get_string(JsonObject *obj, const char *member)
{
    JsonNode *node = json_object_get_member(obj, member);

    return node && json_node_get_value_type(node) == G_TYPE_STRING ?
           json_node_get_string(node) : NULL;
}

/* Whether @name is @path or its last component. */
static gboolean names(const char *path, const char *name)
{
    const char *slash;

    if (!path) {
        return FALSE;
    }
    slash = strrchr(path, '/');
    return g_str_equal(path, name) || (slash && g_str_equal(slash + 1, name));
}

static JsonObject *select_device(JsonNode *reply, const char *device,
                                 GError **errp)
{
    JsonArray *list;

    if (reply && JSON_NODE_HOLDS_OBJECT(reply)) {
        return json_node_get_object(reply);
    }
    if (!reply || !JSON_NODE_HOLDS_ARRAY(reply)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "query-snc-counters: the reply is neither a device "
                    "nor a list of devices");
        return NULL;
    }
    list = json_node_get_array(reply);
    if (!device) {
        if (json_array_get_length(list) != 1) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "query-snc-counters: %u SNC devices, name one",
                        json_array_get_length(list));
            return NULL;
        }
        return get_element(list, 0, "query-snc-counters", "(list)", errp);
    }
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *dev = get_element(list, i, "query-snc-counters",
                                      "(list)", errp);

        if (!dev) {
            return NULL;
        }
        if (names(get_string(dev, "id"), device) ||
            names(get_string(dev, "qom-path"), device)) {
            return dev;
        }
    }
    g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "query-snc-counters: no SNC device '%s'", device);
    return NULL;
}

/* One SncNodeCounters: its "counts", or its "top" list. */
static gboolean node_counts(JsonObject *obj, PolicyCounts *counts,
                            GError **errp)
{
    const char *what = "query-snc-counters: nodes";
    JsonArray *list;
    gint64 node;
    guint64 *row;

    if (!get_int(obj, what, "node", 0, counts->nr_nodes - 1, &node, errp)) {
        return FALSE;
    }
    row = &counts->counts[node * counts->nr_zones];
    if (json_object_has_member(obj, "counts")) {
        list = get_array(obj, what, "counts", errp);
        if (!list) {
            return FALSE;
        }
        if (json_array_get_length(list) != counts->nr_zones) {
            return bad(errp, what, "counts", "does not have one count "
                       "per zone");
        }
        for (guint z = 0; z < counts->nr_zones; z++) {
            gint64 count;

            if (!get_int_element(list, z, what, "counts", 0, G_MAXINT64,
                                 &count, errp)) {
                return FALSE;
            }
            row[z] = count;
        }
        return TRUE;
    }
    list = get_array(obj, what, "top", errp);
    if (!list) {
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *zc = get_element(list, i, what, "top", errp);
        gint64 zone, count;

        if (!zc ||
            !get_int(zc, what, "zone", 0, counts->nr_zones - 1, &zone,
                     errp) ||
            !get_int(zc, what, "count", 0, G_MAXINT64, &count, errp)) {
            return FALSE;
        }
        row[zone] = count;
    }
    return TRUE;
}

gboolean policy_counts_from_qmp(JsonNode *reply, const char *device,
                                PolicyCounts *counts, GError **errp)
{
    const char *what = "query-snc-counters";
    JsonObject *dev = select_device(reply, device, errp);
    JsonArray *homes, *nodes;
    JsonNode *available;
    gint64 zones, zone_size, sequence, max_node = -1;

    if (!dev) {
        return FALSE;
    }
    available = json_object_get_member(dev, "available");
    if (available &&
        json_node_get_value_type(available) == G_TYPE_BOOLEAN &&
        !json_node_get_boolean(available)) {
        const char *why = get_string(dev, "unavailable-reason");

        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "SNC device %s cannot count: %s",
                    get_string(dev, "id") ? get_string(dev, "id") : "?",
                    why ? why : "no reason given");
        return FALSE;
    }
    if (!get_int(dev, what, "zones", 1, G_MAXUINT32, &zones, errp) ||
        !get_int(dev, what, "zone-size", 1, G_MAXINT64, &zone_size, errp) ||
        !get_int(dev, what, "sequence", 0, G_MAXINT64, &sequence, errp)) {
        return FALSE;
    }
    homes = get_array(dev, what, "home-nodes", errp);
    nodes = homes ? get_array(dev, what, "nodes", errp) : NULL;
    if (!nodes) {
        return FALSE;
    }
    if (json_array_get_length(homes) != zones) {
        return bad(errp, what, "home-nodes", "does not have one node per "
                   "zone");
    }
    for (guint i = 0; i < json_array_get_length(nodes); i++) {
        JsonObject *obj = get_element(nodes, i, what, "nodes", errp);
        gint64 node;

        if (!obj ||
            !get_int(obj, what, "node", 0, POLICY_MAX_NODES - 1, &node,
                     errp)) {
            return FALSE;
        }
        max_node = MAX(max_node, node);
    }

    policy_counts_init(counts, zones, max_node + 1, zone_size);
    counts->sequence = sequence;
    for (guint z = 0; z < zones; z++) {
        gint64 home;

        if (!get_int_element(homes, z, what, "home-nodes", -1,
                             POLICY_MAX_NODES - 1, &home, errp)) {
            policy_counts_clear(counts);
            return FALSE;
        }
        counts->home[z] = home;
    }
    for (guint i = 0; i < json_array_get_length(nodes); i++) {
        if (!node_counts(json_array_get_object_element(nodes, i), counts,
                         errp)) {
            policy_counts_clear(counts);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean policy_placement_add_qmp(PolicyPlacement *placement,
                                  JsonNode *reply, GError **errp)
{
    const char *what = "query-guest-memory-placement";
    JsonArray *blocks = NULL;

    if (!reply || !JSON_NODE_HOLDS_OBJECT(reply)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: the reply is not an object", what);
    } else {
        blocks = get_array(json_node_get_object(reply), what, "blocks",
                           errp);
    }
    if (!blocks) {
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(blocks); i++) {
        JsonObject *block = get_element(blocks, i, what, "blocks", errp);
        JsonArray *usage;
        PolicyRange *range;
        gint64 addr, size;

        if (!block ||
            !get_int(block, what, "addr", 0, G_MAXINT64, &addr, errp) ||
            !get_int(block, what, "size", 1, G_MAXINT64, &size, errp)) {
            return FALSE;
        }
        usage = get_array(block, what, "nodes", errp);
        if (!usage) {
            return FALSE;
        }
        range = policy_placement_add(placement, addr, size,
                                     get_string(block, "memdev"));
        for (guint j = 0; j < json_array_get_length(usage); j++) {
            JsonObject *u = get_element(usage, j, what, "nodes", errp);
            gint64 node, bytes;

            if (!u ||
                !get_int(u, what, "node", 0, POLICY_MAX_NODES - 1, &node,
                         errp) ||
                !get_int(u, what, "bytes", 0, G_MAXINT64, &bytes, errp)) {
                return FALSE;
            }
            range->bytes[node] += bytes;
        }
    }
    return TRUE;
}

gboolean policy_topology_memdevs_from_qmp(PolicyTopology *topology,
                                          JsonNode *reply, GError **errp)
{
    const char *what = "query-memdev";
    JsonArray *list = reply_list(reply, what, errp);

    if (!list) {
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *m = get_element(list, i, what, "(list)", errp);
        const char *policy;
        JsonArray *hosts;
        gint64 node = POLICY_NO_NODE;

        if (!m) {
            return FALSE;
        }
        hosts = get_array(m, what, "host-nodes", errp);
        if (!hosts) {
            return FALSE;
        }
        if (!get_string(m, "id")) {
            continue;
        }
        policy = get_string(m, "policy");
        if (json_array_get_length(hosts) == 1 &&
            (g_strcmp0(policy, "bind") == 0 ||
             g_strcmp0(policy, "preferred") == 0)) {
            if (!get_int_element(hosts, 0, what, "host-nodes", 0,
                                 POLICY_MAX_NODES - 1, &node, errp)) {
                return FALSE;
            }
        }
        policy_topology_add_memdev(topology, get_string(m, "id"), node);
    }
    return TRUE;
}

gboolean policy_topology_vcpus_from_qmp(PolicyTopology *topology,
                                        JsonNode *reply,
                                        PolicyThreadNodeFunc
                                        host_node_of_thread,
                                        gpointer opaque, GError **errp)
{
    const char *what = "query-cpus-fast";
    g_autoptr(GArray) guest = g_array_new(FALSE, FALSE, sizeof(gint));
    g_autoptr(GArray) host = g_array_new(FALSE, FALSE, sizeof(gint));
    JsonArray *list = reply_list(reply, what, errp);

    if (!list) {
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *cpu = get_element(list, i, what, "(list)", errp);
        JsonNode *props;
        gint64 thread, node = POLICY_NO_NODE;
        gint g, h;

        if (!cpu ||
            !get_int(cpu, what, "thread-id", 0, G_MAXINT64, &thread,
                     errp)) {
            return FALSE;
        }
        /* Without NUMA, or without node-id, the vCPU is in node 0. */
        props = json_object_get_member(cpu, "props");
        if (props && JSON_NODE_HOLDS_OBJECT(props) &&
            json_object_has_member(json_node_get_object(props),
                                   "node-id") &&
            !get_int(json_node_get_object(props), "query-cpus-fast: props",
                     "node-id", 0, POLICY_MAX_NODES - 1, &node, errp)) {
            return FALSE;
        }
        g = node == POLICY_NO_NODE ? 0 : node;
        h = host_node_of_thread(thread, opaque);
        g_array_append_val(guest, g);
        g_array_append_val(host, h);
    }
    policy_topology_set_vcpus(topology, (gint *)guest->data,
                              (gint *)host->data, guest->len);
    return TRUE;
}

gboolean policy_mailbox_from_qmp(JsonNode *reply, const char *device,
                                 PolicyMailbox *mailbox, GError **errp)
{
    const char *what = "query-snc-counters: mailbox";
    JsonObject *dev = select_device(reply, device, errp);
    JsonNode *node, *serving;
    JsonObject *mb;
    gint64 depth, size;

    if (!dev) {
        return FALSE;
    }
    *mailbox = (PolicyMailbox){ .host_mode = POLICY_MODE_OFF };
    node = json_object_get_member(dev, "mailbox");
    if (!node) {
        return TRUE;
    }
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        return bad(errp, "query-snc-counters", "mailbox", "is not an object");
    }
    mb = json_node_get_object(node);
    serving = json_object_get_member(mb, "guest-serving");
    if (!serving || json_node_get_value_type(serving) != G_TYPE_BOOLEAN) {
        return bad(errp, what, "guest-serving", serving ?
                   "is not a boolean" : "is missing");
    }
    if (!policy_mode_from_name(get_string(mb, "host-mode"),
                               &mailbox->host_mode)) {
        return bad(errp, what, "host-mode", "is not a known mode");
    }
    if (!get_int(mb, what, "queue-depth", 0, G_MAXUINT32, &depth, errp) ||
        !get_int(mb, what, "queue-size", 0, G_MAXUINT32, &size, errp)) {
        return FALSE;
    }
    mailbox->guest_serving = json_node_get_boolean(serving);
    mailbox->queue_depth = depth;
    mailbox->queue_size = size;
    return TRUE;
}
