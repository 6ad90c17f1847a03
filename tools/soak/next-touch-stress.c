/*
 * next-touch-stress: the guest kernel's next-touch marking and the
 * seed's migration calls, raced against the memory-management calls
 * that change what a mark or a physical address refers to.  Run in a
 * guest with NUMA nodes, as root (it reads /proc/self/pagemap).
 *
 *   next-touch-stress [--seconds S] [--threads N] [--pages P] [--seed X]
 *
 * Each of N worker threads (default 4) owns a region of P pages
 * (default 1024) and loops over random operations on random subranges
 * of it: write, check, MADV_MIGRATE_NEXT_TOUCH, MADV_MIGRATE_NEXT_WRITE
 * or MADV_NO_MIGRATE_NEXT_TOUCH, mprotect() read-only and back, fork()
 * (the child checks and writes its copy), mremap() of the whole region
 * to a new address or of a few pages away (MREMAP_DONTUNMAP) and back,
 * mmap(MAP_FIXED) over a subrange, MADV_DONTNEED, THP collapse
 * (MADV_COLLAPSE in a MADV_HUGEPAGE region) and split (mprotect() of one
 * page of a huge page), migrate_virt_addr_range() of its own pages, and
 * a move of the thread to another node, so that its touches pull marked
 * pages there.  One more thread calls migrate_ph_pages() on the
 * physical addresses of random pages of random regions, and
 * migrate_virt_addr_range() on them, while the workers change them.
 *
 * Every page holds two tags, at its start and its end, that name the
 * worker, the page and how often it was written; every check compares
 * them with what the worker wrote last.  At the end every page of
 * every region is checked.  Prints TAP: the operations done, the data
 * intact, the fork children's checks.  A kernel that warns, oopses or
 * reports a lock problem meanwhile shows on the console, which the
 * caller checks (scripts/guest-stress.sh).
 *
 * Exit code: 0 if every check passed, 1 if one failed or the guest
 * lacks what the program needs, 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <numa.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "numa-util.h"
#include "page-migrate.h"

#define PROG            "next-touch-stress"
#define HPAGE_SIZE      (2UL << 20)
#define MAX_RUN         256             /* pages per operation, at most */
#define TAG_MAGIC       0x6e78747463680000ULL

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE   25
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

enum op {
    OP_WRITE, OP_CHECK, OP_MARK, OP_MPROTECT, OP_FORK, OP_MREMAP,
    OP_REMAP_RANGE, OP_DONTNEED, OP_COLLAPSE, OP_SPLIT, OP_MIGRATE_SELF,
    OP_MOVE_THREAD, OP__MAX
};

static const char *const op_names[OP__MAX] = {
    "write", "check", "mark", "mprotect", "fork", "mremap", "remap-range",
    "dontneed", "collapse", "split", "migrate-self", "move-thread",
};

typedef struct Worker {
    int id;
    pthread_t thread;
    GRand *rand;
    char *_Atomic base;         /* the region; the migrator reads it */
    pthread_mutex_t lock;       /* held while the region is remapped */
    uint32_t *gen;              /* writes of each page */
    uint64_t ops[OP__MAX];
    uint64_t pages_checked, bad_pages, children_bad, remapped;
} Worker;

static int opt_seconds = 60, opt_threads = 4, opt_pages = 1024;
static gint64 opt_seed = 1;
static int nr_nodes;
static size_t page_size, region_size;
static atomic_bool stop;
static uint64_t migrator_calls, migrator_errors, migrator_moved;

/*
 * Held from a worker's mmap() of a destination to the end of its
 * mremap() there.  mremap(MREMAP_FIXED) unmaps the destination before
 * it checks the source: a call that fails (a source range that a mark
 * split across VMAs, say) has already freed the destination.  Another
 * worker's mmap() could take that hole before the munmap() that undoes
 * the reservation, which would then unmap the other worker's pages.
 */
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

/* What each thread does, for the report of a fault. */
static __thread const char *doing = "starting";
static __thread Worker *doing_worker;

/*
 * A fault in a region is a kernel bug, or this program's: say where,
 * in what, and stop.  snprintf() is not async-signal-safe, but the
 * process ends here anyway.
 */
