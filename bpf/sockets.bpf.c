// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The census: a TCP socket iterator that counts every socket into per-state
 * totals (include/tsh_sockets.h, read by userspace from .bss after the walk)
 * and writes a record only for the candidates of the oldest list: a socket
 * of known age older than the youngest of the N oldest seen so far. iter/tcp
 * walks the full sockets, the timewait mini-sockets and the request sockets of
 * the network namespace the reader opened the iterator in; their sock_common
 * says which is which by its state.
 *
 * Ages: a full socket's from the start times an attached set keeps (attach
 * hands this program the set's start_slots and state_since maps before load,
 * and pins it with the set);
 * a timewait socket's from its timer; a request socket's from its first
 * SYN-ACK. See docs/design.md, "The census".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpstatehist.h"
#include "tsh_sockets.h"
#include "shared_maps.bpf.h"
#include "cgroup_filter.bpf.h"

#define AF_INET 2
#define AF_INET6 10
/* include/net/tcp.h: how long a connection stays in TIME_WAIT, in seconds. */
#define TIMEWAIT_LEN_S 60

/*
 * The walk's settings and state, in .bss: userspace writes the whole section
 * before each walk (the settings, everything else zero) and reads the totals
 * after it. One program serves many walks (the attached set pins one for its
 * census): userspace lets one walk at a time run it.
 */
struct tsh_census_settings settings;
/*
 * start_slots, state_since and ports come from shared_maps.bpf.h: the attached set's
 * start-time maps (bpf_map__reuse_fd), or unused placeholders.
 */

/*
 * The socket's address as a plain number (the verifier forbids hashing a
 * pointer), laundered through memory. One walk runs at a time, so a global
 * does.
 */
__u64 sk_address;

/* What the walk counted: userspace reads it when the walk has ended. */
struct tsh_census_totals totals;

/* The candidates' filter: include/tsh_sockets.h. */
struct tsh_census_heap heap;

/* The clock of the walk: read once, again only for a start time after it. */
__u64 walk_now;

/* The same filters as the transition programs, on the socket as it is now. */
static __always_inline bool wanted(const struct tsh_sock_record *rec)
{
	if (settings.family && rec->family != settings.family)
		return false;
	if (settings.lports && !port_in_set(TSH_PORTS_LOCAL, rec->sport))
		return false;
	if (settings.rports && !port_in_set(TSH_PORTS_REMOTE, rec->dport))
		return false;
	return true;
}

/* The clock of the walk, read again for a start time it does not reach. */
static __always_inline __u64 walk_clock(__u64 since)
{
	if (!walk_now || walk_now < since)
		walk_now = bpf_ktime_get_ns();
	return walk_now;
}

/*
 * The attached set's start time of a full socket: its start slot's, else its
 * storage's. The slot names its owner by cookie: a socket without one yet
 * (0) owns no slot by cookie, so the field is read without making one.
 */
static __always_inline __u64 start_time(struct sock_common *skc)
{
	struct start_slot *slot;
	struct tcp_sock *tp;
	__u64 address, *since, cookie;
	__u32 index;

	sk_address = (__u64)skc;
	address = *(volatile __u64 *)&sk_address;
	index = tsh_start_slot_index(address);
	slot = bpf_map_lookup_elem(&start_slots, &index);
	if (slot) {
		cookie = skc->skc_cookie.counter;
		/* The owner by cookie, or the newborn server child at this address. */
		if ((cookie && slot->cookie == cookie) ||
		    (slot->cookie == NEWBORN && slot->sk == address))
			return slot->since;
	}
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	since = bpf_sk_storage_get(&state_since, tp, NULL, 0);
	return since ? *since : 0;
}

static __always_inline void age_full(struct tsh_sock_record *rec, struct sock_common *skc)
{
	__u64 since = start_time(skc), now;

	if (!since)
		return;
	now = walk_clock(since);
	if (since > now)
		return;
	rec->age_ns = now - since;
	rec->age_source = TSH_AGE_START;
}

/*
 * A timewait socket's timer expires its window after the socket entered its
 * substate: TIME_WAIT's window is TCP_TIMEWAIT_LEN; FIN_WAIT2's is the
 * namespace's tcp_fin_timeout (unless a TCP_LINGER2 or a long RTO stretched
 * it: the age then reads short).
 */
static __always_inline void age_timewait(struct tsh_sock_record *rec, struct sock_common *skc)
{
	struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(skc);
	__u64 hz, window, fin_timeout, expires, jiffies;
	__s64 elapsed;

	if (!tw)
		return;
	rec->state = tw->tw_sk.tw_substate;
	fin_timeout = BPF_CORE_READ(skc, skc_net.net, ipv4.sysctl_tcp_fin_timeout);
	if (!settings.fin_timeout_s || (__s64)fin_timeout <= 0)
		return;
	hz = fin_timeout / settings.fin_timeout_s;
	if (!hz)
		return;
	window = rec->state == TSH_TIME_WAIT ? TIMEWAIT_LEN_S * hz : fin_timeout;
	expires = tw->tw_sk.tw_timer.expires;
	jiffies = bpf_jiffies64();
	elapsed = (__s64)(jiffies - (expires - window));
	if (elapsed < 0)
		return;
	rec->age_ns = (__u64)elapsed * 1000000000ull / hz;
	rec->age_source = TSH_AGE_TIMER;
}

