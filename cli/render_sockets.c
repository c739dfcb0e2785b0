// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The census (sockets) as text, JSON or Prometheus: per state the count now,
 * the unknown ages and the histogram of the known ones; then the oldest.
 */
#include <errno.h>
#include <string.h>
#include "hist.h"
#include "json_writer.h"
#include "render.h"

/* States in the kernel's order; 0 collects anything outside the table. */
static bool state_shown(const struct census *c, unsigned int state)
{
	return c->totals.states[state].count > 0;
}

static const char *cgroup_of(const struct census *c, unsigned int i)
{
	return c->cgroups && c->cgroups[i] ? c->cgroups[i] : NULL;
}

static void format_age(char *buf, size_t len, const struct tsh_sock_record *rec)
{
	if (census_age_known(rec))
		format_duration_us(buf, len, rec->age_ns / 1000);
	else
		snprintf(buf, len, "-");
}

static void print_state_table(FILE *out, const struct census *c)
{
	fprintf(out, "%-14s %10s %10s %8s %8s %8s\n", "STATE", "SOCKETS", "UNKNOWN", "P50", "P90",
		"MAX");
	for (unsigned int s = 1; s <= TSH_NSTATES; s++) {
		unsigned int state = s % TSH_NSTATES;
		const struct tsh_slot *st = &c->totals.states[state];
		static const double percentiles[] = { 50, 90, 100 };
		char cells[3][16];

		if (!state_shown(c, state))
			continue;
		for (unsigned int p = 0; p < 3; p++) {
			int b = hist_percentile(st, percentiles[p]);

			if (b < 0)
				snprintf(cells[p], sizeof(cells[p]), "-");
			else
				format_bucket_bound(cells[p], sizeof(cells[p]), b);
		}
		fprintf(out, "%-14s %10llu %10llu %8s %8s %8s\n", census_state_name(state),
			(unsigned long long)st->count, (unsigned long long)st->unknown, cells[0],
			cells[1], cells[2]);
	}
}

static void print_oldest(FILE *out, const struct census *c)
{
	fprintf(out, "\nOldest %u of known age:\n", c->noldest);
	fprintf(out, "%-8s %-11s %-8s %-20s %-22s %-22s %s\n", "AGE", "STATE", "KIND", "COOKIE",
		"LOCAL", "REMOTE", "CGROUP");
	for (unsigned int i = 0; i < c->noldest; i++) {
		const struct tsh_sock_record *rec = &c->oldest[i];
		char age[16], local[64], remote[64];
		const char *cgroup = cgroup_of(c, i);

		format_age(age, sizeof(age), rec);
		census_format_endpoint(local, sizeof(local), rec->family, rec->saddr, rec->sport);
		census_format_endpoint(remote, sizeof(remote), rec->family, rec->daddr, rec->dport);
		fprintf(out, "%-8s %-11s %-8s %-20llu %-22s %-22s %s\n", age,
			census_state_name(rec->state), census_kind_name(rec->kind),
			(unsigned long long)rec->cookie, local, remote, cgroup ? cgroup : "-");
	}
}

int render_sockets_text(FILE *out, const struct census *c)
{
	char threshold[16];

	if (c->older_than_ns) {
		format_duration_us(threshold, sizeof(threshold), c->older_than_ns / 1000);
		fprintf(out, "TCP sockets in their state for at least %s: %llu\n", threshold,
			(unsigned long long)c->totals.sockets);
	} else {
		fprintf(out, "TCP sockets: %llu\n", (unsigned long long)c->totals.sockets);
	}
	if (c->totals.sockets)
		print_state_table(out, c);
	for (unsigned int s = 1; s <= TSH_NSTATES; s++) {
		unsigned int state = s % TSH_NSTATES;
		const struct tsh_slot *st = &c->totals.states[state];

		if (!state_shown(c, state))
			continue;
		fprintf(out, "\n%s: %llu sockets, %llu of unknown age\n", census_state_name(state),
			(unsigned long long)st->count, (unsigned long long)st->unknown);
		if (st->count > st->unknown)
			render_text_histogram(out, st, false);
	}
	if (c->noldest)
		print_oldest(out, c);
	fprintf(out, "\n");
	return ferror(out) ? -EIO : 0;
}

