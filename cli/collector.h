/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Collector: reads the kernel's counters into a plain snapshot. */
#ifndef TSH_COLLECTOR_H
#define TSH_COLLECTOR_H

#include "snapshot.h"

/* What the collector needs of one loaded instance: file descriptors only. */
struct audit;

struct tsh_kernel {
	int counters_fd;
	int main_prog_fd;
	const struct audit *audit; /* NULL: no tracepoint hit count */
};

/*
 * 0, or a negative errno with err filled in. With an audit, the tracepoint's
 * hits are read on both sides of the counters, and the reading is repeated
 * until the two agree (nothing landed in between: exact), up to tries times.
 */
int collect_snapshot(const struct tsh_kernel *kernel, struct snapshot *out, unsigned int tries,
		     char *err, size_t errlen);

/* tries for a reading while the view runs, and for the first and the last one. */
#define COLLECT_TRIES 4
#define COLLECT_TRIES_SETTLE 200

#endif /* TSH_COLLECTOR_H */
