/*
 * Tests of the QMP client's socket transport against a real QEMU.
 *
 * Each test starts the project's QEMU (test-qemu.h) with -machine
 * none, and kills it at the end.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <signal.h>
#include <string.h>

#include "qmp-client.h"
#include "test-qemu.h"

#define TEST_TIMEOUT_MS TEST_QEMU_TIMEOUT_MS

/* A QEMU per test, and a client connected to it unless skipped. */
typedef TestQemu Fixture;

/* @data: MiB of guest RAM. */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autofree char *mem = g_strdup_printf("%uM", GPOINTER_TO_UINT(data));
    const char *args[] = { "-machine", "none", "-m", mem, NULL };

    if (!GPOINTER_TO_UINT(data)) {
        args[2] = NULL;
    }
    test_qemu_start(f, args);
}

static void fixture_teardown(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    test_qemu_stop(f);
}

/*
 * Connecting reads the greeting and negotiates capabilities: QEMU is
 * then in command mode, where qmp_capabilities is refused, and runs
 * commands.
 */
static void test_connect_negotiates(Fixture *f,
                                    gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (!client) {
        return;
    }
    g_assert_cmpstr(qmp_client_transport_name(client), ==, "socket");

    ret = qmp_client_execute(client, "qmp_capabilities", NULL, &err);
    g_assert_null(ret);
    g_assert_error(err, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "already complete"));
    g_clear_error(&err);

    ret = qmp_client_execute(client, "query-status", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(ret));
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ret),
                                                  "status"), ==, "running");
}

static void test_query_version(Fixture *f,
                               gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    JsonObject *qemu;

    if (!client) {
        return;
    }
    ret = qmp_client_execute(client, "query-version", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(ret));
    qemu = json_object_get_object_member(json_node_get_object(ret), "qemu");
    g_assert_nonnull(qemu);
    g_assert_cmpint(json_object_get_int_member(qemu, "major"), ==, 10);
}

/*
 * The project's placement query, on 16 MiB of guest RAM that the
 * guest (no CPU) never touched: one block, covering the range, with
 * every page either on a host node or not populated.
 */
static void test_query_placement(Fixture *f,
                                 gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    JsonObject *placement, *block;
    JsonArray *blocks, *nodes;
    gint64 page_size, pages = 0;

    if (!client) {
        return;
    }
    json_object_set_int_member(args, "addr", 0);
    json_object_set_int_member(args, "size", 16 << 20);
    ret = qmp_client_execute(client, "query-guest-memory-placement", args,
                             &err);
    g_assert_no_error(err);
    placement = json_node_get_object(ret);
    g_assert_cmpint(json_object_get_int_member(placement, "size"), ==,
                    16 << 20);
    g_assert_cmpint(json_object_get_int_member(placement, "skipped-bytes"),
                    ==, 0);
    blocks = json_object_get_array_member(placement, "blocks");
    g_assert_cmpuint(json_array_get_length(blocks), ==, 1);
    block = json_array_get_object_element(blocks, 0);
    g_assert_cmpint(json_object_get_int_member(block, "addr"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(block, "size"), ==,
                    16 << 20);
    page_size = json_object_get_int_member(block, "page-size");
    g_assert_cmpint(page_size, >, 0);
    nodes = json_object_get_array_member(placement, "nodes");
    for (guint i = 0; i < json_array_get_length(nodes); i++) {
        JsonObject *usage = json_array_get_object_element(nodes, i);

        pages += json_object_get_int_member(usage, "pages");
    }
    pages += json_object_get_int_member(placement, "not-populated");
    g_assert_cmpint(pages * page_size, ==, 16 << 20);
}

static void test_unknown_command(Fixture *f,
                                 gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (!client) {
        return;
    }
    ret = qmp_client_execute(client, "no-such-command", NULL, &err);
    g_assert_null(ret);
    g_assert_error(err, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND);
    g_assert_cmpstr(qmp_error_class_name(err->code), ==, "CommandNotFound");
    g_assert_cmpstr(err->message, ==, "no-such-command: The command "
                    "no-such-command has not been found");
}

static void test_bad_argument(Fixture *f,
                              gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) args = json_object_new();

    if (!client) {
        return;
    }
    json_object_set_int_member(args, "size", 0);
    ret = qmp_client_execute(client, "query-guest-memory-placement", args,
                             &err);
    g_assert_null(ret);
    g_assert_error(err, QMP_ERROR, QMP_ERROR_GENERIC_ERROR);
    g_assert_nonnull(strstr(err->message, "size"));
    g_clear_error(&err);

    /* The client survives an error reply. */
    json_object_unref(args);
    args = json_object_new();
    json_object_set_string_member(args, "bogus", "x");
    ret = qmp_client_execute(client, "query-version", args, &err);
    g_assert_null(ret);
    g_assert_error(err, QMP_ERROR, QMP_ERROR_GENERIC_ERROR);
    g_assert_cmpstr(err->message, ==,
                    "query-version: Parameter 'bogus' is unexpected");
}

/*
 * QEMU sends STOP while it runs "stop", before the command's reply:
 * the event must be queued, not taken for the reply, and be there at
 * once afterwards.
 */
