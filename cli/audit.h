/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The audit: the tracepoint's own hit count, from counting perf events (one
 * per CPU). The kernel can skip the BPF programs for an event without
 * counting a miss (seen on 6.18, in softirq bursts); perf's counting path
 * still sees the event, so hits - seen - recovered is every event that no
 * program recorded.
 */
#ifndef TSH_AUDIT_H
#define TSH_AUDIT_H

#include <stddef.h>
#include <linux/types.h>

struct audit {
	int nfds;
	int *fds;
};

/*
 * Opens a counting event on sock:inet_sock_set_state on every online CPU.
 * -EACCES or -EPERM when the kernel refuses perf events to this process (Debian's
 * perf_event_paranoid=3 without CAP_SYS_ADMIN): the caller may go on without.
 */
int audit_open(struct audit *audit, char *err, size_t errlen);

/* The sum over CPUs of the tracepoint's hits since audit_open(). */
int audit_read(const struct audit *audit, __u64 *hits, char *err, size_t errlen);

/*
 * How many classic tracepoint BPF programs (perf-attached, as libbpf-tools'
 * tcpstates uses) the tracepoint has. Ours are tp_btf and not among them.
 * A classic program that returns 0 hides the event from every perf counter on
 * the tracepoint, this audit's included.
 */
int audit_classic_programs(const struct audit *audit, __u32 *count, char *err, size_t errlen);

void audit_close(struct audit *audit);

#endif /* TSH_AUDIT_H */
