// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON Lines: one object per summary. The shape never depends on the data:
 * arrays stay arrays, absent values are null. State names come from a fixed
 * table, so no string here needs escaping.
 */
#include <errno.h>
#include <time.h>
#include "hist.h"
#include "render.h"

static void print_time(FILE *out, const char *key, __u64 realtime)
{
	time_t t = realtime;
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "\"%s\":\"%s\"", key, when);
}

static void print_percentile(FILE *out, const char *key, const struct tsh_slot *slot, double p)
{
	int b = hist_percentile(slot, p);

	if (b < 0 || hist_bucket_is_last(b))
		fprintf(out, ",\"%s\":null", key);
	else
		fprintf(out, ",\"%s\":%llu", key, (unsigned long long)hist_bucket_upper_us(b));
}

static void print_transition(FILE *out, unsigned int slot_index, const struct tsh_slot *slot)
{
	const char *oldname, *newname;
	bool first = true;

	slot_names(slot_index, &oldname, &newname);
	fprintf(out,
		"{\"old_state\":\"%s\",\"new_state\":\"%s\",\"count\":%llu,\"unknown\":%llu,"
		"\"sum_ns\":%llu",
		oldname, newname, (unsigned long long)slot->count,
		(unsigned long long)slot->unknown, (unsigned long long)slot->sum_ns);
	print_percentile(out, "p50_us", slot, 50);
	print_percentile(out, "p90_us", slot, 90);
	print_percentile(out, "p99_us", slot, 99);
	print_percentile(out, "max_us", slot, 100);
	fprintf(out, ",\"buckets\":[");
	for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
		if (!slot->buckets[b])
			continue;
		fprintf(out, "%s{\"le_us\":", first ? "" : ",");
		if (hist_bucket_is_last(b))
			fprintf(out, "null");
		else
			fprintf(out, "%llu", (unsigned long long)hist_bucket_upper_us(b));
		fprintf(out, ",\"count\":%llu}", (unsigned long long)slot->buckets[b]);
		first = false;
	}
	fprintf(out, "]}");
}

int render_json(FILE *out, const struct snapshot *snap, const struct render_opts *opts)
{
	unsigned int order[TSH_NSLOTS], norder = slot_display_order(order);
	bool first = true;

	fputc('{', out);
	print_time(out, "time", snap->taken_realtime);
	if (opts->interval_s > 0)
		fprintf(out, ",\"interval_s\":%.3f,\"since\":null", opts->interval_s);
	else {
		fprintf(out, ",\"interval_s\":null,");
		print_time(out, "since", opts->since_realtime);
	}
	fprintf(out, ",\"total\":%llu,\"missed\":%llu,\"transitions\":[",
		(unsigned long long)snapshot_total(snap), (unsigned long long)snap->missed);
	for (unsigned int i = 0; i < norder; i++) {
		const struct tsh_slot *slot = &snap->slots[order[i]];

		if (!slot->count)
			continue;
		if (!first)
			fputc(',', out);
		print_transition(out, order[i], slot);
		first = false;
	}
	fprintf(out, "]}\n");
	return ferror(out) ? -EIO : 0;
}