static void on_fault(int sig, siginfo_t *si, void *uc G_GNUC_UNUSED)
{
    char buf[256];
    int len;

    if (doing_worker) {
        char *base = atomic_load(&doing_worker->base);

        len = snprintf(buf, sizeof(buf),
                       "Bail out! signal %d at %p in worker %d doing %s;"
                       " its region %p-%p\n", sig, si->si_addr,
                       doing_worker->id, doing, base, base + region_size);
    } else {
        len = snprintf(buf, sizeof(buf), "Bail out! signal %d at %p doing"
                       " %s\n", sig, si->si_addr, doing);
    }
    if (write(STDOUT_FILENO, buf, len) < 0) {
        /* Nothing better to do. */
    }
    _exit(3);
}

static uint64_t tag(const Worker *w, size_t page)
{
    return TAG_MAGIC ^ ((uint64_t)w->id << 40) ^ ((uint64_t)page << 12) ^
           w->gen[page];
}

static void write_pages(Worker *w, char *base, size_t first, size_t n)
{
    for (size_t p = first; p < first + n; p++) {
        uint64_t *start = (uint64_t *)(base + p * page_size);
        uint64_t *end = (uint64_t *)(base + (p + 1) * page_size) - 1;

        w->gen[p]++;
        *start = tag(w, p);
        *end = tag(w, p);
    }
}

/* Check pages; a bad one is reported (the first few) and counted. */
static size_t check_pages(Worker *w, const char *base, size_t first,
                          size_t n, bool report)
{
    size_t bad = 0;

    for (size_t p = first; p < first + n; p++) {
        const uint64_t *start = (const uint64_t *)(base + p * page_size);
        const uint64_t *end =
            (const uint64_t *)(base + (p + 1) * page_size) - 1;

        if (*start != tag(w, p) || *end != tag(w, p)) {
            if (report && w->bad_pages + bad < 5) {
                printf("# worker %d page %zu: %#" PRIx64 "/%#" PRIx64
                       ", expected %#" PRIx64 "\n", w->id, p, *start, *end,
                       tag(w, p));
            }
            bad++;
        }
    }
    return bad;
}

/* A mapping of @size bytes aligned to a huge page. */
static char *map_aligned(size_t size)
{
    size_t span = size + HPAGE_SIZE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *start;

    if (raw == MAP_FAILED) {
        return NULL;
    }
    start = (char *)(((uintptr_t)raw + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1));
    if (start > raw) {
        munmap(raw, start - raw);
    }
    if (raw + span > start + size) {
        munmap(start + size, raw + span - (start + size));
    }
    return start;
}

/* Print the lines of /proc/self/maps that overlap [@start, @start + @len). */
static void print_maps(const char *what, const char *start, size_t len)
{
    g_autofree char *maps = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/self/maps", &maps, NULL, NULL)) {
        return;
    }
    lines = g_strsplit(maps, "\n", -1);
    for (char **l = lines; *l && **l; l++) {
        uintptr_t lo, hi;

        if (sscanf(*l, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 &&
            lo < (uintptr_t)start + len && hi > (uintptr_t)start) {
            printf("#   %s %p+%zu: %s\n", what, start, len, *l);
        }
    }
}

/*
 * Move pages [@first, @first + @n) away with mremap(), check them there
 * and move them back; a range across VMAs (a mark splits them) stays.
 * MREMAP_DONTUNMAP leaves an empty mapping in their place: a hole could
 * be taken by another thread's mmap(), which the move back, to a fixed
 * address, would then unmap.
 */
