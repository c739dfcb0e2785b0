/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Collector: reads the kernel's counters into a plain snapshot. */
#ifndef TSH_COLLECTOR_H
#define TSH_COLLECTOR_H

#include "breakdown.h"
#include "snapshot.h"

/* What the collector needs of one loaded instance: file descriptors only. */
struct audit;

struct tsh_kernel {
	int counters_fd;
	int main_prog_fd;
	const struct audit *audit; /* NULL: no tracepoint hit count */
	enum tsh_by by;		   /* TSH_BY_NONE: the key maps below are unused */
	int key_index_fd;
	int key_tables_fd;
};

/*
 * 0, or a negative errno with err filled in. With an audit, the tracepoint's
 * hits are read on both sides of the counters, and the reading is repeated
 * until the two agree (nothing landed in between: exact), up to tries times.
 */
int collect_snapshot(const struct tsh_kernel *kernel, struct snapshot *out, unsigned int tries,
		     char *err, size_t errlen);

/*
 * The key tables, one entry per key that has an index, and the overflow
 * (other). Read after the snapshot, so a key's counts may run a little ahead
 * of it while transitions go on; names are left empty (breakdown_names.h).
 * 0, or a negative errno with err filled in; out is freed by the caller.
 */
int collect_breakdown(const struct tsh_kernel *kernel, struct breakdown *out, char *err,
		      size_t errlen);

/* A reading: the counters, and the keys' when there is a breakdown. */
struct reading {
	struct snapshot snap;
	struct breakdown by;
};

/* collect_snapshot(), then collect_breakdown() with --by; r->by is freed first. */
int collect_reading(const struct tsh_kernel *kernel, struct reading *r, unsigned int tries,
		    char *err, size_t errlen);

/* tries for a reading while the view runs, and for the first and the last one. */
#define COLLECT_TRIES 4
#define COLLECT_TRIES_SETTLE 200

#endif /* TSH_COLLECTOR_H */
