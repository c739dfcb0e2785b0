/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Cgroup (v2) ids to paths, for the sockets the census lists. */
#ifndef TSH_CGROUPS_H
#define TSH_CGROUPS_H

#include <stddef.h>
#include <linux/types.h>

/*
 * For each id, the path of its cgroup in the unified hierarchy, relative to
 * where it is mounted (the first cgroup2 mount: /sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on a hybrid system) ("/" for the root,
 * "/system.slice/x.service"), malloc'd, or NULL when not found (id 0, a
 * cgroup gone, no cgroup2 mount). One walk of the hierarchy for all of them.
 * The caller frees each path.
 */
void cgroup_paths(const __u64 *ids, size_t n, char **paths);

#endif /* TSH_CGROUPS_H */
