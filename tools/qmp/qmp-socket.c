/*
 * qmp-socket: the QMP client's transport over a QEMU's UNIX socket
 * (-qmp unix:PATH,server=on,wait=off).
 *
 * QMP sends one JSON object per line.  The transport reads lines into
 * a buffer and parses each with json-glib.  A command carries an "id"
 * that its reply echoes: a reply to an earlier command that timed out
 * is recognised and dropped, and events read while waiting go to the
 * client's queue.  Every wait is bounded by the transport's timeout,
 * so a QEMU that hangs or dies never blocks the caller.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>

#include "qmp-client.h"

#define QMP_SOCKET_DEFAULT_TIMEOUT_MS 10000

typedef struct QmpSocket {
    char *path;
    guint timeout_ms;
    GSocketConnection *conn;    /* NULL while not connected */
    GString *buf;               /* received bytes not yet parsed */
    gint64 next_id;
} QmpSocket;

static void qmp_socket_close(QmpClient *client G_GNUC_UNUSED, gpointer priv)
{
    QmpSocket *s = priv;

    if (s->conn) {
        g_io_stream_close(G_IO_STREAM(s->conn), NULL, NULL);
        g_clear_object(&s->conn);
    }
    g_string_truncate(s->buf, 0);
}

static gint64 deadline_after(guint timeout_ms)
{
    return g_get_monotonic_time() + timeout_ms * (gint64)1000;
}

/*
 * Read the next message.  Returns NULL with *@timed_out set when
 * @deadline passes first, or NULL with @errp set on failure.
 */
static JsonObject *read_message(QmpClient *client, QmpSocket *s,
                                gint64 deadline, gboolean *timed_out,
                                GError **errp)
{
    GSocket *sock;
    char chunk[4096];

    *timed_out = FALSE;
    if (!s->conn) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "not connected to QMP socket %s", s->path);
        return NULL;
    }
    sock = g_socket_connection_get_socket(s->conn);
    for (;;) {
        char *nl = memchr(s->buf->str, '\n', s->buf->len);
        g_autoptr(GError) err = NULL;
        gint64 left_us;
        gssize n;

        if (nl) {
            gsize len = nl - s->buf->str + 1;
            g_autoptr(JsonParser) parser = json_parser_new();
            g_autofree char *line = g_strndup(s->buf->str, len);
            JsonNode *root;

            g_string_erase(s->buf, 0, len);
            g_strstrip(line);
            if (!*line) {
                continue;
            }
            if (!json_parser_load_from_data(parser, line, -1, &err)) {
                g_set_error(errp, QMP_ERROR, QMP_ERROR_PROTOCOL,
                            "QMP socket %s: bad JSON from QEMU: %s",
                            s->path, err->message);
                qmp_socket_close(client, s);
                return NULL;
            }
            root = json_parser_get_root(parser);
            if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error(errp, QMP_ERROR, QMP_ERROR_PROTOCOL,
                            "QMP socket %s: QEMU sent a message that is "
                            "not a JSON object", s->path);
                qmp_socket_close(client, s);
                return NULL;
            }
            return json_object_ref(json_node_get_object(root));
        }

        left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0) {
            *timed_out = TRUE;
            return NULL;
        }
        /* The wait rounds to milliseconds: early wake-ups loop. */
        if (!g_socket_condition_timed_wait(sock, G_IO_IN, left_us, NULL,
                                           &err)) {
            if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
                continue;
            }
            g_propagate_prefixed_error(errp, g_steal_pointer(&err),
                                       "QMP socket %s: ", s->path);
            qmp_socket_close(client, s);
            return NULL;
        }
        n = g_socket_receive(sock, chunk, sizeof(chunk), NULL, &err);
        if (n < 0) {
            g_propagate_prefixed_error(errp, g_steal_pointer(&err),
                                       "QMP socket %s: ", s->path);
            qmp_socket_close(client, s);
            return NULL;
        }
        if (n == 0) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "QMP socket %s: QEMU closed the connection",
                        s->path);
            qmp_socket_close(client, s);
            return NULL;
        }
        g_string_append_len(s->buf, chunk, n);
    }
}

static gboolean send_message(QmpClient *client, QmpSocket *s,
                             JsonObject *message, gint64 deadline,
                             GError **errp)
{
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(),
                                                     message);
    g_autofree char *text = json_to_string(root, FALSE);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    GOutputStream *out;
    g_autoptr(GError) err = NULL;
    gsize written;

    if (!s->conn) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "not connected to QMP socket %s", s->path);
        return FALSE;
    }
    /*
     * A QMP line is small and QEMU reads continuously, so a write
     * completes at once unless QEMU is gone, which the socket reports.
     */
    g_socket_set_timeout(g_socket_connection_get_socket(s->conn),
                         MAX(1, (deadline - g_get_monotonic_time()) /
                                G_USEC_PER_SEC));
    out = g_io_stream_get_output_stream(G_IO_STREAM(s->conn));
    if (!g_output_stream_write_all(out, line, strlen(line), &written,
                                   NULL, &err)) {
        g_propagate_prefixed_error(errp, g_steal_pointer(&err),
                                   "QMP socket %s: ", s->path);
        qmp_socket_close(client, s);
        return FALSE;
    }
    return TRUE;
}

