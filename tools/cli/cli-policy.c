/*
 * cli-policy: guest-numa's policy command (see cli-policy.h).
 *
 * The engine, numa-policyd, speaks QMP over a QEMU's UNIX socket.  A
 * bare QEMU's socket (--qmp) is handed to it as it is.  A libvirt
 * domain's QEMU has no socket that a second client may use: libvirtd
 * holds the monitor.  For a domain, guest-numa listens on a socket in
 * a private directory, starts the engine on it and serves QMP there:
 * a greeting with the domain's QEMU version, each command the engine
 * sends run through the libvirt transport (virDomainQemuMonitorCommand)
 * and its reply or error sent back with the command's id, and the
 * domain's events (virConnectDomainQemuMonitorEventRegister) passed on
 * as they come.  The engine sees the domain's QEMU as if it had its
 * socket.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-policy.h"

#define ENGINE "numa-policyd"
/* How long one wait for the engine's input or QEMU's events lasts. */
#define STEP_MS 20

char *cli_policy_engine(void)
{
    const char *env = g_getenv("GUEST_NUMA_POLICYD");
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = NULL;
    const char *rel[] = { ENGINE, "../policy/" ENGINE };

    if (env) {
        return g_strdup(env);
    }
    if (self) {
        dir = g_path_get_dirname(self);
        for (guint i = 0; i < G_N_ELEMENTS(rel); i++) {
            g_autofree char *p = g_build_filename(dir, rel[i], NULL);

            if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE)) {
                return g_steal_pointer(&p);
            }
        }
    }
    return g_find_program_in_path(ENGINE);
}

/* ---- the QMP server's messages -------------------------------------- */

static gboolean send_message(GSocket *conn, JsonNode *message, GError **errp)
{
    g_autofree char *text = json_to_string(message, FALSE);
    g_autofree char *line = g_strconcat(text, "\r\n", NULL);
    gsize len = strlen(line), done = 0;

    while (done < len) {
        gssize n = g_socket_send(conn, line + done, len - done, NULL, errp);

        if (n < 0) {
            return FALSE;
        }
        done += n;
    }
    return TRUE;
}

static JsonNode *object_node(JsonObject *o)
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(node, o);
    return node;
}

/* {"QMP": {"version": VERSION, "capabilities": []}} */
static JsonNode *greeting(JsonNode *version)
{
    JsonObject *qmp = json_object_new();
    JsonObject *g = json_object_new();

    json_object_set_member(qmp, "version", version);
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    json_object_set_object_member(g, "QMP", qmp);
    return object_node(g);
}

static JsonNode *event_message(const QmpEvent *ev)
{
    JsonObject *o = json_object_new();
    JsonObject *ts = json_object_new();

    json_object_set_string_member(o, "event", ev->name);
    json_object_set_object_member(o, "data", json_object_ref(ev->data));
    json_object_set_int_member(ts, "seconds", ev->seconds);
    json_object_set_int_member(ts, "microseconds", ev->microseconds);
    json_object_set_object_member(o, "timestamp", ts);
    return object_node(o);
}

static JsonObject *error_object(const char *class, const char *desc)
{
    JsonObject *e = json_object_new();

    json_object_set_string_member(e, "class", class);
    json_object_set_string_member(e, "desc", desc);
    return e;
}

/*
 * The reply to @line, one request of the engine.  A QMP error of QEMU
 * is passed on with its class; a failure to reach QEMU sets @errp and
 * returns NULL.
 */
