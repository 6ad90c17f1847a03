/*
 * migstat: the migration counters of /proc/vmstat.
 *
 *   migstat [--json] [--all]
 *
 * Prints pgmigrate_success, pgmigrate_fail, the numa_* counters and the
 * next-touch counters (nexttouch_marked, _migrated, _local, _failed,
 * _ignored).  A counter this kernel does not have is printed as "absent"
 * (null in JSON), never as 0.  --all adds every other pgmigrate_* and
 * thp_migration_* counter present.  Exit code: 0, or 1 if /proc/vmstat
 * cannot be read, 2 on a usage error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNTERS 512

static const char *const wanted[] = {
    "pgmigrate_success", "pgmigrate_fail",
    "numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults",
    "numa_hint_faults_local", "numa_pages_migrated",
    "numa_hit", "numa_miss", "numa_foreign", "numa_local", "numa_other",
    "nexttouch_marked", "nexttouch_migrated", "nexttouch_local",
    "nexttouch_failed", "nexttouch_ignored",
};

struct counter {
    char name[64];
    unsigned long long value;
};

static struct counter counters[MAX_COUNTERS];
static int ncounters;

static const struct counter *find(const char *name)
{
    int i;

    for (i = 0; i < ncounters; i++)
        if (!strcmp(counters[i].name, name))
            return &counters[i];
    return NULL;
}

static int is_wanted(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
        if (!strcmp(wanted[i], name))
            return 1;
    return 0;
}

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: migstat [--json] [--all]\n"
            "Print the page migration and next-touch counters of\n"
            "/proc/vmstat; counters this kernel lacks print as absent.\n"
            "example: migstat --json\n");
    exit(rc);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "all", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *names[MAX_COUNTERS];
    int json = 0, all = 0, c, n = 0, i;
    const struct counter *ct;
    FILE *f;

    while ((c = getopt_long(argc, argv, "jah", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'a': all = 1; break;
        case 'h': usage(0); break;
        default: usage(2);
        }
    }
    if (optind != argc)
        usage(2);

    f = fopen("/proc/vmstat", "r");
    if (!f) {
        perror("migstat: /proc/vmstat");
        return 1;
    }
    while (ncounters < MAX_COUNTERS &&
           fscanf(f, "%63s %llu", counters[ncounters].name,
                  &counters[ncounters].value) == 2)
        ncounters++;
    fclose(f);

    for (i = 0; i < (int)(sizeof(wanted) / sizeof(wanted[0])); i++)
        names[n++] = wanted[i];
    for (i = 0; all && i < ncounters && n < MAX_COUNTERS; i++)
        if ((!strncmp(counters[i].name, "pgmigrate_", 10) ||
             !strncmp(counters[i].name, "thp_migration_", 14)) &&
            !is_wanted(counters[i].name))
            names[n++] = counters[i].name;

    if (json)
        printf("{");
    for (i = 0; i < n; i++) {
        ct = find(names[i]);
        if (json)
            ct ? printf("%s\"%s\": %llu", i ? ", " : "", names[i], ct->value)
               : printf("%s\"%s\": null", i ? ", " : "", names[i]);
        else
            ct ? printf("%-24s %llu\n", names[i], ct->value)
               : printf("%-24s absent\n", names[i]);
    }
    if (json)
        printf("}\n");
    return 0;
}