static gboolean is_event(JsonObject *message)
{
    JsonNode *event = json_object_get_member(message, "event");

    return event && json_node_get_value_type(event) == G_TYPE_STRING;
}

static JsonObject *qmp_socket_exchange(QmpClient *client, gpointer priv,
                                       JsonObject *request, GError **errp)
{
    QmpSocket *s = priv;
    gint64 deadline = deadline_after(s->timeout_ms);
    gint64 id = s->next_id++;

    json_object_set_int_member(request, "id", id);
    if (!send_message(client, s, request, deadline, errp)) {
        return NULL;
    }
    for (;;) {
        gboolean timed_out;
        g_autoptr(JsonObject) msg = read_message(client, s, deadline,
                                                 &timed_out, errp);
        JsonNode *reply_id;

        if (!msg) {
            if (timed_out) {
                g_set_error(errp, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                            "QMP socket %s: no reply to %s within %u ms",
                            s->path,
                            json_object_get_string_member(request,
                                                          "execute"),
                            s->timeout_ms);
            }
            return NULL;
        }
        if (is_event(msg)) {
            qmp_client_push_event(client, msg);
            continue;
        }
        reply_id = json_object_get_member(msg, "id");
        if (reply_id && json_node_get_value_type(reply_id) == G_TYPE_INT64 &&
            json_node_get_int(reply_id) == id) {
            return g_steal_pointer(&msg);
        }
        /* The late reply to a command that timed out: drop it. */
    }
}

static gboolean qmp_socket_wait_events(QmpClient *client, gpointer priv,
                                       guint timeout_ms, GError **errp)
{
    QmpSocket *s = priv;
    gint64 deadline = deadline_after(timeout_ms);

    for (;;) {
        gboolean timed_out;
        g_autoptr(JsonObject) msg = read_message(client, s, deadline,
                                                 &timed_out, errp);

        if (!msg) {
            return timed_out;
        }
        if (is_event(msg)) {
            qmp_client_push_event(client, msg);
            return TRUE;
        }
    }
}

static gboolean qmp_socket_connect(QmpClient *client, gpointer priv,
                                   GError **errp)
{
    QmpSocket *s = priv;
    g_autoptr(GSocketClient) sc = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(s->path);
    g_autoptr(JsonObject) greeting = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GError) err = NULL;
    gboolean timed_out;

    qmp_socket_close(client, s);
    g_socket_client_set_timeout(sc, MAX(1, s->timeout_ms / 1000));
    s->conn = g_socket_client_connect(sc, G_SOCKET_CONNECTABLE(addr), NULL,
                                      &err);
    if (!s->conn) {
        g_propagate_prefixed_error(errp, g_steal_pointer(&err),
                                   "QMP socket %s: ", s->path);
        return FALSE;
    }
    greeting = read_message(client, s, deadline_after(s->timeout_ms),
                            &timed_out, errp);
    if (!greeting) {
        if (timed_out) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "QMP socket %s: no greeting within %u ms",
                        s->path, s->timeout_ms);
            qmp_socket_close(client, s);
        }
        return FALSE;
    }
    if (!json_object_has_member(greeting, "QMP")) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "QMP socket %s: the peer's first message is not a "
                    "QMP greeting", s->path);
        qmp_socket_close(client, s);
        return FALSE;
    }
    ret = qmp_client_execute(client, "qmp_capabilities", NULL, errp);
    if (!ret) {
        qmp_socket_close(client, s);
        return FALSE;
    }
    return TRUE;
}

static void qmp_socket_free(gpointer priv)
{
    QmpSocket *s = priv;

    g_free(s->path);
    g_string_free(s->buf, TRUE);
    g_free(s);
}

static const QmpTransportOps qmp_socket_ops = {
    .name = "socket",
    .connect = qmp_socket_connect,
    .exchange = qmp_socket_exchange,
    .wait_events = qmp_socket_wait_events,
    .close = qmp_socket_close,
    .free = qmp_socket_free,
};

QmpClient *qmp_client_new_socket(const char *path, guint timeout_ms)
{
    QmpSocket *s = g_new0(QmpSocket, 1);

    s->path = g_strdup(path);
    s->timeout_ms = timeout_ms ? timeout_ms : QMP_SOCKET_DEFAULT_TIMEOUT_MS;
    s->buf = g_string_new(NULL);
    s->next_id = 1;
    return qmp_client_new(&qmp_socket_ops, s);
}
