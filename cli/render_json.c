// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON Lines: one object per summary. The shape never depends on the data:
 * arrays stay arrays, absent values are null.
 */
#include <errno.h>
#include "hist.h"
#include "json_writer.h"
#include "render.h"
#include "util.h"

static void put_time(struct json_writer *w, const char *key, __u64 realtime)
{
	char when[UTC_LEN];

	format_utc(when, sizeof(when), realtime);
	json_key_string(w, key, when);
}

/* A bucket's upper bound in us; null for the last bucket, which has none. */
static void put_bound(struct json_writer *w, const char *key, int b)
{
	json_key(w, key);
	if (b < 0 || hist_bucket_is_last(b))
		json_null(w);
	else
		json_u64(w, hist_bucket_upper_us(b));
}

void render_json_slot(struct json_writer *w, const struct tsh_slot *slot)
{
	json_key_u64(w, "count", slot->count);
	json_key_u64(w, "unknown", slot->unknown);
	json_key_u64(w, "sum_ns", slot->sum_ns);
	put_bound(w, "p50_us", hist_percentile(slot, 50));
	put_bound(w, "p90_us", hist_percentile(slot, 90));
	put_bound(w, "p99_us", hist_percentile(slot, 99));
	put_bound(w, "max_us", hist_percentile(slot, 100));
	json_key(w, "buckets");
	json_begin_array(w);
	for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
		if (!slot->buckets[b])
			continue;
		json_begin_object(w);
		put_bound(w, "le_us", b);
		json_key_u64(w, "count", slot->buckets[b]);
		json_end_object(w);
	}
	json_end_array(w);
}

void render_json_labels(struct json_writer *w, const char *labels)
{
	const char *cursor = labels;
	struct label_strings s;
	struct label l;

	json_key(w, "labels");
	json_begin_object(w);
	while (labels_next(&cursor, &l)) {
		label_strings(&l, &s);
		json_key_string(w, s.name, s.value);
	}
	json_end_object(w);
}

/* The key of a breakdown's entry, named as the breakdown: "port": "443". */
static void put_key(struct json_writer *w, enum tsh_by by, const struct key_counts *k)
{
	json_key_string(w, by_name(by), k->name);
	if (by != TSH_BY_NETNS)
		return;
	if (k->alias[0])
		json_key_string(w, "netns_name", k->alias);
	else
		json_key_null(w, "netns_name");
}

static void put_transition(struct json_writer *w, enum tsh_by by, const struct key_counts *k,
			   unsigned int slot_index, const struct tsh_slot *slot)
{
	const char *oldname, *newname;

	slot_names(slot_index, &oldname, &newname);
	json_begin_object(w);
	if (k)
		put_key(w, by, k);
	json_key_string(w, "old_state", oldname);
	json_key_string(w, "new_state", newname);
	render_json_slot(w, slot);
	json_end_object(w);
}

/* With --by, the transitions are those of each key: they sum to the machine's. */
static void put_breakdown(struct json_writer *w, const struct breakdown *by,
			  const unsigned int *order, unsigned int norder)
{
	for (size_t k = 0; k < by->n; k++) {
		for (unsigned int i = 0; i < norder; i++) {
			const struct tsh_slot *slot = &by->keys[k].slots[order[i]];

			if (slot->count)
				put_transition(w, by->by, &by->keys[k], order[i], slot);
		}
	}
}

int render_json(FILE *out, const struct snapshot *snap, const struct render_opts *opts)
{
	unsigned int order[TSH_NSLOTS], norder = slot_display_order(order);
	struct json_writer w;

	json_init(&w, out);
	json_begin_object(&w);
	put_time(&w, "time", snap->taken_realtime);
	if (opts->interval_s > 0) {
		json_key(&w, "interval_s");
		json_fixed(&w, opts->interval_s, 6);
		json_key_null(&w, "since");
	} else {
		json_key_null(&w, "interval_s");
		put_time(&w, "since", opts->since_realtime);
	}
	json_key_u64(&w, "total", snapshot_total(snap));
	json_key_u64(&w, "missed", snap->missed);
	render_json_labels(&w, opts->labels);
	if (opts->by)
		json_key_string(&w, "by", by_name(opts->by->by));
	else
		json_key_null(&w, "by");
	json_key(&w, "transitions");
	json_begin_array(&w);
	if (opts->by)
		put_breakdown(&w, opts->by, order, norder);
	for (unsigned int i = 0; !opts->by && i < norder; i++) {
		const struct tsh_slot *slot = &snap->slots[order[i]];

		if (slot->count)
			put_transition(&w, TSH_BY_NONE, NULL, order[i], slot);
	}
	json_end_array(&w);
	json_end_object(&w);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