static JsonNode *answer(QmpClient *client, const char *line, GError **errp)
{
    g_autoptr(JsonNode) req = json_from_string(line, NULL);
    JsonObject *r = req && JSON_NODE_HOLDS_OBJECT(req) ?
                    json_node_get_object(req) : NULL;
    JsonObject *reply = json_object_new();
    JsonNode *cmd = r ? json_object_get_member(r, "execute") : NULL;
    JsonNode *args = r ? json_object_get_member(r, "arguments") : NULL;
    g_autoptr(GError) err = NULL;
    JsonNode *ret;

    if (!cmd || !JSON_NODE_HOLDS_VALUE(cmd) ||
        json_node_get_value_type(cmd) != G_TYPE_STRING ||
        (args && !JSON_NODE_HOLDS_OBJECT(args))) {
        json_object_set_object_member(reply, "error",
            error_object("GenericError", "QMP input must be an object with "
                         "a string 'execute' and object 'arguments'"));
    } else if (g_str_equal(json_node_get_string(cmd), "qmp_capabilities")) {
        /* The transport has negotiated with QEMU already. */
        json_object_set_object_member(reply, "return", json_object_new());
    } else {
        ret = qmp_client_execute(client, json_node_get_string(cmd),
                                 args ? json_node_get_object(args) : NULL,
                                 &err);
        if (ret) {
            json_object_set_member(reply, "return", ret);
        } else if (err->domain == QMP_ERROR) {
            QmpError code = err->code;

            json_object_set_object_member(reply, "error",
                error_object(code == QMP_ERROR_UNKNOWN_CLASS ||
                             code == QMP_ERROR_PROTOCOL ?
                             "GenericError" : qmp_error_class_name(code),
                             err->message));
        } else {
            json_object_unref(reply);
            g_propagate_error(errp, g_steal_pointer(&err));
            return NULL;
        }
    }
    if (r && json_object_has_member(r, "id")) {
        json_object_set_member(reply, "id",
                               json_node_copy(json_object_get_member(r, "id")));
    }
    return object_node(reply);
}

/* ---- the engine ----------------------------------------------------- */

static volatile sig_atomic_t engine_pid;

/* Ctrl-C or a kill ends the engine, which then ends guest-numa. */
static void pass_signal(int sig)
{
    if (engine_pid > 0) {
        kill(engine_pid, sig);
    }
}

/*
 * The engine runs in a process group of its own, so that a Ctrl-C
 * reaches it once, through guest-numa, and not twice.
 */
static void own_group(gpointer data G_GNUC_UNUSED)
{
    setpgid(0, 0);
}

static int exit_code(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128 + WTERMSIG(status);
}

/*
 * Serve QMP to the engine on @conn until it closes the connection or
 * QEMU goes away; events are passed on between its commands.
 */
static void serve(QmpClient *client, GSocket *conn)
{
    g_autoptr(GString) in = g_string_new(NULL);
    g_autoptr(GError) err = NULL;
    gboolean busy = FALSE;
    char buf[4096];

    for (;;) {
        QmpEvent *ev;
        gssize n;
        char *nl;

        /* QEMU's events, waiting a little when the engine is quiet. */
        while ((ev = qmp_client_next_event(client, busy ? 1 : STEP_MS,
                                           &err))) {
            g_autoptr(JsonNode) msg = event_message(ev);

            qmp_event_free(ev);
            if (!send_message(conn, msg, NULL)) {
                return;
            }
            busy = TRUE;
        }
        if (err) {
            fprintf(stderr, "guest-numa: %s\n", err->message);
            return;
        }
        busy = FALSE;
        if (!g_socket_condition_timed_wait(conn, G_IO_IN,
                                           STEP_MS * 1000, NULL, NULL)) {
            continue;
        }
        n = g_socket_receive(conn, buf, sizeof(buf), NULL, NULL);
        if (n <= 0) {
            return;         /* the engine closed its connection */
        }
        g_string_append_len(in, buf, n);
        while ((nl = memchr(in->str, '\n', in->len))) {
            g_autofree char *line = g_strndup(in->str, nl - in->str);
            g_autoptr(JsonNode) reply = NULL;

            g_string_erase(in, 0, nl - in->str + 1);
            g_strstrip(line);
            if (!*line) {
                continue;
            }
            reply = answer(client, line, &err);
            if (!reply) {
                fprintf(stderr, "guest-numa: %s\n", err->message);
                return;
            }
            if (!send_message(conn, reply, NULL)) {
                return;
            }
            busy = TRUE;
        }
    }
}

