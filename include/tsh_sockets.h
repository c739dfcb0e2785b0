/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The census: what the socket iterator (bpf/sockets.bpf.c) hands userspace
 * for each TCP socket, one fixed record per socket. Plain __u8/__u16/__u64
 * only, so both sides agree bit for bit.
 */
#ifndef TSH_SOCKETS_H
#define TSH_SOCKETS_H

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

#endif /* TSH_SOCKETS_H */
