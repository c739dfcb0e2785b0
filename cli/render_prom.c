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

/* Appends c to buf, keeping the NUL; what does not fit is dropped. */
static void put_char(char *buf, size_t size, size_t *n, char c)
{
	if (*n + 1 < size) {
		buf[(*n)++] = c;
		buf[*n] = '\0';
	}
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
		/* The exposition format's escapes: backslash, quote, newline. */
		for (size_t i = 0; i < l.value_len; i++) {
			char c = l.value[i];

			if (c == '\\' || c == '"' || c == '\n')
				put_char(buf, size, &n, '\\');
			put_char(buf, size, &n, c == '\n' ? 'n' : c);
		}
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

static void for_each_pair(FILE *out, const struct snapshot *snap, const char *user,
			  pair_printer print)
{
	unsigned int order[TSH_NSLOTS], norder = slot_display_order(order);

	for (unsigned int i = 0; i < norder; i++) {
		const struct tsh_slot *slot = &snap->slots[order[i]];
		const char *oldname, *newname;
		char labels[PROM_LABELS_LEN + 96];

		if (!slot->count)
			continue;
		slot_names(order[i], &oldname, &newname);
		snprintf(labels, sizeof(labels), "%s%sold_state=\"%s\",new_state=\"%s\"", user,
			 user[0] ? "," : "", oldname, newname);
		print(out, labels, slot);
	}
}

int render_prometheus(FILE *out, const struct snapshot *snap, const struct render_opts *opts)
{
	char user[PROM_LABELS_LEN];

	prom_labels(user, sizeof(user), opts->labels);
	prom_header(out, "tcpstatehist_transitions_total", "counter",
		    "TCP state transitions by old and new state, since attach.");
	for_each_pair(out, snap, user, print_count);
	prom_header(out, "tcpstatehist_unknown_duration_transitions_total", "counter",
		    "Transitions whose time in the old state is not known (first seen).");
	for_each_pair(out, snap, user, print_unknown);
	prom_header(out, "tcpstatehist_state_duration_seconds", "histogram",
		    "Time spent in old_state before moving to new_state, known durations.");
	for_each_pair(out, snap, user, print_histogram);
	prom_header(out, "tcpstatehist_missed_transitions_total", "counter",
		    "Tracepoint hits the kernel skipped that no program recorded.");
	print_series(out, "tcpstatehist_missed_transitions_total", user, snap->missed);
	prom_header(out, "tcpstatehist_attach_time_seconds", "gauge",
		    "When the counters started (Unix time); a change means a reset.");
	print_series(out, "tcpstatehist_attach_time_seconds", user, opts->since_realtime);
	return ferror(out) ? -EIO : 0;
}
