// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* --label: what is accepted, what is refused, and how each renderer shows it. */
#include <errno.h>
#include <stdlib.h>
#include "labels.h"
#include "render.h"
#include "unit.h"

/* Adds each argument to a fresh text; the text, or "ERR: message" at the first refusal. */
static const char *add_all(const char *const *args, size_t n)
{
	static char text[TSH_META_LABELS_LEN], out[TSH_META_LABELS_LEN + 64];
	char err[256];

	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (labels_add(text, sizeof(text), args[i], err, sizeof(err))) {
			snprintf(out, sizeof(out), "ERR: %s", err);
			return out;
		}
	}
	return text;
}

#define ADD(...)                                                                                   \
	add_all((const char *const[]){ __VA_ARGS__ },                                              \
		sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static void test_accepted(void)
{
	CHECK_STR("service=web\n", ADD("service=web"));
	CHECK_STR("a=1\n_b2=x=y\nteam=caf\xc3\xa9 \"q\" \\\n",
		  ADD("a=1", "_b2=x=y", "team=caf\xc3\xa9 \"q\" \\"));
}

static void test_refused(void)
{
	CHECK_STR("ERR: --label 'service': not KEY=VALUE", ADD("service"));
	CHECK_STR("ERR: --label '=web': no name before '='", ADD("=web"));
	CHECK_STR("ERR: --label '1a': a name is letters, digits and '_', not starting with a digit",
		  ADD("1a=x"));
	CHECK_STR(
		"ERR: --label 'a-b': a name is letters, digits and '_', not starting with a digit",
		ADD("a-b=x"));
	CHECK_STR("ERR: --label '__name': names starting with '__' are Prometheus'",
		  ADD("__name=x"));
	CHECK_STR("ERR: --label 'old_state': tcpstatehist writes this label itself",
		  ADD("old_state=x"));
	CHECK_STR("ERR: --label 'port': tcpstatehist writes this label itself", ADD("port=1"));
	CHECK_STR("ERR: --label 'a' given twice", ADD("a=1", "a=2"));
	CHECK_STR("ERR: --label 'a=': empty value", ADD("a="));
	CHECK_STR("ERR: --label 'a=x?y': control character in the value", ADD("a=x\ny"));
	CHECK_STR("ERR: --label 'a=...': value is not UTF-8", ADD("a=\xff"));
	CHECK_STR("ERR: --label 'a=...': value is not UTF-8", ADD("a=\xc0\xaf"));
	CHECK_STR("ERR: --label: at most 8 labels",
		  ADD("a=1", "b=1", "c=1", "d=1", "e=1", "f=1", "g=1", "h=1", "i=1"));
}

static void test_lengths(void)
{
	char arg[300], err[256], text[TSH_META_LABELS_LEN] = "";

	memset(arg, 'n', 64);
	strcpy(arg + 64, "=v");
	CHECK(!labels_add(text, sizeof(text), arg, err, sizeof(err)));
	memset(arg, 'm', 65);
	strcpy(arg + 65, "=v");
	CHECK(labels_add(text, sizeof(text), arg, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "name longer than 64"));
	strcpy(arg, "v=");
	memset(arg + 2, 'x', 129);
	arg[131] = '\0';
	CHECK(labels_add(text, sizeof(text), arg, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "value longer than 128 bytes"));
	/* Seven labels of the longest value and name fill all but the eighth. */
	text[0] = '\0';
	for (int i = 0; i < 7; i++) {
		memset(arg, 'a' + i, 64);
		arg[64] = '=';
		memset(arg + 65, 'x', 128);
		arg[193] = '\0';
		if (i < 2)
			CHECK(!labels_add(text, sizeof(text), arg, err, sizeof(err)));
		else if (labels_add(text, sizeof(text), arg, err, sizeof(err)))
			break;
	}
	CHECK(strstr(err, "the labels take more than 511 bytes"));
	CHECK(strlen(text) < sizeof(text));
}

static char *rendered(renderer_fn fn, const char *labels)
{
	static struct snapshot snap;
	struct render_opts opts = { .since_realtime = 1699990000, .labels = labels };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	memset(&snap, 0, sizeof(snap));
	snap.slots[tsh_pair_slot[TSH_CLOSE_WAIT][TSH_LAST_ACK]].count = 1;
	snap.slots[tsh_pair_slot[TSH_CLOSE_WAIT][TSH_LAST_ACK]].buckets[3] = 1;
	snap.missed = 4;
	if (out) {
		CHECK(fn(out, &snap, &opts) == 0);
		fclose(out);
	}
	return buf;
}

static void test_prometheus(void)
{
	char *got = rendered(render_prometheus, "service=web\nteam=a\"b\\c\n");
	const char *want_labels = "service=\"web\",team=\"a\\\"b\\\\c\"";
	char want[512];

	CHECK(got);
	if (!got)
		return;
	snprintf(want, sizeof(want),
		 "tcpstatehist_transitions_total{%s,old_state=\"CLOSE_WAIT\","
		 "new_state=\"LAST_ACK\"} 1\n",
		 want_labels);
	CHECK(strstr(got, want));
	snprintf(want, sizeof(want),
		 "tcpstatehist_state_duration_seconds_bucket{%s,old_state=\"CLOSE_WAIT\","
		 "new_state=\"LAST_ACK\",le=\"+Inf\"} 1\n",
		 want_labels);
	CHECK(strstr(got, want));
	snprintf(want, sizeof(want), "\ntcpstatehist_missed_transitions_total{%s} 4\n",
		 want_labels);
	CHECK(strstr(got, want));
	snprintf(want, sizeof(want), "\ntcpstatehist_attach_time_seconds{%s} 1699990000\n",
		 want_labels);
	CHECK(strstr(got, want));
	free(got);
}

static void test_text(void)
{
	char *got = rendered(render_text, "service=web\n");

	CHECK(got && strstr(got, "\nmissed: 4\nlabels: service=\"web\"\n"));
	free(got);
	got = rendered(render_text, NULL);
	CHECK(got && !strstr(got, "labels"));
	free(got);
}

static void test_json(void)
{
	char *got = rendered(render_json, "service=web\nteam=a\"b\\c\n");

	CHECK(got && strstr(got, ",\"missed\":4,\"labels\":{\"service\":\"web\","
				 "\"team\":\"a\\\"b\\\\c\"},\"by\":null,\"transitions\":["));
	free(got);
	got = rendered(render_json, NULL);
	CHECK(got && strstr(got, ",\"missed\":4,\"labels\":{},\"by\":null,\"transitions\":["));
	free(got);
}

UNIT_TESTS(labels_tests) = {
	{ "labels: accepted", test_accepted },
	{ "labels: refused, one line each", test_refused },
	{ "labels: name, value and total lengths", test_lengths },
	{ "labels: prometheus, escaped, on every series", test_prometheus },
	{ "labels: json object, empty without labels", test_json },
	{ "labels: a text line, none without labels", test_text },
	UNIT_END,
};
