// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "snapshot.h"

bool slot_states(unsigned int slot, unsigned int *oldstate, unsigned int *newstate)
{
	if (slot == TSH_SLOT_OTHER)
		return false;
	for (unsigned int o = 0; o < TSH_NSTATES; o++) {
		for (unsigned int n = 0; n < TSH_NSTATES; n++) {
			if (tsh_pair_slot[o][n] == slot) {
				*oldstate = o;
				*newstate = n;
				return true;
			}
		}
	}
	return false;
}

const char *state_name(unsigned int state)
{
	if (state >= TSH_NSTATES || !tsh_state_names[state])
		return "UNKNOWN";
	return tsh_state_names[state];
}

void slot_names(unsigned int slot, const char **oldname, const char **newname)
{
	unsigned int o, n;

	if (slot_states(slot, &o, &n)) {
		*oldname = state_name(o);
		*newname = state_name(n);
	} else {
		*oldname = *newname = "OTHER";
	}
}

unsigned int slot_display_order(unsigned int order[TSH_NSLOTS])
{
	unsigned int n = 0;

	for (unsigned int o = 0; o < TSH_NSTATES; o++)
		for (unsigned int s = 0; s < TSH_NSTATES; s++)
			if (tsh_pair_slot[o][s])
				order[n++] = tsh_pair_slot[o][s];
	order[n++] = TSH_SLOT_OTHER;
	return n;
}

__u64 snapshot_missed(__u64 main_misses, __u64 recovered)
{
	return main_misses > recovered ? main_misses - recovered : 0;
}

static __u64 sub(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

/* Events the programs handled since base: the main one saw, or the other took over. */
static __u64 handled_since(const struct kernel_counts *cur, const struct kernel_counts *base)
{
	return sub(cur->seen, base->seen) + sub(cur->recovered, base->recovered);
}

/*
 * Hits since base. At most: from base's earlier perf read to cur's later one;
 * at least: from base's later read to cur's earlier one.
 */
static __u64 hits_since(const struct kernel_counts *cur, const struct kernel_counts *base,
			bool most)
{
	return most ? sub(cur->hits, base->hits_before) : sub(cur->hits_before, base->hits);
}

bool snapshot_audit_blind(const struct kernel_counts *cur, const struct kernel_counts *base)
{
	__u64 handled = handled_since(cur, base);

	/* Slack for the events that land between reading perf and the maps. */
	return cur->audited && base->audited &&
	       hits_since(cur, base, true) + handled / 100 + 1000 < handled;
}

__u64 snapshot_audited_missed(const struct kernel_counts *cur, const struct kernel_counts *base,
			      bool last)
{
	__u64 plain = snapshot_missed(cur->main_misses, cur->recovered);
	__u64 handled, audited;

	if (!cur->audited || !base->audited || snapshot_audit_blind(cur, base))
		return plain;
	/* Every hit since base was seen by the main program, recovered, or lost. */
	handled = handled_since(cur, base);
	audited = snapshot_missed(base->main_misses, base->recovered) +
		  sub(hits_since(cur, base, last), handled);
	return audited > plain ? audited : plain;
}

void snapshot_diff(const struct snapshot *cur, const struct snapshot *prev, struct snapshot *out)
{
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		const struct tsh_slot *c = &cur->slots[s], *p = &prev->slots[s];
		struct tsh_slot *o = &out->slots[s];

		o->count = sub(c->count, p->count);
		o->unknown = sub(c->unknown, p->unknown);
		o->sum_ns = sub(c->sum_ns, p->sum_ns);
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
			o->buckets[b] = sub(c->buckets[b], p->buckets[b]);
	}
	out->kernel = cur->kernel;
	out->missed = sub(cur->missed, prev->missed);
	out->taken_ns = cur->taken_ns;
	out->taken_realtime = cur->taken_realtime;
}

void snapshot_advance(struct snapshot *prev, const struct snapshot *cur)
{
	__u64 missed = prev->missed > cur->missed ? prev->missed : cur->missed;

	memcpy(prev, cur, sizeof(*prev));
	prev->missed = missed;
}

__u64 snapshot_total(const struct snapshot *snap)
{
	__u64 total = 0;

	for (unsigned int s = 0; s < TSH_NSLOTS; s++)
		total += snap->slots[s].count;
	return total;
}