static void test_event_during_command(Fixture *f,
                                      gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(QmpEvent) stop = NULL;
    g_autoptr(QmpEvent) resume = NULL;

    if (!client) {
        return;
    }
    ret = qmp_client_execute(client, "stop", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(ret));

    /* Queued while the command waited: there before any other read. */
    g_assert_cmpuint(qmp_client_queued_events(client), ==, 1);
    stop = qmp_client_next_event(client, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(stop);
    g_assert_cmpstr(stop->name, ==, "STOP");
    g_assert_cmpint(stop->seconds, >, 0);
    g_assert_cmpuint(qmp_client_queued_events(client), ==, 0);

    g_clear_pointer(&ret, json_node_unref);
    ret = qmp_client_execute(client, "cont", NULL, &err);
    g_assert_no_error(err);
    resume = qmp_client_wait_event(client, "RESUME", TEST_TIMEOUT_MS,
                                   &err);
    g_assert_no_error(err);
    g_assert_nonnull(resume);
    g_assert_cmpstr(resume->name, ==, "RESUME");
}

/* Waiting for an event that never comes ends at the timeout. */
static void test_event_timeout(Fixture *f,
                               gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    QmpEvent *event;
    gint64 start;

    if (!client) {
        return;
    }
    start = g_get_monotonic_time();
    event = qmp_client_wait_event(client, "RESUME", 300, &err);
    g_assert_no_error(err);
    g_assert_null(event);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 300 * 1000);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 3 * G_USEC_PER_SEC);
}

static void test_missing_socket(void)
{
    g_autoptr(QmpClient) client = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    const char *path = "/nonexistent/qmp-client-test.sock";

    client = qmp_client_new_socket(path, TEST_TIMEOUT_MS);
    g_assert_false(qmp_client_connect(client, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, path));
    g_clear_error(&err);

    /* Commands on a client that is not connected fail, and say so. */
    ret = qmp_client_execute(client, "query-version", NULL, &err);
    g_assert_null(ret);
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

/* QEMU killed under a connected client: a clear error, no hang. */
static void test_qemu_dies(Fixture *f,
                           gconstpointer data G_GNUC_UNUSED)
{
    QmpClient *client = f->client;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    gint64 start;

    if (!client) {
        return;
    }
    g_subprocess_force_exit(f->proc);
    g_subprocess_wait(f->proc, NULL, NULL);

    start = g_get_monotonic_time();
    ret = qmp_client_execute(client, "query-version", NULL, &err);
    g_assert_null(ret);
    g_assert_nonnull(err);
    g_assert_true(err->domain == G_IO_ERROR);
    g_assert_true(err->code == G_IO_ERROR_CONNECTION_CLOSED ||
                  err->code == G_IO_ERROR_BROKEN_PIPE);
    g_assert_cmpint(g_get_monotonic_time() - start, <,
                    TEST_TIMEOUT_MS * (gint64)1000);
    g_clear_error(&err);

    /* Waiting for events on the dead connection fails as well. */
    g_assert_null(qmp_client_next_event(client, TEST_TIMEOUT_MS, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

/* SIGSTOP takes effect asynchronously: wait until QEMU is stopped. */
static void wait_stopped(TestQemu *q)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/stat",
                                            g_subprocess_get_identifier(
                                                q->proc));
    gint64 deadline = g_get_monotonic_time() +
                      TEST_TIMEOUT_MS * (gint64)1000;

    for (;;) {
        g_autofree char *stat = NULL;
        char *state;

        g_assert_true(g_file_get_contents(path, &stat, NULL, NULL));
        state = strrchr(stat, ')');
        if (state && state[1] == ' ' && state[2] == 'T') {
            return;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
}

/* QEMU frozen (SIGSTOP) under a connected client: the timeout ends it. */
static void test_qemu_hangs(Fixture *f,
                            gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(QmpClient) client = NULL;
    gint64 start;

    if (!f->client) {
        return;
    }
    /* QEMU serves one client at a time on a socket. */
    qmp_client_close(f->client);
    client = qmp_client_new_socket(f->sock, 500);
    test_qemu_connect(client);
    g_subprocess_send_signal(f->proc, SIGSTOP);
    wait_stopped(f);

    start = g_get_monotonic_time();
    ret = qmp_client_execute(client, "query-version", NULL, &err);
    g_assert_null(ret);
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 500 * 1000);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 3 * G_USEC_PER_SEC);
    g_subprocess_send_signal(f->proc, SIGCONT);
}

static void add(const char *path, guint ram_mib,
                void (*fn)(Fixture *f, gconstpointer data))
{
    g_test_add(path, Fixture, GUINT_TO_POINTER(ram_mib), fixture_setup,
               fn, fixture_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/qmp/socket/connect-negotiates", 0, test_connect_negotiates);
    add("/qmp/socket/query-version", 0, test_query_version);
    add("/qmp/socket/query-placement", 16, test_query_placement);
    add("/qmp/socket/error/unknown-command", 0, test_unknown_command);
    add("/qmp/socket/error/bad-argument", 0, test_bad_argument);
    add("/qmp/socket/event/during-command", 0, test_event_during_command);
    add("/qmp/socket/event/timeout", 0, test_event_timeout);
    g_test_add_func("/qmp/socket/missing-socket", test_missing_socket);
    add("/qmp/socket/qemu-dies", 0, test_qemu_dies);
    add("/qmp/socket/qemu-hangs", 0, test_qemu_hangs);
    return g_test_run();
}
