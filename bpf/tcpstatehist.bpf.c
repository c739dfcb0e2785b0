// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel side: per TCP state transition, add one to the transition pair's
 * counters and the time the socket spent in its old state to the pair's log2
 * histogram. Everything stays in maps; userspace reads and diffs them.
 *
 * Two programs share the tracepoint. The kernel skips a tracing program when
 * its tracepoint fires on a CPU where that program is already marked running
 * (a softirq event arriving while the main program, or the kernel's
 * bookkeeping around it, runs in process context), and counts the skip in the
 * program's recursion_misses. The recover program is attached second, so the
 * tracepoint calls it right after the main one for the same event. The main
 * program leaves a token naming the event it handled; the recover program
 * records every event that has no token, into its own counters (two writers
 * never share a per-CPU slot: one may be interrupted half-way through an
 * increment). See docs/design.md, "Exactness".
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

/*
 * The event the main program handled last, per CPU and per context level.
 * Events at one level never nest on a CPU (tracepoint callbacks run with
 * preemption disabled), so a nested event uses the other level's token and
 * cannot overwrite a token the recover program has yet to read. The
 * identity holds the tracepoint's argument array, a stack address that no
 * other event in flight on this CPU can share.
 */
struct event_token {
	__u64 sk;
	__u64 args;
	__u64 pair;
};

enum context_level {
	LEVEL_TASK = 0, /* on the current task's stack */
	LEVEL_IRQ = 1,	/* softirq (and anything else) runs on the irq stack */
	NLEVELS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NLEVELS);
	__type(key, __u32);
	__type(value, struct event_token);
} handled SEC(".maps");

/* x86-64 and arm64 task stacks without KASAN. */
#define TASK_STACK_SIZE 16384

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
	/*
	 * Not skc_num: the kernel releases the local port (and zeroes skc_num)
	 * before it reports a socket's move to CLOSE; inet_sport stays.
	 */
	if (filter_lport &&
	    !port_in_set(TSH_PORTS_LOCAL, bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk,
								  inet_sport))))
		return false;
	if (filter_rport && !port_in_set(TSH_PORTS_REMOTE, bpf_ntohs(sk->__sk_common.skc_dport)))
		return false;
	return true;
}

static __always_inline void record(struct tsh_table *table, struct sock *sk, int oldstate,
				   int newstate)
{
	__u32 index = tsh_pair_slot[oldstate & 15][newstate & 15];
	__u64 now = bpf_ktime_get_ns();
	struct tsh_slot *slot;
	__u64 *since;

	/* The table only holds slots below TSH_NSLOTS; the verifier wants proof. */
	slot = &table->slots[index < TSH_NSLOTS ? index : TSH_SLOT_OTHER];
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
		slot->buckets[tsh_duration_bucket(ns)]++;
	} else {
		slot->unknown++;
	}
	/*
	 * A move to the same state (close() in FIN_WAIT2, say) does not end the
	 * time spent in it: the next transition measures all of it.
	 */
	if (since && oldstate != newstate)
		*since = now;
}

static __always_inline struct event_token *token_for(void *args)
{
	__u64 stack = (__u64)bpf_get_current_task_btf()->stack;
	__u32 level = (__u64)args - stack < TASK_STACK_SIZE ? LEVEL_TASK : LEVEL_IRQ;

	return bpf_map_lookup_elem(&handled, &level);
}

static __always_inline __u64 pair_of(int oldstate, int newstate)
{
	return (__u64)(__u32)oldstate << 32 | (__u32)newstate;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tsh_main, struct sock *sk, int oldstate, int newstate)
{
	__u32 writer = TSH_WRITER_MAIN;
	struct tsh_table *table = bpf_map_lookup_elem(&counters, &writer);
	struct event_token *token;

	if (!table)
		return 0;
	table->seen++;
	if (wanted(sk))
		record(table, sk, oldstate, newstate);
	/* Last: from here on, this event is accounted for. */
	token = token_for(ctx);
	if (token) {
		token->sk = (__u64)sk;
		token->args = (__u64)ctx;
		token->pair = pair_of(oldstate, newstate);
	}
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tsh_recover, struct sock *sk, int oldstate, int newstate)
{
	__u32 writer = TSH_WRITER_RECOVER;
	struct event_token *token = token_for(ctx);
	struct tsh_table *table;
	bool main_ran;

	if (!token)
		return 0;
	main_ran = token->sk == (__u64)sk && token->args == (__u64)ctx &&
		   token->pair == pair_of(oldstate, newstate);
	token->sk = 0;
	if (main_ran)
		return 0;
	/* The kernel skipped the main program for this event: take it over. */
	table = bpf_map_lookup_elem(&counters, &writer);
	if (!table)
		return 0;
	table->recovered++;
	if (wanted(sk))
		record(table, sk, oldstate, newstate);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
