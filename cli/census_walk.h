/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The census's kernel side: the attached set's start times, and the walk of
 * the TCP sockets with the socket iterator (bpf/sockets.bpf.c).
 */
#ifndef TSH_CENSUS_WALK_H
#define TSH_CENSUS_WALK_H

#include <stddef.h>
#include "args.h"
#include "census.h"

/* The attached set's start times: its start_slots and state_since maps. */
struct start_times {
	int slots_fd;
	int since_fd;
};

/*
 * Opens the start times of the set pinned at dir, found through its main
 * program. 0; -ENOENT when nothing is attached there (err says so); another
 * negative errno for a wrong layout or an unreadable set.
 */
int start_times_open(const char *dir, struct start_times *st, char *err, size_t errlen);

void start_times_close(struct start_times *st);

/*
 * Walks the TCP sockets of the network namespace cfg->netns_path names (ours
 * without -N) through cfg's filters into c; st may be NULL (every full
 * socket's age is then unknown). 0, or a negative errno with err filled in.
 */
int census_walk(const struct config *cfg, const struct start_times *st, struct census *c, char *err,
		size_t errlen);

#endif /* TSH_CENSUS_WALK_H */
