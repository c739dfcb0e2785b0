// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus text exposition format. Counters are cumulative since attach,
 * as Prometheus expects; histogram buckets are the kernel's log2 buckets,
 * whose upper-inclusive bounds are exactly Prometheus' "le".
 */
#include <errno.h>
#include <string.h>
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

/* Appends c to buf, keeping the NUL; what does not fit is dropped. */
static void put_char(char *buf, size_t size, size_t *n, char c)
{
	if (*n + 1 < size) {
		buf[(*n)++] = c;
		buf[*n] = '\0';
	}
}

/*
 * Appends len bytes of value with the exposition format's escapes (backslash,
 * quote, newline); an escape goes in whole or not at all.
 */
static void put_escaped(char *buf, size_t size, size_t *n, const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = value[i];

		if (c == '\\' || c == '"' || c == '\n') {
			if (*n + 2 >= size)
				return;
			put_char(buf, size, n, '\\');
		}
		put_char(buf, size, n, c == '\n' ? 'n' : c);
	}
}

void prom_escape(char *buf, size_t size, const char *value)
{
	size_t n = 0;

	buf[0] = '\0';
	put_escaped(buf, size, &n, value, strlen(value));
}

void prom_labels(char *buf, size_t size, const char *labels)
{
	const char *cursor = labels;
	struct label l;
	size_t n = 0;

	buf[0] = '\0';
	while (labels_next(&cursor, &l)) {
		if (n)
			put_char(buf, size, &n, ',');
		for (size_t i = 0; i < l.name_len; i++)
			put_char(buf, size, &n, l.name[i]);
		put_char(buf, size, &n, '=');
		put_char(buf, size, &n, '"');
		put_escaped(buf, size, &n, l.value, l.value_len);
		put_char(buf, size, &n, '"');
	}
}

void prom_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A series without labels of its own: the user's labels, if any. */
static void print_series(FILE *out, const char *name, const char *labels, __u64 value)
{
	fprintf(out, "%s%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		(unsigned long long)value);
}

/* The labels before a pair's: the user's, and a key's (escaped, so up to twice its length). */
#define PREFIX_LEN (PROM_LABELS_LEN + 2 * KEY_NAME_LEN + 32)

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

/* The pairs of slots with transitions; prefix ("" or `job="x",port="443",`) first in the labels. */
static void for_each_slot(FILE *out, const struct tsh_slot *slots, const char *prefix,
			  pair_printer print)
{
	unsigned int order[TSH_NSLOTS], norder = slot_display_order(order);

	for (unsigned int i = 0; i < norder; i++) {
		const struct tsh_slot *slot = &slots[order[i]];
		const char *oldname, *newname;
		char labels[PREFIX_LEN + 96];

		if (!slot->count)
			continue;
		slot_names(order[i], &oldname, &newname);
		snprintf(labels, sizeof(labels), "%sold_state=\"%s\",new_state=\"%s\"", prefix,
			 oldname, newname);
		print(out, labels, slot);
	}
}

/*
 * Per pair, after the user's labels; with --by, per key and pair instead, the
 * key a label named as the breakdown.
 */
static void for_each_pair(FILE *out, const struct snapshot *snap, const char *user,
			  const struct breakdown *by, pair_printer print)
{
	char value[2 * KEY_NAME_LEN], prefix[PREFIX_LEN];
	const char *comma = user[0] ? "," : "";

	if (!by) {
		snprintf(prefix, sizeof(prefix), "%s%s", user, comma);
		for_each_slot(out, snap->slots, prefix, print);
		return;
	}
	for (size_t k = 0; k < by->n; k++) {
		prom_escape(value, sizeof(value), by->keys[k].name);
		snprintf(prefix, sizeof(prefix), "%s%s%s=\"%s\",", user, comma, by_name(by->by),
			 value);
		for_each_slot(out, by->keys[k].slots, prefix, print);
	}
}

int render_prometheus(FILE *out, const struct snapshot *snap, const struct render_opts *opts)
{
	char user[PROM_LABELS_LEN];

	prom_labels(user, sizeof(user), opts->labels);
	prom_header(out, "tcpstatehist_transitions_total", "counter",
		    "TCP state transitions by old and new state, since attach.");
	for_each_pair(out, snap, user, opts->by, print_count);
	prom_header(out, "tcpstatehist_unknown_duration_transitions_total", "counter",
		    "Transitions whose time in the old state is not known (first seen).");
	for_each_pair(out, snap, user, opts->by, print_unknown);
	prom_header(out, "tcpstatehist_state_duration_seconds", "histogram",
		    "Time spent in old_state before moving to new_state, known durations.");
	for_each_pair(out, snap, user, opts->by, print_histogram);
	prom_header(out, "tcpstatehist_missed_transitions_total", "counter",
		    "Tracepoint hits the kernel skipped that no program recorded.");
	print_series(out, "tcpstatehist_missed_transitions_total", user, snap->missed);
	prom_header(out, "tcpstatehist_attach_time_seconds", "gauge",
		    "When the counters started (Unix time); a change means a reset.");
	print_series(out, "tcpstatehist_attach_time_seconds", user, opts->since_realtime);
	return ferror(out) ? -EIO : 0;
}
