/*
 * numa-move-bench: the baselines migrate-guest-range is measured against
 *
 *   numa-move-bench move-pages PID ADDR LEN NODE
 *       move LEN bytes at ADDR in process PID to NODE with one
 *       move_pages(2) call over all its 4 KiB pages, as a user would
 *   numa-move-bench memcpy LEN FROM TO
 *       copy LEN bytes from a buffer on node FROM to one on node TO
 *   numa-move-bench time COMMAND [ARG...]
 *       run COMMAND (say, migratepages) and time it
 *   numa-move-bench self-remote LEN REPS [writing]
 *       move a buffer of LEN bytes between nodes 0 and 1 REPS times each
 *       way with move_pages(2), in turn a buffer of this process and one
 *       of a child process, to compare a process that moves its own
 *       memory (as QEMU's mover does) with one that moves another's;
 *       with "writing", a thread of each process keeps writing to every
 *       page of its buffer from node 0, as a running guest's vCPU
 *       thread does, and the moves run from node 1
 *
 * Each prints one line, "ns=<elapsed>", for the benchmark scripts to
 * turn into CSV; self-remote prints a line per move, "self|remote,
 * to<node>,<rep>,<elapsed ns>", and move-pages "cpu_ns=<CPU time of the
 * call> ns=<elapsed> pages=<on the node after> query_ns=<elapsed>", the
 * last the time of a status query (move_pages(2) without nodes) over the
 * same pages right after the move: the query that migrate-guest-range
 * makes before each batch, to count the pages already on the node.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <inttypes.h>
#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include "numa-util.h"

#define PAGE 4096UL

static void usage(void)
{
    fprintf(stderr,
            "usage: numa-move-bench move-pages PID ADDR LEN NODE\n"
            "       numa-move-bench memcpy LEN FROM-NODE TO-NODE\n"
            "       numa-move-bench time COMMAND [ARG...]\n"
            "       numa-move-bench self-remote LEN REPS [writing]\n"
            "example: numa-move-bench move-pages 1234 0x7f0000000000 "
            "67108864 1\n");
    exit(2);
}

static uint64_t parse_u64(const char *s, const char *what)
{
    uint64_t v;

    if (!nu_parse_u64(s, &v)) {
        fprintf(stderr, "numa-move-bench: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

/* CPU time of the calling thread, what the kernel charged it. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What move_range() measured. */
typedef struct MoveTimes {
    uint64_t ns;        /* the move_pages(2) call, elapsed */
    uint64_t cpu_ns;    /* its CPU time */
    uint64_t query_ns;  /* the status query after it, elapsed */
    uint64_t on_node;   /* pages that report the node after the move */
} MoveTimes;

/*
 * Move LEN bytes at ADDR of process PID (0: this one) to NODE with one
 * move_pages(2) call over all its pages, as a user would, then ask where
 * the pages are with a second call without nodes.  Pages on NODE
 * afterwards were moved or were there already.  Exits on a failed call.
 */
static MoveTimes move_range(pid_t pid, uint64_t addr, uint64_t len, int node)
{
    MoveTimes t = { 0 };
    uint64_t n = len / PAGE, i, t0, c0;
    g_autofree void **pages = g_new(void *, n);
    g_autofree int *nodes = g_new(int, n);
    g_autofree int *status = g_new(int, n);

    for (i = 0; i < n; i++) {
        pages[i] = (void *)(uintptr_t)(addr + i * PAGE);
        nodes[i] = node;
    }
    c0 = thread_cpu_ns();
    t0 = nu_now_ns();
    if (numa_move_pages(pid, n, pages, nodes, status, MPOL_MF_MOVE) < 0) {
        fprintf(stderr, "numa-move-bench: move_pages: %s\n", strerror(errno));
        exit(1);
    }
    t.ns = nu_now_ns() - t0;
    t.cpu_ns = thread_cpu_ns() - c0;
    /* Ask again: the other pages of a THP report EBUSY, moved with it. */
    t0 = nu_now_ns();
    if (numa_move_pages(pid, n, pages, NULL, status, 0) < 0) {
        fprintf(stderr, "numa-move-bench: move_pages: %s\n", strerror(errno));
        exit(1);
    }
    t.query_ns = nu_now_ns() - t0;
    for (i = 0; i < n; i++) {
        t.on_node += status[i] == node;
    }
    return t;
}

static int cmd_move_pages(int argc, char **argv)
{
    MoveTimes t;

    if (argc != 5) {
        usage();
    }
    t = move_range(parse_u64(argv[1], "pid"), parse_u64(argv[2], "address"),
                   parse_u64(argv[3], "length"), parse_u64(argv[4], "node"));
    printf("cpu_ns=%" PRIu64 " ns=%" PRIu64 " pages=%" PRIu64
           " query_ns=%" PRIu64 "\n", t.cpu_ns, t.ns, t.on_node, t.query_ns);
    return 0;
}

