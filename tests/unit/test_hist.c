// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "hist.h"
#include "unit.h"

static void test_bucket_bounds(void)
{
	CHECK_EQ_U64(0, hist_bucket_lower_us(0));
	CHECK_EQ_U64(1, hist_bucket_upper_us(0));
	CHECK_EQ_U64(1, hist_bucket_lower_us(1));
	CHECK_EQ_U64(2, hist_bucket_upper_us(1));
	CHECK_EQ_U64(1ull << 37, hist_bucket_upper_us(TSH_LAST_FINITE_BUCKET));
	CHECK(!hist_bucket_is_last(TSH_LAST_FINITE_BUCKET));
	CHECK(hist_bucket_is_last(TSH_NBUCKETS - 1));
	/* A day must fit below the overflow bucket. */
	CHECK(hist_bucket_upper_us(TSH_LAST_FINITE_BUCKET) > 86400ull * 1000000);
}

static void test_percentiles(void)
{
	struct tsh_slot slot = {};

	CHECK(hist_percentile(&slot, 50) == -1);
	slot.buckets[3] = 50;
	slot.buckets[5] = 40;
	slot.buckets[10] = 10;
	CHECK(hist_percentile(&slot, 50) == 3);
	CHECK(hist_percentile(&slot, 50.1) == 5);
	CHECK(hist_percentile(&slot, 90) == 5);
	CHECK(hist_percentile(&slot, 99) == 10);
	CHECK(hist_percentile(&slot, 100) == 10);
	CHECK(hist_percentile(&slot, 0) == -1);
	CHECK(hist_percentile(&slot, 101) == -1);
	CHECK_EQ_U64(100, hist_known(&slot));
}

static void test_format_duration(void)
{
	char buf[32];

	format_duration_us(buf, sizeof(buf), 1);
	CHECK_STR("1us", buf);
	format_duration_us(buf, sizeof(buf), 512);
	CHECK_STR("512us", buf);
	format_duration_us(buf, sizeof(buf), 1024);
	CHECK_STR("1.02ms", buf);
	format_duration_us(buf, sizeof(buf), 33554432);
	CHECK_STR("33.6s", buf);
	format_duration_us(buf, sizeof(buf), 1ull << 37);
	CHECK_STR("38.2h", buf);
	format_bucket_bound(buf, sizeof(buf), TSH_NBUCKETS - 1);
	CHECK_STR("inf", buf);
}

/* The obvious definition: the smallest b with ceil(ns / 1000) <= 2^b. */
static unsigned int reference_bucket(__u64 ns)
{
	__u64 us = ns / 1000 + (ns % 1000 != 0);
	unsigned int b = 0;

	while (b < TSH_NBUCKETS - 1 && us > (1ull << b))
		b++;
	return b;
}

static void test_duration_bucket(void)
{
	static const __u64 edges[] = { 0,
				       1,
				       999,
				       1000,
				       1001,
				       1024,
				       1999,
				       2000,
				       2001,
				       4000,
				       4001,
				       86400000000000ull,
				       137438953472000ull,
				       137438953472001ull,
				       ~0ull };

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		CHECK_EQ_U64(reference_bucket(edges[i]), tsh_duration_bucket(edges[i]));
	/* Every bound 1000 * 2^b, and one either side of it. */
	for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
		__u64 bound = 1000ull << b;

		CHECK_EQ_U64(reference_bucket(bound - 1), tsh_duration_bucket(bound - 1));
		CHECK_EQ_U64(reference_bucket(bound), tsh_duration_bucket(bound));
		CHECK_EQ_U64(reference_bucket(bound + 1), tsh_duration_bucket(bound + 1));
	}
	/* A pseudo-random sweep over every magnitude. */
	for (__u64 x = 88172645463325252ull, i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		__u64 ns = x >> (x % 64);

		if (reference_bucket(ns) != tsh_duration_bucket(ns)) {
			CHECK_EQ_U64(reference_bucket(ns), tsh_duration_bucket(ns));
			break;
		}
	}
}

UNIT_TESTS(hist_tests) = {
	{ "hist: the kernel's bucket of a duration", test_duration_bucket },
	{ "hist: bucket bounds", test_bucket_bounds },
	{ "hist: percentiles are bucket upper bounds", test_percentiles },
	{ "hist: durations in readable units", test_format_duration },
	UNIT_END,
};
