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

/* 0, or a negative errno with err filled in. */
int collect_snapshot(const struct tsh_kernel *kernel, struct snapshot *out, char *err,
		     size_t errlen);

#endif /* TSH_COLLECTOR_H */
