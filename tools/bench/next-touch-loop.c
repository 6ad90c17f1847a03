/*
 * next-touch-loop: move buffers by next-touch, over and over, for a
 * fixed time, so that a profiler sees one steady workload
 * (scripts/bench/next-touch-tcg-profile.sh from outside the guest,
 * scripts/bench/next-touch-guest-profile.sh from inside).
 *
 *   next-touch-loop [--move-pages] [--pages N] thp|4k SECONDS
 *
 * Each round populates a 2 MiB aligned buffer of N pages (default 4096,
 * 16 MiB) on node 0, with MADV_HUGEPAGE (thp) or MADV_NOHUGEPAGE (4k),
 * marks it with MADV_MIGRATE_NEXT_TOUCH and has a thread on node 1 read
 * one byte of every page; with --move-pages that thread moves the
 * buffer with one move_pages(2) call instead.  The thread on node 1
 * lives for the whole run and is named "nt-mover", so that a profiler
 * can tell it apart.
 *
 * Prints "# phase KIND start" first, then "# phase KIND end: ROUNDS
 * rounds, MB/s MBPS, on node 1 FRACTION, µs per round USEC (marking
 * USEC, moving USEC)": the marking, on the main thread, and the touches
 * or the call, on the mover, are timed where they run, without the
 * hand-over between the two; FRACTION of the last round's pages was
 * found on node 1.  KIND is thp or
 * 4k, with "-move-pages" appended for --move-pages and "-N" for a
 * --pages other than 4096.
 *
 *   next-touch-loop --marking [--pages N] 4k SECONDS
 *
 * marks a populated buffer and takes the marks back, over and over, with
 * MADV_MIGRATE_NEXT_TOUCH and MADV_NO_MIGRATE_NEXT_TOUCH, and in turn with
 * mprotect(PROT_NONE) and back, nothing moving, and prints "# phase
 * 4k-marking end: ROUNDS rounds, ns per page: madvise NS (undone NS),
 * mprotect NS (undone NS)".
 *
 * Exit code: 0, 1 if a call failed or the last round did not move every
 * page, 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include "numa-util.h"
#include "page-migrate.h"

#define THP_BYTES   (2 * 1024 * 1024)

static char *buf;
static size_t npages;
static bool use_move_pages;
static bool stopping;
static sem_t go, done;
static uint64_t moving_ns;      /* the mover's share of the timed work */

/*
 * Map @bytes 2 MiB aligned, with MADV_HUGEPAGE or MADV_NOHUGEPAGE, and
 * populate them on the calling thread's node.  Sets buf; *raw is what to
 * munmap(), @bytes + THP_BYTES long.
 */
