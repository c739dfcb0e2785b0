// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Slot naming and ordering, and the arithmetic on snapshots. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "snapshot.h"
#include "unit.h"

static void test_state_name_bounds(void)
{
	CHECK_STR("UNKNOWN", state_name(0));
	CHECK_STR("ESTABLISHED", state_name(TSH_ESTABLISHED));
	CHECK_STR("ESTABLISHED", state_name(1));
	CHECK_STR("CLOSE", state_name(7));
	CHECK_STR("NEW_SYN_RECV", state_name(12));
	CHECK_STR("BOUND_INACTIVE", state_name(13));
	CHECK_STR("UNKNOWN", state_name(14));
	CHECK_STR("UNKNOWN", state_name(15));
	CHECK_STR("UNKNOWN", state_name(16));
	CHECK_STR("UNKNOWN", state_name(99));
	CHECK_STR("UNKNOWN", state_name(UINT_MAX));
}

/* The slot of (old, new) in the table, as the BPF side looks it up. */
#define SLOT(o, n) tsh_pair_slot[TSH_##o][TSH_##n]

/* How many pairs of the table name slot s. */
static unsigned int pairs_naming(unsigned int s)
{
	unsigned int found = 0;

	for (unsigned int o = 0; o < TSH_NSTATES; o++)
		for (unsigned int n = 0; n < TSH_NSTATES; n++)
			found += tsh_pair_slot[o][n] == s;
	return found;
}

static void test_pair_table(void)
{
	/* No two pairs share a slot; every slot fits the counters. */
	for (unsigned int s = 1; s < TSH_NSLOTS; s++)
		CHECK(pairs_naming(s) <= 1);
	for (unsigned int s = TSH_NSLOTS; s < 256; s++)
		CHECK_EQ_U64(0, pairs_naming(s));
	/* Pairs the kernel emits on every connection are listed. */
	CHECK(SLOT(CLOSE, SYN_SENT));
	CHECK(SLOT(SYN_SENT, ESTABLISHED));
	CHECK(SLOT(LISTEN, SYN_RECV));
	CHECK(SLOT(SYN_RECV, ESTABLISHED));
	CHECK(SLOT(ESTABLISHED, FIN_WAIT1));
	CHECK(SLOT(FIN_WAIT2, CLOSE));
	CHECK(SLOT(LAST_ACK, CLOSE));
	/* And states the kernel never enters are not. */
	for (unsigned int s = 0; s < TSH_NSTATES; s++) {
		CHECK_EQ_U64(0, tsh_pair_slot[0][s]);
		CHECK_EQ_U64(0, tsh_pair_slot[s][0]);
		CHECK_EQ_U64(0, tsh_pair_slot[14][s]);
		CHECK_EQ_U64(0, tsh_pair_slot[s][15]);
	}
}

static void test_slot_states(void)
{
	unsigned int o = 99, n = 99;

	CHECK(!slot_states(TSH_SLOT_OTHER, &o, &n));
	CHECK(!slot_states(TSH_NSLOTS, &o, &n));
	CHECK(!slot_states(99, &o, &n));
	CHECK(!slot_states(UINT_MAX, &o, &n));

	CHECK(slot_states(SLOT(CLOSE, SYN_SENT), &o, &n));
	CHECK_EQ_U64(TSH_CLOSE, o);
	CHECK_EQ_U64(TSH_SYN_SENT, n);
	CHECK(slot_states(SLOT(SYN_SENT, ESTABLISHED), &o, &n));
	CHECK_EQ_U64(TSH_SYN_SENT, o);
	CHECK_EQ_U64(TSH_ESTABLISHED, n);
	CHECK(slot_states(SLOT(LISTEN, LISTEN), &o, &n));
	CHECK_EQ_U64(TSH_LISTEN, o);
	CHECK_EQ_U64(TSH_LISTEN, n);

	/* A listed slot maps back to the pair that names it; a spare one to nothing. */
	for (unsigned int s = 1; s < TSH_NSLOTS; s++) {
		bool listed = pairs_naming(s) == 1;

		o = n = 99;
		CHECK_EQ_U64(listed, slot_states(s, &o, &n));
		if (listed && o < TSH_NSTATES && n < TSH_NSTATES)
			CHECK_EQ_U64(s, tsh_pair_slot[o][n]);
		else if (listed)
			CHECK(o < TSH_NSTATES && n < TSH_NSTATES);
	}
}

