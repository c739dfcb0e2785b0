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

/* Adds the counters of in to those of sum, deriving the counts. */
static void add_slots(struct tsh_slot *sums, const struct tsh_slot *slots)
{
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		const struct tsh_slot *in = &slots[s];
		struct tsh_slot *sum = &sums[s];

		sum->count += in->unknown;
		sum->unknown += in->unknown;
		sum->sum_ns += in->sum_ns;
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
			sum->count += in->buckets[b];
			sum->buckets[b] += in->buckets[b];
		}
	}
}

static void add_table(struct snapshot *out, const struct tsh_table *t)
{
	out->kernel.recovered += t->recovered;
	out->kernel.seen += t->seen;
	out->kernel.fallback += t->fallback;
	out->kernel.reclaimed += t->reclaimed;
	add_slots(out->slots, t->slots);
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

/* The key table at index into k, its counts derived. */
static int read_key_table(const struct tsh_kernel *kernel, __u32 index, struct key_counts *k,
			  struct tsh_key_table *table, char *err, size_t errlen)
{
	if (bpf_map_lookup_elem(kernel->key_tables_fd, &index, table)) {
		snprintf(err, errlen, "cannot read the key tables: %s", strerror(errno));
		return -errno;
	}
	memset(k->slots, 0, sizeof(k->slots));
	add_slots(k->slots, table->slots);
	return 0;
}

int collect_breakdown(const struct tsh_kernel *kernel, struct breakdown *out, char *err,
		      size_t errlen)
{
	struct tsh_key_table *table = malloc(sizeof(*table));
	__u64 key, next, *prev = NULL;
	size_t room = 16;
	__u32 index;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->by = kernel->by;
	out->keys = calloc(room, sizeof(*out->keys));
	if (!table || !out->keys) {
		free(table);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	out->keys[0].other = true;
	ret = read_key_table(kernel, TSH_KEY_OTHER, &out->keys[0], table, err, errlen);
	out->n = 1;
	while (!ret && !bpf_map_get_next_key(kernel->key_index_fd, prev, &next)) {
		struct key_counts *k;

		key = next;
		prev = &key;
		/* A key deleted under us (never by the programs) is skipped. */
		if (bpf_map_lookup_elem(kernel->key_index_fd, &key, &index))
			continue;
		if (out->n == room) {
			k = reallocarray(out->keys, room * 2, sizeof(*out->keys));
			if (!k) {
				snprintf(err, errlen, "out of memory");
				ret = -ENOMEM;
				break;
			}
			out->keys = k;
			room *= 2;
		}
		k = &out->keys[out->n++];
		memset(k, 0, sizeof(*k));
		k->key = key;
		ret = read_key_table(kernel, index, k, table, err, errlen);
	}
	free(table);
	if (ret)
		breakdown_free(out);
	return ret;
}

int collect_reading(const struct tsh_kernel *kernel, struct reading *r, unsigned int tries,
		    char *err, size_t errlen)
{
	int ret = collect_snapshot(kernel, &r->snap, tries, err, errlen);

	breakdown_free(&r->by);
	if (!ret && kernel->by)
		ret = collect_breakdown(kernel, &r->by, err, errlen);
	return ret;
}
