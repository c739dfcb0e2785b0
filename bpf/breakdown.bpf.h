/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Breakdowns (--by): each transition counted once more, under the key of its
 * socket (a port, a cgroup, a network namespace). The first max_keys keys
 * seen get a table each; any later key counts under the overflow table,
 * index TSH_KEY_OTHER, so the tables always sum to the machine-wide counts.
 *
 * The tables are shared by every CPU and updated with atomic adds: one table
 * per key whatever the number of CPUs (docs/performance.md, "Breakdowns").
 * With by_kind 0 the verifier drops all of it, as it does a filter that is
 * off.
 */
#ifndef TSH_BREAKDOWN_BPF_H
#define TSH_BREAKDOWN_BPF_H

const volatile __u32 by_kind;  /* enum tsh_by; 0 = no breakdown */
const volatile __u32 max_keys; /* tables for keys, besides TSH_KEY_OTHER */

/* The key's table index, 1..max_keys; userspace sets max_entries to max_keys. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} key_index SEC(".maps");

/* Table per index; max_entries max_keys + 1, index TSH_KEY_OTHER the overflow. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tsh_key_table);
} key_tables SEC(".maps");

/* Indices handed out so far (some lost to races: they stay empty). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64); /* 64 bits: the only width of BPF's compare and swap */
} keys_given SEC(".maps");

/*
 * The server's port, what operators call the service: the local port of a
 * listener and of the sockets accepted from it (a copy of the listener, it
 * keeps the listener's nonzero backlog limit), the remote port of a socket
 * that connected out.
 */
static __always_inline __u64 server_port(const struct sock *sk, int oldstate, int newstate,
					 bool birth)
{
	if (oldstate == TSH_LISTEN || newstate == TSH_LISTEN || sk->sk_max_ack_backlog)
		return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	return birth ? 0 : bpf_ntohs(sk->__sk_common.skc_dport);
}

/* The socket's key. Ports as the filters read them (see wanted()). */
static __always_inline __u64 breakdown_key(const struct sock *sk, int oldstate, int newstate,
					   bool birth)
{
	switch (by_kind) {
	case TSH_BY_PORT:
		return server_port(sk, oldstate, newstate, birth);
	case TSH_BY_LPORT:
		return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	case TSH_BY_RPORT:
		return birth ? 0 : bpf_ntohs(sk->__sk_common.skc_dport);
	case TSH_BY_CGROUP:
		/*
		 * The socket's own cgroup, set when it was made: never the current
		 * task's. Typed pointers, read directly: cheaper than a helper call
		 * per step.
		 */
		return sk->sk_cgrp_data.cgroup->kn->id;
	case TSH_BY_NETNS:
		return sk->__sk_common.skc_net.net->ns.inum;
	}
	return 0;
}

/* Tries at taking an index when other CPUs take some at the same time. */
#define KEY_INDEX_TRIES 4

/*
 * A new index, 1..max_keys, or TSH_KEY_OTHER when none is left. Compare and
 * swap, as clang's default BPF target has no fetching add.
 */
static __always_inline __u32 take_key_index(void)
{
	__u32 zero = 0;
	__u64 *given = bpf_map_lookup_elem(&keys_given, &zero), seen;

	if (!given)
		return TSH_KEY_OTHER;
	for (int i = 0; i < KEY_INDEX_TRIES; i++) {
		seen = *given;
		if (seen >= max_keys)
			return TSH_KEY_OTHER;
		if (__sync_val_compare_and_swap(given, seen, seen + 1) == seen)
			return seen + 1;
	}
	return TSH_KEY_OTHER;
}

/* The key's table index: its own, a new one while any is left, else TSH_KEY_OTHER. */
static __always_inline __u32 key_table_index(__u64 key)
{
	__u32 *found = bpf_map_lookup_elem(&key_index, &key), index;

	if (found)
		return *found;
	index = take_key_index();
	if (index == TSH_KEY_OTHER || !bpf_map_update_elem(&key_index, &key, &index, BPF_NOEXIST))
		return index;
	/* Another CPU gave this key its index first: use that one. */
	found = bpf_map_lookup_elem(&key_index, &key);
	return found ? *found : TSH_KEY_OTHER;
}

/*
 * The transition once more, in its key's table: atomics, as every CPU shares
 * it. newstate is the one the pair counts under (counted_newstate()).
 */
static __always_inline void count_by_key(const struct sock *sk, int oldstate, int newstate,
					 bool birth, const __u64 *since, __u64 now)
{
	__u32 pair = tsh_pair_slot[oldstate & 15][newstate & 15];
	__u64 started = since ? *since : 0;
	__u32 index = key_table_index(breakdown_key(sk, oldstate, newstate, birth));
	struct tsh_key_table *table = bpf_map_lookup_elem(&key_tables, &index);
	struct tsh_slot *slot;

	if (!table) {
		index = TSH_KEY_OTHER;
		table = bpf_map_lookup_elem(&key_tables, &index);
		if (!table)
			return;
	}
	slot = &table->slots[pair < TSH_NSLOTS ? pair : TSH_SLOT_OTHER];
	if (started) {
		__u64 ns = now - started;

		__sync_fetch_and_add(&slot->sum_ns, ns);
		__sync_fetch_and_add(&slot->buckets[tsh_duration_bucket(ns)], 1);
	} else {
		__sync_fetch_and_add(&slot->unknown, 1);
	}
}

#endif /* TSH_BREAKDOWN_BPF_H */