static void test_slot_names(void)
{
	const char *o = NULL, *n = NULL;

	slot_names(TSH_SLOT_OTHER, &o, &n);
	CHECK_STR("OTHER", o);
	CHECK_STR("OTHER", n);
	slot_names(99, &o, &n);
	CHECK_STR("OTHER", o);
	CHECK_STR("OTHER", n);
	slot_names(SLOT(SYN_SENT, ESTABLISHED), &o, &n);
	CHECK_STR("SYN_SENT", o);
	CHECK_STR("ESTABLISHED", n);
	slot_names(SLOT(CLOSE, SYN_SENT), &o, &n);
	CHECK_STR("CLOSE", o);
	CHECK_STR("SYN_SENT", n);
	slot_names(SLOT(CLOSE_WAIT, LAST_ACK), &o, &n);
	CHECK_STR("CLOSE_WAIT", o);
	CHECK_STR("LAST_ACK", n);
	/* No listed pair has a state without a name. */
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		slot_names(s, &o, &n);
		CHECK(strcmp(o, "UNKNOWN") && strcmp(n, "UNKNOWN"));
	}
}

/*
 * By old state number, then new state number, every listed pair exactly
 * once, OTHER last: that fixes the order completely, whatever the table.
 */
static void test_display_order(void)
{
	unsigned int order[TSH_NSLOTS], seen[TSH_NSLOTS] = {}, listed = 0;
	unsigned int n = slot_display_order(order);

	for (unsigned int s = 1; s < TSH_NSLOTS; s++)
		listed += pairs_naming(s) == 1;
	CHECK_EQ_U64(listed + 1, n);
	if (n != listed + 1)
		return;
	for (unsigned int i = 0; i < n; i++) {
		CHECK(order[i] < TSH_NSLOTS);
		if (order[i] < TSH_NSLOTS)
			seen[order[i]]++;
	}
	for (unsigned int s = 0; s < TSH_NSLOTS; s++)
		CHECK_EQ_U64(s == TSH_SLOT_OTHER || pairs_naming(s) == 1, seen[s]);
	for (unsigned int i = 1; i + 1 < n; i++) {
		unsigned int o0 = 0, n0 = 0, o1 = 0, n1 = 0;

		CHECK(slot_states(order[i - 1], &o0, &n0) && slot_states(order[i], &o1, &n1));
		CHECK(o0 < o1 || (o0 == o1 && n0 < n1));
	}
	CHECK_EQ_U64(TSH_SLOT_OTHER, order[n - 1]);

	/* The start of the list, spelled out. */
	CHECK_EQ_U64(SLOT(ESTABLISHED, ESTABLISHED), order[0]);
	CHECK_EQ_U64(SLOT(ESTABLISHED, FIN_WAIT1), order[1]);
	CHECK_EQ_U64(SLOT(ESTABLISHED, CLOSE), order[2]);
	CHECK_EQ_U64(SLOT(ESTABLISHED, CLOSE_WAIT), order[3]);
	CHECK_EQ_U64(SLOT(SYN_SENT, ESTABLISHED), order[4]);
}

/* A value that differs for every field of every slot. */
static __u64 field_value(unsigned int slot, unsigned int field)
{
	return 1000003ull * slot + 7919ull * field + 1;
}

static void fill_snapshot(struct snapshot *snap, __u64 base, __u64 scale)
{
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		struct tsh_slot *slot = &snap->slots[s];

		slot->count = base + scale * field_value(s, 0);
		slot->unknown = base + scale * field_value(s, 1);
		slot->sum_ns = base + scale * field_value(s, 2);
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
			slot->buckets[b] = base + scale * field_value(s, 3 + b);
	}
}

