/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The trace command's renderers: pure functions of one record (or of the
 * final counts) that write to a FILE *, or for the text line into a buffer.
 * Each stream renderer returns 0, or -EIO when the stream reports an error.
 */
#ifndef TSH_RENDER_TRACE_H
#define TSH_RENDER_TRACE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "tcpstatehist.h"

struct trace_opts {
	bool time_of_day; /* text: a TIME column, local time of day */
	bool wide;	  /* text: address columns wide enough for IPv6 */
	enum tsh_by by;	  /* --by: a column (text) or a field (JSON) with each record's key */
	/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns: record times to wall-clock times. */
	__s64 realtime_offset_ns;
};

/* What the trace accounts for at its end. */
struct trace_totals {
	__u64 records; /* printed */
	__u64 lost;    /* passed the filters, found the ring full */
	__u64 missed;  /* transitions no program saw (any socket, before any filter) */
};

/* The text of the time of day last rendered: local time is computed once a second. */
struct trace_tod {
	bool valid;
	__s64 sec; /* of the wall clock */
	char text[16];
	size_t len;
};

/* Room for any text line: the widest fields, IPv6 addresses, the longest duration. */
#define TRACE_LINE_MAX 320
/* A key's text in a line: a port, a namespace inode, a cgroup path (PATH_MAX: whole). */
#define TRACE_KEY_MAX 4096

int render_trace_header(FILE *out, const struct trace_opts *opts);
/*
 * A record's text line into line (TRACE_LINE_MAX + TRACE_KEY_MAX bytes at
 * least, not terminated): its length. key is the record's key as text with
 * --by (at most TRACE_KEY_MAX bytes shown), NULL without.
 */
size_t render_trace_line(char *line, const struct tsh_trace_record *rec, const char *key,
			 const struct trace_opts *opts, struct trace_tod *tod);
int render_trace_text(FILE *out, const struct tsh_trace_record *rec, const char *key,
		      const struct trace_opts *opts, struct trace_tod *tod);
int render_trace_json(FILE *out, const struct tsh_trace_record *rec, const char *key,
		      const struct trace_opts *opts);
int render_trace_end_text(FILE *out, const struct trace_totals *totals);
int render_trace_end_json(FILE *out, const struct trace_totals *totals);

#endif /* TSH_RENDER_TRACE_H */
