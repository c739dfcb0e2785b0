/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The census of TCP sockets as plain data: per state, how many there are now
 * and a log2 histogram of how long they have been in it (where known); and the
 * N oldest. Built one record at a time from the socket iterator's records, no
 * kernel here: the unit tests feed it records.
 */
#ifndef TSH_CENSUS_H
#define TSH_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpstatehist.h"
#include "tsh_sockets.h"

/* --top: at most this many of the oldest sockets. */
#define CENSUS_TOP_MAX TSH_CENSUS_TOP_MAX
#define CENSUS_TOP_DEFAULT 10
#define CENSUS_REASON_LEN 256

struct census {
	/* Every socket counted, and per state (the same buckets as the transition histograms). */
	struct tsh_census_totals totals;
	/* --older-than: only sockets known to have been in their state this long. */
	__u64 older_than_ns;
	/* The oldest sockets of known age: a min-heap while adding, oldest first after finish. */
	struct tsh_sock_record *oldest;
	unsigned int top_max;
	unsigned int noldest;
	/* Labels for every Prometheus series (cli/labels.h): set by the caller, may be NULL. */
	const char *labels;
	/* Per oldest socket, its cgroup's path, or NULL: set by the caller, may be NULL. */
	const char *const *cgroups;
	/* Full sockets' ages come from an attached set's start times. */
	bool start_times;
	/* When !start_times: why full sockets' ages are unknown, one line. */
	char no_start_times[CENSUS_REASON_LEN];
};

/* oldest: room for top_max records (top_max may be 0). */
void census_init(struct census *c, struct tsh_sock_record *oldest, unsigned int top_max,
		 __u64 older_than_ns);

/* Counts one socket (or leaves it out, for --older-than), and offers it to the oldest list. */
void census_add(struct census *c, const struct tsh_sock_record *rec);

/*
 * Offers a socket counted elsewhere (the iterator's totals) to the oldest
 * list: kept if it is among the top_max oldest of known age offered so far.
 */
void census_offer(struct census *c, const struct tsh_sock_record *rec);

/* Sorts the oldest list, oldest first; call once, after the last census_add. */
void census_finish(struct census *c);

static inline bool census_age_known(const struct tsh_sock_record *rec)
{
	return rec->age_source != TSH_AGE_UNKNOWN;
}

/* "CLOSE_WAIT", or "UNKNOWN" for a state outside the table. */
const char *census_state_name(unsigned int state);

/* What kind of socket: "full", "timewait" or "request". */
const char *census_kind_name(unsigned int kind);

/* Where the age came from: "unknown", "start", "timer", "synack". */
const char *census_age_source_name(unsigned int source);

/* The address and port as ss prints them: "10.0.0.1:80", "[::1]:443". */
void census_format_endpoint(char *buf, size_t len, unsigned int family, const __u8 *addr,
			    unsigned int port);

#endif /* TSH_CENSUS_H */
