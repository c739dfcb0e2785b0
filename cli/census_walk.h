/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The census's kernel side: the socket iterator (bpf/sockets.bpf.c), loaded
 * for an attached set at attach or for one walk, and the walk of the TCP
 * sockets with it.
 */
#ifndef TSH_CENSUS_WALK_H
#define TSH_CENSUS_WALK_H

#include <stddef.h>
#include "args.h"
#include "census.h"

struct pinned;

/*
 * Loads the census's socket iterator for an attached set: its ages are the
 * start times in the set's start_slots and state_since maps (slots_fd,
 * since_fd). The program's fd, for the set to pin, or a negative errno with
 * err filled in.
 */
int census_prog_load(int slots_fd, int since_fd, char *err, size_t errlen);

/*
 * Walks the TCP sockets of the network namespace cfg->netns_path names (ours
 * without -N) through cfg's filters into c. With set (opened from dir), the
 * iterator the set pinned at attach does it, with the set's ages, one walk at
 * a time (an exclusive lock on dir); without, one loaded for this walk, and
 * every full socket's age is unknown. 0, or a negative errno with err filled
 * in.
 */
int census_walk(const struct config *cfg, const char *dir, const struct pinned *set,
		struct census *c, char *err, size_t errlen);

#endif /* TSH_CENSUS_WALK_H */
