/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A snapshot is plain data: the cumulative counters of every transition pair,
 * summed over CPUs and writers, and the kernel's count of skipped events.
 * Interval views are differences of two snapshots.
 */
#ifndef TSH_SNAPSHOT_H
#define TSH_SNAPSHOT_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcpstatehist.h"

/* The kernel's own counts that missed is derived from; cumulative. */
struct kernel_counts {
	__u64 main_misses; /* recursion_misses of the main program */
	__u64 recovered;   /* events the recover program took over */
	__u64 seen;	   /* events the main program was called for */
	__u64 hits_before; /* tracepoint hits before the maps were read, when audited */
	__u64 hits;	   /* tracepoint hits after the maps were read (cli/audit.h) */
	__u64 fallback;	   /* sockets whose start time went to socket storage */
	__u64 reclaimed;   /* start slots taken over from sockets that had gone */
	bool audited;
};

struct snapshot {
	struct tsh_slot slots[TSH_NSLOTS];
	struct kernel_counts kernel;
	/*
	 * Tracepoint hits the kernel skipped for the main program and nobody
	 * recovered: transitions that are not in the slots. Kept monotonic by
	 * snapshot_advance(); see there.
	 */
	__u64 missed;
	__u64 taken_ns;	      /* CLOCK_MONOTONIC when read */
	__u64 taken_realtime; /* seconds since the epoch when read */
};

/* The (old, new) states of a slot; false for the OTHER slot. */
bool slot_states(unsigned int slot, unsigned int *oldstate, unsigned int *newstate);

/* Names of a slot's states: "OTHER" for both in the OTHER slot. */
void slot_names(unsigned int slot, const char **oldname, const char **newname);

/* The state's kernel name, or "UNKNOWN" for an index outside the table. */
const char *state_name(unsigned int state);

/*
 * Slots in display order: by old state, then new state, OTHER last. Returns
 * the number written to order (TSH_NSLOTS at most).
 */
unsigned int slot_display_order(unsigned int order[TSH_NSLOTS]);

/* missed from the kernel's two counters, read in that order (see collector). */
__u64 snapshot_missed(__u64 main_misses, __u64 recovered);

/*
 * missed with the audit: also the events the kernel dispatched to no program,
 * counted since base (the first audited snapshot: the audit's counters and
 * the programs' did not start at the same instant). Never below the plain
 * value; the plain value when either snapshot is not audited.
 *
 * The hits are read before and after the maps (collector.c); events that land
 * in between may or may not be in the maps. Without last, the lower bound:
 * never high, so the high mark of snapshot_advance() keeps no phantom, and a
 * later snapshot catches up. With last (the view's final snapshot), the upper
 * bound: never low, so no loss stays hidden; exact when the reads agree.
 */
__u64 snapshot_audited_missed(const struct kernel_counts *cur, const struct kernel_counts *base,
			      bool last);

/*
 * True when the audit cannot be trusted: the tracepoint's perf count grew by
 * clearly less than what the programs handled since base (more than 1% and
 * 1,000 events less: the reads are not simultaneous). A classic
 * tracepoint BPF program that returns 0 (tcpstates does) hides the event
 * from every perf counter on that tracepoint.
 */
bool snapshot_audit_blind(const struct kernel_counts *cur, const struct kernel_counts *base);

/* out = cur - prev, counter by counter; times are cur's. */
void snapshot_diff(const struct snapshot *cur, const struct snapshot *prev, struct snapshot *out);

/*
 * The snapshot to diff the next one against: cur, except that missed never
 * goes down. Reading the kernel's counters is not atomic, so missed can read
 * a little low while events are being recovered; holding the high mark keeps
 * every interval's value non-negative and their sum exact.
 */
void snapshot_advance(struct snapshot *prev, const struct snapshot *cur);

/* Sum over all slots. */
__u64 snapshot_total(const struct snapshot *snap);

#endif /* TSH_SNAPSHOT_H */
