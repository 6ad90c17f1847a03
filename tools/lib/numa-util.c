/*
 * numa-util.c: the guest programs' shared helpers (see numa-util.h).
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "numa-util.h"

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PRESENT      (1ULL << 63)
#define PM_PFN_MASK     ((1ULL << 55) - 1)

/* Pages per move_pages(2) status query in nu_pages_on_node(). */
#define STATUS_BATCH    1024

struct NuPageTable {
    int fd;
    char *path;
};

uint64_t nu_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * G_GUINT64_CONSTANT(1000000000) +
           (uint64_t)ts.tv_nsec;
}

/* "0x" or "0X" starts a hexadecimal number; anything else is decimal. */
static const char *number_base(const char *s, guint *base)
{
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2];

    *base = hex ? 16 : 10;
    return hex ? s + 2 : s;
}

bool nu_parse_long(const char *s, long min, long max, long *out)
{
    bool neg = s[0] == '-';
    const char *digits;
    gint64 v;
    guint base;

    digits = number_base(s + neg, &base);
    if (base == 16) {
        g_autofree char *signed_hex = g_strconcat(neg ? "-" : "", digits,
                                                  NULL);

        if (!g_ascii_string_to_signed(signed_hex, 16, min, max, &v, NULL)) {
            return false;
        }
    } else if (!g_ascii_string_to_signed(s, 10, min, max, &v, NULL)) {
        return false;
    }
    *out = (long)v;
    return true;
}

bool nu_parse_u64(const char *s, uint64_t *out)
{
    const char *digits;
    guint64 v;
    guint base;

    digits = number_base(s, &base);
    if (!g_ascii_string_to_unsigned(digits, base, 0, G_MAXUINT64, &v,
                                    NULL)) {
        return false;
    }
    *out = v;
    return true;
}

long nu_arg_long(const char *prog, const char *what, const char *s,
                 long min, long max)
{
    long v;

    if (!nu_parse_long(s, min, max, &v)) {
        fprintf(stderr, "%s: bad %s '%s' (a number from %ld to %ld)\n",
                prog, what, s, min, max);
        exit(2);
    }
    return v;
}

void nu_arg_check_range(const char *prog, const char *what, long v,
                        long min, long max)
{
    if (v < min || v > max) {
        fprintf(stderr, "%s: bad %s %ld (a number from %ld to %ld)\n",
                prog, what, v, min, max);
        exit(2);
    }
}

bool nu_node_has_memory(int node)
{
    return node >= 0 && node <= numa_max_node() &&
           numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node);
}

void nu_numa_check(const char *prog, int node)
{
    if (numa_available() < 0) {
        fprintf(stderr, "%s: NUMA is not available\n", prog);
        exit(1);
    }
    if (node >= 0 && !nu_node_has_memory(node)) {
        fprintf(stderr, "%s: node %d has no memory\n", prog, node);
        exit(2);
    }
}

int nu_other_node(int node)
{
    for (int n = 0; n <= numa_max_node(); n++) {
        if (n != node && nu_node_has_memory(n)) {
            return n;
        }
    }
    return -1;
}

int nu_node_first_cpu(int node)
{
    struct bitmask *cpus = numa_allocate_cpumask();
    int cpu = -1;

    if (numa_node_to_cpus(node, cpus) == 0) {
        for (unsigned c = 0; c < cpus->size && cpu < 0; c++) {
            if (numa_bitmask_isbitset(cpus, c)) {
                cpu = (int)c;
            }
        }
    }
    numa_free_cpumask(cpus);
    return cpu;
}

bool nu_pin_to_cpu(int cpu, GError **errp)
{
    struct bitmask *mask = numa_allocate_cpumask();
    int rc;

    numa_bitmask_setbit(mask, (unsigned)cpu);
    rc = numa_sched_setaffinity(0, mask);
    numa_free_cpumask(mask);
    if (rc < 0) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot pin to CPU %d: %s", cpu, g_strerror(errno));
        return false;
    }
    return true;
}

int nu_pin_to_node(int node, GError **errp)
{
    int cpu = nu_node_first_cpu(node);

    if (cpu < 0) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "node %d has no CPU", node);
        return -1;
    }
    return nu_pin_to_cpu(cpu, errp) ? cpu : -1;
}