/* Wait for a connection on @listener while the engine runs. */
static GSocket *accept_engine(GSocket *listener, GPid pid, int *status)
{
    for (;;) {
        if (waitpid(pid, status, WNOHANG) == pid) {
            return NULL;
        }
        if (g_socket_condition_timed_wait(listener, G_IO_IN,
                                          STEP_MS * 1000, NULL, NULL)) {
            return g_socket_accept(listener, NULL, NULL);
        }
    }
}

static int relay(QmpClient *client, const char *engine, char **args,
                 int nargs)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("guest-numa-XXXXXX", &err);
    g_autofree char *path = NULL;
    g_autoptr(GSocket) listener = NULL;
    g_autoptr(GSocket) conn = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(JsonNode) hello = NULL;
    JsonNode *version;
    GPid pid;
    int status = 0;

    if (!dir) {
        fprintf(stderr, "guest-numa: %s\n", err->message);
        return -1;
    }
    /* The engine's greeting carries the domain's QEMU version. */
    version = qmp_client_execute(client, "query-version", NULL, &err);
    if (!version) {
        fprintf(stderr, "guest-numa: query-version: %s\n", err->message);
        g_rmdir(dir);
        return -1;
    }
    hello = greeting(version);
    path = g_build_filename(dir, "qmp.sock", NULL);
    addr = g_unix_socket_address_new(path);
    listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                            G_SOCKET_PROTOCOL_DEFAULT, &err);
    if (!listener || !g_socket_bind(listener, addr, FALSE, &err) ||
        !g_socket_listen(listener, &err)) {
        fprintf(stderr, "guest-numa: cannot serve QMP on %s: %s\n", path,
                err->message);
        g_rmdir(dir);
        return -1;
    }

    g_ptr_array_add(argv, (char *)engine);
    g_ptr_array_add(argv, "--qmp");
    g_ptr_array_add(argv, path);
    for (int i = 0; i < nargs; i++) {
        g_ptr_array_add(argv, args[i]);
    }
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_async(NULL, (char **)argv->pdata, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD |
                       G_SPAWN_CHILD_INHERITS_STDIN,
                       own_group, NULL, &pid, &err)) {
        fprintf(stderr, "guest-numa: cannot run %s: %s\n", engine,
                err->message);
        g_unlink(path);
        g_rmdir(dir);
        return -1;
    }
    engine_pid = pid;
    signal(SIGINT, pass_signal);
    signal(SIGTERM, pass_signal);
    signal(SIGHUP, pass_signal);
    signal(SIGPIPE, SIG_IGN);

    conn = accept_engine(listener, pid, &status);
    if (conn) {
        g_socket_set_blocking(conn, TRUE);
        if (send_message(conn, hello, NULL)) {
            serve(client, conn);
        }
        /* The engine sees QEMU go away and ends (exit code 1). */
        g_socket_close(conn, NULL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    engine_pid = 0;
    g_unlink(path);
    g_rmdir(dir);
    return exit_code(status);
}

int cli_policy_run(QmpClient *client, const char *qmp_socket,
                   const char *engine, char **args, int nargs)
{
    g_autoptr(GPtrArray) argv = NULL;

    if (!qmp_socket) {
        return relay(client, engine, args, nargs);
    }
    /* QEMU serves one client per socket: make way for the engine. */
    qmp_client_close(client);
    argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)engine);
    g_ptr_array_add(argv, "--qmp");
    g_ptr_array_add(argv, (char *)qmp_socket);
    for (int i = 0; i < nargs; i++) {
        g_ptr_array_add(argv, args[i]);
    }
    g_ptr_array_add(argv, NULL);
    execv(engine, (char **)argv->pdata);
    fprintf(stderr, "guest-numa: cannot run %s: %s\n", engine,
            g_strerror(errno));
    return -1;
}
