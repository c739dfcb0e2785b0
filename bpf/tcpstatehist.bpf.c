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
#include "shared_maps.bpf.h"
#include "cgroup_filter.bpf.h"
#include "breakdown.bpf.h"

#define AF_INET 2
#define AF_INET6 10

#include "trace.bpf.h"

/* Filters, written by userspace between open and load. */
const volatile __u32 filter_family; /* 0, AF_INET or AF_INET6 */
const volatile __u32 filter_netns;  /* network namespace inode, 0 = any */
const volatile __u64 filter_netns_cookie; /* the same namespace's cookie, 0 = unknown */
const volatile bool filter_lport;   /* keep only local ports in ports[LOCAL] */
const volatile bool filter_rport;   /* keep only remote ports in ports[REMOTE] */
/* --cgroup: the cgroup's id and its level below the cgroup2 mount (0 = any cgroup). */
const volatile __u64 filter_cgroup_id;
const volatile __u32 filter_cgroup_level;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TSH_NWRITERS);
	__type(key, __u32);
	__type(value, struct tsh_table);
} counters SEC(".maps");

/*
 * When did each socket enter its current state? Most sockets keep the time in
 * a start slot: a fixed array indexed by a hash of the socket's address, owned
 * by a socket cookie (never reused), claimed with compare-and-swap and freed
 * on the move to CLOSE. A socket whose slot another socket holds keeps its
 * time in socket storage instead: unlimited and freed with the socket, only
 * dearer (an allocation per socket). See docs/design.md, "Durations". The
 * maps, start_slots and state_since, are in shared_maps.bpf.h.
 */
/* Set in a slot's cookie while a claim is being written (cookies count up from 1). */
#define CLAIMING (1ull << 63)

/*
 * The socket's address as a plain number, per CPU and per writer: the
 * verifier forbids arithmetic on a socket pointer, but not on a number read
 * back from a map. Per writer, because one program can interrupt the other
 * between the store and the load; a program never interrupts itself.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TSH_NWRITERS);
	__type(key, __u32);
	__type(value, __u64);
} sk_address SEC(".maps");

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

/*
 * A server child's birth: inet_csk_clone_lock() reports it on a fresh copy of
 * the listener. Linux 6.1 and 6.12 set the child's remote port and cookie only
 * after reporting it, so every kernel treats the birth alike: no remote port
 * yet, and no cookie (see NEWBORN).
 */
static __always_inline bool is_birth(int oldstate, int newstate)
{
	return oldstate == TSH_LISTEN && newstate == TSH_SYN_RECV;
}

static __always_inline bool wanted(const struct sock *sk, bool birth)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return false;
	if (filter_family && sk->__sk_common.skc_family != filter_family)
		return false;
	/*
	 * By cookie where userspace could learn it: the inode number shares a
	 * cache line with the namespace's reference count, which every socket's
	 * birth and death writes, so reading it costs a miss (about 40 ns here).
	 */
	if (filter_netns_cookie) {
		if (sk->__sk_common.skc_net.net->net_cookie != filter_netns_cookie)
			return false;
	} else if (filter_netns &&
		   BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != filter_netns) {
		return false;
	}
	/*
	 * Not skc_num: the kernel releases the local port (and zeroes skc_num)
	 * before it reports a socket's move to CLOSE; inet_sport stays.
	 */
	if (filter_lport &&
	    !port_in_set(TSH_PORTS_LOCAL,
			 bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport))))
		return false;
	if (filter_rport &&
	    !port_in_set(TSH_PORTS_REMOTE, birth ? 0 : bpf_ntohs(sk->__sk_common.skc_dport)))
		return false;
	if (filter_cgroup_id && !in_cgroup(sk, filter_cgroup_id, filter_cgroup_level))
		return false;
	return true;
}

static __always_inline struct start_slot *start_slot_of(__u32 writer, struct sock *sk,
							__u64 *address)
{
	__u64 *scratch = bpf_map_lookup_elem(&sk_address, &writer);
	__u32 index;

	if (!scratch)
		return NULL;
	*scratch = (__u64)sk;
	*address = *(volatile __u64 *)scratch;
	index = tsh_start_slot_index(*address);
	return bpf_map_lookup_elem(&start_slots, &index);
}

