// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Breakdowns: the key kinds, the diff and the order of keys, and their outputs. */
#include <errno.h>
#include <stdlib.h>
#include "breakdown.h"
#include "render.h"
#include "unit.h"

#define SLOT_SS_EST tsh_pair_slot[TSH_SYN_SENT][TSH_ESTABLISHED]

static void test_kinds(void)
{
	enum tsh_by by = TSH_BY_NONE;

	for (int i = TSH_BY_NONE + 1; i < TSH_NBY; i++) {
		CHECK_EQ_U64(0, parse_by(by_name(i), &by));
		CHECK_EQ_U64(i, by);
	}
	CHECK_EQ_U64(-EINVAL, parse_by("Port", &by));
	CHECK_EQ_U64(-EINVAL, parse_by("", &by));
	CHECK(by_name(TSH_BY_NONE) == NULL);
	CHECK(by_name(TSH_NBY) == NULL);
}

/* Three keys: port 443 (5 of SYN_SENT -> ESTABLISHED), 80 (2 + 1 unknown), other (7). */
static struct key_counts *sample_keys(void)
{
	struct key_counts *k = calloc(3, sizeof(*k));

	k[0].other = true;
	k[0].slots[SLOT_SS_EST].count = 7;
	k[0].slots[SLOT_SS_EST].buckets[0] = 7;
	k[1].key = 80;
	k[1].slots[SLOT_SS_EST].count = 3;
	k[1].slots[SLOT_SS_EST].unknown = 1;
	k[1].slots[SLOT_SS_EST].buckets[3] = 2;
	k[1].slots[SLOT_SS_EST].sum_ns = 12000;
	k[2].key = 443;
	k[2].slots[SLOT_SS_EST].count = 5;
	k[2].slots[SLOT_SS_EST].buckets[3] = 5;
	k[2].slots[SLOT_SS_EST].sum_ns = 30000;
	for (int i = 0; i < 3; i++)
		key_plain_name(&k[i], k[i].name, sizeof(k[i].name));
	return k;
}

static void test_sort_and_diff(void)
{
	struct breakdown cur = { TSH_BY_PORT, 3, sample_keys() }, out;
	struct breakdown prev = { TSH_BY_PORT, 1, calloc(1, sizeof(struct key_counts)) };

	breakdown_sort(&cur);
	CHECK_STR("443", cur.keys[0].name);
	CHECK_STR("80", cur.keys[1].name);
	CHECK_STR("other", cur.keys[2].name);
	CHECK_EQ_U64(5, key_total(&cur.keys[0]));
	/* prev knows port 80 only: 443 and other count from zero. */
	prev.keys[0].key = 80;
	prev.keys[0].slots[SLOT_SS_EST].count = 1;
	prev.keys[0].slots[SLOT_SS_EST].buckets[3] = 1;
	CHECK_EQ_U64(0, breakdown_diff(&cur, &prev, &out));
	CHECK_EQ_U64(3, out.n);
	CHECK_EQ_U64(5, key_total(&out.keys[0]));
	CHECK_EQ_U64(2, key_total(&out.keys[1]));
	CHECK_EQ_U64(1, out.keys[1].slots[SLOT_SS_EST].buckets[3]);
	CHECK_EQ_U64(1, out.keys[1].slots[SLOT_SS_EST].unknown);
	CHECK_EQ_U64(7, key_total(&out.keys[2]));
	breakdown_free(&out);
	breakdown_free(&prev);
	breakdown_free(&cur);
}

static void test_prom_escape(void)
{
	char buf[64];

	prom_escape(buf, sizeof(buf), "/a\\b\"c\nd");
	CHECK_STR("/a\\\\b\\\"c\\nd", buf);
	prom_escape(buf, 4, "\"\"\"\"");
	CHECK_STR("\\\"", buf);
}

static char *render(renderer_fn fn, const struct snapshot *snap, const struct render_opts *opts)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	CHECK_EQ_U64(0, fn(out, snap, opts));
	fclose(out);
	return buf;
}

#define CHECK_CONTAINS(needle, hay)                                                                \
	do {                                                                                       \
		if (!(hay) || !strstr((hay), (needle))) {                                          \
			printf("    %s:%d: no '%s' in:\n%s\n", __FILE__, __LINE__, (needle),       \
			       (hay) ? (hay) : "(null)");                                          \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

/* Every output names the key; the per-key series replace the machine-wide ones. */
static void test_outputs(void)
{
	struct breakdown by = { TSH_BY_CGROUP, 3, sample_keys() };
	static struct snapshot snap;
	struct render_opts opts = { .interval_s = 1, .by = &by };
	char *out;

	snprintf(by.keys[2].name, sizeof(by.keys[2].name), "/sys\"x\"");
	breakdown_sort(&by);
	snap.slots[SLOT_SS_EST].count = 15;
	out = render(render_text, &snap, &opts);
	CHECK_CONTAINS("\ncgroup /sys\"x\": 5 transitions\n", out);
	CHECK_CONTAINS("\ncgroup other: 7 transitions\n", out);
	free(out);
	out = render(render_json, &snap, &opts);
	CHECK_CONTAINS("\"by\":\"cgroup\"", out);
	CHECK_CONTAINS("{\"cgroup\":\"/sys\\\"x\\\"\",\"old_state\":\"SYN_SENT\"", out);
	CHECK_CONTAINS("{\"cgroup\":\"other\",\"old_state\":\"SYN_SENT\"", out);
	free(out);
	out = render(render_prometheus, &snap, &opts);
	CHECK_CONTAINS(
		"tcpstatehist_transitions_total{cgroup=\"/sys\\\"x\\\"\",old_state=\"SYN_SENT\","
		"new_state=\"ESTABLISHED\"} 5\n",
		out);
	CHECK_CONTAINS("tcpstatehist_transitions_total{cgroup=\"80\",", out);
	CHECK_CONTAINS("tcpstatehist_transitions_total{cgroup=\"other\",", out);
	CHECK(!strstr(out, "tcpstatehist_transitions_total{old_state"));
	free(out);
	/* The user's labels first, then the key's, then the pair's. */
	opts.labels = "job=web\n";
	out = render(render_prometheus, &snap, &opts);
	CHECK_CONTAINS("tcpstatehist_transitions_total{job=\"web\",cgroup=\"80\",old_state=", out);
	CHECK_CONTAINS("tcpstatehist_missed_transitions_total{job=\"web\"} 0\n", out);
	free(out);
	breakdown_free(&by);
}

UNIT_TESTS(breakdown_tests) = {
	{ "breakdown: key kinds by name", test_kinds },
	{ "breakdown: keys by total, other last; diff by key", test_sort_and_diff },
	{ "breakdown: prometheus label values escaped", test_prom_escape },
	{ "breakdown: text, json and prometheus name the key", test_outputs },
	UNIT_END,
};
