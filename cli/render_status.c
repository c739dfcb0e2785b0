// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* status: what is attached at a pin path, what it counted, what it costs. */
#include <errno.h>
#include <sys/socket.h>
#include "json_writer.h"
#include "render.h"
#include "util.h"

void describe_filters(const struct tsh_meta *meta, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (meta->family)
		used += snprintf(buf + used, len - used, "%s",
				 meta->family == AF_INET ? "-4" : "-6");
	if (meta->lports[0] && used < len)
		used += snprintf(buf + used, len - used, "%s-L %s", used ? " " : "", meta->lports);
	if (meta->rports[0] && used < len)
		used += snprintf(buf + used, len - used, "%s-D %s", used ? " " : "", meta->rports);
	if (meta->netns_path[0] && used < len)
		used += snprintf(buf + used, len - used, "%s-N %s", used ? " " : "",
				 meta->netns_path);
	if (meta->cgroup_path[0] && used < len)
		used += snprintf(buf + used, len - used, "%s--cgroup %s", used ? " " : "",
				 meta->cgroup_path);
	if (!used)
		snprintf(buf, len, "none");
}

static double avg_ns(const struct prog_cost *c)
{
	return c->run_cnt ? (double)c->run_time_ns / c->run_cnt : 0;
}

static void print_costs_text(FILE *out, const struct status *st)
{
	if (st->stats_source == STATS_UNAVAILABLE)
		fprintf(out, "cost:         unavailable (%s)\n", st->stats_error);
	else if (st->stats_source == STATS_WINDOW)
		fprintf(out, "cost:         measured over %u s (kernel.bpf_stats_enabled is 0)\n",
			st->stats_window_s);
	else
		fprintf(out, "cost:         since kernel.bpf_stats_enabled was set\n");
	fprintf(out, "  %-12s %14s %14s %10s %17s\n", "program", "runs", "run time ns", "avg ns",
		"recursion misses");
	for (int i = 0; i < NPROGS; i++) {
		const struct prog_cost *c = &st->progs[i];

		if (st->stats_source != STATS_UNAVAILABLE)
			fprintf(out, "  %-12s %14llu %14llu %10.1f %17llu\n", c->name,
				(unsigned long long)c->run_cnt, (unsigned long long)c->run_time_ns,
				avg_ns(c), (unsigned long long)c->recursion_misses);
		else
			fprintf(out, "  %-12s %14s %14s %10s %17llu\n", c->name, "-", "-", "-",
				(unsigned long long)c->recursion_misses);
	}
}

int render_status_text(FILE *out, const struct status *st)
{
	const struct tsh_meta *m = &st->meta;
	__u64 since = pins_attach_seconds(m);
	char when[UTC_LEN], filters[512], labels[PROM_LABELS_LEN];

	if (!st->attached) {
		if (st->problem)
			fprintf(out, "attached:     no (%s)\n", st->problem);
		else
			fprintf(out, "attached:     no (no pins at %s)\n", st->pin_path);
		return ferror(out) ? -EIO : 0;
	}
	format_utc(when, sizeof(when), since);
	describe_filters(m, filters, sizeof(filters));
	fprintf(out, "attached:     yes, since %s (%llu s ago)\n", when,
		(unsigned long long)(st->now > since ? st->now - since : 0));
	fprintf(out, "pin path:     %s (layout v%u)\n", st->pin_path, m->layout_version);
	fprintf(out, "filters:      %s\n", filters);
	if (by_name(m->by))
		fprintf(out, "breakdown:    by %s, at most %u keys (later keys count as other)\n",
			by_name(m->by), st->max_keys);
	else
		fprintf(out, "breakdown:    none\n");
	prom_labels(labels, sizeof(labels), m->labels);
	fprintf(out, "labels:       %s\n", labels[0] ? labels : "none");
	fprintf(out, "transitions:  %llu counted, %llu missed\n",
		(unsigned long long)st->transitions, (unsigned long long)st->missed);
	fprintf(out,
		"start slots:  %llu sockets fell back to socket storage (slot taken), "
		"%llu slots taken over from sockets gone\n",
		(unsigned long long)st->start_fallbacks, (unsigned long long)st->start_reclaims);
	fprintf(out, "map memory:   %llu bytes (memlock)\n", (unsigned long long)st->memlock);
	print_costs_text(out, st);
	return ferror(out) ? -EIO : 0;
}