static int cmd_memcpy(int argc, char **argv)
{
    uint64_t len;
    char *src, *dst;
    uint64_t t0, t1;

    if (argc != 4) {
        usage();
    }
    len = parse_u64(argv[1], "length");
    src = numa_alloc_onnode(len, parse_u64(argv[2], "node"));
    dst = numa_alloc_onnode(len, parse_u64(argv[3], "node"));
    if (!src || !dst) {
        fprintf(stderr, "numa-move-bench: cannot allocate %" PRIu64
                " bytes\n", len);
        return 1;
    }
    memset(src, 0x5a, len);
    memset(dst, 0, len);            /* populate, as a move's target is */
    t0 = nu_now_ns();
    memcpy(dst, src, len);
    t1 = nu_now_ns();
    printf("ns=%" PRIu64 " check=%d\n", t1 - t0, dst[len - 1]);
    numa_free(src, len);
    numa_free(dst, len);
    return 0;
}

static int cmd_time(int argc, char **argv)
{
    uint64_t t0, t1;
    pid_t child;
    int wstatus;

    if (argc < 2) {
        usage();
    }
    t0 = nu_now_ns();
    child = fork();
    if (child == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "numa-move-bench: %s: %s\n", argv[1],
                strerror(errno));
        _exit(127);
    }
    if (child < 0 || waitpid(child, &wstatus, 0) < 0) {
        fprintf(stderr, "numa-move-bench: %s\n", strerror(errno));
        return 1;
    }
    t1 = nu_now_ns();
    printf("ns=%" PRIu64 "\n", t1 - t0);
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1;
}

/* LEN bytes of anonymous memory, populated on node 0. */
static char *populated_on_node0(uint64_t len)
{
    char *buf = numa_alloc_onnode(len, 0);

    if (!buf) {
        fprintf(stderr, "numa-move-bench: cannot allocate %" PRIu64
                " bytes on node 0\n", len);
        exit(1);
    }
    memset(buf, 0x5a, len);
    return buf;
}

/* Keep writing to every page of a buffer, from node 0's CPUs. */
typedef struct Writer {
    volatile char *buf;
    uint64_t len;
} Writer;

static gpointer writer_run(gpointer opaque)
{
    Writer *w = opaque;
    uint64_t off;

    numa_run_on_node(0);
    for (;;) {
        for (off = 0; off < w->len; off += PAGE) {
            w->buf[off]++;
        }
    }
    return NULL;
}

static void start_writer(char *buf, uint64_t len)
{
    Writer *w = g_new(Writer, 1);

    w->buf = buf;
    w->len = len;
    g_thread_unref(g_thread_new("writer", writer_run, w));
}

/* Whether moves may leave pages behind: a writer can keep one busy. */
static bool moves_race_writers;

/* Move LEN bytes at ADDR of PID to NODE; returns the elapsed ns. */
static uint64_t timed_move(pid_t pid, char *addr, uint64_t len, int node)
{
    MoveTimes t = move_range(pid, (uintptr_t)addr, len, node);

    if (t.on_node < len / PAGE) {
        fprintf(stderr, "numa-move-bench: %" PRIu64 " pages are not on node"
                " %d%s\n", len / PAGE - t.on_node, node,
                moves_race_writers ? ", busy with their writer" : "");
        if (!moves_race_writers) {
            exit(1);
        }
    }
    return t.ns;
}

static int cmd_self_remote(int argc, char **argv)
{
    uint64_t len, reps, rep;
    int pipefd[2], node;
    char *own, *other;
    pid_t child;

    if (argc != 3 && (argc != 4 || strcmp(argv[3], "writing"))) {
        usage();
    }
    len = parse_u64(argv[1], "length");
    reps = parse_u64(argv[2], "repetitions");
    moves_race_writers = argc == 4;
    if (pipe(pipefd) < 0) {
        return 1;
    }
    child = fork();
    if (child == 0) {
        /* Ends with its parent, which may exit on a failed move. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        other = populated_on_node0(len);
        if (moves_race_writers) {
            start_writer(other, len);
        }
        if (write(pipefd[1], &other, sizeof(other)) != sizeof(other)) {
            _exit(1);
        }
        pause();
        _exit(0);
    }
    own = populated_on_node0(len);
    if (child < 0 || read(pipefd[0], &other, sizeof(other)) != sizeof(other)) {
        return 1;
    }
    if (moves_race_writers) {
        start_writer(own, len);
        numa_run_on_node(1);
    }
    for (rep = 1; rep <= reps; rep++) {
        for (node = 1; node >= 0; node--) {
            /* Alternate which goes first, so that neither always does. */
            bool self_first = (rep + node) % 2;
            uint64_t a = timed_move(self_first ? 0 : child,
                                    self_first ? own : other, len, node);
            uint64_t b = timed_move(self_first ? child : 0,
                                    self_first ? other : own, len, node);

            printf("self,to%d,%" PRIu64 ",%" PRIu64 "\n", node, rep,
                   self_first ? a : b);
            printf("remote,to%d,%" PRIu64 ",%" PRIu64 "\n", node, rep,
                   self_first ? b : a);
        }
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
    }
    if (numa_available() < 0) {
        fprintf(stderr, "numa-move-bench: no NUMA support on this host\n");
        return 1;
    }
    if (!strcmp(argv[1], "move-pages")) {
        return cmd_move_pages(argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "memcpy")) {
        return cmd_memcpy(argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "time")) {
        return cmd_time(argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "self-remote")) {
        return cmd_self_remote(argc - 1, argv + 1);
    }
    usage();
    return 2;
}
