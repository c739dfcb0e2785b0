// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus text exposition format. Counters are cumulative since attach,
 * as Prometheus expects; histogram buckets are the kernel's log2 buckets,
 * whose upper-inclusive bounds are exactly Prometheus' "le".
 */
#include <errno.h>
#include "hist.h"
#include "render.h"

void prom_format_le(char *buf, size_t len, unsigned int b)
{
	__u64 us = hist_bucket_upper_us(b);

	if (hist_bucket_is_last(b))
		snprintf(buf, len, "+Inf");
	else
		snprintf(buf, len, "%llu.%06llu", (unsigned long long)(us / 1000000),
			 (unsigned long long)(us % 1000000));
}

void prom_escape(char *buf, size_t len, const char *value)
{
	size_t n = 0;

	for (const char *c = value; *c && n + 3 < len; c++) {
		if (*c == '\\' || *c == '"') {
			buf[n++] = '\\';
			buf[n++] = *c;
		} else if (*c == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *c;
		}
	}
	buf[n] = '\0';
}

void prom_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef void (*pair_printer)(FILE *out, const char *labels, const struct tsh_slot *slot);

static void print_count(FILE *out, const char *labels, const struct tsh_slot *slot)
{
	fprintf(out, "tcpstatehist_transitions_total{%s} %llu\n", labels,
		(unsigned long long)slot->count);
}

static void print_unknown(FILE *out, const char *labels, const struct tsh_slot *slot)
{
	fprintf(out, "tcpstatehist_unknown_duration_transitions_total{%s} %llu\n", labels,
		(unsigned long long)slot->unknown);
}

void prom_histogram(FILE *out, const char *name, const char *labels, const struct tsh_slot *slot)
{
	__u64 cumulative = 0;
	char le[32];

	for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
		cumulative += slot->buckets[b];
		prom_format_le(le, sizeof(le), b);
		fprintf(out, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, le,
			(unsigned long long)cumulative);
	}
	fprintf(out, "%s_sum{%s} %llu.%09llu\n", name, labels,
		(unsigned long long)(slot->sum_ns / 1000000000),
		(unsigned long long)(slot->sum_ns % 1000000000));
	fprintf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cumulative);
}

static void print_histogram(FILE *out, const char *labels, const struct tsh_slot *slot)
{
	prom_histogram(out, "tcpstatehist_state_duration_seconds", labels, slot);
}

/* The pairs of slots with transitions; key_label ("" or `port="443",`) first in the labels. */
static void for_each_slot(FILE *out, const struct tsh_slot *slots, const char *key_label,
			  pair_printer print)
{
	unsigned int order[TSH_NSLOTS], norder = slot_display_order(order);

	for (unsigned int i = 0; i < norder; i++) {
		const struct tsh_slot *slot = &slots[order[i]];
		const char *oldname, *newname;
		char labels[2 * KEY_NAME_LEN + 128];

		if (!slot->count)
			continue;
		slot_names(order[i], &oldname, &newname);
		snprintf(labels, sizeof(labels), "%sold_state=\"%s\",new_state=\"%s\"", key_label,
			 oldname, newname);
		print(out, labels, slot);
	}
}

/* Per pair; with --by, per key and pair instead, the key a label named as the breakdown. */
static void for_each_pair(FILE *out, const struct snapshot *snap, const struct breakdown *by,
			  pair_printer print)
{
	char value[2 * KEY_NAME_LEN], label[2 * KEY_NAME_LEN + 16];

	if (!by) {
		for_each_slot(out, snap->slots, "", print);
		return;
	}
	for (size_t k = 0; k < by->n; k++) {
		prom_escape(value, sizeof(value), by->keys[k].name);
		snprintf(label, sizeof(label), "%s=\"%s\",", by_name(by->by), value);
		for_each_slot(out, by->keys[k].slots, label, print);
	}
}

int render_prometheus(FILE *out, const struct snapshot *snap, const struct render_opts *opts)
{
	prom_header(out, "tcpstatehist_transitions_total", "counter",
		    "TCP state transitions by old and new state, since attach.");
	for_each_pair(out, snap, opts->by, print_count);
	prom_header(out, "tcpstatehist_unknown_duration_transitions_total", "counter",
		    "Transitions whose time in the old state is not known (first seen).");
	for_each_pair(out, snap, opts->by, print_unknown);
	prom_header(out, "tcpstatehist_state_duration_seconds", "histogram",
		    "Time spent in old_state before moving to new_state, known durations.");
	for_each_pair(out, snap, opts->by, print_histogram);
	prom_header(out, "tcpstatehist_missed_transitions_total", "counter",
		    "Tracepoint hits the kernel skipped that no program recorded.");
	fprintf(out, "tcpstatehist_missed_transitions_total %llu\n",
		(unsigned long long)snap->missed);
	prom_header(out, "tcpstatehist_attach_time_seconds", "gauge",
		    "When the counters started (Unix time); a change means a reset.");
	fprintf(out, "tcpstatehist_attach_time_seconds %llu\n",
		(unsigned long long)opts->since_realtime);
	return ferror(out) ? -EIO : 0;
}
