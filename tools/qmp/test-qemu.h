/*
 * test-qemu: start the project's QEMU for a g_test program and reach
 * it with the QMP client.
 *
 * The binary is $QEMU_BINARY, by default build/qemu-system-x86_64 at
 * the top of the tree.  QEMU gets a QMP socket in a fresh temporary
 * directory and dies with the test program, also when an assertion
 * aborts it.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TEST_QEMU_H
#define TEST_QEMU_H

#include <gio/gio.h>

#include "qmp-client.h"

/* Short enough that a failure is quick, long enough for a busy host. */
#define TEST_QEMU_TIMEOUT_MS 5000

typedef struct TestQemu {
    GSubprocess *proc;
    char *dir;
    char *sock;
    QmpClient *client;      /* connected; NULL if the test is skipped */
} TestQemu;

/*
 * Start QEMU with -display none -nodefaults, a QMP socket and @args
 * (NULL-terminated), and connect @q->client to it.  Returns FALSE,
 * with the test skipped, if there is no QEMU to run.
 */
gboolean test_qemu_start(TestQemu *q, const char *const *args);
/* Free the client, kill QEMU and remove its directory. */
void test_qemu_stop(TestQemu *q);

/*
 * Connect @client to the QEMU it was made for.  QEMU creates the
 * socket file just before it listens on it: a refused connection in
 * between is retried.
 */
void test_qemu_connect(QmpClient *client);

#endif /* TEST_QEMU_H */
