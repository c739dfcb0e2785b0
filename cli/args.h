/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command line: one struct config, filled by a parser that never exits. */
#ifndef TSH_ARGS_H
#define TSH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "commands.h"
#include "tcpstatehist.h"

/* INTERVAL's range: the microsecond the summaries print, up to a year (366 days). */
/* Where `ip netns add NAME` puts its namespaces: -N NAME means NETNS_RUN_DIR/NAME. */
#define NETNS_RUN_DIR "/run/netns"
#define NETNS_NAME_MAX 288

#define INTERVAL_MIN_S 0.000001
#define INTERVAL_MAX_S 31622400.0
#define INTERVAL_MIN_TEXT "0.000001"
#define INTERVAL_MAX_TEXT "31622400"

enum tsh_format {
	FORMAT_TEXT = 0,
	FORMAT_JSON,
	FORMAT_PROMETHEUS,
};

struct port_filter {
	bool enabled;
	struct tsh_portset set;
	char spec[TSH_META_SPEC_LEN]; /* the list as given, for status */
};

struct config {
	enum tsh_command command;
	bool has_interval;
	double interval_s;
	unsigned long count; /* 0: until interrupted */
	bool timestamp;
	bool milliseconds;
	bool verbose;
	int family; /* 0, AF_INET or AF_INET6 */
	struct port_filter lports;
	struct port_filter rports;
	const char *netns_path;
	const char *cgroup_path;	  /* --cgroup: a cgroup2 directory, NULL = any */
	__u64 cgroup_id;		  /* the census's --cgroup: resolved, 0 = any */
	__u32 cgroup_level;		  /* its depth below the cgroup2 mount */
	char netns_named[NETNS_NAME_MAX]; /* -N NAME resolved under NETNS_RUN_DIR */
	enum tsh_format format;
	const char *pin_path;
	bool pin_path_given; /* false: pin_path is the default */
	const char *state_file;
	const char *output;
	bool replace;
	bool with_sockets;		  /* snapshot: the census's series too */
	bool no_audit;			  /* live view: no tracepoint hit count */
	__u64 older_than_ns;		  /* sockets: 0 = every socket */
	unsigned long top;		  /* sockets: how many of the oldest to list */
	enum tsh_by by;			  /* --by: TSH_BY_NONE = no breakdown */
	unsigned long max_keys;		  /* --max-keys: keys with their own counters */
	__u64 min_duration_ns;	/* trace: 0 = every transition */
	__u32 from_states;	/* trace: one bit per old state kept, 0 = any */
	__u32 to_states;	/* trace: one bit per new state kept, 0 = any */
	bool wide;		/* trace: columns wide enough for IPv6 */
	unsigned long ring_kib; /* trace: the ring buffer's size */
	char labels[TSH_META_LABELS_LEN]; /* --label, as cli/labels.h keeps them */
};

enum parse_result {
	PARSE_OK = 0,
	PARSE_HELP,
	PARSE_VERSION,
	PARSE_ERROR,
};

/*
 * Fills cfg from argv. On PARSE_ERROR, err holds a one-line message naming
 * the offending option or argument.
 */
enum parse_result parse_args(int argc, char **argv, struct config *cfg, char *err, size_t errlen);

/* Strict number parsing: the whole string, no sign, within [min, max]. */
int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Seconds, fractions allowed, strictly positive and finite. */
int parse_seconds(const char *s, double *out);

/*
 * A duration with its unit, in nanoseconds: "500us", "250ms", "2s", "1.5m",
 * "1h"; strictly positive, at most a year.
 */
int parse_duration(const char *s, __u64 *ns);

/* The trace's ring buffer: KiB, a power of two. */
#define RING_KIB_MIN 4
#define RING_KIB_MAX 1048576
#define RING_KIB_DEFAULT 4096

/* "SYN_SENT,CLOSE_WAIT": kernel state names, any case, as a bit per state. */
int parse_state_list(const char *s, __u32 *states);

/* "80,443,8000-8100": ports 1..65535, no empty element, no reversed range. */
int parse_port_list(const char *s, struct tsh_portset *set, char *err, size_t errlen);

static inline bool portset_has(const struct tsh_portset *set, unsigned int port)
{
	return (set->bits[port / 64] >> (port % 64)) & 1;
}

void print_usage(FILE *out, const char *prog);

#endif /* TSH_ARGS_H */
