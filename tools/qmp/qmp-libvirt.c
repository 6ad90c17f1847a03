/*
 * qmp-libvirt: the QMP client's transport to a libvirt domain's QEMU.
 *
 * Commands go through virDomainQemuMonitorCommand() in JSON mode: the
 * request object is sent as it is and libvirt hands back QEMU's reply
 * object.  Events come from virConnectDomainQemuMonitorEventRegister():
 * libvirt delivers them from its event loop, which wait_events steps
 * (virEventRunDefaultImpl) until an event arrives or the timeout runs
 * out.  A timer bounds each step, so a quiet domain never blocks the
 * caller.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "qmp-libvirt.h"

typedef struct QmpLibvirt {
    char *uri;              /* NULL: libvirt's default */
    char *domain;
    virConnectPtr conn;
    virDomainPtr dom;
    int callback_id;        /* -1 while not registered */
    QmpClient *client;      /* for the event callback */
} QmpLibvirt;

static gboolean event_impl_registered;

/* libvirt prints every error to stderr unless told otherwise. */
static void quiet_errors(void *opaque G_GNUC_UNUSED,
                         virErrorPtr error G_GNUC_UNUSED)
{
}

/* The last libvirt error's message, or @fallback. */
static const char *last_error(const char *fallback)
{
    virErrorPtr e = virGetLastError();

    return e && e->message ? e->message : fallback;
}

static void qmp_libvirt_close(QmpClient *client G_GNUC_UNUSED,
                              gpointer priv)
{
    QmpLibvirt *l = priv;

    if (l->callback_id >= 0 && l->conn) {
        virConnectDomainQemuMonitorEventDeregister(l->conn, l->callback_id);
    }
    l->callback_id = -1;
    if (l->dom) {
        virDomainFree(l->dom);
        l->dom = NULL;
    }
    if (l->conn) {
        virConnectClose(l->conn);
        l->conn = NULL;
    }
}

static void on_monitor_event(virConnectPtr conn G_GNUC_UNUSED,
                             virDomainPtr dom G_GNUC_UNUSED,
                             const char *event, long long seconds,
                             unsigned int micros, const char *details,
                             void *opaque)
{
    QmpLibvirt *l = opaque;
    g_autoptr(JsonObject) msg = json_object_new();
    g_autoptr(JsonObject) ts = json_object_new();
    g_autoptr(JsonParser) parser = json_parser_new();

    json_object_set_string_member(msg, "event", event);
    json_object_set_int_member(ts, "seconds", seconds);
    json_object_set_int_member(ts, "microseconds", micros);
    json_object_set_object_member(msg, "timestamp", g_steal_pointer(&ts));
    if (details && json_parser_load_from_data(parser, details, -1, NULL)) {
        JsonNode *root = json_parser_get_root(parser);

        if (root && JSON_NODE_HOLDS_OBJECT(root)) {
            json_object_set_object_member(
                msg, "data", json_object_ref(json_node_get_object(root)));
        }
    }
    qmp_client_push_event(l->client, msg);
}

static void on_callback_freed(void *opaque G_GNUC_UNUSED)
{
}

static gboolean qmp_libvirt_connect(QmpClient *client, gpointer priv,
                                    GError **errp)
{
    QmpLibvirt *l = priv;
    virErrorPtr e;
    int state = 0, reason = 0;

    qmp_libvirt_close(client, l);
    virSetErrorFunc(NULL, quiet_errors);
    if (!event_impl_registered) {
        if (virEventRegisterDefaultImpl() < 0) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "libvirt: cannot set up the event loop: %s",
                        last_error("unknown error"));
            return FALSE;
        }
        event_impl_registered = TRUE;
    }
    l->conn = virConnectOpen(l->uri);
    if (!l->conn) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                    "libvirt %s: cannot connect: %s",
                    l->uri ? l->uri : "(default URI)",
                    last_error("connection refused"));
        return FALSE;
    }
    l->dom = virDomainLookupByName(l->conn, l->domain);
    if (!l->dom) {
        e = virGetLastError();
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "libvirt: domain %s not found%s%s", l->domain,
                    e && e->code != VIR_ERR_NO_DOMAIN ? ": " : "",
                    e && e->code != VIR_ERR_NO_DOMAIN ? e->message : "");
        qmp_libvirt_close(client, l);
        return FALSE;
    }
    if (virDomainGetState(l->dom, &state, &reason, 0) < 0 ||
        (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "libvirt: domain %s is not running", l->domain);
        qmp_libvirt_close(client, l);
        return FALSE;
    }
    l->client = client;
    l->callback_id = virConnectDomainQemuMonitorEventRegister(
        l->conn, l->dom, NULL, on_monitor_event, l, on_callback_freed, 0);
    if (l->callback_id < 0) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "libvirt: domain %s: cannot receive QEMU's events: %s",
                    l->domain, last_error("unknown error"));
        qmp_libvirt_close(client, l);
        return FALSE;
    }
    return TRUE;
}

