/*
 * page_migrate.h: userspace side of migrate_virt_addr_range(2) and
 * migrate_ph_pages(2), the project's guest-kernel system calls (x86_64
 * numbers 463 and 464, project-local: not in mainline Linux).
 *
 * The wrappers keep the 2004 seed's signatures (Menyhart, "Migrate pages
 * from a ccNUMA node to another"); the kernel's sixth argument, flags, is
 * reserved and passed as 0.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PAGE_MIGRATE_H
#define PAGE_MIGRATE_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef __NR_migrate_virt_addr_range
#if defined(__x86_64__) && !defined(__ILP32__)
#define __NR_migrate_virt_addr_range 463
#define __NR_migrate_ph_pages 464
#endif
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

/* The seed's name for the statistics structure. */
#define _un_success_count_ page_migrate_stats

/* How many physical addresses one migrate_ph_pages() call takes. */
static inline size_t migrate_ph_pages_max(void)
{
    return (size_t)sysconf(_SC_PAGESIZE) / sizeof(phaddr_t);
}

/*
 * Move the pages at the physical addresses of @table (at most
 * migrate_ph_pages_max() of them) that @pid's address space maps to
 * @node; pid 0 is the caller.  Returns 0, or -1 with errno set.
 */
static inline int migrate_ph_pages(const phaddr_t *const table,
                                   const size_t length, const int node,
                                   struct page_migrate_stats *const p,
                                   const pid_t pid)
{
#ifdef __NR_migrate_ph_pages
    return (int)syscall(__NR_migrate_ph_pages, table, length, node, p, pid,
                        0U);
#else
    (void)table; (void)length; (void)node; (void)p; (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/*
 * Move the pages of [@address, @address + @length) of @pid's address
 * space (pid 0: the caller) to @node.  @address is page aligned; @length
 * is rounded up to whole pages.  Returns 0, or -1 with errno set.
 */
static inline int migrate_virt_addr_range(const void *const address,
                                          const size_t length,
                                          const int node,
                                          struct page_migrate_stats *const p,
                                          const pid_t pid)
{
#ifdef __NR_migrate_virt_addr_range
    return (int)syscall(__NR_migrate_virt_addr_range, address, length, node,
                        p, pid, 0U);
#else
    (void)address; (void)length; (void)node; (void)p; (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/*
 * Physical address of the page at @addr in @pid (0: the caller), read
 * from /proc/PID/pagemap (PFNs need CAP_SYS_ADMIN).  Returns 0 if the
 * page is not present or the PFN is hidden.
 */
static inline phaddr_t page_migrate_phaddr(pid_t pid, const void *addr)
{
    long psz = sysconf(_SC_PAGESIZE);
    char path[64];
    uint64_t ent = 0;
    int fd, n;

    if (pid)
        n = snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
    else
        n = snprintf(path, sizeof(path), "/proc/self/pagemap");
    if (n < 0 || (size_t)n >= sizeof(path))
        return 0;
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    if (pread(fd, &ent, sizeof(ent),
              (off_t)((uintptr_t)addr / (uintptr_t)psz * sizeof(ent)))
        != (ssize_t)sizeof(ent))
        ent = 0;
    close(fd);
    if (!(ent & (1ULL << 63)))
        return 0;
    return (ent & ((1ULL << 55) - 1)) * (uint64_t)psz;
}

#endif /* PAGE_MIGRATE_H */
