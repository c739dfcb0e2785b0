/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Renderers: pure functions of plain data (a snapshot, a status) that write
 * to a FILE *. They never touch a map. Each returns 0, or -EIO when the
 * stream reports an error.
 */
#ifndef TSH_RENDER_H
#define TSH_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "breakdown.h"
#include "census.h"
#include "labels.h"
#include "pins.h"
#include "snapshot.h"

struct json_writer;

struct render_opts {
	bool timestamp;	   /* text: time of day above each summary */
	bool milliseconds; /* text: histogram rows in ms instead of us */
	/*
	 * Seconds the snapshot covers; 0 when it is cumulative since
	 * since_realtime (the attach time).
	 */
	double interval_s;
	__u64 since_realtime;
	/* A filter is on: text says that missed still covers every socket. */
	bool filtered;
	/* --by: the same interval's counters per key, names filled; NULL when off. */
	const struct breakdown *by;
	/* --label: added to every JSON object and Prometheus series; NULL = none. */
	const char *labels;
	/* snapshot --sockets: the census, whose series follow the counters'; NULL = none. */
	const struct census *census;
};

int render_text(FILE *out, const struct snapshot *snap, const struct render_opts *opts);
int render_json(FILE *out, const struct snapshot *snap, const struct render_opts *opts);
int render_prometheus(FILE *out, const struct snapshot *snap, const struct render_opts *opts);

/* Pieces the renderers share. */
/* The log2 histogram of a slot's known durations, one row per bucket, in us or ms. */
void render_text_histogram(FILE *out, const struct tsh_slot *slot, bool ms);
/* A slot's members: count, unknown, sum_ns, percentiles and buckets. */
void render_json_slot(struct json_writer *w, const struct tsh_slot *slot);
/* A bucket bound in seconds, exact (a whole number of us): "0.000512", "+Inf". */
void prom_format_le(char *buf, size_t len, unsigned int b);
/* "labels": {KEY: VALUE, ...}, an empty object when there are none. */
void render_json_labels(struct json_writer *w, const char *labels);
/*
 * The labels as a Prometheus label list, `KEY="VALUE",...` with the values
 * escaped, no trailing comma; "" when there are none.
 */
#define PROM_LABELS_LEN (2 * TSH_META_LABELS_LEN + 4 * LABELS_MAX)
void prom_labels(char *buf, size_t size, const char *labels);
/* A histogram's buckets (cumulative, every bound), _sum and _count, with the labels given. */
void prom_histogram(FILE *out, const char *name, const char *labels, const struct tsh_slot *slot);
/* A label value escaped as the exposition format wants: \\, \" and \n. */
void prom_escape(char *buf, size_t len, const char *value);
/* A metric's HELP and TYPE lines. */
void prom_header(FILE *out, const char *name, const char *type, const char *help);

/* The census (sockets): text, json, prometheus; c finished (census_finish). */
int render_sockets_text(FILE *out, const struct census *c);
int render_sockets_json(FILE *out, const struct census *c);
int render_sockets_prometheus(FILE *out, const struct census *c);

typedef int (*renderer_fn)(FILE *out, const struct snapshot *snap, const struct render_opts *opts);

/* Where status found the programs' run counts and times. */
enum stats_source {
	STATS_UNAVAILABLE = 0, /* stats_error says why */
	STATS_WINDOW,	       /* turned on for stats_window_s seconds */
	STATS_CUMULATIVE,      /* since kernel.bpf_stats_enabled was set */
};

struct prog_cost {
	const char *name;
	__u64 run_cnt;
	__u64 run_time_ns;
	__u64 recursion_misses;
};

/* What status reports about one pin path. */
struct status {
	const char *pin_path;
	bool attached;	     /* false: nothing else is set but problem */
	const char *problem; /* not attached: why, when pins are there but unusable */
	struct tsh_meta meta;
	/* With meta.by: the keys with tables of their own. */
	__u32 max_keys;
	__u64 now; /* seconds since the epoch, for "N s ago" */
	__u64 transitions;
	__u64 missed;
	__u64 start_fallbacks;
	__u64 start_reclaims;
	__u64 memlock;
	enum stats_source stats_source;
	unsigned int stats_window_s;
	char stats_error[128];
	struct prog_cost progs[NPROGS];
};

int render_status_text(FILE *out, const struct status *st);
int render_status_json(FILE *out, const struct status *st);

/* The filters as the options that set them: "-4 -L 80 -N /run/netns/x", or "none". */
void describe_filters(const struct tsh_meta *meta, char *buf, size_t len);

#endif /* TSH_RENDER_H */
