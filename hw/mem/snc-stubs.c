/*
 * QMP commands of the Scalable Node Controller, for builds without it
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-snc.h"

/* No device can exist: the list is empty, as a query's answer. */
SncCountersList *qmp_query_snc_counters(bool has_top, uint32_t top,
                                        Error **errp)
{
    return NULL;
}

void qmp_snc_configure(const char *device,
                       bool has_mode, SncMode mode,
                       bool has_host_mode, SncHostMode host_mode,
                       bool has_exact,
                       bool exact,
                       bool has_source_nodes, uint32List *source_nodes,
                       bool has_period_ms, uint32_t period_ms,
                       bool has_sample_interval_us,
                       uint32_t sample_interval_us, Error **errp)
{
    error_setg(errp, "Scalable Node Controller support is not compiled in");
}

void qmp_snc_control(const char *device, SncAction action, Error **errp)
{
    error_setg(errp, "Scalable Node Controller support is not compiled in");
}

SncGuestMigrateResult *coroutine_fn
qmp_snc_guest_migrate(const char *device, bool has_addr, uint64_t addr,
                      bool has_size, uint64_t size, bool has_ranges,
                      SncGuestRangeList *ranges, uint32_t node,
                      bool has_timeout_ms, uint32_t timeout_ms,
                      const char *job_id, Error **errp)
{
    error_setg(errp, "Scalable Node Controller support is not compiled in");
    return NULL;
}

SncGuestRequest *qmp_snc_guest_hint(const char *device, uint64_t addr,
                                    uint64_t size, uint32_t node,
                                    Error **errp)
{
    error_setg(errp, "Scalable Node Controller support is not compiled in");
    return NULL;
}
