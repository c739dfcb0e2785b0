/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the BPF programs and userspace: the layout of the counter
 * map, the state names and the table that folds (old, new) state pairs into a
 * compact slot index. Plain __u32/__u64 only, so both sides agree bit for bit.
 */
#ifndef TCPSTATEHIST_H
#define TCPSTATEHIST_H

/*
 * Bumped whenever anything below changes shape: pinned maps written by one
 * layout must never be read by a binary built for another.
 */
#define TSH_LAYOUT_VERSION 8

/* Not every file that includes this header uses every table in it. */
#define TSH_UNUSED __attribute__((unused))

/* Kernel TCP states are 1..13 (TCP_ESTABLISHED..TCP_BOUND_INACTIVE). */
#define TSH_NSTATES 16

/*
 * Buckets are log2 of the duration in microseconds, upper-inclusive, so each
 * maps one-to-one onto a Prometheus "le" bucket: bucket 0 holds durations of
 * at most 1 us, bucket b (1 <= b < TSH_NBUCKETS - 1) holds (2^(b-1), 2^b] us,
 * and the last bucket everything longer than 2^(TSH_NBUCKETS - 2) us
 * (2^37 us is about 38 hours).
 */
#define TSH_NBUCKETS 39
#define TSH_LAST_FINITE_BUCKET (TSH_NBUCKETS - 2)

/*
 * The bucket of a duration in nanoseconds: the smallest b with ns <= 1000 * 2^b
 * (the last bucket for anything longer). Shared so that userspace tests check
 * the BPF side's arithmetic. A binary search over the bounds: BPF has neither
 * a cheap division (~10 ns) nor a count-leading-zeros instruction (clang
 * expands __builtin_clzll into a longer bit-smearing sequence).
 */
static inline __u32 tsh_duration_bucket(__u64 ns)
{
	__u32 b = 0;

	if (ns > 1000ull << TSH_LAST_FINITE_BUCKET)
		return TSH_NBUCKETS - 1;
	/*
	 * b counts the bounds 1000 * 2^i below ns, 32, 16, ... at a time; as
	 * ns <= 1000 * 2^37, no shift goes past 47 and b stays below 38.
	 */
	if (ns > 1000ull << (b + 31))
		b += 32;
	if (ns > 1000ull << (b + 15))
		b += 16;
	if (ns > 1000ull << (b + 7))
		b += 8;
	if (ns > 1000ull << (b + 3))
		b += 4;
	if (ns > 1000ull << (b + 1))
		b += 2;
	if (ns > 1000ull << b)
		b += 1;
	return b;
}

/*
 * Start slots: when each socket entered its current state, in an array indexed
 * by a hash of the socket's address (docs/design.md, "Durations"). The main
 * program writes them; the census (sockets.bpf.c) reads them, so both index
 * them with the one function below.
 */
#ifndef START_SLOT_BITS
#define START_SLOT_BITS 18 /* 2^18 slots of 24 bytes: 6 MiB */
#endif
#define START_SLOTS (1u << START_SLOT_BITS)

/*
 * The cookie of a slot that a server child claimed at its birth (LISTEN ->
 * SYN_RECV), before its own cookie is known: Linux 6.1 and 6.12 report the
 * birth before inet_csk_clone_lock() copies the request's cookie over the one
 * the child inherited from its listener. The child adopts the slot by its
 * address at its next transition.
 */
#define NEWBORN (1ull << 62)

struct start_slot {
	__u64 sk;     /* the owner's address: a new socket there may reclaim the slot */
	__u64 cookie; /* the owner's socket cookie, 0 = free */
	__u64 since;
};

/* Fibonacci hashing: the product's top bits depend on every bit of the address. */
#define GOLDEN_RATIO_64 0x9E3779B97F4A7C15ull

static inline __u32 tsh_start_slot_index(__u64 address)
{
	return (address * GOLDEN_RATIO_64) >> (64 - START_SLOT_BITS);
}

/*
 * Only a few dozen of the 16 x 16 state pairs can occur, so counters are kept
 * per compact slot. Slot 0 collects any pair the table does not list; userspace
 * reports it as OTHER so that nothing is ever dropped.
 */
#define TSH_SLOT_OTHER 0
#define TSH_NSLOTS 40

/* Writers of the counter map: each program owns one entry, never shares it. */
enum tsh_writer {
	TSH_WRITER_MAIN = 0,	/* the program that handles every event it sees */
	TSH_WRITER_RECOVER = 1, /* records what the kernel made the main one skip */
	TSH_NWRITERS,
};

struct tsh_slot {
	/*
	 * Every transition of this pair: unknown plus the buckets. The programs
	 * leave it 0 and the collector derives it, so that a reading taken
	 * while a program is half-way through an event never shows a count
	 * that its parts do not add up to.
	 */
	__u64 count;
	__u64 unknown; /* of which: no known start time */
	__u64 sum_ns;  /* total of the known durations */
	__u64 buckets[TSH_NBUCKETS];
};

