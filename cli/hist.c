// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include "hist.h"
#include "util.h"

__u64 hist_known(const struct tsh_slot *slot)
{
	__u64 known = 0;

	for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
		known += slot->buckets[b];
	return known;
}

int hist_percentile(const struct tsh_slot *slot, double p)
{
	__u64 known = hist_known(slot), seen = 0;
	double rank;

	if (!known || p <= 0 || p > 100)
		return -1;
	/* The smallest bucket whose cumulative count reaches p% of the total. */
	rank = known * (p / 100.0);
	for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
		seen += slot->buckets[b];
		if (slot->buckets[b] && (double)seen >= rank)
			return b;
	}
	return TSH_NBUCKETS - 1;
}

void format_duration_us(char *buf, size_t len, __u64 us)
{
	static const struct {
		double scale;
		const char *unit;
	} units[] = { { 1e6 * 3600, "h" }, { 1e6, "s" }, { 1e3, "ms" } };

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (us >= units[i].scale) {
			snprintf(buf, len, "%.3g%s", us / units[i].scale, units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lluus", (unsigned long long)us);
}

void format_bucket_bound(char *buf, size_t len, unsigned int b)
{
	if (hist_bucket_is_last(b))
		snprintf(buf, len, "inf");
	else
		format_duration_us(buf, len, hist_bucket_upper_us(b));
}