static __always_inline bool orphaned(const struct sock *sk)
{
	return sk->__sk_common.skc_flags & (1ul << SOCK_DEAD);
}

/*
 * Is the socket that holds a start slot gone? Its memory then holds another
 * socket (another cookie: cookies are never reused) or a freed one (no
 * references), or was given to something else (anything but its cookie). A
 * live holder always shows its own cookie and a reference, so a slot is never
 * taken from a live socket; a read that fails counts as live.
 */
static __always_inline bool holder_gone(__u64 address, __u64 cookie)
{
	const struct sock *holder = (const struct sock *)address;
	__u64 held_cookie;
	int refs;

	if (bpf_core_read(&held_cookie, sizeof(held_cookie),
			  &holder->__sk_common.skc_cookie.counter) ||
	    bpf_core_read(&refs, sizeof(refs), &holder->__sk_common.skc_refcnt.refs.counter))
		return false;
	return held_cookie != cookie || refs == 0;
}

/* sk_shutdown's bits (include/net/sock.h): both directions shut down. */
#define SHUTDOWN_BOTH 3

/*
 * The pair a transition counts under. tcp_time_wait() hands a connection in
 * FIN_WAIT2 or CLOSING over to a timewait socket, which goes on in FIN_WAIT2
 * or TIME_WAIT out of the tracepoint's sight, and then moves the full socket
 * to CLOSE: that move counts as OLD -> TIME_WAIT, so that its microseconds
 * are not read as the end of FIN_WAIT2. The hand-over is the move to CLOSE
 * of a socket shut down both ways (its own close or shutdown, and the peer's
 * FIN, or close() orphaning it) without an error; a reset or an abort sets
 * sk_err first, and a half-closed socket closed by its peer's reset has its
 * read side open. docs/design.md lists what looks the same (a full timewait
 * table, TCP_LINGER2 < 0, orphans killed under memory pressure).
 */
static __always_inline int counted_newstate(struct sock *sk, int oldstate, int newstate)
{
	if (newstate != TSH_CLOSE || (oldstate != TSH_FIN_WAIT2 && oldstate != TSH_CLOSING))
		return newstate;
	/* A bitfield in some kernels, a u8 in others: read as either. */
	if (!sk->sk_err && BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown) == SHUTDOWN_BOTH)
		return TSH_TIME_WAIT;
	return newstate;
}

/* The pair's counters; pairs outside the table count as OTHER. */
static __always_inline struct tsh_slot *pair_counters(struct tsh_table *table, int oldstate,
						      int newstate)
{
	__u32 index = tsh_pair_slot[oldstate & 15][newstate & 15];

	/* The table only holds slots below TSH_NSLOTS; the verifier wants proof. */
	return &table->slots[index < TSH_NSLOTS ? index : TSH_SLOT_OTHER];
}

/* The time spent in the old state, or an unknown one: never a 0 duration. */
static __always_inline void count_duration(struct tsh_slot *slot, const __u64 *since, __u64 now)
{
	if (since && *since) {
		__u64 ns = now - *since;

		slot->sum_ns += ns;
		slot->buckets[tsh_duration_bucket(ns)]++;
	} else {
		slot->unknown++;
	}
}

/* Does the socket own its start slot: by cookie, or as the newborn at its address? */
static __always_inline bool owns_slot(const struct start_slot *start, __u64 cookie,
				      __u64 address)
{
	__u64 held = start->cookie;

	return held == cookie || (held == NEWBORN && start->sk == address);
}

/*
 * The socket entered a new state at now. Its slot's owner restarts the clock
 * there (a newborn takes its cookie on the way); an orphan moving to CLOSE is
 * about to be destroyed and frees its slot instead. Exchanges, not stores:
 * they order the other stores before the cookie.
 */
static __always_inline void restart_slot(struct start_slot *start, struct sock *sk, __u64 cookie,
					 int newstate, __u64 now)
{
	/*
	 * A socket its user still holds keeps its slot, since it may connect()
	 * or listen() again and its time in CLOSE counts then; the slot goes
	 * stale when the socket is destroyed.
	 */
	if (newstate == TSH_CLOSE && orphaned(sk)) {
		start->sk = 0;
		__sync_lock_test_and_set(&start->cookie, 0);
		return;
	}
	start->since = now;
	if (start->cookie == NEWBORN)
		__sync_val_compare_and_swap(&start->cookie, NEWBORN, cookie);
}