static void put_optional_string(struct json_writer *w, const char *key, const char *s)
{
	if (*s)
		json_key_string(w, key, s);
	else
		json_key_null(w, key);
}

static void put_filters_json(struct json_writer *w, const struct tsh_meta *m)
{
	json_key(w, "filters");
	json_begin_object(w);
	if (m->family == AF_INET || m->family == AF_INET6)
		json_key_string(w, "family", m->family == AF_INET ? "ipv4" : "ipv6");
	else
		json_key_null(w, "family");
	put_optional_string(w, "lports", m->lports);
	put_optional_string(w, "rports", m->rports);
	put_optional_string(w, "netns", m->netns_path);
	put_optional_string(w, "cgroup", m->cgroup_path);
	json_end_object(w);
}

static void put_costs_json(struct json_writer *w, const struct status *st)
{
	static const char *const sources[] = {
		[STATS_WINDOW] = "window",
		[STATS_CUMULATIVE] = "cumulative",
	};
	bool known = st->stats_source != STATS_UNAVAILABLE;

	json_key(w, "stats");
	json_begin_object(w);
	if (known)
		json_key_string(w, "source", sources[st->stats_source]);
	else
		json_key_null(w, "source");
	if (st->stats_source == STATS_WINDOW)
		json_key_u64(w, "window_s", st->stats_window_s);
	else
		json_key_null(w, "window_s");
	json_key(w, "programs");
	json_begin_array(w);
	for (int i = 0; i < NPROGS; i++) {
		const struct prog_cost *c = &st->progs[i];

		json_begin_object(w);
		json_key_string(w, "name", c->name);
		json_key_u64(w, "recursion_misses", c->recursion_misses);
		if (known) {
			json_key_u64(w, "run_cnt", c->run_cnt);
			json_key_u64(w, "run_time_ns", c->run_time_ns);
			json_key(w, "avg_ns");
			json_fixed(w, avg_ns(c), 1);
		} else {
			json_key_null(w, "run_cnt");
			json_key_null(w, "run_time_ns");
			json_key_null(w, "avg_ns");
		}
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

int render_status_json(FILE *out, const struct status *st)
{
	char when[UTC_LEN];
	struct json_writer w;

	json_init(&w, out);
	json_begin_object(&w);
	json_key(&w, "attached");
	json_bool(&w, st->attached);
	json_key_string(&w, "pin_path", st->pin_path);
	if (!st->attached && st->problem)
		json_key_string(&w, "error", st->problem);
	if (st->attached) {
		format_utc(when, sizeof(when), pins_attach_seconds(&st->meta));
		json_key_u64(&w, "layout", st->meta.layout_version);
		json_key_string(&w, "since", when);
		put_filters_json(&w, &st->meta);
		if (by_name(st->meta.by)) {
			json_key_string(&w, "by", by_name(st->meta.by));
			json_key_u64(&w, "max_keys", st->max_keys);
		} else {
			json_key_null(&w, "by");
			json_key_null(&w, "max_keys");
		}
		render_json_labels(&w, st->meta.labels);
		json_key_u64(&w, "transitions", st->transitions);
		json_key_u64(&w, "missed", st->missed);
		json_key_u64(&w, "start_fallbacks", st->start_fallbacks);
		json_key_u64(&w, "start_reclaims", st->start_reclaims);
		json_key_u64(&w, "memlock_bytes", st->memlock);
		put_costs_json(&w, st);
	}
	json_end_object(&w);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
