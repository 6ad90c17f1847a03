/*
 * page-migrate.c: the page_migrate system calls' wrappers, with their
 * numbers read from the running kernel (see page-migrate.h).
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "page-migrate.h"

/* Above every architecture's system call table, with room to spare. */
#define NR_MAX  4095

bool page_migrate_parse_nr(const char *what, const char *text, long *nr,
                           GError **errp)
{
    size_t len = strlen(text), digits = strspn(text, "0123456789");
    g_autofree char *number = NULL;
    guint64 v;

    if (len && text[len - 1] == '\n') {
        len--;
    }
    number = g_strndup(text, len);
    if (!digits || digits != len ||
        !g_ascii_string_to_unsigned(number, 10, 0, NR_MAX, &v, NULL)) {
        g_autofree char *shown = g_strescape(text, NULL);

        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: \"%s\" is not a system call number (a decimal "
                    "number from 0 to %d and a newline)", what, shown,
                    NR_MAX);
        return false;
    }
    *nr = (long)v;
    return true;
}

static bool read_nr(const char *dir, const char *name, long *nr,
                    GError **errp)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        g_set_error(errp, G_FILE_ERROR, err->code,
                    "the page_migrate series is incomplete: %s",
                    err->message);
        return false;
    }
    return page_migrate_parse_nr(path, text, nr, errp);
}

bool page_migrate_syscalls_read(const char *dir, PageMigrateSyscalls *out,
                                GError **errp)
{
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOSYS,
                    "this kernel lacks the page_migrate series (no %s)",
                    dir);
        return false;
    }
    return read_nr(dir, "migrate_virt_addr_range", &out->virt_addr_range,
                   errp) &&
           read_nr(dir, "migrate_ph_pages", &out->ph_pages, errp);
}

const PageMigrateSyscalls *page_migrate_syscalls(GError **errp)
{
    static PageMigrateSyscalls nrs;
    static bool found;

    if (!found) {
        found = page_migrate_syscalls_read(PAGE_MIGRATE_SYSFS, &nrs, errp);
    }
    return found ? &nrs : NULL;
}

void page_migrate_require(const char *prog)
{
    g_autoptr(GError) err = NULL;

    if (!page_migrate_syscalls(&err)) {
        fprintf(stderr, "%s: %s\n", prog, err->message);
        exit(1);
    }
}

size_t migrate_ph_pages_max(void)
{
    return (size_t)sysconf(_SC_PAGESIZE) / sizeof(phaddr_t);
}

/* The running kernel's numbers, or NULL with errno ENOSYS. */
static const PageMigrateSyscalls *syscalls_or_enosys(void)
{
    const PageMigrateSyscalls *nrs = page_migrate_syscalls(NULL);

    if (!nrs) {
        errno = ENOSYS;
    }
    return nrs;
}

int migrate_ph_pages(const phaddr_t *table, size_t length, int node,
                     struct page_migrate_stats *p, pid_t pid)
{
    const PageMigrateSyscalls *nrs = syscalls_or_enosys();

    return nrs ? (int)syscall(nrs->ph_pages, table, length, node, p, pid, 0U)
               : -1;
}

int migrate_virt_addr_range(const void *address, size_t length, int node,
                            struct page_migrate_stats *p, pid_t pid)
{
    const PageMigrateSyscalls *nrs = syscalls_or_enosys();

    return nrs ? (int)syscall(nrs->virt_addr_range, address, length, node,
                              p, pid, 0U)
               : -1;
}