bool nu_run_on_node(int node, GError **errp)
{
    if (numa_run_on_node(node) < 0) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot run on node %d: %s", node, g_strerror(errno));
        return false;
    }
    return true;
}

int nu_page_node(pid_t pid, const void *addr)
{
    void *page = (void *)addr;
    int status;

    if (numa_move_pages(pid, 1, &page, NULL, &status, 0) < 0) {
        return -errno;
    }
    return status;
}

size_t nu_pages_on_node(pid_t pid, const void *buf, size_t npages, int node)
{
    size_t psz = nu_page_size(), on = 0, done, n, i;
    void *pages[STATUS_BATCH];
    int status[STATUS_BATCH];

    for (done = 0; done < npages; done += n) {
        n = MIN(npages - done, (size_t)STATUS_BATCH);
        for (i = 0; i < n; i++) {
            pages[i] = (char *)buf + (done + i) * psz;
        }
        if (numa_move_pages(pid, n, pages, NULL, status, 0) < 0) {
            continue;
        }
        for (i = 0; i < n; i++) {
            on += status[i] == node;
        }
    }
    return on;
}

static NuPageTable *page_table_open(char *path, GError **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    NuPageTable *t;

    if (fd < 0) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "%s: %s", path, g_strerror(errno));
        g_free(path);
        return NULL;
    }
    t = g_new(NuPageTable, 1);
    t->fd = fd;
    t->path = path;
    return t;
}

NuPageTable *nu_pagemap_open(pid_t pid, GError **errp)
{
    return page_table_open(pid ? g_strdup_printf("/proc/%d/pagemap", (int)pid)
                               : g_strdup("/proc/self/pagemap"), errp);
}

NuPageTable *nu_kpageflags_open(GError **errp)
{
    return page_table_open(g_strdup("/proc/kpageflags"), errp);
}

void nu_page_table_close(NuPageTable *t)
{
    if (t) {
        close(t->fd);
        g_free(t->path);
        g_free(t);
    }
}

bool nu_page_table_read(NuPageTable *t, uint64_t index, size_t n,
                        uint64_t *out, GError **errp)
{
    size_t len = n * sizeof(*out), got = 0;
    ssize_t r;

    while (got < len) {
        r = pread(t->fd, (char *)out + got, len - got,
                  (off_t)(index * sizeof(*out) + got));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            g_set_error(errp, G_FILE_ERROR,
                        g_file_error_from_errno(r ? errno : EIO),
                        "%s: cannot read entries %" G_GUINT64_FORMAT
                        "..%" G_GUINT64_FORMAT ": %s", t->path, index,
                        index + n - 1, r ? g_strerror(errno) : "short read");
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

uint64_t nu_pagemap_entry_pfn(uint64_t entry)
{
    return entry & PM_PRESENT ? entry & PM_PFN_MASK : 0;
}

bool nu_pagemap_pfns(NuPageTable *pagemap, const void *addr, size_t npages,
                     uint64_t *pfns, GError **errp)
{
    if (!nu_page_table_read(pagemap, (uintptr_t)addr / nu_page_size(),
                            npages, pfns, errp)) {
        return false;
    }
    for (size_t i = 0; i < npages; i++) {
        pfns[i] = nu_pagemap_entry_pfn(pfns[i]);
    }
    return true;
}

uint64_t nu_virt_to_phys(pid_t pid, const void *addr)
{
    g_autoptr(NuPageTable) pagemap = nu_pagemap_open(pid, NULL);
    uint64_t pfn;

    if (!pagemap || !nu_pagemap_pfns(pagemap, addr, 1, &pfn, NULL)) {
        return 0;
    }
    return pfn * nu_page_size();
}

size_t nu_page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static char pattern(size_t i)
{
    return (char)(i * 7 + i / 4096);
}

char *nu_buffer_alloc_on(size_t npages, int node)
{
    size_t len = npages * nu_page_size();
    char *buf = numa_alloc_onnode(len, node);

    for (size_t i = 0; buf && i < len; i++) {
        buf[i] = pattern(i);
    }
    return buf;
}

bool nu_buffer_intact(const char *buf, size_t npages)
{
    size_t len = npages * nu_page_size();

    for (size_t i = 0; i < len; i++) {
        if (buf[i] != pattern(i)) {
            return false;
        }
    }
    return true;
}
