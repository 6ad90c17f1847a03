/*
 * page-migrate-sysfs-test: how the page_migrate wrappers find the
 * system calls' numbers: the parser of the sysfs files, the reader of
 * the directory, and, on a kernel without the series (any host), that
 * the wrappers fail with ENOSYS instead of calling 463/464, which
 * Linux 6.13 and later give to setxattrat/getxattrat.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include "page-migrate.h"

static void test_parse_good(void)
{
    long nr = -1;

    g_assert_true(page_migrate_parse_nr("f", "463\n", &nr, NULL));
    g_assert_cmpint(nr, ==, 463);
    g_assert_true(page_migrate_parse_nr("f", "464", &nr, NULL));
    g_assert_cmpint(nr, ==, 464);
    g_assert_true(page_migrate_parse_nr("f", "0\n", &nr, NULL));
    g_assert_cmpint(nr, ==, 0);
}

static void test_parse_bad(void)
{
    static const char *const bad[] = {
        "", "\n", "abc\n", "-1\n", "+463\n", " 463\n", "463 \n", "463\n\n",
        "0x1cf\n", "4096\n", "99999999999999999999\n", "463\n464\n",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *shown = g_strescape(bad[i], NULL);
        long nr = -1;

        g_test_message("parsing \"%s\"", shown);
        g_assert_false(page_migrate_parse_nr("/x/migrate_ph_pages", bad[i],
                                             &nr, &err));
        g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL);
        g_assert_nonnull(strstr(err->message, "/x/migrate_ph_pages"));
        g_assert_nonnull(strstr(err->message, "not a system call number"));
        g_assert_cmpint(nr, ==, -1);
    }
}

static char *make_dir(const char *virt, const char *ph)
{
    g_autoptr(GError) err = NULL;
    char *dir = g_dir_make_tmp("page-migrate-XXXXXX", &err);

    g_assert_no_error(err);
    if (virt) {
        g_autofree char *p = g_build_filename(dir, "migrate_virt_addr_range",
                                              NULL);
        g_assert_true(g_file_set_contents(p, virt, -1, NULL));
    }
    if (ph) {
        g_autofree char *p = g_build_filename(dir, "migrate_ph_pages", NULL);
        g_assert_true(g_file_set_contents(p, ph, -1, NULL));
    }
    return dir;
}

static void remove_dir(const char *dir)
{
    g_autofree char *v = g_build_filename(dir, "migrate_virt_addr_range",
                                          NULL);
    g_autofree char *p = g_build_filename(dir, "migrate_ph_pages", NULL);

    g_unlink(v);
    g_unlink(p);
    g_rmdir(dir);
}

static void test_read_dir(void)
{
    g_autofree char *dir = make_dir("470\n", "471\n");
    PageMigrateSyscalls nrs = { -1, -1 };

    g_assert_true(page_migrate_syscalls_read(dir, &nrs, NULL));
    g_assert_cmpint(nrs.virt_addr_range, ==, 470);
    g_assert_cmpint(nrs.ph_pages, ==, 471);
    remove_dir(dir);
}

static void test_read_missing_dir(void)
{
    g_autoptr(GError) err = NULL;
    PageMigrateSyscalls nrs = { -1, -1 };

    g_assert_false(page_migrate_syscalls_read("/nonexistent/page_migrate",
                                              &nrs, &err));
    g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOSYS);
    g_assert_cmpstr(err->message, ==, "this kernel lacks the page_migrate "
                    "series (no /nonexistent/page_migrate)");
}

static void test_read_missing_file(void)
{
    g_autofree char *dir = make_dir("470\n", NULL);
    g_autoptr(GError) err = NULL;
    PageMigrateSyscalls nrs = { -1, -1 };

    g_assert_false(page_migrate_syscalls_read(dir, &nrs, &err));
    g_assert_nonnull(strstr(err->message, "migrate_ph_pages"));
    g_assert_nonnull(strstr(err->message, "incomplete"));
    remove_dir(dir);
}

static void test_read_garbage(void)
{
    g_autofree char *dir = make_dir("463\n", "getxattrat\n");
    g_autoptr(GError) err = NULL;
    PageMigrateSyscalls nrs = { -1, -1 };

    g_assert_false(page_migrate_syscalls_read(dir, &nrs, &err));
    g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL);
    g_assert_nonnull(strstr(err->message, "migrate_ph_pages"));
    remove_dir(dir);
}

/* This kernel: without the series, the calls are never made. */
static void test_running_kernel_without_series(void)
{
    g_autoptr(GError) err = NULL;
    struct page_migrate_stats st = { 0, 0 };
    phaddr_t pa = 0x1000;
    char buf[64];

    if (g_file_test(PAGE_MIGRATE_SYSFS, G_FILE_TEST_EXISTS)) {
        g_test_skip("this kernel has the page_migrate series");
        return;
    }
    g_assert_null(page_migrate_syscalls(&err));
    g_assert_cmpstr(err->message, ==, "this kernel lacks the page_migrate "
                    "series (no " PAGE_MIGRATE_SYSFS ")");
    /*
     * Called as 463/464, these arguments would reach setxattrat or
     * getxattrat and fail with EBADF or EFAULT, not ENOSYS.
     */
    errno = 0;
    g_assert_cmpint(migrate_virt_addr_range(buf, sizeof(buf), 0, &st, 0),
                    ==, -1);
    g_assert_cmpint(errno, ==, ENOSYS);
    errno = 0;
    g_assert_cmpint(migrate_ph_pages(&pa, 1, 0, &st, 0), ==, -1);
    g_assert_cmpint(errno, ==, ENOSYS);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/page-migrate/parse/good", test_parse_good);
    g_test_add_func("/page-migrate/parse/bad", test_parse_bad);
    g_test_add_func("/page-migrate/read/dir", test_read_dir);
    g_test_add_func("/page-migrate/read/missing-dir", test_read_missing_dir);
    g_test_add_func("/page-migrate/read/missing-file",
                    test_read_missing_file);
    g_test_add_func("/page-migrate/read/garbage", test_read_garbage);
    g_test_add_func("/page-migrate/running-kernel/without-series",
                    test_running_kernel_without_series);
    return g_test_run();
}
