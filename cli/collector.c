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

		sum->count += in->unknown;
		sum->unknown += in->unknown;
		sum->sum_ns += in->sum_ns;
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
			sum->count += in->buckets[b];
			sum->buckets[b] += in->buckets[b];
		}
	}
}

/*
 * One reading: the main program's misses, the tracepoint's hits, the
 * counters, the hits again. The misses before the counters: every miss
 * counted was recovered, if at all, before the counters are read, so the
 * plain missed never reads high. Nothing but the counters between the two
 * reads of the hits: the shorter the bracket, the likelier it is exact.
 */
static int read_counters(const struct tsh_kernel *kernel, struct snapshot *out, int ncpus,
			 char *err, size_t errlen)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	size_t stride = (sizeof(struct tsh_table) + 7) & ~(size_t)7;
	char *values = calloc(ncpus, (size_t)TSH_NWRITERS * stride);
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!values) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (bpf_obj_get_info_by_fd(kernel->main_prog_fd, &info, &info_len)) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the program's statistics: %s", strerror(errno));
		goto out;
	}
	out->kernel.main_misses = info.recursion_misses;
	if (kernel->audit) {
		ret = audit_read(kernel->audit, &out->kernel.hits_before, err, errlen);
		if (ret)
			goto out;
		out->kernel.audited = true;
	}
	for (__u32 writer = 0; writer < TSH_NWRITERS; writer++) {
		if (bpf_map_lookup_elem(kernel->counters_fd, &writer, values + writer * ncpus * stride)) {
			ret = -errno;
			snprintf(err, errlen, "cannot read the counters: %s", strerror(errno));
			goto out;
		}
	}
	if (kernel->audit)
		ret = audit_read(kernel->audit, &out->kernel.hits, err, errlen);
	for (int i = 0; !ret && i < TSH_NWRITERS * ncpus; i++)
		add_table(out, (const struct tsh_table *)(values + i * stride));
out:
	free(values);
	return ret;
}

int collect_snapshot(const struct tsh_kernel *kernel, struct snapshot *out, unsigned int tries,
		     char *err, size_t errlen)
{
	int ncpus = libbpf_num_possible_cpus();
	int ret;

	if (ncpus <= 0) {
		snprintf(err, errlen, "cannot count the possible CPUs: %s", strerror(-ncpus));
		return ncpus ? ncpus : -EINVAL;
	}
	/* A reading where the two perf reads agree is exact (snapshot.h). */
	for (unsigned int attempt = 1;; attempt++) {
		ret = read_counters(kernel, out, ncpus, err, errlen);
		if (ret || out->kernel.hits == out->kernel.hits_before || attempt >= tries)
			break;
	}
	if (ret)
		return ret;
	out->missed = snapshot_missed(out->kernel.main_misses, out->kernel.recovered);
	out->taken_ns = clock_ns(CLOCK_MONOTONIC);
	out->taken_realtime = clock_ns(CLOCK_REALTIME) / 1000000000ull;
	return 0;
}
