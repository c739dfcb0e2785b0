/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Renderers: pure functions of a snapshot that write to a FILE *. They never
 * touch a map. Each returns 0, or -EIO when the stream reports an error.
 */
#ifndef TSH_RENDER_H
#define TSH_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "snapshot.h"

struct render_opts {
	bool timestamp;	   /* text: time of day above each summary */
	bool milliseconds; /* text: histogram rows in ms instead of us */
	/*
	 * Seconds the snapshot covers; 0 when it is cumulative since
	 * since_realtime (the attach time).
	 */
	double interval_s;
	__u64 since_realtime;
};

int render_text(FILE *out, const struct snapshot *snap, const struct render_opts *opts);
int render_json(FILE *out, const struct snapshot *snap, const struct render_opts *opts);
int render_prometheus(FILE *out, const struct snapshot *snap, const struct render_opts *opts);

typedef int (*renderer_fn)(FILE *out, const struct snapshot *snap, const struct render_opts *opts);

#endif /* TSH_RENDER_H */