struct tsh_table {
	/*
	 * Events this writer took over because the main program was busy on
	 * this CPU, before any filter: the recover writer's share of the main
	 * program's recursion misses. Zero in the main writer's entry.
	 */
	__u64 recovered;
	/*
	 * Every event the main program was called for, before any filter: with
	 * the tracepoint's own hit count it shows events the kernel dispatched
	 * to no program at all. Zero in the recover writer's entry.
	 */
	__u64 seen;
	/*
	 * Sockets whose start time went to socket storage because another
	 * socket held their start slot (docs/design.md, "Durations").
	 */
	__u64 fallback;
	/*
	 * Start slots taken over from sockets that had gone without freeing
	 * them (docs/design.md, "Durations").
	 */
	__u64 reclaimed;
	struct tsh_slot slots[TSH_NSLOTS];
};

/*
 * One transition, as the trace command receives it through the ring buffer
 * (docs/design.md, "Trace"). Addresses in network order: an IPv4 address
 * fills the first 4 bytes. Ports in host order.
 */
#define TSH_TRACE_UNKNOWN (~0ull) /* duration_ns: no start time known */
#define TSH_TRACE_COMM_LEN 16

struct tsh_trace_record {
	__u64 time_ns;	   /* CLOCK_MONOTONIC, the clock of the durations */
	__u64 cookie;	   /* the socket's cookie; 0 at a server child's birth */
	__u64 duration_ns; /* time spent in oldstate, or TSH_TRACE_UNKNOWN */
	__u32 pid;	   /* of the task in context: in softirq, not the owner */
	__u16 family;	   /* AF_INET or AF_INET6 */
	__u16 lport;
	__u16 rport;
	__u8 oldstate;
	__u8 newstate;
	__u32 reserved;
	__u8 laddr[16];
	__u8 raddr[16];
	char comm[TSH_TRACE_COMM_LEN];
	__u64 key; /* --by: the transition's breakdown key (bpf/breakdown.bpf.h), else 0 */
};

/*
 * Breakdowns (--by): what a transition is counted under, besides the machine-wide
 * table. The values are part of the pinned layout (tsh_meta.by).
 */
enum tsh_by {
	TSH_BY_NONE = 0,
	TSH_BY_PORT,   /* the server's port: local if accepting, remote if connecting */
	TSH_BY_LPORT,  /* the local port */
	TSH_BY_RPORT,  /* the remote port */
	TSH_BY_CGROUP, /* the socket's cgroup v2 id */
	TSH_BY_NETNS,  /* the socket's network namespace inode */
	TSH_NBY,
};

/* The index of the overflow table: keys beyond max_keys count there, as "other". */
#define TSH_KEY_OTHER 0

/* One key's counters, shared by every CPU (atomic adds); count left 0 as in tsh_slot. */
struct tsh_key_table {
	struct tsh_slot slots[TSH_NSLOTS];
};

/* Port filter sets: one bit per port, indexed by tsh_port_set. */
#define TSH_PORTSET_WORDS (65536 / 64)
struct tsh_portset {
	__u64 bits[TSH_PORTSET_WORDS];
};

enum tsh_port_set {
	TSH_PORTS_LOCAL = 0,
	TSH_PORTS_REMOTE = 1,
	TSH_NPORTSETS,
};

/* Kernel state numbers (include/net/tcp_states.h), spelled out for BPF and C. */
enum tsh_tcp_state {
	TSH_ESTABLISHED = 1,
	TSH_SYN_SENT,
	TSH_SYN_RECV,
	TSH_FIN_WAIT1,
	TSH_FIN_WAIT2,
	TSH_TIME_WAIT,
	TSH_CLOSE,
	TSH_CLOSE_WAIT,
	TSH_LAST_ACK,
	TSH_LISTEN,
	TSH_CLOSING,
	TSH_NEW_SYN_RECV,
	TSH_BOUND_INACTIVE,
};

/*
 * The pairs tcp_set_state() and inet_sk_set_state() can emit, each with its
 * slot. Index with tsh_pair_slot[old & 15][new & 15]; 0 means OTHER.
 */
