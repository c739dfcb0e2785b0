// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The census: a TCP socket iterator that writes one fixed record per socket
 * (include/tsh_sockets.h) to the iterator's reader. iter/tcp walks the full
 * sockets, the timewait mini-sockets and the request sockets of the network
 * namespace the reader opened the iterator in; their sock_common says which
 * is which by its state.
 *
 * Ages: a full socket's from the start times an attached set keeps (userspace
 * hands this program the set's start_slots and state_since maps before load);
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

/* Filters and settings, written by userspace between open and load. */
const volatile __u32 filter_family;   /* 0, AF_INET or AF_INET6 */
const volatile bool filter_lport;     /* keep only local ports in ports[LOCAL] */
const volatile bool filter_rport;     /* keep only remote ports in ports[REMOTE] */
const volatile bool have_start_times; /* start_slots and state_since are an attached set's */
/*
 * The namespace's tcp_fin_timeout in seconds, as its sysctl shows it; 0 =
 * unknown. The kernel keeps it in jiffies (seconds * HZ): their ratio is HZ,
 * which no kernel structure holds and not every kernel's config shows.
 */
const volatile __u32 fin_timeout_s;

/*
 * start_slots, state_since and ports come from shared_maps.bpf.h: the attached set's
 * start-time maps (bpf_map__reuse_fd), or unused placeholders.
 */

/* The socket's address as a plain number: the verifier forbids hashing a pointer. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sk_address SEC(".maps");

/* The same filters as the transition programs, on the socket as it is now. */
static __always_inline bool wanted(const struct tsh_sock_record *rec)
{
	if (filter_family && rec->family != filter_family)
		return false;
	if (filter_lport && !port_in_set(TSH_PORTS_LOCAL, rec->sport))
		return false;
	if (filter_rport && !port_in_set(TSH_PORTS_REMOTE, rec->dport))
		return false;
	return true;
}

static __always_inline void read_endpoints(struct tsh_sock_record *rec,
					   const struct sock_common *skc)
{
	rec->family = skc->skc_family;
	rec->sport = skc->skc_num;
	rec->dport = bpf_ntohs(skc->skc_dport);
	if (rec->family == AF_INET6) {
		BPF_CORE_READ_INTO(&rec->saddr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&rec->daddr, skc, skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)rec->saddr, skc, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)rec->daddr, skc, skc_daddr);
	}
}

/* The attached set's start time of a full socket: its start slot's, else its storage's. */
static __always_inline __u64 start_time(struct sock_common *skc, struct tcp_sock *tp, __u64 cookie)
{
	__u32 zero = 0, index;
	struct start_slot *slot;
	__u64 *scratch, address, *since;

	scratch = bpf_map_lookup_elem(&sk_address, &zero);
	if (!scratch)
		return 0;
	*scratch = (__u64)skc;
	address = *(volatile __u64 *)scratch;
	index = tsh_start_slot_index(address);
	slot = bpf_map_lookup_elem(&start_slots, &index);
	/* The owner by cookie, or the newborn server child at this address. */
	if (slot && (slot->cookie == cookie || (slot->cookie == NEWBORN && slot->sk == address)))
		return slot->since;
	since = bpf_sk_storage_get(&state_since, tp, NULL, 0);
	return since ? *since : 0;
}

static __always_inline void age_full(struct tsh_sock_record *rec, struct sock_common *skc,
				     __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	struct cgroup *cgrp;
	__u64 since;

	if (!tp)
		return;
	cgrp = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup;
	if (cgrp)
		rec->cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	if (!have_start_times)
		return;
	since = start_time(skc, tp, rec->cookie);
	if (!since || since > now)
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
	if (!fin_timeout_s || (__s64)fin_timeout <= 0)
		return;
	hz = fin_timeout / fin_timeout_s;
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
static __always_inline void age_request(struct tsh_sock_record *rec, struct sock_common *skc,
					__u64 now)
{
	struct tcp_request_sock *treq = bpf_skc_to_tcp_request_sock(skc);
	__u64 sent_us;

	rec->state = TSH_SYN_RECV;
	if (!treq)
		return;
	sent_us = treq->snt_synack;
	if (!sent_us || sent_us > now / 1000)
		return;
	rec->age_ns = now - sent_us * 1000;
	rec->age_source = TSH_AGE_SYNACK;
}

static __always_inline bool full_in_cgroup(struct sock_common *skc)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);

	return tp && in_cgroup(&tp->inet_conn.icsk_inet.sk);
}

SEC("iter/tcp")
int tsh_sockets(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tsh_sock_record rec = {};
	__u64 now;

	if (!skc)
		return 0;
	rec.state = skc->skc_state;
	read_endpoints(&rec, skc);
	if (!wanted(&rec))
		return 0;
	now = bpf_ktime_get_ns();
	rec.cookie = bpf_get_socket_cookie(skc);
	/* Only full sockets have a cgroup: --cgroup counts nothing else. */
	if (filter_cgroup_id && (rec.state == TSH_TIME_WAIT || rec.state == TSH_NEW_SYN_RECV ||
				 !full_in_cgroup(skc)))
		return 0;
	if (rec.state == TSH_TIME_WAIT) {
		rec.kind = TSH_SOCK_TIMEWAIT;
		age_timewait(&rec, skc);
	} else if (rec.state == TSH_NEW_SYN_RECV) {
		rec.kind = TSH_SOCK_REQUEST;
		age_request(&rec, skc, now);
	} else {
		age_full(&rec, skc, now);
	}
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
