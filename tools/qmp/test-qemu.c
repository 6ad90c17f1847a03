/*
 * test-qemu: start the project's QEMU for a g_test program.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>

#include "test-qemu.h"

static const char *qemu_binary(void)
{
    static char *path;
    const char *env = g_getenv("QEMU_BINARY");

    if (env) {
        return env;
    }
    if (!path) {
        path = g_build_filename(TOP_SRCDIR, "build",
                                "qemu-system-x86_64", NULL);
    }
    return path;
}

void test_qemu_stop(TestQemu *q)
{
    g_clear_pointer(&q->client, qmp_client_free);
    if (q->proc) {
        g_subprocess_force_exit(q->proc);
        g_subprocess_wait(q->proc, NULL, NULL);
        g_clear_object(&q->proc);
    }
    if (q->sock) {
        g_unlink(q->sock);
    }
    if (q->dir) {
        g_rmdir(q->dir);
    }
    g_clear_pointer(&q->sock, g_free);
    g_clear_pointer(&q->dir, g_free);
}

/* A failed assertion aborts the test: QEMU must not outlive it. */
static void die_with_parent(gpointer data G_GNUC_UNUSED)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

gboolean test_qemu_start(TestQemu *q, const char *const *args)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    gint64 deadline;

    *q = (TestQemu){ 0 };
    if (!g_file_test(qemu_binary(), G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip_printf("no QEMU at %s (set QEMU_BINARY)",
                           qemu_binary());
        return FALSE;
    }
    q->dir = g_dir_make_tmp("test-qemu-XXXXXX", &err);
    g_assert_no_error(err);
    q->sock = g_build_filename(q->dir, "qmp.sock", NULL);

    g_ptr_array_add(argv, g_strdup(qemu_binary()));
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-nodefaults"));
    g_ptr_array_add(argv, g_strdup("-qmp"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off",
                                          q->sock));
    for (; *args; args++) {
        g_ptr_array_add(argv, g_strdup(*args));
    }
    g_ptr_array_add(argv, NULL);

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL,
                                          NULL);
    q->proc = g_subprocess_launcher_spawnv(launcher,
                                           (const char *const *)argv->pdata,
                                           &err);
    g_assert_no_error(err);

    deadline = g_get_monotonic_time() + TEST_QEMU_TIMEOUT_MS * (gint64)1000;
    while (!g_file_test(q->sock, G_FILE_TEST_EXISTS)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(10000);
    }
    q->client = qmp_client_new_socket(q->sock, TEST_QEMU_TIMEOUT_MS);
    test_qemu_connect(q->client);
    return TRUE;
}

void test_qemu_connect(QmpClient *client)
{
    gint64 deadline = g_get_monotonic_time() +
                      TEST_QEMU_TIMEOUT_MS * (gint64)1000;
    g_autoptr(GError) err = NULL;

    while (!qmp_client_connect(client, &err) &&
           g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) &&
           g_get_monotonic_time() < deadline) {
        g_clear_error(&err);
        g_usleep(10000);
    }
    g_assert_no_error(err);
}
