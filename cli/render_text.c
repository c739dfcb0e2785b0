// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Text: a summary table, then a log2 histogram per pair (runqlat style). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "hist.h"
#include "render.h"

#define BAR_WIDTH 40

static void percentile_cell(char *buf, size_t len, const struct tsh_slot *slot, double p)
{
	int b = hist_percentile(slot, p);

	if (b < 0)
		snprintf(buf, len, "-");
	else
		format_bucket_bound(buf, len, b);
}

/* The mean of the known durations, exact from their sum, to the nearest us. */
static void mean_cell(char *buf, size_t len, const struct tsh_slot *slot)
{
	__u64 known = hist_known(slot), us;

	if (!known) {
		snprintf(buf, len, "-");
		return;
	}
	us = (slot->sum_ns + known * 500) / (known * 1000);
	if (us)
		format_duration_us(buf, len, us);
	else
		snprintf(buf, len, "<1us");
}

static void print_table(FILE *out, const struct tsh_slot *slots, const unsigned int *order,
			unsigned int norder)
{
	static const double percentiles[] = { 50, 90, 99, 100 };

	fprintf(out, "%-12s %-12s %10s %10s %8s %8s %8s %8s %8s\n", "OLD_STATE", "NEW_STATE",
		"COUNT", "UNKNOWN", "MEAN", "P50", "P90", "P99", "MAX");
	for (unsigned int i = 0; i < norder; i++) {
		const struct tsh_slot *slot = &slots[order[i]];
		const char *oldname, *newname;
		char mean[16], cells[4][16];

		if (!slot->count)
			continue;
		slot_names(order[i], &oldname, &newname);
		mean_cell(mean, sizeof(mean), slot);
		for (unsigned int p = 0; p < 4; p++)
			percentile_cell(cells[p], sizeof(cells[p]), slot, percentiles[p]);
		fprintf(out, "%-12s %-12s %10llu %10llu %8s %8s %8s %8s %8s\n", oldname, newname,
			(unsigned long long)slot->count, (unsigned long long)slot->unknown, mean,
			cells[0], cells[1], cells[2], cells[3]);
	}
}

static void format_row_bound(char *buf, size_t len, __u64 us, bool ms)
{
	/* Exact: a bound is a whole number of us, so at most three decimals of ms. */
	if (ms && us % 1000)
		snprintf(buf, len, "%llu.%03llu", (unsigned long long)(us / 1000),
			 (unsigned long long)(us % 1000));
	else if (ms)
		snprintf(buf, len, "%llu", (unsigned long long)(us / 1000));
	else
		snprintf(buf, len, "%llu", (unsigned long long)us);
}

void render_text_histogram(FILE *out, const struct tsh_slot *slot, bool ms)
{
	int first = -1, last = -1;
	__u64 peak = 0;

	for (int b = 0; b < TSH_NBUCKETS; b++) {
		if (!slot->buckets[b])
			continue;
		if (first < 0)
			first = b;
		last = b;
		if (slot->buckets[b] > peak)
			peak = slot->buckets[b];
	}
	if (first < 0) {
		fprintf(out, "    (no known durations)\n");
		return;
	}
	fprintf(out, "%34s : %-10s distribution\n", ms ? "msecs (lo, hi]" : "usecs (lo, hi]",
		"count");
	for (int b = first; b <= last; b++) {
		char lo[24], hi[24], bar[BAR_WIDTH + 1];
		unsigned int width = (unsigned int)(slot->buckets[b] * BAR_WIDTH / peak);

		format_row_bound(lo, sizeof(lo), hist_bucket_lower_us(b), ms);
		if (hist_bucket_is_last(b))
			snprintf(hi, sizeof(hi), "inf");
		else
			format_row_bound(hi, sizeof(hi), hist_bucket_upper_us(b), ms);
		memset(bar, '*', width);
		memset(bar + width, ' ', BAR_WIDTH - width);
		bar[BAR_WIDTH] = '\0';
		fprintf(out, "%15s -> %-15s : %-10llu |%s|\n", lo, hi,
			(unsigned long long)slot->buckets[b], bar);
	}
}

/* A table per key with transitions, largest first, other last. */
static void print_breakdown(FILE *out, const struct breakdown *by, const unsigned int *order,
			    unsigned int norder)
{
	for (size_t i = 0; i < by->n; i++) {
		const struct key_counts *k = &by->keys[i];
		__u64 total = key_total(k);

		if (!total)
			continue;
		fprintf(out, "\n%s %s%s%s%s: %llu transitions\n", by_name(by->by), k->name,
			k->alias[0] ? " (" : "", k->alias, k->alias[0] ? ")" : "",
			(unsigned long long)total);
		print_table(out, k->slots, order, norder);
	}
}

int render_text(FILE *out, const struct snapshot *snap, const struct render_opts *opts)
{
	unsigned int order[TSH_NSLOTS], norder = slot_display_order(order);

	if (opts->timestamp) {
		time_t t = snap->taken_realtime;
		struct tm tm;
		char when[16];

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(out, "%s\n", when);
	}
	if (!snapshot_total(snap))
		fprintf(out, "no TCP state transitions\n");
	else
		print_table(out, snap->slots, order, norder);
	fprintf(out, "missed: %llu%s\n", (unsigned long long)snap->missed,
		opts->filtered ? " (every socket on the machine, before the filters)" : "");
	if (labels_any(opts->labels)) {
		char labels[PROM_LABELS_LEN];

		prom_labels(labels, sizeof(labels), opts->labels);
		fprintf(out, "labels: %s\n", labels);
	}
	if (opts->by)
		print_breakdown(out, opts->by, order, norder);
	for (unsigned int i = 0; i < norder; i++) {
		const struct tsh_slot *slot = &snap->slots[order[i]];
		const char *oldname, *newname;

		if (!slot->count)
			continue;
		slot_names(order[i], &oldname, &newname);
		fprintf(out, "\n%s -> %s: %llu transitions, %llu unknown\n", oldname, newname,
			(unsigned long long)slot->count, (unsigned long long)slot->unknown);
		render_text_histogram(out, slot, opts->milliseconds);
	}
	fprintf(out, "\n");
	return ferror(out) ? -EIO : 0;
}