/*
 * A socket without a start time takes one: its start slot when the slot is
 * free, when a dead socket at this very address left it (two live sockets
 * never share an address), or when its holder is gone; socket storage when
 * a live socket holds the slot. A claim marks the cookie CLAIMING while it
 * writes the address and the time, so that nobody judges the holder by a
 * half-written slot; a newborn holder is never judged (it has no cookie yet).
 */
static __always_inline void claim_start(struct tsh_table *table, struct start_slot *start,
					struct sock *sk, __u64 cookie, __u64 address, __u64 now)
{
	__u64 held = start->cookie, holder = start->sk, *since;
	bool may_claim = false, reclaimed = false;

	if (!(held & CLAIMING)) {
		if (held == 0 || holder == address) {
			may_claim = true;
		} else if (held != NEWBORN && holder_gone(holder, held)) {
			may_claim = true;
			reclaimed = true;
		}
	}
	if (may_claim &&
	    __sync_val_compare_and_swap(&start->cookie, held, cookie | CLAIMING) == held) {
		start->sk = address;
		start->since = now;
		__sync_lock_test_and_set(&start->cookie, cookie);
		if (reclaimed)
			table->reclaimed++;
		return;
	}
	table->fallback++;
	since = bpf_sk_storage_get(&state_since, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (since)
		*since = now;
}

static __always_inline void record(struct tsh_table *table, __u32 writer, struct sock *sk,
				   int oldstate, int newstate, bool birth)
{
	int counted = counted_newstate(sk, oldstate, newstate);
	struct tsh_slot *slot = pair_counters(table, oldstate, counted);
	__u64 now = bpf_ktime_get_ns();
	__u64 cookie, address, *since = NULL;
	struct start_slot *start;
	bool owner = false;

	start = start_slot_of(writer, sk, &address);
	if (!start) {
		slot->unknown++;
		if (by_kind)
			count_by_key(writer, sk, oldstate, counted, birth, NULL, 0);
		return;
	}
	/* A child at birth has no time yet, and a cookie that is not its own. */
	cookie = birth ? NEWBORN : bpf_get_socket_cookie(sk);
	if (!birth) {
		owner = owns_slot(start, cookie, address);
		since = owner ? &start->since : bpf_sk_storage_get(&state_since, sk, NULL, 0);
	}
	count_duration(slot, since, now);
	trace_transition(writer, sk, oldstate, newstate, birth, birth ? 0 : cookie, since, now);
	if (by_kind)
		count_by_key(writer, sk, oldstate, counted, birth, since, now);
	/*
	 * A move to the same state (close() in FIN_WAIT2, say) does not end the
	 * time spent in it: the next transition measures all of it.
	 */
	if (oldstate == newstate)
		return;
	if (owner) {
		restart_slot(start, sk, cookie, newstate, now);
		return;
	}
	if (since) {
		*since = now;
		return;
	}
	/* A socket first seen on its move to CLOSE is done: it needs no slot. */
	if (newstate == TSH_CLOSE)
		return;
	claim_start(table, start, sk, cookie, address, now);
}

/*
 * The context level of the event: task or interrupt stack, told apart by
 * where the tracepoint's argument array lies. Comparisons only: the
 * verifiers of Linux 6.1 and 6.12 refuse arithmetic on the context pointer
 * (a bound hidden from the compiler keeps it from folding the two
 * comparisons into a subtraction).
 */
static __always_inline struct event_token *token_for(void *args)
{
	__u64 low = (__u64)bpf_get_current_task_btf()->stack;
	__u64 high = low + TASK_STACK_SIZE;
	__u32 level;

	asm volatile("" : "+r"(high));
	level = (__u64)args >= low && (__u64)args < high ? LEVEL_TASK : LEVEL_IRQ;
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
	bool birth;

	if (!table)
		return 0;
	table->seen++;
	birth = is_birth(oldstate, newstate);
	if (wanted(sk, birth))
		record(table, writer, sk, oldstate, newstate, birth);
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
	bool main_ran, birth;

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
	birth = is_birth(oldstate, newstate);
	if (wanted(sk, birth))
		record(table, writer, sk, oldstate, newstate, birth);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
