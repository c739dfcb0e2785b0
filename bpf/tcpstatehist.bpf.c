// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel side: per TCP state transition, add one to the transition pair's
 * counters and the time the socket spent in its old state to the pair's log2
 * histogram. Everything stays in maps; userspace reads and diffs them.
 *
 * Two programs share the tracepoint. The kernel skips a tracing program when
 * its tracepoint fires on a CPU where that program is already running (a
 * softirq event nested inside a process-context one), and counts the skip in
 * the program's recursion_misses. The recover program runs for those nested
 * events and records the ones the main program was skipped for, into its own
 * counters (two writers never share a per-CPU slot: one may be interrupted
 * half-way through an increment).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpstatehist.h"

#define AF_INET 2
#define AF_INET6 10

/* Filters, written by userspace between open and load. */
const volatile __u32 filter_family; /* 0, AF_INET or AF_INET6 */
const volatile __u32 filter_netns;  /* network namespace inode, 0 = any */
const volatile bool filter_lport;   /* keep only local ports in ports[LOCAL] */
const volatile bool filter_rport;   /* keep only remote ports in ports[REMOTE] */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TSH_NWRITERS);
	__type(key, __u32);
	__type(value, struct tsh_table);
} counters SEC(".maps");

/* When did this socket enter its current state? Freed with the socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} state_since SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TSH_NPORTSETS);
	__type(key, __u32);
	__type(value, struct tsh_portset);
} ports SEC(".maps");

/* Per CPU: non-zero while the main program is inside its body. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} main_busy SEC(".maps");

static __always_inline bool port_in_set(__u32 set, __u16 port)
{
	struct tsh_portset *ps = bpf_map_lookup_elem(&ports, &set);

	return ps && (ps->bits[(port >> 6) & (TSH_PORTSET_WORDS - 1)] >> (port & 63)) & 1;
}

static __always_inline bool wanted(const struct sock *sk)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return false;
	if (filter_family && sk->__sk_common.skc_family != filter_family)
		return false;
	if (filter_netns && BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != filter_netns)
		return false;
	if (filter_lport && !port_in_set(TSH_PORTS_LOCAL, sk->__sk_common.skc_num))
		return false;
	if (filter_rport && !port_in_set(TSH_PORTS_REMOTE, bpf_ntohs(sk->__sk_common.skc_dport)))
		return false;
	return true;
}

/* Upper-inclusive log2 bucket of a duration, in microseconds. */
static __always_inline __u32 duration_bucket(__u64 ns)
{
	__u64 us = (ns + 999) / 1000;
	__u32 b;

	if (us <= 1)
		return 0;
	b = 64 - __builtin_clzll(us - 1);
	return b < TSH_NBUCKETS - 1 ? b : TSH_NBUCKETS - 1;
}

static __always_inline void record(__u32 writer, struct sock *sk, int oldstate, int newstate)
{
	struct tsh_table *table = bpf_map_lookup_elem(&counters, &writer);
	struct tsh_slot *slot;
	__u64 now = bpf_ktime_get_ns();
	__u64 *since;

	if (!table)
		return;
	slot = &table->slots[tsh_pair_slot[oldstate & 15][newstate & 15] & (TSH_NSLOTS - 1)];
	slot->count++;

	/*
	 * A socket that reaches CLOSE is done; creating storage for it would
	 * only cost an allocation. Any other new state needs its entry time.
	 */
	since = bpf_sk_storage_get(&state_since, sk, NULL,
				   newstate == TSH_CLOSE ? 0 : BPF_SK_STORAGE_GET_F_CREATE);
	if (since && *since) {
		__u64 ns = now - *since;

		slot->sum_ns += ns;
		slot->buckets[duration_bucket(ns)]++;
	} else {
		slot->unknown++;
	}
	if (since)
		*since = now;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tsh_main, struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0;
	__u32 *busy = bpf_map_lookup_elem(&main_busy, &zero);

	if (!busy)
		return 0;
	*busy = 1;
	if (wanted(sk))
		record(TSH_WRITER_MAIN, sk, oldstate, newstate);
	*busy = 0;
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tsh_recover, struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0, writer = TSH_WRITER_RECOVER;
	__u32 *busy = bpf_map_lookup_elem(&main_busy, &zero);
	struct tsh_table *table;

	/* Not busy: the main program handled (or will handle) this event. */
	if (!busy || !*busy)
		return 0;
	table = bpf_map_lookup_elem(&counters, &writer);
	if (!table)
		return 0;
	table->recovered++;
	if (wanted(sk))
		record(TSH_WRITER_RECOVER, sk, oldstate, newstate);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
