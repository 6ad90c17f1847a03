/*
 * Host NUMA helpers for the guest memory mover and placement query
 *
 * Copyright (c) 2026 NUMA migrator developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MEM_GUEST_MEMORY_NUMA_H
#define HW_MEM_GUEST_MEMORY_NUMA_H

/*
 * guest_memory_check_node: is @node an online host node that QEMU may
 * allocate memory on?  The error names the argument @arg.
 */
bool guest_memory_check_node(unsigned node, const char *arg, Error **errp);

/*
 * guest_memory_bind: set the memory policy of [@start, @start + @len) to
 * MPOL_BIND on @node, without moving pages already there.
 */
bool guest_memory_bind(void *start, size_t len, int node, Error **errp);

/*
 * guest_memory_page_nodes: fill @status with the host node of each of
 * the @n pages, or a negative errno (-ENOENT: not populated).
 */
bool guest_memory_page_nodes(void **pages, unsigned long n, int *status,
                             Error **errp);

/*
 * guest_memory_move_pages: move each of the @n pages to the host node in
 * @nodes and fill @status with the node each page is on afterwards, or a
 * negative errno for a page that could not be moved.  Pages of a shared
 * mapping (@shared) need MPOL_MF_MOVE_ALL, see
 * guest_memory_may_move_shared().  Fails only if the kernel refused the
 * whole call.
 */
bool guest_memory_move_pages(void **pages, unsigned long n, const int *nodes,
                             int *status, bool shared, Error **errp);

/*
 * guest_memory_may_move_shared: may QEMU move pages of shared mappings,
 * which takes MPOL_MF_MOVE_ALL and so CAP_SYS_NICE?
 */
bool guest_memory_may_move_shared(void);

#endif /* HW_MEM_GUEST_MEMORY_NUMA_H */
