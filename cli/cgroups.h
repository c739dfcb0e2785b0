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

/*
 * A --cgroup PATH: its id (the directory's inode) and its level below the
 * cgroup2 mount it is on (0 for the mount's root). 0, or a negative errno
 * with err filled in: not there, or not a cgroup2 directory.
 */
int cgroup_of_path(const char *path, __u64 *id, __u32 *level, char *err, size_t errlen);

#endif /* TSH_CGROUPS_H */
