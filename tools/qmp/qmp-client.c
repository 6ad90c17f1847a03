/*
 * qmp-client: requests, error replies and the event queue, shared by
 * every transport.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qmp-client.h"

struct QmpClient {
    const QmpTransportOps *ops;
    gpointer priv;
    GQueue events;          /* of QmpEvent *, oldest first */
};

G_DEFINE_QUARK(qmp-error-quark, qmp_error)

static const char *const qmp_error_classes[] = {
    [QMP_ERROR_GENERIC_ERROR] = "GenericError",
    [QMP_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [QMP_ERROR_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
    [QMP_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
    [QMP_ERROR_KVM_MISSING_CAP] = "KVMMissingCap",
};

const char *qmp_error_class_name(QmpError code)
{
    if (code < G_N_ELEMENTS(qmp_error_classes) && qmp_error_classes[code]) {
        return qmp_error_classes[code];
    }
    return code == QMP_ERROR_PROTOCOL ? "ProtocolError" : "UnknownClass";
}

static QmpError qmp_error_from_class(const char *class)
{
    for (guint i = 0; i < G_N_ELEMENTS(qmp_error_classes); i++) {
        if (g_strcmp0(class, qmp_error_classes[i]) == 0) {
            return i;
        }
    }
    return QMP_ERROR_UNKNOWN_CLASS;
}

void qmp_event_free(QmpEvent *event)
{
    if (!event) {
        return;
    }
    g_free(event->name);
    json_object_unref(event->data);
    g_free(event);
}

QmpClient *qmp_client_new(const QmpTransportOps *ops, gpointer priv)
{
    QmpClient *client = g_new0(QmpClient, 1);

    client->ops = ops;
    client->priv = priv;
    g_queue_init(&client->events);
    return client;
}

void qmp_client_free(QmpClient *client)
{
    if (!client) {
        return;
    }
    client->ops->close(client, client->priv);
    if (client->ops->free) {
        client->ops->free(client->priv);
    }
    g_queue_clear_full(&client->events, (GDestroyNotify)qmp_event_free);
    g_free(client);
}

const char *qmp_client_transport_name(QmpClient *client)
{
    return client->ops->name;
}

gpointer qmp_client_transport_priv(QmpClient *client)
{
    return client->priv;
}

gboolean qmp_client_connect(QmpClient *client, GError **errp)
{
    return client->ops->connect(client, client->priv, errp);
}

void qmp_client_close(QmpClient *client)
{
    client->ops->close(client, client->priv);
}

/* Member @name of @obj if it is an object, else NULL. */
static JsonObject *member_object(JsonObject *obj, const char *name)
{
    JsonNode *node = obj ? json_object_get_member(obj, name) : NULL;

    return node && JSON_NODE_HOLDS_OBJECT(node) ?
           json_node_get_object(node) : NULL;
}

/* Member @name of @obj if it is a string, else NULL. */
static const char *member_string(JsonObject *obj, const char *name)
{
    JsonNode *node = json_object_get_member(obj, name);

    return node && json_node_get_value_type(node) == G_TYPE_STRING ?
           json_node_get_string(node) : NULL;
}

/* Integer member @name of @obj, or 0. */
static gint64 member_int(JsonObject *obj, const char *name)
{
    JsonNode *node = obj ? json_object_get_member(obj, name) : NULL;

    if (!node || json_node_get_value_type(node) != G_TYPE_INT64) {
        return 0;
    }
    return json_node_get_int(node);
}

void qmp_client_push_event(QmpClient *client, JsonObject *message)
{
    QmpEvent *event = g_new0(QmpEvent, 1);
    JsonObject *ts = member_object(message, "timestamp");
    JsonObject *data = member_object(message, "data");

    event->name = g_strdup(member_string(message, "event"));
    event->data = data ? json_object_ref(data) : json_object_new();
    event->seconds = member_int(ts, "seconds");
    event->microseconds = member_int(ts, "microseconds");
    g_queue_push_tail(&client->events, event);
}

/* Turn the "error" member of a reply into @errp. */
static void set_reply_error(JsonObject *error, const char *command,
                            GError **errp)
{
    const char *class = member_string(error, "class");
    const char *desc = member_string(error, "desc");

    g_set_error(errp, QMP_ERROR, qmp_error_from_class(class), "%s",
                desc ? desc : "(no description)");
    g_prefix_error(errp, "%s: ", command);
}

JsonNode *qmp_client_execute(QmpClient *client, const char *command,
                             JsonObject *arguments, GError **errp)
{
    g_autoptr(JsonObject) request = json_object_new();
    g_autoptr(JsonObject) reply = NULL;
    JsonNode *node;

    json_object_set_string_member(request, "execute", command);
    if (arguments) {
        json_object_set_object_member(request, "arguments",
                                      json_object_ref(arguments));
    }
    reply = client->ops->exchange(client, client->priv, request, errp);
    if (!reply) {
        return NULL;
    }
    node = json_object_get_member(reply, "return");
    if (node) {
        return json_node_copy(node);
    }
    node = json_object_get_member(reply, "error");
    if (node && JSON_NODE_HOLDS_OBJECT(node)) {
        set_reply_error(json_node_get_object(node), command, errp);
        return NULL;
    }
    g_set_error(errp, QMP_ERROR, QMP_ERROR_PROTOCOL,
                "%s: reply has neither \"return\" nor \"error\"", command);
    return NULL;
}

QmpEvent *qmp_client_next_event(QmpClient *client, guint timeout_ms,
                                GError **errp)
{
    if (g_queue_is_empty(&client->events) &&
        !client->ops->wait_events(client, client->priv, timeout_ms, errp)) {
        return NULL;
    }
    return g_queue_pop_head(&client->events);
}

guint qmp_client_queued_events(QmpClient *client)
{
    return g_queue_get_length(&client->events);
}

QmpEvent *qmp_client_wait_event(QmpClient *client, const char *name,
                                guint timeout_ms, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * (gint64)1000;

    /* Once the time is out, only the events already queued are seen. */
    for (;;) {
        gint64 left_us = deadline - g_get_monotonic_time();
        QmpEvent *event;

        event = qmp_client_next_event(client,
                                      left_us > 0 ? (left_us + 999) / 1000 : 0,
                                      errp);
        if (!event) {
            return NULL;
        }
        if (g_str_equal(event->name, name)) {
            return event;
        }
        qmp_event_free(event);
    }
}