static JsonObject *qmp_libvirt_exchange(QmpClient *client G_GNUC_UNUSED,
                                        gpointer priv, JsonObject *request,
                                        GError **errp)
{
    QmpLibvirt *l = priv;
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(),
                                                     request);
    g_autofree char *text = json_to_string(root, FALSE);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    char *result = NULL;
    JsonNode *reply;
    virErrorPtr e;

    if (!l->dom) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "libvirt: not connected to domain %s", l->domain);
        return NULL;
    }
    if (virDomainQemuMonitorCommand(l->dom, text, &result, 0) < 0) {
        e = virGetLastError();
        g_set_error(errp, G_IO_ERROR,
                    e && e->code == VIR_ERR_OPERATION_INVALID ?
                    G_IO_ERROR_NOT_CONNECTED : G_IO_ERROR_FAILED,
                    "libvirt: domain %s: %s", l->domain,
                    last_error("the monitor command failed"));
        return NULL;
    }
    if (!json_parser_load_from_data(parser, result, -1, &err)) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "libvirt: domain %s: bad JSON from QEMU: %s",
                    l->domain, err->message);
        free(result);
        return NULL;
    }
    free(result);
    reply = json_parser_get_root(parser);
    if (!reply || !JSON_NODE_HOLDS_OBJECT(reply)) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "libvirt: domain %s: QEMU's reply is not a JSON object",
                    l->domain);
        return NULL;
    }
    return json_object_ref(json_node_get_object(reply));
}

static void on_timer(int timer G_GNUC_UNUSED, void *opaque)
{
    *(gboolean *)opaque = TRUE;
}

static gboolean qmp_libvirt_wait_events(QmpClient *client, gpointer priv,
                                        guint timeout_ms, GError **errp)
{
    QmpLibvirt *l = priv;
    gboolean expired = FALSE;
    gint64 deadline = g_get_monotonic_time() + timeout_ms * (gint64)1000;
    int timer;

    if (!l->conn) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "libvirt: not connected to domain %s", l->domain);
        return FALSE;
    }
    /* One step of the loop returns after a timer or a delivered event. */
    timer = virEventAddTimeout(timeout_ms, on_timer, &expired, NULL);
    if (timer < 0) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "libvirt: cannot arm a timer");
        return FALSE;
    }
    while (!qmp_client_queued_events(client) && !expired &&
           g_get_monotonic_time() < deadline) {
        if (virEventRunDefaultImpl() < 0) {
            virEventRemoveTimeout(timer);
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "libvirt: event loop: %s",
                        last_error("unknown error"));
            return FALSE;
        }
        if (virConnectIsAlive(l->conn) != 1) {
            virEventRemoveTimeout(timer);
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "libvirt: the connection to the daemon closed");
            return FALSE;
        }
    }
    virEventRemoveTimeout(timer);
    return TRUE;
}

static void qmp_libvirt_free(gpointer priv)
{
    QmpLibvirt *l = priv;

    g_free(l->uri);
    g_free(l->domain);
    g_free(l);
}

static const QmpTransportOps qmp_libvirt_ops = {
    .name = "libvirt",
    .connect = qmp_libvirt_connect,
    .exchange = qmp_libvirt_exchange,
    .wait_events = qmp_libvirt_wait_events,
    .close = qmp_libvirt_close,
    .free = qmp_libvirt_free,
};

QmpClient *qmp_client_new_libvirt(const char *uri, const char *domain)
{
    QmpLibvirt *l = g_new0(QmpLibvirt, 1);

    l->uri = g_strdup(uri);
    l->domain = g_strdup(domain);
    l->callback_id = -1;
    return qmp_client_new(&qmp_libvirt_ops, l);
}

virDomainPtr qmp_client_libvirt_domain(QmpClient *client)
{
    QmpLibvirt *l;

    if (g_strcmp0(qmp_client_transport_name(client), "libvirt") != 0) {
        return NULL;
    }
    l = qmp_client_transport_priv(client);
    return l->dom;
}
