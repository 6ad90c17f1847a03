/*
 * page-migrate.h: userspace side of migrate_virt_addr_range(2) and
 * migrate_ph_pages(2), the guest kernel's page_migrate system calls.
 *
 * Their numbers are not allocated upstream, so they are not compiled
 * in: the kernel series publishes each one, in decimal, in
 * /sys/kernel/mm/page_migrate/<call>.  The wrappers read them there
 * once; on a kernel without the series they fail with ENOSYS instead
 * of calling whatever that kernel has at those numbers.  Tools call
 * page_migrate_require() first, which explains that error and exits.
 *
 * The kernel's sixth argument, flags, is reserved and passed as 0.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PAGE_MIGRATE_H
#define PAGE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

#define PAGE_MIGRATE_SYSFS "/sys/kernel/mm/page_migrate"

/*
 * The guest kernel's next-touch advice (madvise(2)): the values are
 * local to the series, as <asm-generic/mman-common.h> there has them.
 */
#ifndef MADV_MIGRATE_NEXT_TOUCH
#define MADV_MIGRATE_NEXT_TOUCH 80
#define MADV_MIGRATE_NEXT_WRITE 81
#define MADV_NO_MIGRATE_NEXT_TOUCH 82
#endif

/* A physical address, as /proc/PID/pagemap's PFN times the page size. */
typedef uint64_t phaddr_t;

#ifndef _UAPI_LINUX_PAGE_MIGRATE_H
/* Same layout as <linux/page_migrate.h>; counts are in base pages. */
struct page_migrate_stats {
    uint32_t successful;    /* pages moved to the node by this call */
    uint32_t failed;        /* pages that should have moved but did not */
};
#endif

/* The structure's other name, kept for programs written against it. */
#define _un_success_count_ page_migrate_stats

/* The two calls' numbers, as the running kernel publishes them. */
typedef struct PageMigrateSyscalls {
    long virt_addr_range;       /* migrate_virt_addr_range */
    long ph_pages;              /* migrate_ph_pages */
} PageMigrateSyscalls;

/*
 * Parse one sysfs file's text, "<decimal>\n", into *@nr; @what names the
 * file in the error.
 */
bool page_migrate_parse_nr(const char *what, const char *text, long *nr,
                           GError **errp);
/* Read both numbers from directory @dir (PAGE_MIGRATE_SYSFS normally). */
bool page_migrate_syscalls_read(const char *dir, PageMigrateSyscalls *out,
                                GError **errp);
/*
 * The running kernel's numbers, read from PAGE_MIGRATE_SYSFS on the first
 * call and remembered; NULL with @errp set if the series is missing.
 */
const PageMigrateSyscalls *page_migrate_syscalls(GError **errp);
/*
 * Exit 1 with "PROG: this kernel lacks the page_migrate series (...)"
 * unless page_migrate_syscalls() finds the calls.
 */
void page_migrate_require(const char *prog);

/* How many physical addresses one migrate_ph_pages() call takes. */
size_t migrate_ph_pages_max(void);

/*
 * Move the pages at the physical addresses of @table (at most
 * migrate_ph_pages_max() of them) that @pid's address space maps to
 * @node; pid 0 is the caller.  Returns 0, or -1 with errno set.
 */
int migrate_ph_pages(const phaddr_t *table, size_t length, int node,
                     struct page_migrate_stats *p, pid_t pid);

/*
 * Move the pages of [@address, @address + @length) of @pid's address
 * space (pid 0: the caller) to @node.  @address is page aligned; @length
 * is rounded up to whole pages.  Returns 0, or -1 with errno set.
 */
int migrate_virt_addr_range(const void *address, size_t length, int node,
                            struct page_migrate_stats *p, pid_t pid);

#endif /* PAGE_MIGRATE_H */
