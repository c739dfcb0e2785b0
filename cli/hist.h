/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Histogram math on the kernel's log2 buckets: bounds, percentiles, units. */
#ifndef TSH_HIST_H
#define TSH_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpstatehist.h"

/* Upper bound of bucket b in microseconds; the last bucket has none. */
static inline bool hist_bucket_is_last(unsigned int b)
{
	return b >= TSH_NBUCKETS - 1;
}

static inline __u64 hist_bucket_upper_us(unsigned int b)
{
	return 1ull << b;
}

static inline __u64 hist_bucket_lower_us(unsigned int b)
{
	return b ? 1ull << (b - 1) : 0;
}

/* Transitions of a slot with a known duration. */
__u64 hist_known(const struct tsh_slot *slot);

/*
 * The bucket that holds the p-th percentile (0 < p <= 100) of the known
 * durations, or -1 when none is known. p = 100 gives the highest bucket used.
 */
int hist_percentile(const struct tsh_slot *slot, double p);

/* "512us", "1.02ms", "33.6s", "1.5h": a bound that a person reads at a glance. */
void format_duration_us(char *buf, size_t len, __u64 us);

/* As format_duration_us for a bucket's upper bound; "inf" for the last. */
void format_bucket_bound(char *buf, size_t len, unsigned int b);

#endif /* TSH_HIST_H */
