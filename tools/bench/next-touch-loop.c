/*
 * next-touch-loop: move 16 MiB buffers by next-touch, over and over, for
 * a fixed time, so that a profiler outside the guest sees one steady
 * workload (scripts/bench/next-touch-tcg-profile.sh).
 *
 *   next-touch-loop thp|4k SECONDS
 *
 * Each round populates a 2 MiB aligned buffer on node 0, with
 * MADV_HUGEPAGE (thp) or MADV_NOHUGEPAGE (4k), marks it with
 * MADV_MIGRATE_NEXT_TOUCH and reads one byte of every page from a thread
 * on node 1.  Prints "# phase KIND start" first, then "# phase KIND end:
 * ROUNDS rounds, MB/s MBPS, on node 1 FRACTION" (the marking and the
 * touches timed; FRACTION of the last round's pages found on node 1).
 * Exit code: 0, 1 if a call failed or the last round did not move every
 * page, 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <numa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "numa-util.h"
#include "page-migrate.h"

#define BUF_BYTES   (16 * 1024 * 1024)
#define THP_BYTES   (2 * 1024 * 1024)

static char *buf;

static void *touch_on_node1(void *arg G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;
    size_t ps = nu_page_size();

    if (!nu_run_on_node(1, &err)) {
        fprintf(stderr, "next-touch-loop: %s\n", err->message);
        return (void *)1;
    }
    for (size_t off = 0; off < BUF_BYTES; off += ps) {
        (void)*(volatile char *)(buf + off);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    size_t ps = nu_page_size(), on = 0;
    uint64_t start, moving = 0;
    bool thp;
    long secs, rounds = 0;

    if (argc != 3 || (strcmp(argv[1], "thp") && strcmp(argv[1], "4k"))) {
        fprintf(stderr, "usage: next-touch-loop thp|4k SECONDS\n");
        return 2;
    }
    thp = !strcmp(argv[1], "thp");
    secs = nu_arg_long("next-touch-loop", "seconds", argv[2], 1, 3600);
    nu_numa_check("next-touch-loop", 1);
    if (!nu_run_on_node(0, &err)) {
        fprintf(stderr, "next-touch-loop: %s\n", err->message);
        return 1;
    }

    printf("# phase %s start\n", argv[1]);
    fflush(stdout);
    start = nu_now_ns();
    while (nu_now_ns() - start < (uint64_t)secs * 1000000000) {
        char *raw = mmap(NULL, BUF_BYTES + THP_BYTES, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        pthread_t toucher;
        void *failed;
        uint64_t t0;

        if (raw == MAP_FAILED) {
            perror("next-touch-loop: mmap");
            return 1;
        }
        buf = (char *)(((uintptr_t)raw + THP_BYTES - 1) &
                       ~(uintptr_t)(THP_BYTES - 1));
        if (madvise(buf, BUF_BYTES, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
            perror("next-touch-loop: madvise");
            return 1;
        }
        memset(buf, 1, BUF_BYTES);

        t0 = nu_now_ns();
        if (madvise(buf, BUF_BYTES, MADV_MIGRATE_NEXT_TOUCH)) {
            perror("next-touch-loop: MADV_MIGRATE_NEXT_TOUCH");
            return 1;
        }
        if (pthread_create(&toucher, NULL, touch_on_node1, NULL) ||
            pthread_join(toucher, &failed) || failed) {
            return 1;
        }
        moving += nu_now_ns() - t0;
        rounds++;
        on = nu_pages_on_node(0, buf, BUF_BYTES / ps, 1);
        munmap(raw, BUF_BYTES + THP_BYTES);
    }
    printf("# phase %s end: %ld rounds, MB/s %.1f, on node 1 %.3f\n",
           argv[1], rounds, rounds * (BUF_BYTES / 1e6) / (moving / 1e9),
           (double)on / (BUF_BYTES / ps));
    return on == BUF_BYTES / ps ? 0 : 1;
}