static const __u8 TSH_UNUSED tsh_pair_slot[TSH_NSTATES][TSH_NSTATES] = {
	[TSH_CLOSE][TSH_SYN_SENT] = 1,
	[TSH_CLOSE][TSH_LISTEN] = 2,
	[TSH_CLOSE][TSH_CLOSE] = 3,
	[TSH_LISTEN][TSH_CLOSE] = 4,
	[TSH_LISTEN][TSH_SYN_RECV] = 5,
	[TSH_SYN_SENT][TSH_ESTABLISHED] = 6,
	[TSH_SYN_SENT][TSH_SYN_RECV] = 7,
	[TSH_SYN_SENT][TSH_CLOSE] = 8,
	[TSH_SYN_RECV][TSH_ESTABLISHED] = 9,
	[TSH_SYN_RECV][TSH_FIN_WAIT1] = 10,
	[TSH_SYN_RECV][TSH_CLOSE] = 11,
	[TSH_SYN_RECV][TSH_CLOSE_WAIT] = 12,
	[TSH_ESTABLISHED][TSH_FIN_WAIT1] = 13,
	[TSH_ESTABLISHED][TSH_CLOSE_WAIT] = 14,
	[TSH_ESTABLISHED][TSH_CLOSE] = 15,
	[TSH_FIN_WAIT1][TSH_FIN_WAIT2] = 16,
	[TSH_FIN_WAIT1][TSH_CLOSING] = 17,
	[TSH_FIN_WAIT1][TSH_CLOSE] = 18,
	[TSH_FIN_WAIT1][TSH_TIME_WAIT] = 19,
	[TSH_FIN_WAIT2][TSH_CLOSE] = 20,
	[TSH_FIN_WAIT2][TSH_TIME_WAIT] = 21,
	[TSH_CLOSING][TSH_CLOSE] = 22,
	[TSH_CLOSING][TSH_TIME_WAIT] = 23,
	[TSH_CLOSE_WAIT][TSH_LAST_ACK] = 24,
	[TSH_CLOSE_WAIT][TSH_CLOSE] = 25,
	[TSH_LAST_ACK][TSH_CLOSE] = 26,
	[TSH_TIME_WAIT][TSH_CLOSE] = 27,
	[TSH_CLOSE][TSH_ESTABLISHED] = 28,
	[TSH_SYN_RECV][TSH_SYN_RECV] = 29,
	[TSH_ESTABLISHED][TSH_ESTABLISHED] = 30,
	[TSH_LISTEN][TSH_LISTEN] = 31,
	/* close() in these states keeps the state (tcp_close_state()). */
	[TSH_FIN_WAIT1][TSH_FIN_WAIT1] = 32,
	[TSH_FIN_WAIT2][TSH_FIN_WAIT2] = 33,
	[TSH_LAST_ACK][TSH_LAST_ACK] = 34,
	[TSH_CLOSING][TSH_CLOSING] = 35,
	[TSH_CLOSE_WAIT][TSH_CLOSE_WAIT] = 36,
	[TSH_SYN_SENT][TSH_SYN_SENT] = 37,
};

/* Names as the kernel's tracepoint prints them; index 0 and 14, 15 unused. */
static const char *const TSH_UNUSED tsh_state_names[TSH_NSTATES] = {
	[TSH_ESTABLISHED] = "ESTABLISHED",
	[TSH_SYN_SENT] = "SYN_SENT",
	[TSH_SYN_RECV] = "SYN_RECV",
	[TSH_FIN_WAIT1] = "FIN_WAIT1",
	[TSH_FIN_WAIT2] = "FIN_WAIT2",
	[TSH_TIME_WAIT] = "TIME_WAIT",
	[TSH_CLOSE] = "CLOSE",
	[TSH_CLOSE_WAIT] = "CLOSE_WAIT",
	[TSH_LAST_ACK] = "LAST_ACK",
	[TSH_LISTEN] = "LISTEN",
	[TSH_CLOSING] = "CLOSING",
	[TSH_NEW_SYN_RECV] = "NEW_SYN_RECV",
	[TSH_BOUND_INACTIVE] = "BOUND_INACTIVE",
};

/*
 * The pinned layout's metadata: the one entry of the "meta" array map that
 * attach pins last, so its presence marks a complete pin set. Userspace only.
 * layout_version comes first so that a binary can read it, and refuse the
 * pins, whatever size a later layout gives this struct.
 */
#define TSH_META_SPEC_LEN 64
#define TSH_META_PATH_LEN 128
#define TSH_META_CGROUP_LEN 256
#define TSH_META_LABELS_LEN 512
struct tsh_meta {
	__u32 layout_version;	  /* TSH_LAYOUT_VERSION of the binary that attached */
	__u32 family;		  /* 0, AF_INET or AF_INET6 */
	__u64 attach_id;	  /* random: tells one attach from the next */
	__u64 attach_realtime_ns; /* when attached, since the epoch */
	__u32 netns_inode;	  /* -N filter, 0 = any */
	/* enum tsh_by: the breakdown (--by), TSH_BY_NONE = none */
	__u32 by;
	char lports[TSH_META_SPEC_LEN];	    /* -L list as given, "" = any */
	char rports[TSH_META_SPEC_LEN];	    /* -D list as given, "" = any */
	char netns_path[TSH_META_PATH_LEN]; /* -N path as given, "" = any */
	char labels[TSH_META_LABELS_LEN];   /* --label, "KEY=VALUE\n" each (cli/labels.h) */
	__u64 cgroup_id;		    /* --cgroup: the cgroup's id (inode), 0 = any */
	__u32 cgroup_level;		    /* its depth below the cgroup2 mount */
	__u32 reserved;
	char cgroup_path[TSH_META_CGROUP_LEN]; /* --cgroup path as given, "" = any */
};

#endif /* TCPSTATEHIST_H */
