/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Breakdowns (--by): the counters of each key (a port, a cgroup, a network
 * namespace), plain data like a snapshot. The collector fills one from the
 * kernel's key tables, breakdown_names.c names its keys; the rest is pure.
 */
#ifndef TSH_BREAKDOWN_H
#define TSH_BREAKDOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpstatehist.h"

/* --max-keys: its default and its bounds (docs/performance.md, "Breakdowns"). */
#define MAX_KEYS_DEFAULT 64
#define MAX_KEYS_MAX 4096

/* A key as printed (a cgroup path at most PATH_MAX), and a namespace's `ip netns` name. */
#define KEY_NAME_LEN 4096
#define KEY_ALIAS_LEN 256

struct key_counts {
	__u64 key;
	bool other;		  /* the overflow: every key beyond max-keys */
	char name[KEY_NAME_LEN];  /* what outputs print: the label value */
	char alias[KEY_ALIAS_LEN]; /* a netns's `ip netns` name, "" when none */
	struct tsh_slot slots[TSH_NSLOTS];
};

struct breakdown {
	enum tsh_by by;
	size_t n;
	struct key_counts *keys; /* malloc'd; other, when present, among them */
};

/* "port", "lport", "rport", "cgroup", "netns"; NULL for TSH_BY_NONE or out of range. */
const char *by_name(enum tsh_by by);

/* The kind from its name; -EINVAL for an unknown one. */
int parse_by(const char *s, enum tsh_by *by);

/* Every transition of a key, over all its pairs. */
__u64 key_total(const struct key_counts *k);

/*
 * out = cur - prev, key by key (a key missing from prev counts from zero);
 * names are cur's. out is allocated here; 0 or -ENOMEM.
 */
int breakdown_diff(const struct breakdown *cur, const struct breakdown *prev,
		   struct breakdown *out);

/* Keys by total, largest first, then by key; other last. */
void breakdown_sort(struct breakdown *b);

/* A key's name when it needs no lookup: the number, or "other". */
void key_plain_name(const struct key_counts *k, char *buf, size_t len);

void breakdown_free(struct breakdown *b);

#endif /* TSH_BREAKDOWN_H */
