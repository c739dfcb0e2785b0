/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The trace command's half of the transition programs: a record per
 * transition that passes the trace filters, into a ring buffer. Off unless
 * userspace sets trace_enabled before load; the verifier then drops every
 * instruction here, so the histogram modes pay nothing. See docs/design.md,
 * "Trace".
 */
#ifndef TSH_TRACE_BPF_H
#define TSH_TRACE_BPF_H

const volatile bool trace_enabled;
const volatile __u64 trace_min_ns;	/* 0: every duration, unknown ones too */
const volatile __u32 trace_from_states; /* one bit per old state kept; 0: any */
const volatile __u32 trace_to_states;	/* one bit per new state kept; 0: any */
/*
 * Records are submitted without waking the reader, which polls on a short
 * timer; the submit that takes the bytes waiting past a multiple of
 * 2^trace_wakeup_shift (a quarter of the ring) wakes it at once.
 */
const volatile __u32 trace_wakeup_shift;

/* A record's room in the ring: the record, the ring's 8-byte header, 8-byte aligned. */
#define TRACE_RECORD_BYTES ((sizeof(struct tsh_trace_record) + 8 + 7) & ~7ul)

/* Its size (a power of two, in bytes) is set by userspace before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} trace_ring SEC(".maps");

/* Records the ring had no room for, per CPU and per writer (one writer per slot). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TSH_NWRITERS);
	__type(key, __u32);
	__type(value, __u64);
} trace_lost SEC(".maps");

static __always_inline bool trace_state_kept(__u32 states, int state)
{
	return !states || ((states >> (state & 31)) & 1);
}

static __always_inline void copy_v6(__u8 *to, const struct in6_addr *from)
{
	__u32 *words = (__u32 *)to;

	for (int i = 0; i < 4; i++)
		words[i] = from->in6_u.u6_addr32[i];
}

/*
 * The current task's name, read in place: the verifier allows byte loads
 * from the BTF task, and they cost less than bpf_get_current_comm()'s
 * helper call and string copy. Bytes after the NUL are never shown.
 */
static __always_inline void copy_comm(char *to)
{
	const char *comm = bpf_get_current_task_btf()->comm;

	for (int i = 0; i < TSH_TRACE_COMM_LEN; i++)
		to[i] = comm[i];
}

/*
 * The source address and port, the tracepoint's own (so that tcpstates
 * agrees): in inet_sock, past struct sock, which the verifier lets a
 * program reach through the tcp_sock that bpf_skc_to_tcp_sock() hands out,
 * or else only by probe reads.
 */
static __always_inline void copy_source(struct tsh_trace_record *rec, struct sock *sk, bool v4)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct inet_sock *inet = (struct inet_sock *)sk;
	__u32 *laddr = (__u32 *)rec->laddr;
	__be16 sport;

	if (tp) {
		sport = tp->inet_conn.icsk_inet.inet_sport;
		if (v4)
			laddr[0] = tp->inet_conn.icsk_inet.inet_saddr;
	} else {
		sport = BPF_CORE_READ(inet, inet_sport);
		if (v4)
			BPF_CORE_READ_INTO(laddr, inet, inet_saddr);
	}
	rec->lport = bpf_ntohs(sport);
}

static __always_inline void trace_fill(struct tsh_trace_record *rec, struct sock *sk, int oldstate,
				       int newstate)
{
	bool v6;

	rec->pid = bpf_get_current_pid_tgid() >> 32;
	copy_comm(rec->comm);
	rec->family = sk->__sk_common.skc_family;
	v6 = rec->family == AF_INET6;
	rec->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	rec->oldstate = oldstate;
	rec->newstate = newstate;
	rec->reserved = 0;
	/* The socket's common part is read directly: sk is a BTF pointer. */
	if (v6) {
		copy_v6(rec->laddr, &sk->__sk_common.skc_v6_rcv_saddr);
		copy_v6(rec->raddr, &sk->__sk_common.skc_v6_daddr);
	} else {
		__u32 *laddr = (__u32 *)rec->laddr, *raddr = (__u32 *)rec->raddr;

		raddr[0] = sk->__sk_common.skc_daddr;
		laddr[1] = laddr[2] = laddr[3] = 0;
		raddr[1] = raddr[2] = raddr[3] = 0;
	}
	copy_source(rec, sk, !v6);
}

/*
 * Whether the record just reserved took the bytes waiting past a wakeup
 * mark. Once, not at every submit above the mark: each forced wakeup queues
 * an irq_work (an interrupt, a VM exit in a guest), and until the reader
 * runs, every submit would raise one. Two CPUs reserving at once can both
 * miss a mark; the next mark, or the reader's timer, covers it.
 */
static __always_inline bool crossed_wakeup_mark(void)
{
	__u64 waiting = bpf_ringbuf_query(&trace_ring, BPF_RB_AVAIL_DATA);
	__u64 before = waiting - TRACE_RECORD_BYTES;

	return waiting >= TRACE_RECORD_BYTES &&
	       (waiting >> trace_wakeup_shift) != (before >> trace_wakeup_shift);
}

/*
 * The transition, if it passes the trace filters: since is the socket's
 * start time (NULL or 0: unknown), now the event's time. A full ring counts
 * the record as lost, never drops it silently.
 */
static __always_inline void trace_transition(__u32 writer, struct sock *sk, int oldstate,
					     int newstate, bool birth, __u64 cookie,
					     const __u64 *since, __u64 now)
{
	__u64 duration = TSH_TRACE_UNKNOWN, *lost;
	struct tsh_trace_record *rec;

	if (!trace_enabled)
		return;
	if (!trace_state_kept(trace_from_states, oldstate) ||
	    !trace_state_kept(trace_to_states, newstate))
		return;
	if (since && *since)
		duration = now - *since;
	if (trace_min_ns && (duration == TSH_TRACE_UNKNOWN || duration < trace_min_ns))
		return;
	rec = bpf_ringbuf_reserve(&trace_ring, sizeof(*rec), 0);
	if (!rec) {
		lost = bpf_map_lookup_elem(&trace_lost, &writer);
		if (lost)
			(*lost)++;
		return;
	}
	rec->time_ns = now;
	rec->cookie = cookie;
	rec->duration_ns = duration;
	rec->key = by_kind ? breakdown_key(sk, oldstate, newstate, birth) : 0;
	trace_fill(rec, sk, oldstate, newstate);
	bpf_ringbuf_submit(rec, crossed_wakeup_mark() ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#endif /* TSH_TRACE_BPF_H */
