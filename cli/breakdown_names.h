/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Names of a breakdown's keys, looked up on this machine (cgroupfs, /run/netns). */
#ifndef TSH_BREAKDOWN_NAMES_H
#define TSH_BREAKDOWN_NAMES_H

#include "breakdown.h"

/*
 * Fills each key's name: a port's number; a cgroup's path below the cgroup2
 * mount, or its id when the cgroup is gone; a namespace's inode, with its
 * `ip netns` name in alias where it has one. "other" for the overflow.
 */
void breakdown_names(struct breakdown *b);

#endif /* TSH_BREAKDOWN_NAMES_H */