static void put_socket(struct json_writer *w, const struct census *c, unsigned int i)
{
	const struct tsh_sock_record *rec = &c->oldest[i];
	const char *cgroup = cgroup_of(c, i);
	char endpoint[64];

	json_begin_object(w);
	json_key_u64(w, "cookie", rec->cookie);
	json_key_string(w, "state", census_state_name(rec->state));
	json_key_string(w, "kind", census_kind_name(rec->kind));
	json_key_string(w, "family", rec->family == 10 ? "ipv6" : "ipv4");
	census_format_endpoint(endpoint, sizeof(endpoint), rec->family, rec->saddr, rec->sport);
	json_key_string(w, "local", endpoint);
	census_format_endpoint(endpoint, sizeof(endpoint), rec->family, rec->daddr, rec->dport);
	json_key_string(w, "remote", endpoint);
	json_key_u64(w, "age_ns", rec->age_ns);
	json_key_string(w, "age_source", census_age_source_name(rec->age_source));
	json_key_u64(w, "cgroup_id", rec->cgroup_id);
	if (cgroup)
		json_key_string(w, "cgroup", cgroup);
	else
		json_key_null(w, "cgroup");
	json_end_object(w);
}

int render_sockets_json(FILE *out, const struct census *c)
{
	struct json_writer w;

	json_init(&w, out);
	json_begin_object(&w);
	json_key_u64(&w, "sockets", c->totals.sockets);
	if (c->older_than_ns)
		json_key_u64(&w, "older_than_ns", c->older_than_ns);
	else
		json_key_null(&w, "older_than_ns");
	json_key(&w, "start_times");
	json_bool(&w, c->start_times);
	if (c->start_times)
		json_key_null(&w, "no_start_times");
	else
		json_key_string(&w, "no_start_times", c->no_start_times);
	json_key(&w, "states");
	json_begin_array(&w);
	for (unsigned int s = 1; s <= TSH_NSTATES; s++) {
		unsigned int state = s % TSH_NSTATES;

		if (!state_shown(c, state))
			continue;
		json_begin_object(&w);
		json_key_string(&w, "state", census_state_name(state));
		render_json_slot(&w, &c->totals.states[state]);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "oldest");
	json_begin_array(&w);
	for (unsigned int i = 0; i < c->noldest; i++)
		put_socket(&w, c, i);
	json_end_array(&w);
	json_end_object(&w);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

/* Every named state, so that a state with no socket reads 0, not absent. */
static bool state_named(unsigned int state)
{
	return state < TSH_NSTATES && tsh_state_names[state];
}

/* One gauge per named state: its count, or its count of unknown ages. */
static void print_state_gauges(FILE *out, const struct census *c, const char *user,
			       const char *name, const char *help, bool unknown)
{
	prom_header(out, name, "gauge", help);
	for (unsigned int s = 0; s < TSH_NSTATES; s++)
		if (state_named(s))
			fprintf(out, "%s{%s%sstate=\"%s\"} %llu\n", name, user, user[0] ? "," : "",
				tsh_state_names[s],
				(unsigned long long)(unknown ? c->totals.states[s].unknown
							     : c->totals.states[s].count));
}

int render_sockets_prometheus(FILE *out, const struct census *c)
{
	static const char age_metric[] = "tcpstatehist_socket_state_age_seconds";
	char user[PROM_LABELS_LEN];

	prom_labels(user, sizeof(user), c->labels);
	print_state_gauges(out, c, user, "tcpstatehist_sockets", "TCP sockets now, by state.",
			   false);
	print_state_gauges(out, c, user, "tcpstatehist_sockets_unknown_age",
			   "TCP sockets now whose time in their state is not known, by state.",
			   true);
	prom_header(out, age_metric, "histogram",
		    "Time each TCP socket has spent in its current state, known ages.");
	for (unsigned int s = 0; s < TSH_NSTATES; s++) {
		char labels[PROM_LABELS_LEN + 48];

		if (!state_named(s) || c->totals.states[s].count == c->totals.states[s].unknown)
			continue;
		snprintf(labels, sizeof(labels), "%s%sstate=\"%s\"", user, user[0] ? "," : "",
			 tsh_state_names[s]);
		prom_histogram(out, age_metric, labels, &c->totals.states[s]);
	}
	return ferror(out) ? -EIO : 0;
}
