/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The census: what the socket iterator (bpf/sockets.bpf.c) hands userspace
 * for each TCP socket, one fixed record per socket. Plain __u8/__u16/__u64
 * only, so both sides agree bit for bit.
 */
#ifndef TSH_SOCKETS_H
#define TSH_SOCKETS_H

#include "tcpstatehist.h"

/* --top: at most this many of the oldest sockets. */
#define TSH_CENSUS_TOP_MAX 1000

/* What kind of socket the kernel keeps for the connection. */
enum tsh_sock_kind {
	TSH_SOCK_FULL = 0,     /* a full socket */
	TSH_SOCK_TIMEWAIT = 1, /* a timewait mini-socket: FIN_WAIT2 or TIME_WAIT */
	TSH_SOCK_REQUEST = 2,  /* a request socket: a server's handshake before accept */
};

/* Where a record's age comes from; docs/design.md, "The census". */
enum tsh_age_source {
	TSH_AGE_UNKNOWN = 0, /* age_ns is meaningless */
	TSH_AGE_START = 1,   /* the attached set's start time (a start slot or socket storage) */
	TSH_AGE_TIMER = 2,   /* a timewait socket's timer: its expiry less its window */
	TSH_AGE_SYNACK = 3,  /* a request socket: since its first SYN-ACK */
};

struct tsh_sock_record {
	__u64 cookie;	 /* the socket cookie */
	__u64 age_ns;	 /* time in the current state, when age_source says so */
	__u64 cgroup_id; /* full sockets: the cgroup (v2) id, else 0 */
	__u8 saddr[16];	 /* local address: 4 bytes for AF_INET, 16 for AF_INET6 */
	__u8 daddr[16];	 /* remote address */
	__u16 sport;	 /* local port, host order */
	__u16 dport;	 /* remote port, host order */
	__u8 state;	 /* TSH_* state; a timewait socket's substate; SYN_RECV for requests */
	__u8 family;	 /* AF_INET or AF_INET6 */
	__u8 kind;	 /* enum tsh_sock_kind */
	__u8 age_source; /* enum tsh_age_source */
};

/*
 * A walk's settings: the census's filters and options, written by userspace
 * into the iterator's .bss before each walk.
 */
struct tsh_census_settings {
	__u64 older_than_ns; /* --older-than, 0 for none */
	__u64 cgroup_id;     /* --cgroup's id, 0 for any cgroup */
	__u32 cgroup_level;  /* --cgroup's level below the cgroup2 mount */
	__u32 family;	     /* 0, AF_INET or AF_INET6 */
	__u32 top_max;	     /* --top: how many of the oldest to list, 0 for none */
	/*
	 * The namespace's tcp_fin_timeout in seconds, as its sysctl shows it; 0 =
	 * unknown. The kernel keeps it in jiffies (seconds * HZ): their ratio is
	 * HZ, which no kernel structure holds and not every kernel's config shows.
	 */
	__u32 fin_timeout_s;
	__u8 lports;	  /* keep only local ports in ports[LOCAL] */
	__u8 rports;	  /* keep only remote ports in ports[REMOTE] */
	__u8 start_times; /* start_slots and state_since are an attached set's */
	__u8 reserved[5];
};

/*
 * Per state (index: the TSH_* state; 0 collects anything outside the table),
 * as a transition slot: count, unknown (no known age), sum_ns and buckets of
 * the known ages. The iterator counts every socket into these (docs/design.md,
 * "The census"); only the candidates for the oldest list leave the kernel as
 * records.
 */
struct tsh_census_totals {
	__u64 sockets; /* every socket counted */
	struct tsh_slot states[TSH_NSTATES];
};

/* --older-than (0: no threshold): only sockets known to have been in their state this long. */
static inline bool tsh_census_matches(__u64 older_than_ns, bool known, __u64 age_ns)
{
	return !older_than_ns || (known && age_ns >= older_than_ns);
}

static inline void tsh_census_count(struct tsh_census_totals *t, __u64 state, bool known,
				    __u64 age_ns)
{
	struct tsh_slot *st = &t->states[state < TSH_NSTATES ? state : 0];

	t->sockets++;
	st->count++;
	if (!known) {
		st->unknown++;
		return;
	}
	st->sum_ns += age_ns;
	st->buckets[tsh_duration_bucket(age_ns)]++;
}

/*
 * The order of the oldest list: a is younger than b, ties broken by cookie so
 * that the list does not depend on the walk's order.
 */
static inline bool tsh_census_younger(__u64 age_a, __u64 cookie_a, __u64 age_b, __u64 cookie_b)
{
	return age_a != age_b ? age_a < age_b : cookie_a > cookie_b;
}

/*
 * The iterator's filter of candidates for the oldest list: the top_max oldest
 * sockets seen so far, in a min-heap whose root is the youngest of them, the
 * one a socket must beat. Every socket of the final list beats it when the
 * walk reaches it (fewer than top_max sockets anywhere are older), so the
 * candidates hold the exact list. Shared so that userspace tests check the
 * BPF side's heap.
 */