static void test_diff(void)
{
	static struct snapshot cur, prev, out;

	/* cur = prev + field_value, for every counter. */
	fill_snapshot(&prev, 5000000000ull, 3);
	fill_snapshot(&cur, 5000000000ull, 4);
	prev.missed = 40;
	cur.missed = 47;
	prev.taken_ns = 111;
	cur.taken_ns = 222;
	prev.taken_realtime = 1700000000;
	cur.taken_realtime = 1700000010;
	memset(&out, 0xaa, sizeof(out));
	snapshot_diff(&cur, &prev, &out);
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		const struct tsh_slot *o = &out.slots[s];

		CHECK_EQ_U64(field_value(s, 0), o->count);
		CHECK_EQ_U64(field_value(s, 1), o->unknown);
		CHECK_EQ_U64(field_value(s, 2), o->sum_ns);
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
			CHECK_EQ_U64(field_value(s, 3 + b), o->buckets[b]);
	}
	CHECK_EQ_U64(7, out.missed);
	CHECK_EQ_U64(222, out.taken_ns);
	CHECK_EQ_U64(1700000010, out.taken_realtime);

	/* A snapshot minus itself is all zeros; the inputs are left alone. */
	snapshot_diff(&cur, &cur, &out);
	CHECK_EQ_U64(0, snapshot_total(&out));
	CHECK_EQ_U64(0, out.slots[5].buckets[TSH_NBUCKETS - 1]);
	CHECK_EQ_U64(0, out.missed);
	CHECK_EQ_U64(field_value(6, 0) * 4 + 5000000000ull, cur.slots[6].count);

	/* A counter that went backwards (maps recreated) gives 0, never a wrap. */
	snapshot_diff(&prev, &cur, &out);
	CHECK_EQ_U64(0, out.slots[6].count);
	CHECK_EQ_U64(0, out.slots[6].buckets[3]);
	CHECK_EQ_U64(0, out.missed);
	CHECK_EQ_U64(111, out.taken_ns);
}

static void test_missed(void)
{
	CHECK_EQ_U64(0, snapshot_missed(0, 0));
	CHECK_EQ_U64(7, snapshot_missed(10, 3));
	CHECK_EQ_U64(0, snapshot_missed(3, 3));
	/* The recover count is read second and may run ahead: never negative. */
	CHECK_EQ_U64(0, snapshot_missed(3, 10));
	CHECK_EQ_U64(UINT64_MAX, snapshot_missed(UINT64_MAX, 0));
	CHECK_EQ_U64(1, snapshot_missed(UINT64_MAX, UINT64_MAX - 1));
}

static void test_advance(void)
{
	/* missed as read: a dip (8, 7) while events are being recovered, then 12. */
	static const __u64 reads[] = { 5, 9, 8, 7, 12, 12, 15 };
	static const __u64 want[] = { 5, 4, 0, 0, 3, 0, 3 };
	static struct snapshot prev, cur, out;
	__u64 sum = 0;

	memset(&prev, 0, sizeof(prev));
	for (unsigned int i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		memset(&cur, 0, sizeof(cur));
		cur.missed = reads[i];
		cur.slots[6].count = 10 * (i + 1);
		cur.taken_ns = 1000 + i;
		snapshot_diff(&cur, &prev, &out);
		CHECK_EQ_U64(want[i], out.missed);
		CHECK_EQ_U64(10, out.slots[6].count);
		sum += out.missed;
		snapshot_advance(&prev, &cur);
		CHECK_EQ_U64(cur.taken_ns, prev.taken_ns);
		CHECK_EQ_U64(cur.slots[6].count, prev.slots[6].count);
	}
	CHECK_EQ_U64(15, sum);
	CHECK_EQ_U64(15, prev.missed);

	/* The high mark is kept; everything else is cur's. */
	fill_snapshot(&cur, 0, 1);
	cur.missed = 3;
	cur.taken_realtime = 42;
	snapshot_advance(&prev, &cur);
	CHECK_EQ_U64(15, prev.missed);
	CHECK_EQ_U64(42, prev.taken_realtime);
	CHECK(!memcmp(prev.slots, cur.slots, sizeof(cur.slots)));
}

static void test_total(void)
{
	static struct snapshot snap;

	memset(&snap, 0, sizeof(snap));
	CHECK_EQ_U64(0, snapshot_total(&snap));
	snap.slots[TSH_SLOT_OTHER].count = 2;
	snap.slots[1].count = 3;
	snap.slots[1].unknown = 3;
	snap.slots[TSH_NSLOTS - 1].count = 5;
	snap.slots[6].buckets[4] = 100; /* buckets are not counts */
	snap.missed = 1000;		/* missed transitions are not in the slots */
	CHECK_EQ_U64(10, snapshot_total(&snap));
}

