/*
 * guest-ram-check: check a dump of the RAM of QEMU's migration-test
 * guest (the boot sector that scripts/make-bootblock.sh writes), taken
 * with the guest stopped.
 *
 * That guest increments the first byte of every 4 KiB page from 1 MiB
 * to 100 MiB, in address order, forever.  Stopped at any moment, the
 * pages it has passed in the current sweep hold one value and the
 * pages after it the value before: going up the pages, each first byte
 * equals the previous one or is one less (mod 256), and the step down
 * happens at most once.  Any other value is memory that a move lost or
 * corrupted, or a page that the guest skipped.
 *
 *   guest-ram-check DUMP [OFFSET]
 *
 * DUMP holds guest RAM from 1 MiB to 100 MiB (pmemsave 0x100000
 * 0x6300000 DUMP), OFFSET its guest-physical start, in decimal (default
 * 1048576).
 * Prints one line; exits 0 when the pattern holds, 1 when it does not
 * (naming the first bad page), 2 on a usage or I/O error.
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define PROG "guest-ram-check"
#define PAGE 4096

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *data = NULL;
    guint64 offset = 0x100000, steps = 0;
    gsize len, pages;

    if (argc < 2 || argc > 3 ||
        (argc == 3 && !g_ascii_string_to_unsigned(argv[2], 10, 0, G_MAXUINT64,
                                                  &offset, &err))) {
        fprintf(stderr, "usage: " PROG " DUMP [OFFSET]%s%s\n",
                err ? ": " : "", err ? err->message : "");
        return 2;
    }
    if (!g_file_get_contents(argv[1], &data, &len, &err)) {
        fprintf(stderr, PROG ": %s\n", err->message);
        return 2;
    }
    pages = len / PAGE;
    if (pages < 2) {
        fprintf(stderr, PROG ": %s holds %zu bytes, not two pages\n",
                argv[1], len);
        return 2;
    }
    for (gsize i = 1; i < pages; i++) {
        guint8 prev = data[(i - 1) * PAGE], cur = data[i * PAGE];

        if (cur == prev) {
            continue;
        }
        if ((guint8)(prev - 1) == cur && steps++ == 0) {
            continue;
        }
        printf(PROG ": page at 0x%" PRIx64 " holds 0x%02x after 0x%02x "
               "(%s)\n", offset + (guint64)i * PAGE, cur, prev,
               (guint8)(prev - 1) == cur ? "a second step down" :
               "not the previous value or one less");
        return 1;
    }
    printf(PROG ": %zu pages intact, first byte 0x%02x, %" PRIu64
           " step\n", pages, (guint8)data[0], steps);
    return 0;
}
