/*
 * qmp-client: the one QMP client that the project's host tools share.
 *
 * A client runs QMP commands on one QEMU and collects its events.  It
 * knows nothing about how the bytes travel: a transport (a table of
 * QmpTransportOps) connects, exchanges one command for its reply, and
 * waits for events.  The UNIX-socket transport (qmp-socket.c) talks to
 * a bare QEMU's -qmp socket; the libvirt-domain transport
 * (qmp-libvirt.c), built on virDomainQemuMonitorCommand() and
 * virConnectDomainQemuMonitorEventRegister(), reaches a domain's QEMU
 * through libvirtd.
 *
 * Everything above the transport is shared: building the request,
 * turning an "error" reply into a GError that carries the QMP error
 * class and description, and an event queue that keeps events which
 * arrive while a command waits for its reply.
 *
 * The client is synchronous and not thread-safe: one thread drives
 * it.  Every wait is bounded by the transport's timeout.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QMP_CLIENT_H
#define QMP_CLIENT_H

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * Errors that QEMU answered with an "error" reply are in this domain;
 * the code is the QMP error class and the message its description.
 * Errors of the connection itself (no such socket, connection closed,
 * timeout) are G_IO_ERROR errors.
 */
#define QMP_ERROR (qmp_error_quark())
GQuark qmp_error_quark(void);

typedef enum {
    QMP_ERROR_GENERIC_ERROR,        /* "GenericError" */
    QMP_ERROR_COMMAND_NOT_FOUND,    /* "CommandNotFound" */
    QMP_ERROR_DEVICE_NOT_ACTIVE,    /* "DeviceNotActive" */
    QMP_ERROR_DEVICE_NOT_FOUND,     /* "DeviceNotFound" */
    QMP_ERROR_KVM_MISSING_CAP,      /* "KVMMissingCap" */
    QMP_ERROR_UNKNOWN_CLASS,        /* a class this client does not know */
    QMP_ERROR_PROTOCOL,             /* the peer broke the QMP protocol */
} QmpError;

/* The QMP class name of @code ("GenericError", ...). */
const char *qmp_error_class_name(QmpError code);

/* One event, as QEMU sent it. */
typedef struct QmpEvent {
    char *name;             /* "STOP", "SNC_PERIOD_END", ... */
    JsonObject *data;       /* never NULL: empty when QEMU sent none */
    gint64 seconds;         /* the event's timestamp */
    gint64 microseconds;
} QmpEvent;

void qmp_event_free(QmpEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpEvent, qmp_event_free)

typedef struct QmpClient QmpClient;

/*
 * A transport.  Each operation gets the client and the transport's
 * private data (qmp_client_new()'s @priv).
 *
 * @connect: reach the peer and leave it in command mode (for a raw
 *     QMP socket: read the greeting, negotiate capabilities).
 * @exchange: send one request object ({"execute": ..., "arguments":
 *     ...}) and return the reply object ({"return": ...} or
 *     {"error": ...}).  Events that arrive before the reply are
 *     handed to qmp_client_push_event().
 * @wait_events: wait up to @timeout_ms for at least one event, handing
 *     each to qmp_client_push_event().  Returning TRUE with no event
 *     queued means the time ran out.
 * @close: drop the connection; the client may connect again.
 * @free: release @priv.
 */
typedef struct QmpTransportOps {
    const char *name;
    gboolean (*connect)(QmpClient *client, gpointer priv, GError **errp);
    JsonObject *(*exchange)(QmpClient *client, gpointer priv,
                            JsonObject *request, GError **errp);
    gboolean (*wait_events)(QmpClient *client, gpointer priv,
                            guint timeout_ms, GError **errp);
    void (*close)(QmpClient *client, gpointer priv);
    void (*free)(gpointer priv);
} QmpTransportOps;

/* A client over @ops; it owns @priv and frees it with ops->free. */
QmpClient *qmp_client_new(const QmpTransportOps *ops, gpointer priv);
void qmp_client_free(QmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_free)

/* The transport's name, for messages ("socket", "libvirt"). */
const char *qmp_client_transport_name(QmpClient *client);
/* The transport's private data (qmp_client_new()'s @priv). */
gpointer qmp_client_transport_priv(QmpClient *client);

gboolean qmp_client_connect(QmpClient *client, GError **errp);
void qmp_client_close(QmpClient *client);

/*
 * Run @command with @arguments (NULL for none; not consumed) and
 * return its "return" member, or NULL with @errp set: in QMP_ERROR
 * for an "error" reply, in G_IO_ERROR when the connection failed.
 */
JsonNode *qmp_client_execute(QmpClient *client, const char *command,
                             JsonObject *arguments, GError **errp);

/*
 * Return the oldest queued event, waiting up to @timeout_ms for one
 * if none is queued.  NULL with @errp unset means none came in time;
 * NULL with @errp set means the connection failed.
 */
QmpEvent *qmp_client_next_event(QmpClient *client, guint timeout_ms,
                                GError **errp);

/* The number of events queued, read but not yet taken. */
guint qmp_client_queued_events(QmpClient *client);

/*
 * Return the oldest queued event named @name, dropping the events
 * before it, waiting up to @timeout_ms in all.  NULL as above.
 */
QmpEvent *qmp_client_wait_event(QmpClient *client, const char *name,
                                guint timeout_ms, GError **errp);

/* For transports: queue an event message ({"event": ..., ...}). */
void qmp_client_push_event(QmpClient *client, JsonObject *message);

/*
 * The UNIX-socket transport: a QEMU started with
 * -qmp unix:@path,server=on,wait=off.  Every read and write waits at
 * most @timeout_ms (0: the default, 10 s).
 */
QmpClient *qmp_client_new_socket(const char *path, guint timeout_ms);

/*
 * The libvirt-domain transport (qmp-libvirt.c, in the qmp-libvirt
 * library): domain @domain of the daemon at @uri (NULL: libvirt's
 * default URI).  Commands go through virDomainQemuMonitorCommand(),
 * events through virConnectDomainQemuMonitorEventRegister().
 * Connecting fails with G_IO_ERROR_CONNECTION_REFUSED when the daemon
 * cannot be reached, G_IO_ERROR_NOT_FOUND when there is no such
 * domain and G_IO_ERROR_NOT_CONNECTED when it is not running.
 * libvirt's own monitor timeout bounds each command; each wait for
 * events is bounded by its caller's timeout.
 */
QmpClient *qmp_client_new_libvirt(const char *uri, const char *domain);

G_END_DECLS

#endif /* QMP_CLIENT_H */
