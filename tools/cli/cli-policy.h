/*
 * cli-policy: guest-numa's policy command.  It runs the policy engine,
 * numa-policyd, against the QEMU that guest-numa reaches.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef CLI_POLICY_H
#define CLI_POLICY_H

#include "qmp-client.h"

/*
 * The engine's path: $GUEST_NUMA_POLICYD, else numa-policyd beside
 * this program (installed together) or in the build tree
 * (../policy/numa-policyd), else numa-policyd on the PATH.  NULL when
 * there is none.
 */
char *cli_policy_engine(void);

/*
 * Run @engine with @args (its own options, passed unchanged; @nargs of
 * them) until it ends, and return its exit code (128 + N when signal N
 * ended it), or -1 after printing why it could not run.
 *
 * With @qmp_socket (--qmp) the engine gets that socket: guest-numa
 * has closed its own connection (@client, connected) first, as
 * QEMU serves one QMP client per socket.  Without (--domain), the
 * engine gets a private socket on which guest-numa serves QMP: each
 * command it sends runs through @client, and @client's events are
 * passed on, until the engine ends.
 */
int cli_policy_run(QmpClient *client, const char *qmp_socket,
                   const char *engine, char **args, int nargs);

#endif /* CLI_POLICY_H */
