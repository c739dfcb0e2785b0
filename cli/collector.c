// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "audit.h"
#include "collector.h"

static __u64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void add_table(struct snapshot *out, const struct tsh_table *t)
{
	out->kernel.recovered += t->recovered;
	out->kernel.seen += t->seen;
	out->kernel.fallback += t->fallback;
	out->kernel.reclaimed += t->reclaimed;
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		const struct tsh_slot *in = &t->slots[s];
		struct tsh_slot *sum = &out->slots[s];

		sum->count += in->count;
		sum->unknown += in->unknown;
		sum->sum_ns += in->sum_ns;
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
			sum->buckets[b] += in->buckets[b];
	}
}

int collect_snapshot(const struct tsh_kernel *kernel, struct snapshot *out, char *err,
		     size_t errlen)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int ncpus = libbpf_num_possible_cpus();
	size_t stride = (sizeof(struct tsh_table) + 7) & ~(size_t)7;
	char *values;
	int ret;

	if (ncpus <= 0) {
		snprintf(err, errlen, "cannot count the possible CPUs: %s", strerror(-ncpus));
		return ncpus ? ncpus : -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	/*
	 * The tracepoint's hits, then the main program's misses, then the
	 * counters: every event counted by an earlier read was recorded, if at
	 * all, before a later read, so missed never reads high (see
	 * snapshot_advance for why low is fine).
	 */
	if (kernel->audit) {
		ret = audit_read(kernel->audit, &out->kernel.hits, err, errlen);
		if (ret)
			return ret;
		out->kernel.audited = true;
	}
	ret = bpf_obj_get_info_by_fd(kernel->main_prog_fd, &info, &info_len);
	if (ret) {
		snprintf(err, errlen, "cannot read the program's statistics: %s", strerror(errno));
		return -errno;
	}
	values = calloc(ncpus, stride);
	if (!values) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (__u32 writer = 0; writer < TSH_NWRITERS; writer++) {
		if (bpf_map_lookup_elem(kernel->counters_fd, &writer, values)) {
			ret = -errno;
			snprintf(err, errlen, "cannot read the counters: %s", strerror(errno));
			free(values);
			return ret;
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			add_table(out, (const struct tsh_table *)(values + cpu * stride));
	}
	free(values);
	out->kernel.main_misses = info.recursion_misses;
	out->missed = snapshot_missed(out->kernel.main_misses, out->kernel.recovered);
	out->taken_ns = clock_ns(CLOCK_MONOTONIC);
	out->taken_realtime = clock_ns(CLOCK_REALTIME) / 1000000000ull;
	return 0;
}
