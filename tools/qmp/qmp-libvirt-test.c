/*
 * Tests of the QMP client's libvirt-domain transport against a real
 * libvirtd and a domain running the project's QEMU.
 *
 * The daemon and domains come from the caller (scripts/cli-suite.sh
 * starts a private libvirtd): $QMP_LIBVIRT_URI, $QMP_LIBVIRT_DOMAIN (a
 * running domain with the snc device) and $QMP_LIBVIRT_STOPPED (a
 * domain defined but not running).  Without them the tests that need
 * them are skipped; the unreachable daemon is tested anyway.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include "qmp-libvirt.h"

#define TEST_TIMEOUT_MS 5000

static const char *uri;
static const char *domain;
static const char *stopped;

/* A client connected to $QMP_LIBVIRT_DOMAIN, or NULL (skipped). */
static QmpClient *connect_domain(void)
{
    g_autoptr(GError) err = NULL;
    QmpClient *client;

    if (!uri || !domain) {
        g_test_skip("set QMP_LIBVIRT_URI and QMP_LIBVIRT_DOMAIN");
        return NULL;
    }
    client = qmp_client_new_libvirt(uri, domain);
    g_assert_true(qmp_client_connect(client, &err));
    g_assert_no_error(err);
    g_assert_nonnull(qmp_client_libvirt_domain(client));
    return client;
}

static void test_no_daemon(void)
{
    g_autoptr(QmpClient) client =
        qmp_client_new_libvirt("qemu:///system?socket=/nonexistent/sock",
                               "vm0");
    g_autoptr(GError) err = NULL;

    g_assert_false(qmp_client_connect(client, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
    g_assert_nonnull(strstr(err->message, "/nonexistent/sock"));
    g_assert_null(qmp_client_libvirt_domain(client));
}

static void test_no_domain(void)
{
    g_autoptr(QmpClient) client = NULL;
    g_autoptr(GError) err = NULL;

    if (!uri) {
        g_test_skip("set QMP_LIBVIRT_URI");
        return;
    }
    client = qmp_client_new_libvirt(uri, "no-such-domain");
    g_assert_false(qmp_client_connect(client, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_cmpstr(err->message, ==,
                    "libvirt: domain no-such-domain not found");
}

static void test_not_running(void)
{
    g_autoptr(QmpClient) client = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (!uri || !stopped) {
        g_test_skip("set QMP_LIBVIRT_URI and QMP_LIBVIRT_STOPPED");
        return;
    }
    client = qmp_client_new_libvirt(uri, stopped);
    g_assert_false(qmp_client_connect(client, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
    g_assert_nonnull(strstr(err->message, "is not running"));
    g_clear_error(&err);

    /* Nothing is sent on a client that is not connected. */
    ret = qmp_client_execute(client, "query-status", NULL, &err);
    g_assert_null(ret);
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

/* Replies, and error replies with their QMP class and description. */
static void test_execute(void)
{
    g_autoptr(QmpClient) client = connect_domain();
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (!client) {
        return;
    }
    g_assert_cmpstr(qmp_client_transport_name(client), ==, "libvirt");
    ret = qmp_client_execute(client, "query-status", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(ret));
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ret),
                                                  "status"), ==, "running");
    g_clear_pointer(&ret, json_node_unref);

    ret = qmp_client_execute(client, "no-such-command", NULL, &err);
    g_assert_null(ret);
    g_assert_error(err, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND);
    g_clear_error(&err);

    json_object_set_int_member(args, "addr", 0);
    json_object_set_int_member(args, "size", 4096);
    json_object_set_int_member(args, "node", 4000);
    ret = qmp_client_execute(client, "migrate-guest-range", args, &err);
    g_assert_null(ret);
    g_assert_error(err, QMP_ERROR, QMP_ERROR_GENERIC_ERROR);
    g_assert_nonnull(strstr(err->message, "'node' 4000"));
}

/*
 * Events come through libvirt's event loop: STOP and RESUME around
 * stop and cont, in order, with their timestamps; a wait for an event
 * that never comes ends at its timeout.
 */
static void test_events(void)
{
    g_autoptr(QmpClient) client = connect_domain();
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(QmpEvent) stop = NULL;
    g_autoptr(QmpEvent) resume = NULL;
    g_autoptr(QmpEvent) none = NULL;
    gint64 start, took_ms;

    if (!client) {
        return;
    }
    ret = qmp_client_execute(client, "stop", NULL, &err);
    g_assert_no_error(err);
    stop = qmp_client_wait_event(client, "STOP", TEST_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_nonnull(stop);
    g_assert_cmpint(stop->seconds, >, 0);
    g_clear_pointer(&ret, json_node_unref);

    ret = qmp_client_execute(client, "cont", NULL, &err);
    g_assert_no_error(err);
    resume = qmp_client_wait_event(client, "RESUME", TEST_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_nonnull(resume);
    g_assert_cmpint(resume->seconds * G_USEC_PER_SEC + resume->microseconds,
                    >=, stop->seconds * G_USEC_PER_SEC + stop->microseconds);

    start = g_get_monotonic_time();
    none = qmp_client_wait_event(client, "NO_SUCH_EVENT", 300, &err);
    took_ms = (g_get_monotonic_time() - start) / 1000;
    g_assert_no_error(err);
    g_assert_null(none);
    g_assert_cmpint(took_ms, >=, 290);
    g_assert_cmpint(took_ms, <, 3000);
}

/* An event with data: the SNC's period end, once it counts. */
static void test_event_data(void)
{
    g_autoptr(QmpClient) client = connect_domain();
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(QmpEvent) ev = NULL;

    if (!client) {
        return;
    }
    json_object_set_string_member(args, "action", "start");
    ret = qmp_client_execute(client, "snc-control", args, &err);
    g_assert_no_error(err);
    ev = qmp_client_wait_event(client, "SNC_PERIOD_END", TEST_TIMEOUT_MS,
                               &err);
    g_assert_no_error(err);
    g_assert_nonnull(ev);
    g_assert_cmpstr(json_object_get_string_member(ev->data, "qom-path"), ==,
                    "/machine/peripheral/snc0");
    g_assert_cmpint(json_object_get_int_member(ev->data, "sequence"), >, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    uri = g_getenv("QMP_LIBVIRT_URI");
    domain = g_getenv("QMP_LIBVIRT_DOMAIN");
    stopped = g_getenv("QMP_LIBVIRT_STOPPED");

    g_test_add_func("/qmp-libvirt/no-daemon", test_no_daemon);
    g_test_add_func("/qmp-libvirt/no-domain", test_no_domain);
    g_test_add_func("/qmp-libvirt/not-running", test_not_running);
    g_test_add_func("/qmp-libvirt/execute", test_execute);
    g_test_add_func("/qmp-libvirt/events", test_events);
    g_test_add_func("/qmp-libvirt/event-data", test_event_data);
    return g_test_run();
}