/* tcp_make_synack() stamps the first SYN-ACK in microseconds of CLOCK_MONOTONIC. */
static __always_inline void age_request(struct tsh_sock_record *rec, struct sock_common *skc)
{
	struct tcp_request_sock *treq = bpf_skc_to_tcp_request_sock(skc);
	__u64 sent_us, now;

	rec->state = TSH_SYN_RECV;
	if (!treq)
		return;
	sent_us = treq->snt_synack;
	if (!sent_us)
		return;
	now = walk_clock(sent_us * 1000);
	if (sent_us > now / 1000)
		return;
	rec->age_ns = now - sent_us * 1000;
	rec->age_source = TSH_AGE_SYNACK;
}

/* Whether a socket of known age may be among the oldest; gives it its cookie if so. */
static __always_inline bool candidate(struct tsh_sock_record *rec, struct sock_common *skc)
{
	if (!tsh_census_may_beat(&heap, settings.top_max, rec->age_ns))
		return false;
	rec->cookie = bpf_get_socket_cookie(skc);
	return tsh_census_beats(&heap, settings.top_max, rec->age_ns, rec->cookie);
}

/* The new entry of heap_push(), for the steps. */
struct heap_entry {
	__u64 age;
	__u64 cookie;
};

static long heap_up_step(__u64 index, void *ctx)
{
	struct heap_entry *e = ctx;

	return !tsh_census_heap_up(&heap, e->age, e->cookie);
}

static long heap_down_step(__u64 index, void *ctx)
{
	struct heap_entry *e = ctx;

	return !tsh_census_heap_down(&heap, e->age, e->cookie);
}

/*
 * tsh_census_heap_push() with its steps in bpf_loop(), which the verifier
 * checks once whatever the count. Global functions: the verifier checks each
 * once, on its own, so that their branches (the heap's, the bucket's search)
 * do not multiply the program's paths.
 */
__noinline int heap_push(__u64 age, __u64 cookie)
{
	struct heap_entry e = { age, cookie };
	int up = tsh_census_heap_open(&heap, settings.top_max);

	if (up < 0)
		return 0;
	if (up)
		bpf_loop(TSH_HEAP_DEPTH, heap_up_step, &e, 0);
	else
		bpf_loop(TSH_HEAP_DEPTH, heap_down_step, &e, 0);
	tsh_census_heap_fill(&heap, age, cookie);
	return 0;
}

__noinline int count_socket(__u64 state, __u32 known, __u64 age_ns)
{
	tsh_census_count(&totals, state, known, age_ns);
	return 0;
}

/* What only a listed socket needs: its addresses and its cgroup. */
static __always_inline void fill_record(struct tsh_sock_record *rec, struct sock_common *skc)
{
	struct tcp_sock *tp;
	struct cgroup *cgrp;

	if (rec->family == AF_INET6) {
		BPF_CORE_READ_INTO(&rec->saddr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&rec->daddr, skc, skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)rec->saddr, skc, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)rec->daddr, skc, skc_daddr);
	}
	if (rec->kind != TSH_SOCK_FULL)
		return;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return;
	cgrp = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup;
	if (cgrp)
		rec->cgroup_id = BPF_CORE_READ(cgrp, kn, id);
}

static __always_inline bool full_in_cgroup(struct sock_common *skc)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);

	return tp && in_cgroup(&tp->inet_conn.icsk_inet.sk, settings.cgroup_id, settings.cgroup_level);
}

SEC("iter/tcp")
int tsh_sockets(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tsh_sock_record rec = {};
	bool known;

	if (!skc)
		return 0;
	rec.state = skc->skc_state;
	rec.family = skc->skc_family;
	rec.sport = skc->skc_num;
	rec.dport = bpf_ntohs(skc->skc_dport);
	if (!wanted(&rec))
		return 0;
	/* Only full sockets have a cgroup: --cgroup counts nothing else. */
	if (settings.cgroup_id &&
	    (rec.state == TSH_TIME_WAIT || rec.state == TSH_NEW_SYN_RECV || !full_in_cgroup(skc)))
		return 0;
	if (rec.state == TSH_TIME_WAIT) {
		rec.kind = TSH_SOCK_TIMEWAIT;
		age_timewait(&rec, skc);
	} else if (rec.state == TSH_NEW_SYN_RECV) {
		rec.kind = TSH_SOCK_REQUEST;
		age_request(&rec, skc);
	} else if (settings.start_times) {
		age_full(&rec, skc);
	}
	known = rec.age_source != TSH_AGE_UNKNOWN;
	if (!tsh_census_matches(settings.older_than_ns, known, rec.age_ns))
		return 0;
	if (known && candidate(&rec, skc)) {
		fill_record(&rec, skc);
		/*
		 * A full buffer: the reader's next read shows this socket again,
		 * so nothing of it may be counted now.
		 */
		if (bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec)))
			return 0;
		heap_push(rec.age_ns, rec.cookie);
	}
	count_socket(rec.state, known, rec.age_ns);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
