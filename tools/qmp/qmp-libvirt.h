/*
 * qmp-libvirt: what the libvirt-domain transport offers beyond the
 * QMP client interface.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QMP_LIBVIRT_H
#define QMP_LIBVIRT_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "qmp-client.h"

/*
 * The connected domain behind @client (owned by the client), or NULL
 * when @client is not connected or uses another transport.
 */
virDomainPtr qmp_client_libvirt_domain(QmpClient *client);

#endif /* QMP_LIBVIRT_H */
