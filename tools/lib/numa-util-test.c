/*
 * numa-util-test: the guest programs' library on the machine that runs
 * it: number parsing, pagemap and kpageflags lookups of a page this test
 * wrote, node queries, pinning, test buffers and the clock.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <linux/kernel-page-flags.h>
#include <numa.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "numa-util.h"

static void test_parse_long(void)
{
    long v = 0;

    g_assert_true(nu_parse_long("42", 0, 100, &v));
    g_assert_cmpint(v, ==, 42);
    g_assert_true(nu_parse_long("0x10", 0, 100, &v));
    g_assert_cmpint(v, ==, 16);
    g_assert_true(nu_parse_long("-0x10", -100, 100, &v));
    g_assert_cmpint(v, ==, -16);
    g_assert_true(nu_parse_long("-7", -100, 100, &v));
    g_assert_cmpint(v, ==, -7);
    v = 99;
    g_assert_false(nu_parse_long("101", 0, 100, &v));
    g_assert_false(nu_parse_long("-1", 0, 100, &v));
    g_assert_false(nu_parse_long("", 0, 100, &v));
    g_assert_false(nu_parse_long("0x", 0, 100, &v));
    g_assert_false(nu_parse_long("12abc", 0, 100, &v));
    g_assert_false(nu_parse_long(" 12", 0, 100, &v));
    g_assert_cmpint(v, ==, 99);
}

static void test_parse_u64(void)
{
    uint64_t v = 0;

    g_assert_true(nu_parse_u64("0xffffffffffffffff", &v));
    g_assert_cmpuint(v, ==, G_MAXUINT64);
    g_assert_true(nu_parse_u64("4096", &v));
    g_assert_cmpuint(v, ==, 4096);
    g_assert_false(nu_parse_u64("0x1ffffffffffffffff", &v));
    g_assert_false(nu_parse_u64("-1", &v));
    g_assert_false(nu_parse_u64("lots", &v));
}

/* A written page of our own: present, with a PFN if we may see it. */
static void test_pagemap_and_kpageflags(void)
{
    size_t psz = nu_page_size();
    char *page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_autoptr(NuPageTable) pagemap = NULL;
    g_autoptr(NuPageTable) kpageflags = NULL;
    g_autoptr(GError) err = NULL;
    uint64_t pfn[2], flags;

    g_assert_true(page != MAP_FAILED);
    memset(page, 1, psz);
    pagemap = nu_pagemap_open(0, &err);
    g_assert_no_error(err);
    g_assert_true(nu_pagemap_pfns(pagemap, page, 1, pfn, &err));
    g_assert_no_error(err);
    if (!pfn[0]) {
        g_test_skip("pagemap hides PFNs from this user");
        munmap(page, psz);
        return;
    }
    g_assert_cmpuint(nu_virt_to_phys(0, page), ==, pfn[0] * psz);
    g_assert_cmpuint(nu_virt_to_phys(getpid(), page), ==, pfn[0] * psz);

    /* Not present after MADV_DONTNEED: PFN 0, physical address 0. */
    madvise(page, psz, MADV_DONTNEED);
    g_assert_true(nu_pagemap_pfns(pagemap, page, 1, pfn + 1, NULL));
    g_assert_cmpuint(pfn[1], ==, 0);
    g_assert_cmpuint(nu_virt_to_phys(0, page), ==, 0);

    memset(page, 1, psz);
    g_assert_true(nu_pagemap_pfns(pagemap, page, 1, pfn, NULL));
    kpageflags = nu_kpageflags_open(&err);
    g_assert_no_error(err);
    g_assert_true(nu_page_table_read(kpageflags, pfn[0], 1, &flags, &err));
    g_assert_no_error(err);
    g_assert_true(flags & (1ULL << KPF_ANON));
    g_assert_false(flags & (1ULL << KPF_BUDDY));
    /* Far beyond the end of memory: a short read, reported. */
    g_assert_false(nu_page_table_read(kpageflags, G_GUINT64_CONSTANT(1) << 50,
                                      1, &flags, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "/proc/kpageflags"));
    munmap(page, psz);
}

static void test_pagemap_bad_pid(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_null(nu_pagemap_open(G_MAXINT, &err));
    g_assert_nonnull(strstr(err->message, "pagemap"));
    g_assert_cmpuint(nu_virt_to_phys(G_MAXINT, (void *)0x1000), ==, 0);
}

static void test_nodes(void)
{
    size_t psz = nu_page_size(), npages = 8;
    char *buf;
    int node;

    if (numa_available() < 0) {
        g_test_skip("no NUMA support");
        return;
    }
    g_assert_true(nu_node_has_memory(0) || numa_max_node() > 0);
    g_assert_false(nu_node_has_memory(-1));
    g_assert_false(nu_node_has_memory(numa_max_node() + 1));
    for (node = 0; !nu_node_has_memory(node); node++) {
    }
    buf = nu_buffer_alloc_on(npages, node);
    g_assert_nonnull(buf);
    g_assert_cmpint(nu_page_node(0, buf), ==, node);
    g_assert_cmpuint(nu_pages_on_node(0, buf, npages, node), ==, npages);
    g_assert_cmpuint(nu_pages_on_node(0, buf, npages, node + 1), ==, 0);
    g_assert_true(nu_buffer_intact(buf, npages));
    buf[psz * 3 + 5] ^= 1;
    g_assert_false(nu_buffer_intact(buf, npages));
    numa_free(buf, npages * psz);
    g_assert_cmpint(nu_other_node(node), !=, node);
}

static void test_pinning(void)
{
    g_autoptr(GError) err = NULL;
    int cpu;

    if (numa_available() < 0) {
        g_test_skip("no NUMA support");
        return;
    }
    cpu = nu_pin_to_node(0, &err);
    g_assert_no_error(err);
    g_assert_cmpint(cpu, ==, nu_node_first_cpu(0));
    g_assert_cmpint(sched_getcpu(), ==, cpu);
    g_assert_cmpint(nu_pin_to_node(numa_max_node() + 1, &err), ==, -1);
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_assert_true(nu_run_on_node(0, &err));
    g_assert_no_error(err);
}

static void test_clock(void)
{
    uint64_t t0 = nu_now_ns(), t1;

    g_usleep(2000);
    t1 = nu_now_ns();
    g_assert_cmpuint(t1 - t0, >=, 2000000);
    g_assert_cmpuint(t1 - t0, <, G_GUINT64_CONSTANT(10) * 1000000000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/numa-util/parse/long", test_parse_long);
    g_test_add_func("/numa-util/parse/u64", test_parse_u64);
    g_test_add_func("/numa-util/pagemap/own-page",
                    test_pagemap_and_kpageflags);
    g_test_add_func("/numa-util/pagemap/bad-pid", test_pagemap_bad_pid);
    g_test_add_func("/numa-util/nodes", test_nodes);
    g_test_add_func("/numa-util/pinning", test_pinning);
    g_test_add_func("/numa-util/clock", test_clock);
    return g_test_run();
}