#define TSH_HEAP_ROOM 1024 /* a power of 2 above TSH_CENSUS_TOP_MAX, for the index masks */
#define TSH_HEAP_DEPTH 10  /* levels below the root of a heap of TSH_CENSUS_TOP_MAX */

struct tsh_census_heap {
	__u32 len;
	__u32 hole; /* see tsh_census_heap_hole() */
	__u64 age[TSH_HEAP_ROOM];
	__u64 cookie[TSH_HEAP_ROOM];
};

/* Whether a socket of this age may beat the root, before its cookie is known. */
static inline bool tsh_census_may_beat(const struct tsh_census_heap *h, __u32 top_max, __u64 age)
{
	return top_max && (h->len < top_max || age >= h->age[0]);
}

static inline bool tsh_census_beats(const struct tsh_census_heap *h, __u32 top_max, __u64 age,
				    __u64 cookie)
{
	return top_max &&
	       (h->len < top_max || tsh_census_younger(h->age[0], h->cookie[0], age, cookie));
}

/*
 * A new entry goes into a hole that moves one level per step, up from a free
 * place or down from the root, then fills it. The hole's index is read back
 * from memory at each step: to the BPF verifier a value only known to be
 * within the heap, so that it checks a step once for every level (the
 * iterator runs the steps with bpf_loop()). Kept exact, the index made the
 * verifier follow every path through the levels on its own.
 */
static inline __u32 tsh_census_heap_hole(const struct tsh_census_heap *h)
{
	return *(const volatile __u32 *)&h->hole & (TSH_HEAP_ROOM - 1);
}

/* Opens the hole: 1 at a free place (sift up), 0 at the root (sift down), -1 refused. */
static inline int tsh_census_heap_open(struct tsh_census_heap *h, __u32 top_max)
{
	__u32 len = h->len;

	if (len > TSH_CENSUS_TOP_MAX || top_max > TSH_CENSUS_TOP_MAX || !top_max)
		return -1;
	if (len < top_max) {
		h->hole = len;
		h->len = len + 1;
		return 1;
	}
	h->hole = 0;
	return 0;
}

/* Moves the entry at from into the hole, which goes to from: 1 (the hole moved). */
static inline int tsh_census_heap_move(struct tsh_census_heap *h, __u32 from)
{
	__u32 i = tsh_census_heap_hole(h);

	from &= TSH_HEAP_ROOM - 1;
	h->age[i] = h->age[from];
	h->cookie[i] = h->cookie[from];
	h->hole = from;
	return 1;
}

/* Moves the hole up one level if the new entry is younger than its parent: 1 if it moved. */
static inline int tsh_census_heap_up(struct tsh_census_heap *h, __u64 age, __u64 cookie)
{
	const __u32 mask = TSH_HEAP_ROOM - 1;
	__u32 i = tsh_census_heap_hole(h), up;

	if (!i)
		return 0;
	up = ((i - 1) / 2) & mask;
	if (!tsh_census_younger(age, cookie, h->age[up], h->cookie[up]))
		return 0;
	return tsh_census_heap_move(h, up);
}

/* Moves the hole down one level if its younger child is younger than the new entry. */
static inline int tsh_census_heap_down(struct tsh_census_heap *h, __u64 age, __u64 cookie)
{
	const __u32 mask = TSH_HEAP_ROOM - 1;
	__u32 i = tsh_census_heap_hole(h), len = h->len, down = 2 * i + 1, right;

	if (down >= len)
		return 0;
	right = (down + 1) & mask;
	down &= mask;
	if (right < len &&
	    tsh_census_younger(h->age[right], h->cookie[right], h->age[down], h->cookie[down]))
		down = right;
	if (!tsh_census_younger(h->age[down], h->cookie[down], age, cookie))
		return 0;
	return tsh_census_heap_move(h, down);
}

static inline void tsh_census_heap_fill(struct tsh_census_heap *h, __u64 age, __u64 cookie)
{
	__u32 i = tsh_census_heap_hole(h);

	h->age[i] = age;
	h->cookie[i] = cookie;
}

/* Adds a socket that beats the root: into a free place, else in place of the root. */
static inline void tsh_census_heap_push(struct tsh_census_heap *h, __u32 top_max, __u64 age,
					__u64 cookie)
{
	int up = tsh_census_heap_open(h, top_max);

	if (up < 0)
		return;
	for (int level = 0; level < TSH_HEAP_DEPTH; level++)
		if (!(up ? tsh_census_heap_up(h, age, cookie)
			 : tsh_census_heap_down(h, age, cookie)))
			break;
	tsh_census_heap_fill(h, age, cookie);
}

#endif /* TSH_SOCKETS_H */