static void op_mremap_range(Worker *w, size_t first, size_t n)
{
    char *base = atomic_load(&w->base);
    size_t len = n * page_size;
    char *away;

    pthread_mutex_lock(&map_lock);
    away = mmap(NULL, len, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (away == MAP_FAILED) {
        pthread_mutex_unlock(&map_lock);
        return;
    }
    pthread_mutex_lock(&w->lock);
    if (mremap(base + first * page_size, len, len,
               MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
               away) == MAP_FAILED) {
        munmap(away, len);
        pthread_mutex_unlock(&w->lock);
        pthread_mutex_unlock(&map_lock);
        return;
    }
    pthread_mutex_unlock(&map_lock);
    w->bad_pages += check_pages(w, (char *)((uintptr_t)away -
                                             first * page_size),
                                first, n, true);
    w->pages_checked += n;
    if (mremap(away, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
               base + first * page_size) == MAP_FAILED) {
        printf("# worker %d: mremap() back: %s\n", w->id, strerror(errno));
        print_maps("away", away, len);
        print_maps("home", base + first * page_size, len);
        w->bad_pages += n;
    } else {
        w->remapped++;
    }
    pthread_mutex_unlock(&w->lock);
}

/* Move the whole region to a fresh address with mremap(). */
static void op_mremap(Worker *w)
{
    char *old = atomic_load(&w->base);
    char *dest, *moved;

    pthread_mutex_lock(&map_lock);
    dest = map_aligned(region_size);
    if (!dest) {
        pthread_mutex_unlock(&map_lock);
        return;
    }
    pthread_mutex_lock(&w->lock);
    moved = mremap(old, region_size, region_size,
                   MREMAP_MAYMOVE | MREMAP_FIXED, dest);
    if (moved == MAP_FAILED) {
        munmap(dest, region_size);
    } else {
        atomic_store(&w->base, moved);
        w->remapped++;
    }
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_unlock(&map_lock);
}

/* Check, then write, a copy of the region in a child; its exit says. */
static void op_fork(Worker *w, size_t first, size_t n)
{
    char *base = atomic_load(&w->base);
    int status;
    pid_t pid;

    pid = fork();
    if (pid < 0) {
        return;
    }
    if (pid == 0) {
        /* Only this thread lives on: no locks, no allocation. */
        size_t bad = check_pages(w, base, 0, opt_pages, false);

        write_pages(w, base, first, n);
        bad += check_pages(w, base, first, n, false);
        _exit(bad ? 1 : 0);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status)) {
        printf("# worker %d: a fork child found bad pages\n", w->id);
        w->children_bad++;
    }
}

