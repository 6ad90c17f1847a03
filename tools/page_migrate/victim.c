/*
 * victim: a process whose memory vmig moves.
 *
 *   victim [--pages N] [--node NODE] [--seconds S]
 *
 * Allocates N pages on NODE, prints one line
 *   "pid=PID addr=0xADDR len=BYTES node=NODE"
 * for vmig, then keeps reading its pages (so a broken migration would
 * show) until S seconds have passed (default: until killed).  Exits 1 if
 * the contents ever change, 0 otherwise.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <getopt.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include "numa-util.h"

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: victim [--pages N] [--node NODE] [--seconds S]\n"
            "Allocate N pages (default 64) on NODE (default 0), print\n"
            "pid, address and length, and keep checking them.\n"
            "example: victim --pages 1024 --node 0 &\n");
    exit(rc);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "pages", required_argument, NULL, 'n' },
        { "node", required_argument, NULL, 'N' },
        { "seconds", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long npages = 64, seconds = -1;
    int node = 0, c;
    time_t end;
    char *buf;

    while ((c = getopt_long(argc, argv, "n:N:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            npages = nu_arg_long("victim", "page count", optarg, 1, 1L << 24);
            break;
        case 'N':
            node = (int)nu_arg_long("victim", "node", optarg, 0, INT_MAX);
            break;
        case 's':
            seconds = nu_arg_long("victim", "seconds", optarg, 0, 1L << 30);
            break;
        case 'h':
            usage(0);
            break;
        default:
            usage(2);
        }
    }
    if (optind != argc) {
        usage(2);
    }
    nu_numa_check("victim", node);
    buf = nu_buffer_alloc_on((size_t)npages, node);
    if (!buf) {
        fprintf(stderr, "victim: cannot allocate %ld pages on node %d\n",
                npages, node);
        return 1;
    }
    printf("pid=%d addr=%p len=%zu node=%d\n", (int)getpid(), (void *)buf,
           (size_t)npages * nu_page_size(), node);
    fflush(stdout);
    end = time(NULL) + seconds;
    while (seconds < 0 || time(NULL) < end) {
        if (!nu_buffer_intact(buf, (size_t)npages)) {
            fprintf(stderr, "victim: contents changed\n");
            return 1;
        }
        usleep(100000);
    }
    return 0;
}