static void test_audited_missed(void)
{
	struct kernel_counts base = {
		.main_misses = 10, .recovered = 7, .seen = 1000, .hits_before = 500, .hits = 500,
		.audited = true
	};
	struct kernel_counts cur = base, plain = base;

	/* Nothing happened since base: the plain value (10 - 7) stands. */
	CHECK_EQ_U64(3, snapshot_audited_missed(&cur, &base, false));
	/* 100 hits, 95 seen, 3 misses of which 2 recovered: 3 lost, 1 of them counted. */
	cur.hits_before = cur.hits += 100; /* a quiet read: the same before and after */
	cur.seen += 95;
	cur.main_misses += 3;
	cur.recovered += 2;
	CHECK_EQ_U64(3 + 3, snapshot_audited_missed(&cur, &base, false));
	CHECK(!snapshot_audit_blind(&cur, &base));
	/* Never below the plain value: hits read early can lag behind. */
	cur.hits_before = cur.hits = base.hits + 90;
	CHECK_EQ_U64(4, snapshot_audited_missed(&cur, &base, false));
	/* Without the audit on either side: the plain value. */
	plain.audited = false;
	CHECK_EQ_U64(4, snapshot_audited_missed(&cur, &plain, false));
	/* Perf saw clearly less than the programs handled: blind, plain value. */
	cur.hits_before = cur.hits = base.hits + 100000;
	cur.seen = base.seen + 110000;
	CHECK(snapshot_audit_blind(&cur, &base));
	CHECK_EQ_U64(4, snapshot_audited_missed(&cur, &base, false));
	/* A lag within the slack is not blindness. */
	cur.hits_before = cur.hits = base.hits + 108000;
	CHECK(!snapshot_audit_blind(&cur, &base));
}

/*
 * The perf counts are read on both sides of the maps. While the view runs,
 * missed is the lower bound (never high: the high mark would keep a phantom);
 * the last snapshot takes the upper bound (never low: nothing silently lost).
 */
static void test_audited_missed_bracket(void)
{
	struct kernel_counts base = {
		.seen = 1000, .hits_before = 1000, .hits = 1004, .audited = true
	};
	struct kernel_counts cur = base;

	/*
	 * Truth: 4 events landed during base's reads (in seen), 200 more were
	 * handled, 1 was given to no program, and 6 landed during cur's reads
	 * (in seen, and only in cur's later perf read).
	 */
	cur.seen = base.seen + 4 + 200 + 6;
	cur.hits_before = base.hits + 200 + 1;
	cur.hits = cur.hits_before + 6;
	CHECK(snapshot_audited_missed(&cur, &base, false) <= 1);
	CHECK(snapshot_audited_missed(&cur, &base, true) >= 1);
	/* Quiet reads on both sides: both bounds are exact. */
	base.hits = base.hits_before;
	base.seen = 1000;
	cur.seen = base.seen + 200;
	cur.hits_before = cur.hits = base.hits + 200 + 1;
	CHECK_EQ_U64(1, snapshot_audited_missed(&cur, &base, false));
	CHECK_EQ_U64(1, snapshot_audited_missed(&cur, &base, true));
}

UNIT_TESTS(snapshot_tests) = {
	{ "snapshot: missed with the tracepoint's hit count", test_audited_missed },
	{ "snapshot: missed between the two perf reads: low while running, never low at the end",
	  test_audited_missed_bracket },
	{ "snapshot: state names are bounds-checked", test_state_name_bounds },
	{ "snapshot: pair table", test_pair_table },
	{ "snapshot: slot states", test_slot_states },
	{ "snapshot: slot names, OTHER", test_slot_names },
	{ "snapshot: display order", test_display_order },
	{ "snapshot: diff subtracts every counter", test_diff },
	{ "snapshot: missed", test_missed },
	{ "snapshot: advance keeps missed monotonic", test_advance },
	{ "snapshot: total", test_total },
	UNIT_END,
};
