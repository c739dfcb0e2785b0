// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "census.h"
#include "util.h"

void census_init(struct census *c, struct tsh_sock_record *oldest, unsigned int top_max,
		 __u64 older_than_ns)
{
	memset(c, 0, sizeof(*c));
	c->oldest = oldest;
	c->top_max = top_max;
	c->older_than_ns = older_than_ns;
}

static void swap_records(struct tsh_sock_record *a, struct tsh_sock_record *b)
{
	struct tsh_sock_record t = *a;

	*a = *b;
	*b = t;
}

static bool younger(const struct tsh_sock_record *a, const struct tsh_sock_record *b)
{
	return tsh_census_younger(a->age_ns, a->cookie, b->age_ns, b->cookie);
}

static void sift_down(struct tsh_sock_record *heap, unsigned int n, unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, least = i;

		if (l < n && younger(&heap[l], &heap[least]))
			least = l;
		if (r < n && younger(&heap[r], &heap[least]))
			least = r;
		if (least == i)
			return;
		swap_records(&heap[i], &heap[least]);
		i = least;
	}
}

/* The heap's root is the youngest of the oldest: the one a new record may replace. */
void census_offer(struct census *c, const struct tsh_sock_record *rec)
{
	struct tsh_sock_record *heap = c->oldest;
	unsigned int i;

	if (!c->top_max || !census_age_known(rec))
		return;
	if (c->noldest == c->top_max) {
		if (!younger(&heap[0], rec))
			return;
		heap[0] = *rec;
		sift_down(heap, c->noldest, 0);
		return;
	}
	i = c->noldest++;
	heap[i] = *rec;
	while (i && younger(&heap[i], &heap[(i - 1) / 2])) {
		swap_records(&heap[i], &heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

void census_add(struct census *c, const struct tsh_sock_record *rec)
{
	bool known = census_age_known(rec);

	if (!tsh_census_matches(c->older_than_ns, known, rec->age_ns))
		return;
	tsh_census_count(&c->totals, rec->state, known, rec->age_ns);
	census_offer(c, rec);
}

static int oldest_first(const void *a, const void *b)
{
	return younger(a, b) ? 1 : younger(b, a) ? -1 : 0;
}

void census_finish(struct census *c)
{
	if (c->noldest)
		qsort(c->oldest, c->noldest, sizeof(*c->oldest), oldest_first);
}

const char *census_state_name(unsigned int state)
{
	const char *name = state < TSH_NSTATES ? tsh_state_names[state] : NULL;

	return name ? name : "UNKNOWN";
}

const char *census_kind_name(unsigned int kind)
{
	static const char *const names[] = {
		[TSH_SOCK_FULL] = "full",
		[TSH_SOCK_TIMEWAIT] = "timewait",
		[TSH_SOCK_REQUEST] = "request",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : "unknown";
}

const char *census_age_source_name(unsigned int source)
{
	static const char *const names[] = {
		[TSH_AGE_UNKNOWN] = "unknown",
		[TSH_AGE_START] = "start",
		[TSH_AGE_TIMER] = "timer",
		[TSH_AGE_SYNACK] = "synack",
	};

	return source < ARRAY_SIZE(names) ? names[source] : "unknown";
}

void census_format_endpoint(char *buf, size_t len, unsigned int family, const __u8 *addr,
			    unsigned int port)
{
	char ip[INET6_ADDRSTRLEN];

	if (family == AF_INET6 && inet_ntop(AF_INET6, addr, ip, sizeof(ip)))
		snprintf(buf, len, "[%s]:%u", ip, port);
	else if (family == AF_INET && inet_ntop(AF_INET, addr, ip, sizeof(ip)))
		snprintf(buf, len, "%s:%u", ip, port);
	else
		snprintf(buf, len, "?:%u", port);
}