static bool map_populated(size_t bytes, bool thp, char **raw)
{
    *raw = mmap(NULL, bytes + THP_BYTES, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (*raw == MAP_FAILED) {
        perror("next-touch-loop: mmap");
        return false;
    }
    buf = (char *)(((uintptr_t)*raw + THP_BYTES - 1) &
                   ~(uintptr_t)(THP_BYTES - 1));
    if (madvise(buf, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
        perror("next-touch-loop: madvise");
        return false;
    }
    memset(buf, 1, bytes);
    return true;
}

/* The mover's part of one round: touch every page, or one move_pages(). */
static bool move_once(void **pages, int *nodes, int *status)
{
    size_t ps = nu_page_size();

    if (use_move_pages) {
        for (size_t i = 0; i < npages; i++) {
            pages[i] = buf + i * ps;
            nodes[i] = 1;
        }
        if (numa_move_pages(0, npages, pages, nodes, status, MPOL_MF_MOVE)) {
            perror("next-touch-loop: move_pages");
            return false;
        }
        return true;
    }
    for (size_t i = 0; i < npages; i++) {
        (void)*(volatile char *)(buf + i * ps);
    }
    return true;
}

static void *mover_on_node1(void *arg G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;
    g_autofree void **pages = g_new(void *, npages);
    g_autofree int *nodes = g_new(int, npages);
    g_autofree int *status = g_new(int, npages);
    void *ret = NULL;

    prctl(PR_SET_NAME, "nt-mover");
    if (!nu_run_on_node(1, &err)) {
        fprintf(stderr, "next-touch-loop: %s\n", err->message);
        ret = (void *)1;
    }
    for (;;) {
        uint64_t t0;

        sem_wait(&go);
        if (stopping) {
            return ret;
        }
        t0 = nu_now_ns();
        if (!ret && !move_once(pages, nodes, status)) {
            ret = (void *)1;
        }
        moving_ns += nu_now_ns() - t0;
        sem_post(&done);
    }
}

/* One marking and its undoing, by madvise() or by mprotect(). */
static bool mark_once(size_t bytes, bool with_mprotect, uint64_t *mark_ns,
                      uint64_t *unmark_ns)
{
    uint64_t t0 = nu_now_ns(), t1;
    int ret = with_mprotect ? mprotect(buf, bytes, PROT_NONE) :
              madvise(buf, bytes, MADV_MIGRATE_NEXT_TOUCH);

    t1 = nu_now_ns();
    if (ret || (with_mprotect ?
                mprotect(buf, bytes, PROT_READ | PROT_WRITE) :
                madvise(buf, bytes, MADV_NO_MIGRATE_NEXT_TOUCH))) {
        perror("next-touch-loop: marking");
        return false;
    }
    *mark_ns += t1 - t0;
    *unmark_ns += nu_now_ns() - t1;
    return true;
}

/*
 * --marking: mark a populated buffer and take the marks back, over and
 * over, with madvise(MADV_MIGRATE_NEXT_TOUCH) and
 * MADV_NO_MIGRATE_NEXT_TOUCH, then with mprotect(PROT_NONE) and
 * mprotect(PROT_READ | PROT_WRITE), in turn, so that the host's noise
 * hits both alike.  Nothing moves.
 */
static int mark_loop(const char *kind, long secs)
{
    size_t ps = nu_page_size(), bytes = npages * ps;
    uint64_t start, ns[4] = { 0 };
    long rounds = 0;
    char *raw;

    if (!map_populated(bytes, false, &raw)) {
        return 1;
    }
    printf("# phase %s start\n", kind);
    fflush(stdout);
    start = nu_now_ns();
    while (nu_now_ns() - start < (uint64_t)secs * 1000000000) {
        if (!mark_once(bytes, false, &ns[0], &ns[1]) ||
            !mark_once(bytes, true, &ns[2], &ns[3])) {
            return 1;
        }
        rounds++;
    }
    printf("# phase %s end: %ld rounds, ns per page: madvise %.1f "
           "(undone %.1f), mprotect %.1f (undone %.1f)\n", kind, rounds,
           (double)ns[0] / rounds / npages, (double)ns[1] / rounds / npages,
           (double)ns[2] / rounds / npages, (double)ns[3] / rounds / npages);
    munmap(raw, bytes + THP_BYTES);
    return 0;
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    size_t ps = nu_page_size(), bytes, on = 0;
    uint64_t start, marking_ns = 0;
    g_autofree char *kind = NULL, *size = NULL;
    pthread_t mover;
    void *failed;
    bool thp, marking = false;
    long secs, rounds = 0, pages_arg = 4096;

    for (;;) {
        if (argc >= 2 && !strcmp(argv[1], "--move-pages")) {
            use_move_pages = true;
            argv++;
            argc--;
        } else if (argc >= 2 && !strcmp(argv[1], "--marking")) {
            marking = true;
            argv++;
            argc--;
        } else if (argc >= 3 && !strcmp(argv[1], "--pages")) {
            pages_arg = nu_arg_long("next-touch-loop", "pages", argv[2], 1,
                                    262144);
            argv += 2;
            argc -= 2;
        } else {
            break;
        }
    }
    if (argc != 3 || (strcmp(argv[1], "thp") && strcmp(argv[1], "4k")) ||
        (marking && (use_move_pages || strcmp(argv[1], "4k")))) {
        fprintf(stderr, "usage: next-touch-loop [--move-pages] [--pages N] "
                "thp|4k SECONDS\n"
                "       next-touch-loop --marking [--pages N] 4k SECONDS\n");
        return 2;
    }
    thp = !strcmp(argv[1], "thp");
    npages = pages_arg;
    bytes = npages * ps;
    size = pages_arg == 4096 ? g_strdup("") :
           g_strdup_printf("-%ld", pages_arg);
    kind = g_strdup_printf("%s%s%s", argv[1],
                           use_move_pages ? "-move-pages" :
                           marking ? "-marking" : "", size);
    secs = nu_arg_long("next-touch-loop", "seconds", argv[2], 1, 3600);
    nu_numa_check("next-touch-loop", 1);
    if (!nu_run_on_node(0, &err)) {
        fprintf(stderr, "next-touch-loop: %s\n", err->message);
        return 1;
    }
    if (marking) {
        return mark_loop(kind, secs);
    }
    if (sem_init(&go, 0, 0) || sem_init(&done, 0, 0) ||
        pthread_create(&mover, NULL, mover_on_node1, NULL)) {
        perror("next-touch-loop: the mover thread");
        return 1;
    }

    printf("# phase %s start\n", kind);
    fflush(stdout);
    start = nu_now_ns();
    while (nu_now_ns() - start < (uint64_t)secs * 1000000000) {
        char *raw;
        uint64_t t0;

        if (!map_populated(bytes, thp, &raw)) {
            return 1;
        }
        t0 = nu_now_ns();
        if (!use_move_pages &&
            madvise(buf, bytes, MADV_MIGRATE_NEXT_TOUCH)) {
            perror("next-touch-loop: MADV_MIGRATE_NEXT_TOUCH");
            return 1;
        }
        marking_ns += nu_now_ns() - t0;
        sem_post(&go);
        sem_wait(&done);
        rounds++;
        on = nu_pages_on_node(0, buf, npages, 1);
        munmap(raw, bytes + THP_BYTES);
    }
    stopping = true;
    sem_post(&go);
    if (pthread_join(mover, &failed) || failed) {
        return 1;
    }
    printf("# phase %s end: %ld rounds, MB/s %.1f, on node 1 %.3f, "
           "µs per round %.1f (marking %.1f, moving %.1f)\n",
           kind, rounds, rounds * (bytes / 1e6) /
           ((marking_ns + moving_ns) / 1e9), (double)on / npages,
           (marking_ns + moving_ns) / 1e3 / rounds,
           marking_ns / 1e3 / rounds, moving_ns / 1e3 / rounds);
    return on == npages ? 0 : 1;
}
