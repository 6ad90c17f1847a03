/*
 * numa-util.h: what the guest programs under tools/ share: pinning a
 * thread to a node, pagemap and kpageflags lookups, node queries, test
 * buffers, timing and command-line numbers.  Built on libnuma and GLib.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef NUMA_UTIL_H
#define NUMA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

/* Timing: CLOCK_MONOTONIC, in nanoseconds. */
uint64_t nu_now_ns(void);

/*
 * Command-line numbers: decimal, or hexadecimal after "0x".
 * nu_parse_long() accepts one within [@min, @max], nu_parse_u64() any
 * unsigned 64-bit one, and set *@out.
 * nu_arg_long() does the same for option @what of program @prog, and on
 * a bad value prints "PROG: bad WHAT 'S' (a number from MIN to MAX)" and
 * exits 2, the usage-error code of every tool.
 */
bool nu_parse_long(const char *s, long min, long max, long *out);
bool nu_parse_u64(const char *s, uint64_t *out);
long nu_arg_long(const char *prog, const char *what, const char *s,
                 long min, long max);
/* An option already parsed to @v (GOptionContext): range check only. */
void nu_arg_check_range(const char *prog, const char *what, long v,
                        long min, long max);

/*
 * Nodes.  nu_numa_check() exits 1 if the kernel has no NUMA support and
 * 2 if @node (unless -1) is not a node with memory; nu_other_node()
 * returns a node with memory other than @node, or -1.
 */
void nu_numa_check(const char *prog, int node);
bool nu_node_has_memory(int node);
int nu_other_node(int node);
/* The lowest-numbered CPU of @node, or -1 if it has none. */
int nu_node_first_cpu(int node);

/*
 * Pinning.  nu_pin_to_cpu() binds the calling thread to @cpu;
 * nu_pin_to_node() to the first CPU of @node and returns that CPU;
 * nu_run_on_node() lets it run on any CPU of @node.  They return false
 * (-1 for nu_pin_to_node) and set @errp on failure.
 */
bool nu_pin_to_cpu(int cpu, GError **errp);
int nu_pin_to_node(int node, GError **errp);
bool nu_run_on_node(int node, GError **errp);

/*
 * Where pages are, per the kernel (move_pages(2) status query through
 * libnuma).  nu_page_node() returns the node of the page at @addr in
 * @pid (0: the caller) or a negative errno; nu_pages_on_node() counts
 * the pages of [@buf, @buf + @npages pages) that are on @node.
 */
int nu_page_node(pid_t pid, const void *addr);
size_t nu_pages_on_node(pid_t pid, const void *buf, size_t npages,
                        int node);

/*
 * The per-page tables of /proc: /proc/PID/pagemap (one entry per
 * virtual page) and /proc/kpageflags (one per PFN).  Both are arrays
 * of 64-bit entries, read with nu_page_table_read().
 */
typedef struct NuPageTable NuPageTable;

NuPageTable *nu_pagemap_open(pid_t pid, GError **errp);
NuPageTable *nu_kpageflags_open(GError **errp);
void nu_page_table_close(NuPageTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NuPageTable, nu_page_table_close)
/* Entries [@index, @index + @n) into @out; false on a short read. */
bool nu_page_table_read(NuPageTable *t, uint64_t index, size_t n,
                        uint64_t *out, GError **errp);

/*
 * The PFNs of @npages pages from @addr; 0 where a page is not present
 * or the PFN is hidden (pagemap shows PFNs to CAP_SYS_ADMIN only).
 */
bool nu_pagemap_pfns(NuPageTable *pagemap, const void *addr, size_t npages,
                     uint64_t *pfns, GError **errp);
/* A pagemap entry's PFN: 0 unless the page is present. */
uint64_t nu_pagemap_entry_pfn(uint64_t entry);
/*
 * The physical address of the page at @addr in @pid (0: the caller), or
 * 0 if the page is not present, the PFN is hidden or pagemap cannot be
 * read.
 */
uint64_t nu_virt_to_phys(pid_t pid, const void *addr);

/*
 * Test buffers: @npages pages bound to @node (numa_alloc_onnode),
 * written with a pattern that nu_buffer_intact() checks.  Free them
 * with numa_free(buf, npages * nu_page_size()).
 */
size_t nu_page_size(void);
char *nu_buffer_alloc_on(size_t npages, int node);
bool nu_buffer_intact(const char *buf, size_t npages);

#endif /* NUMA_UTIL_H */
