// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "breakdown.h"

static const char *const by_names[TSH_NBY] = {
	[TSH_BY_PORT] = "port",	    [TSH_BY_LPORT] = "lport", [TSH_BY_RPORT] = "rport",
	[TSH_BY_CGROUP] = "cgroup", [TSH_BY_NETNS] = "netns",
};

const char *by_name(enum tsh_by by)
{
	return by > TSH_BY_NONE && by < TSH_NBY ? by_names[by] : NULL;
}

int parse_by(const char *s, enum tsh_by *by)
{
	for (int i = TSH_BY_NONE + 1; i < TSH_NBY; i++) {
		if (!strcmp(s, by_names[i])) {
			*by = i;
			return 0;
		}
	}
	return -EINVAL;
}

__u64 key_total(const struct key_counts *k)
{
	__u64 total = 0;

	for (unsigned int s = 0; s < TSH_NSLOTS; s++)
		total += k->slots[s].count;
	return total;
}

static __u64 sub(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

static const struct key_counts *find_key(const struct breakdown *b, const struct key_counts *k)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->keys[i].other == k->other && b->keys[i].key == k->key)
			return &b->keys[i];
	return NULL;
}

int breakdown_diff(const struct breakdown *cur, const struct breakdown *prev, struct breakdown *out)
{
	out->by = cur->by;
	out->n = cur->n;
	out->keys = calloc(cur->n ? cur->n : 1, sizeof(*out->keys));
	if (!out->keys)
		return -ENOMEM;
	for (size_t i = 0; i < cur->n; i++) {
		const struct key_counts *c = &cur->keys[i], *p = find_key(prev, c);
		struct key_counts *o = &out->keys[i];

		*o = *c;
		if (!p)
			continue;
		for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
			o->slots[s].count = sub(c->slots[s].count, p->slots[s].count);
			o->slots[s].unknown = sub(c->slots[s].unknown, p->slots[s].unknown);
			o->slots[s].sum_ns = sub(c->slots[s].sum_ns, p->slots[s].sum_ns);
			for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
				o->slots[s].buckets[b] =
					sub(c->slots[s].buckets[b], p->slots[s].buckets[b]);
		}
	}
	return 0;
}

static int compare_keys(const void *a, const void *b)
{
	const struct key_counts *x = a, *y = b;
	__u64 tx = key_total(x), ty = key_total(y);

	if (x->other != y->other)
		return x->other ? 1 : -1;
	if (tx != ty)
		return tx > ty ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

void breakdown_sort(struct breakdown *b)
{
	if (b->n)
		qsort(b->keys, b->n, sizeof(*b->keys), compare_keys);
}

void key_plain_name(const struct key_counts *k, char *buf, size_t len)
{
	if (k->other)
		snprintf(buf, len, "other");
	else
		snprintf(buf, len, "%llu", (unsigned long long)k->key);
}

void breakdown_free(struct breakdown *b)
{
	free(b->keys);
	b->keys = NULL;
	b->n = 0;
}