static void one_op(Worker *w)
{
    enum op op = g_rand_int_range(w->rand, 0, OP__MAX);
    size_t n = g_rand_int_range(w->rand, 1, MAX_RUN + 1);
    size_t first = g_rand_int_range(w->rand, 0, opt_pages - n + 1);
    char *base = atomic_load(&w->base);
    char *start = base + first * page_size;
    size_t len = n * page_size;
    struct page_migrate_stats st;
    static const int marks[] = {
        MADV_MIGRATE_NEXT_TOUCH, MADV_MIGRATE_NEXT_WRITE,
        MADV_NO_MIGRATE_NEXT_TOUCH,
    };
    size_t hp = g_rand_int_range(w->rand, 0, region_size / HPAGE_SIZE);
    char *huge = base + hp * HPAGE_SIZE;
    size_t huge_first = hp * HPAGE_SIZE / page_size;

    doing = op_names[op];
    switch (op) {
    case OP_WRITE:
        write_pages(w, base, first, n);
        break;
    case OP_CHECK:
        w->bad_pages += check_pages(w, base, first, n, true);
        w->pages_checked += n;
        break;
    case OP_MARK:
        madvise(start, len, marks[g_rand_int_range(w->rand, 0, 3)]);
        break;
    case OP_MPROTECT:
        mprotect(start, len, PROT_READ);
        w->bad_pages += check_pages(w, base, first, n, true);
        w->pages_checked += n;
        mprotect(start, len, PROT_READ | PROT_WRITE);
        break;
    case OP_FORK:
        op_fork(w, first, n);
        break;
    case OP_MREMAP:
        if (g_rand_boolean(w->rand)) {
            op_mremap(w);
        } else {
            op_mremap_range(w, first, MIN(n, 16));
        }
        break;
    case OP_REMAP_RANGE:
        pthread_mutex_lock(&w->lock);
        if (mmap(start, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
            printf("# worker %d: mmap(MAP_FIXED): %s\n", w->id,
                   strerror(errno));
            w->bad_pages += n;
        }
        madvise(start, len, MADV_HUGEPAGE);     /* the region's flags */
        pthread_mutex_unlock(&w->lock);
        write_pages(w, base, first, n);
        break;
    case OP_DONTNEED:
        madvise(start, len, MADV_DONTNEED);
        write_pages(w, base, first, n);
        break;
    case OP_COLLAPSE:
        madvise(huge, HPAGE_SIZE, MADV_COLLAPSE);
        break;
    case OP_SPLIT:
        /* One page read-only splits the huge page's mapping. */
        mprotect(huge + page_size * 7, page_size, PROT_READ);
        w->bad_pages += check_pages(w, base, huge_first,
                                    HPAGE_SIZE / page_size, true);
        w->pages_checked += HPAGE_SIZE / page_size;
        mprotect(huge + page_size * 7, page_size, PROT_READ | PROT_WRITE);
        break;
    case OP_MIGRATE_SELF:
        migrate_virt_addr_range(start, len,
                                g_rand_int_range(w->rand, 0, nr_nodes),
                                &st, 0);
        break;
    case OP_MOVE_THREAD:
        numa_run_on_node(g_rand_int_range(w->rand, 0, nr_nodes));
        break;
    default:
        g_assert_not_reached();
    }
    w->ops[op]++;
    doing = "between operations";
}

static void *worker_run(void *opaque)
{
    Worker *w = opaque;

    doing_worker = w;
    numa_run_on_node(w->id % nr_nodes);
    while (!atomic_load(&stop)) {
        one_op(w);
    }
    return NULL;
}

/* migrate_ph_pages() on the pages of random subranges of any region. */
static void *migrator_run(void *opaque)
{
    Worker *workers = opaque;
    g_autoptr(GRand) rand = g_rand_new_with_seed(opt_seed ^ 0x5eed);
    g_autoptr(GError) err = NULL;
    g_autoptr(NuPageTable) pm = nu_pagemap_open(0, &err);
    uint64_t pfns[MAX_RUN];
    phaddr_t table[MAX_RUN];

    doing = "migrating";
    if (!pm) {
        printf("# migrator: %s\n", err->message);
        migrator_errors++;
        return NULL;
    }
    while (!atomic_load(&stop)) {
        Worker *w = &workers[g_rand_int_range(rand, 0, opt_threads)];
        size_t n = g_rand_int_range(rand, 1, MAX_RUN + 1);
        size_t first = g_rand_int_range(rand, 0, opt_pages - n + 1);
        int node = g_rand_int_range(rand, 0, nr_nodes);
        struct page_migrate_stats st = { 0 };
        size_t nr = 0;
        char *base;
        int ret;

        if (g_rand_boolean(rand)) {
            base = atomic_load(&w->base);
            ret = migrate_virt_addr_range(base + first * page_size,
                                          n * page_size, node, &st, 0);
        } else {
            /* The PFNs go stale as soon as they are read: that is the test. */
            pthread_mutex_lock(&w->lock);
            base = atomic_load(&w->base);
            if (!nu_pagemap_pfns(pm, base + first * page_size, n, pfns,
                                 NULL)) {
                n = 0;
            }
            pthread_mutex_unlock(&w->lock);
            for (size_t i = 0; i < n; i++) {
                if (pfns[i]) {
                    table[nr++] = pfns[i] * page_size;
                }
            }
            ret = nr ? migrate_ph_pages(table, nr, node, &st, 0) : 0;
        }
        migrator_calls++;
        if (ret < 0 && errno != EFAULT && errno != ENOMEM &&
            errno != EBUSY) {
            if (migrator_errors++ < 5) {
                printf("# migrator: unexpected error: %s\n",
                       strerror(errno));
            }
        }
        migrator_moved += st.successful;
    }
    return NULL;
}

static GOptionEntry options[] = {
    { "seconds", 0, 0, G_OPTION_ARG_INT, &opt_seconds,
      "how long to run (default 60)", "S" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads,
      "worker threads, 1 to 64 (default 4)", "N" },
    { "pages", 0, 0, G_OPTION_ARG_INT, &opt_pages,
      "pages per worker, a multiple of 512 from 512 to 262144"
      " (default 1024)", "P" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &opt_seed,
      "seed of the random operations (default 1)", "X" },
    { NULL }
};

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree Worker *workers = NULL;
    uint64_t ops[OP__MAX] = { 0 }, total = 0, checked = 0, bad = 0;
    uint64_t children_bad = 0, remapped = 0;
    pthread_t migrator;
    g_autoptr(GString) summary = g_string_new(NULL);

    struct sigaction sa = {
        .sa_sigaction = on_fault,
        .sa_flags = SA_SIGINFO,
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    g_option_context_add_main_entries(ctx, options, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, PROG ": %s\n", err->message);
        return 2;
    }
    nu_arg_check_range(PROG, "--seconds", opt_seconds, 1, 86400);
    nu_arg_check_range(PROG, "--threads", opt_threads, 1, 64);
    nu_arg_check_range(PROG, "--pages", opt_pages, 512, 262144);
    if (opt_pages % 512) {
        fprintf(stderr, PROG ": --pages %d is not a multiple of 512\n",
                opt_pages);
        return 2;
    }
    nu_numa_check(PROG, 1);
    page_migrate_require(PROG);
    nr_nodes = numa_max_node() + 1;
    page_size = nu_page_size();
    region_size = (size_t)opt_pages * page_size;

    /*
     * libnuma fills its node-to-CPUs cache on first use, without a lock:
     * fill it before the threads call numa_run_on_node().
     */
    for (int node = 0; node < nr_nodes; node++) {
        struct bitmask *cpus = numa_allocate_cpumask();

        numa_node_to_cpus(node, cpus);
        numa_free_cpumask(cpus);
    }
    printf("1..3\n");
    workers = g_new0(Worker, opt_threads);
    for (int i = 0; i < opt_threads; i++) {
        Worker *w = &workers[i];
        char *base = map_aligned(region_size);

        if (!base) {
            printf("Bail out! no memory for %zu bytes\n", region_size);
            return 1;
        }
        w->id = i;
        w->rand = g_rand_new_with_seed(opt_seed + i);
        w->gen = g_new0(uint32_t, opt_pages);
        pthread_mutex_init(&w->lock, NULL);
        atomic_store(&w->base, base);
        /* For the whole region, so that its VMA stays one for mremap(). */
        madvise(base, region_size, MADV_HUGEPAGE);
        write_pages(w, base, 0, opt_pages);
    }
    for (int i = 0; i < opt_threads; i++) {
        pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);
    }
    pthread_create(&migrator, NULL, migrator_run, workers);
    sleep(opt_seconds);
    atomic_store(&stop, true);
    pthread_join(migrator, NULL);

    for (int i = 0; i < opt_threads; i++) {
        Worker *w = &workers[i];

        pthread_join(w->thread, NULL);
        w->bad_pages += check_pages(w, atomic_load(&w->base), 0, opt_pages,
                                    true);
        w->pages_checked += opt_pages;
        for (int op = 0; op < OP__MAX; op++) {
            ops[op] += w->ops[op];
            total += w->ops[op];
        }
        checked += w->pages_checked;
        bad += w->bad_pages;
        children_bad += w->children_bad;
        remapped += w->remapped;
    }
    for (int op = 0; op < OP__MAX; op++) {
        g_string_append_printf(summary, " %s %" PRIu64, op_names[op],
                               ops[op]);
    }
    printf("# operations:%s; %" PRIu64 " mremap() calls moved pages\n",
           summary->str, remapped);
    printf("# migrator: %" PRIu64 " calls, %" PRIu64 " pages moved, %"
           PRIu64 " unexpected errors\n", migrator_calls, migrator_moved,
           migrator_errors);
    printf("%s 1 - %" PRIu64 " operations by %d threads in %d s, %" PRIu64
           " migration calls from another thread\n",
           total && migrator_calls && !migrator_errors ? "ok" : "not ok",
           total, opt_threads, opt_seconds, migrator_calls);
    printf("%s 2 - every page intact (%" PRIu64 " page checks, %" PRIu64
           " bad)\n", bad ? "not ok" : "ok", checked, bad);
    printf("%s 3 - every fork child found its copy intact (%" PRIu64
           " children, %" PRIu64 " not)\n", children_bad ? "not ok" : "ok",
           ops[OP_FORK], children_bad);
    return total && migrator_calls && !migrator_errors && !bad &&
           !children_bad ? 0 : 1;
}
