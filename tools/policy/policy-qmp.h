/*
 * policy-qmp: the policy's inputs from QMP replies.
 *
 * Each function takes the "return" member of one reply, as
 * qmp_client_execute() gives it or as a recorded snapshot keeps it,
 * and fills one input of policy_decide().  Errors are in
 * G_IO_ERROR_INVALID_DATA and name the member that is wrong.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef POLICY_QMP_H
#define POLICY_QMP_H

#include <json-glib/json-glib.h>

#include "policy.h"

G_BEGIN_DECLS

/*
 * query-snc-counters: one device's snapshot.  @reply is one device's
 * object or a list of them; @device picks one from a list by its "id"
 * or "qom-path" (or the last component of either), and may be NULL
 * when the list has a single device.  Both "counts" and "top" replies
 * are read; zones left out of "top" count 0.  A device that cannot
 * count is an error that gives its reason.
 */
gboolean policy_counts_from_qmp(JsonNode *reply, const char *device,
                                PolicyCounts *counts, GError **errp);

/*
 * query-guest-memory-placement: add each block of @reply to
 * @placement as a range, with its bytes per host node.
 */
gboolean policy_placement_add_qmp(PolicyPlacement *placement,
                                  JsonNode *reply, GError **errp);

/*
 * query-memdev: add each backend with an id to @topology, with its
 * host node when its policy binds it (or prefers) exactly one node.
 */
gboolean policy_topology_memdevs_from_qmp(PolicyTopology *topology,
                                          JsonNode *reply, GError **errp);

/*
 * query-cpus-fast: set each guest node's vCPU host node.  The reply
 * gives each vCPU's guest node (props.node-id) and thread id; the
 * caller's @host_node_of_thread says which host node a thread runs on
 * (-1: unknown), from its CPU affinity or where it last ran.
 */
typedef gint (*PolicyThreadNodeFunc)(gint64 thread_id, gpointer opaque);

gboolean policy_topology_vcpus_from_qmp(PolicyTopology *topology,
                                        JsonNode *reply,
                                        PolicyThreadNodeFunc
                                        host_node_of_thread,
                                        gpointer opaque, GError **errp);

/* The request mailbox of one SNC device, from query-snc-counters. */
typedef struct PolicyMailbox {
    gboolean guest_serving;     /* a guest driver serves requests */
    PolicyMode host_mode;       /* what the mode register shows */
    guint queue_depth;
    guint queue_size;
} PolicyMailbox;

/*
 * query-snc-counters: the "mailbox" of the device that @device picks
 * (as for policy_counts_from_qmp()).  A device without one, as a QEMU
 * older than the mailbox reports it, has no guest serving it.
 */
gboolean policy_mailbox_from_qmp(JsonNode *reply, const char *device,
                                 PolicyMailbox *mailbox, GError **errp);

G_END_DECLS

#endif /* POLICY_QMP_H */
