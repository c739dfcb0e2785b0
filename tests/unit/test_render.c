// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Renderers against the exact text they must produce. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "render.h"
#include "unit.h"

#define SLOT_SS_EST tsh_pair_slot[TSH_SYN_SENT][TSH_ESTABLISHED]
#define SLOT_CLOSE_SS tsh_pair_slot[TSH_CLOSE][TSH_SYN_SENT]
#define SLOT_LISTEN_LISTEN tsh_pair_slot[TSH_LISTEN][TSH_LISTEN]
#define T_TAKEN 1700000000 /* 2023-11-14T22:13:20Z */
#define T_SINCE 1699990000 /* 2023-11-14T19:26:40Z */

/* On a mismatch, show where the two first differ, then the whole output. */
static void check_output(const char *want, const char *got, const char *file, int line)
{
	size_t i = 0, line_start = 0, lineno = 1;

	if (!got) {
		printf("    %s:%d: no output\n", file, line);
		unit_failures++;
		return;
	}
	if (!strcmp(want, got))
		return;
	while (want[i] && want[i] == got[i]) {
		if (want[i] == '\n') {
			line_start = i + 1;
			lineno++;
		}
		i++;
	}
	printf("    %s:%d: output differs at line %zu, column %zu\n      want: %.*s\n"
	       "      got:  %.*s\n      whole output:\n%s",
	       file, line, lineno, i - line_start + 1, (int)strcspn(want + line_start, "\n"),
	       want + line_start, (int)strcspn(got + line_start, "\n"), got + line_start, got);
	unit_failures++;
}

#define CHECK_OUTPUT(want, got) check_output((want), (got), __FILE__, __LINE__)

/* The renderer's output as a string (to free), and its return value. */
static char *render(renderer_fn fn, const struct snapshot *snap, const struct render_opts *opts,
		    int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out) {
		*ret = -errno;
		return NULL;
	}
	*ret = fn(out, snap, opts);
	fclose(out);
	return buf;
}

#define CHECK_RENDER(want, fn, snap, opts)                                                         \
	do {                                                                                       \
		int r_ = 1;                                                                        \
		char *got_ = render((fn), (snap), (opts), &r_);                                    \
		CHECK_EQ_U64(0, r_);                                                               \
		CHECK_OUTPUT((want), got_);                                                        \
		free(got_);                                                                        \
	} while (0)

/*
 * SYN_SENT -> ESTABLISHED: 3 with known durations of 5, 20 and 30 us;
 * CLOSE -> SYN_SENT: 3, all first seen (unknown); 2 missed.
 */
static void sample_snapshot(struct snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->slots[SLOT_SS_EST].count = 3;
	snap->slots[SLOT_SS_EST].buckets[3] = 1; /* (4, 8] us */
	snap->slots[SLOT_SS_EST].buckets[5] = 2; /* (16, 32] us */
	snap->slots[SLOT_SS_EST].sum_ns = 55000;
	snap->slots[SLOT_CLOSE_SS].count = 3;
	snap->slots[SLOT_CLOSE_SS].unknown = 3;
	snap->missed = 2;
	snap->taken_ns = 123456789;
	snap->taken_realtime = T_TAKEN;
}

static const char sample_text[] =
	"OLD_STATE    NEW_STATE         COUNT    UNKNOWN     MEAN      P50      P90      P99      MAX\n"
	"SYN_SENT     ESTABLISHED           3          0     18us     32us     32us     32us     32us\n"
	"CLOSE        SYN_SENT              3          3        -        -        -        -        -\n"
	"missed: 2\n"
	"\n"
	"SYN_SENT -> ESTABLISHED: 3 transitions, 0 unknown\n"
	"                    usecs (lo, hi] : count      distribution\n"
	"              4 -> 8               : 1          |********************                    |\n"
	"              8 -> 16              : 0          |                                        |\n"
	"             16 -> 32              : 2          |****************************************|\n"
	"\n"
	"CLOSE -> SYN_SENT: 3 transitions, 3 unknown\n"
	"    (no known durations)\n"
	"\n";

static void test_text(void)
{
	static struct snapshot snap;
	struct render_opts opts = { .since_realtime = T_SINCE };

	sample_snapshot(&snap);
	CHECK_RENDER(sample_text, render_text, &snap, &opts);
	opts.interval_s = 10;
	CHECK_RENDER(sample_text, render_text, &snap, &opts);
}

static void test_text_options(void)
{
	static struct snapshot snap;
	struct render_opts opts = { .timestamp = true };

	/* -T prints local time: 22:13:20 UTC is 17:13:20 in UTC-5. */
	setenv("TZ", "EST5", 1);
	tzset();
	sample_snapshot(&snap);
	memset(&snap.slots[SLOT_CLOSE_SS], 0, sizeof(snap.slots[SLOT_CLOSE_SS]));
	snap.missed = 0;
	CHECK_RENDER(
		"17:13:20\n"
		"OLD_STATE    NEW_STATE         COUNT    UNKNOWN     MEAN      P50      P90"
		"      P99      MAX\n"
		"SYN_SENT     ESTABLISHED           3          0     18us     32us     32us"
		"     32us     32us\n"
		"missed: 0\n"
		"\n"
		"SYN_SENT -> ESTABLISHED: 3 transitions, 0 unknown\n"
		"                    usecs (lo, hi] : count      distribution\n"
		"              4 -> 8               : 1          |********************                    |\n"
		"              8 -> 16              : 0          |                                        |\n"
		"             16 -> 32              : 2          |****************************************|\n"
		"\n",
		render_text, &snap, &opts);

	opts.timestamp = false;
	opts.milliseconds = true;
	snap.slots[SLOT_SS_EST].buckets[0] = 4; /* (0, 1] us */
	snap.slots[SLOT_SS_EST].buckets[3] = 0;
	snap.slots[SLOT_SS_EST].buckets[11] = 1; /* (1.024, 2.048] ms */
	snap.slots[SLOT_SS_EST].count = 7;
	CHECK_RENDER(
		"OLD_STATE    NEW_STATE         COUNT    UNKNOWN     MEAN      P50      P90"
		"      P99      MAX\n"
		"SYN_SENT     ESTABLISHED           7          0      8us      1us   2.05ms"
		"   2.05ms   2.05ms\n"
		"missed: 0\n"
		"\n"
		"SYN_SENT -> ESTABLISHED: 7 transitions, 0 unknown\n"
		"                    msecs (lo, hi] : count      distribution\n"
		"              0 -> 0.001           : 4          |****************************************|\n"
		"          0.001 -> 0.002           : 0          |                                        |\n"
		"          0.002 -> 0.004           : 0          |                                        |\n"
		"          0.004 -> 0.008           : 0          |                                        |\n"
		"          0.008 -> 0.016           : 0          |                                        |\n"
		"          0.016 -> 0.032           : 2          |********************                    |\n"
		"          0.032 -> 0.064           : 0          |                                        |\n"
		"          0.064 -> 0.128           : 0          |                                        |\n"
		"          0.128 -> 0.256           : 0          |                                        |\n"
		"          0.256 -> 0.512           : 0          |                                        |\n"
		"          0.512 -> 1.024           : 0          |                                        |\n"
		"          1.024 -> 2.048           : 1          |**********                              |\n"
		"\n",
		render_text, &snap, &opts);
}

static void test_text_empty_and_other(void)
{
	static struct snapshot snap;
	struct render_opts opts = {};

	memset(&snap, 0, sizeof(snap));
	CHECK_RENDER("no TCP state transitions\nmissed: 0\n\n", render_text, &snap, &opts);
	snap.missed = 5;
	CHECK_RENDER("no TCP state transitions\nmissed: 5\n\n", render_text, &snap, &opts);
	/* With a filter on, missed still covers every socket: the text says so. */
	opts.filtered = true;
	CHECK_RENDER("no TCP state transitions\n"
		     "missed: 5 (every socket on the machine, before the filters)\n\n",
		     render_text, &snap, &opts);
	opts.filtered = false;

	/* OTHER comes after every listed pair; the overflow bucket reads "inf". */
	snap.missed = 0;
	snap.slots[TSH_SLOT_OTHER].count = 4;
	snap.slots[TSH_SLOT_OTHER].unknown = 3;
	snap.slots[TSH_SLOT_OTHER].buckets[TSH_NBUCKETS - 1] = 1;
	snap.slots[SLOT_LISTEN_LISTEN].count = 1;
	snap.slots[SLOT_LISTEN_LISTEN].unknown = 1;
	CHECK_RENDER(
		"OLD_STATE    NEW_STATE         COUNT    UNKNOWN     MEAN      P50      P90"
		"      P99      MAX\n"
		"LISTEN       LISTEN                1          1        -        -        -"
		"        -        -\n"
		"OTHER        OTHER                 4          3     <1us      inf      inf"
		"      inf      inf\n"
		"missed: 0\n"
		"\n"
		"LISTEN -> LISTEN: 1 transitions, 1 unknown\n"
		"    (no known durations)\n"
		"\n"
		"OTHER -> OTHER: 4 transitions, 3 unknown\n"
		"                    usecs (lo, hi] : count      distribution\n"
		"   137438953472 -> inf             : 1          |****************************************|\n"
		"\n",
		render_text, &snap, &opts);
}

static void test_json(void)
{
	static struct snapshot snap;
	struct render_opts opts = { .since_realtime = T_SINCE };

	/* JSON times are UTC whatever the local zone. */
	setenv("TZ", "EST5", 1);
	tzset();
	sample_snapshot(&snap);
	CHECK_RENDER("{\"time\":\"2023-11-14T22:13:20Z\",\"interval_s\":null,"
		     "\"since\":\"2023-11-14T19:26:40Z\",\"total\":6,\"missed\":2,\"labels\":{},\"by\":null,\"transitions\":["
		     "{\"old_state\":\"SYN_SENT\",\"new_state\":\"ESTABLISHED\",\"count\":3,"
		     "\"unknown\":0,\"sum_ns\":55000,\"p50_us\":32,\"p90_us\":32,\"p99_us\":32,"
		     "\"max_us\":32,\"buckets\":[{\"le_us\":8,\"count\":1},{\"le_us\":32,"
		     "\"count\":2}]},"
		     "{\"old_state\":\"CLOSE\",\"new_state\":\"SYN_SENT\",\"count\":3,"
		     "\"unknown\":3,\"sum_ns\":0,\"p50_us\":null,\"p90_us\":null,\"p99_us\":null,"
		     "\"max_us\":null,\"buckets\":[]}]}\n",
		     render_json, &snap, &opts);

	/* An interval view: interval_s set, since null. */
	opts.interval_s = 0.5;
	memset(&snap.slots[SLOT_CLOSE_SS], 0, sizeof(snap.slots[SLOT_CLOSE_SS]));
	snap.slots[SLOT_SS_EST].count = 1;
	snap.slots[SLOT_SS_EST].buckets[5] = 0;
	snap.slots[SLOT_SS_EST].sum_ns = 5000;
	snap.missed = 0;
	/* One transition, one bucket: both stay arrays. */
	CHECK_RENDER("{\"time\":\"2023-11-14T22:13:20Z\",\"interval_s\":0.500000,\"since\":null,"
		     "\"total\":1,\"missed\":0,\"labels\":{},\"by\":null,\"transitions\":["
		     "{\"old_state\":\"SYN_SENT\",\"new_state\":\"ESTABLISHED\",\"count\":1,"
		     "\"unknown\":0,\"sum_ns\":5000,\"p50_us\":8,\"p90_us\":8,\"p99_us\":8,"
		     "\"max_us\":8,\"buckets\":[{\"le_us\":8,\"count\":1}]}]}\n",
		     render_json, &snap, &opts);

	/* One slow outlier in 101: p99 stays low, max finds it. */
	snap.slots[SLOT_SS_EST].count = 101;
	snap.slots[SLOT_SS_EST].buckets[3] = 100;
	snap.slots[SLOT_SS_EST].buckets[10] = 1;
	snap.slots[SLOT_SS_EST].sum_ns = 1500000;
	CHECK_RENDER("{\"time\":\"2023-11-14T22:13:20Z\",\"interval_s\":0.500000,\"since\":null,"
		     "\"total\":101,\"missed\":0,\"labels\":{},\"by\":null,\"transitions\":["
		     "{\"old_state\":\"SYN_SENT\",\"new_state\":\"ESTABLISHED\",\"count\":101,"
		     "\"unknown\":0,\"sum_ns\":1500000,\"p50_us\":8,\"p90_us\":8,\"p99_us\":8,"
		     "\"max_us\":1024,\"buckets\":[{\"le_us\":8,\"count\":100},"
		     "{\"le_us\":1024,\"count\":1}]}]}\n",
		     render_json, &snap, &opts);
}

static void test_json_empty_and_other(void)
{
	static struct snapshot snap;
	struct render_opts opts = { .interval_s = 1 };

	memset(&snap, 0, sizeof(snap));
	snap.taken_realtime = T_TAKEN;
	CHECK_RENDER("{\"time\":\"2023-11-14T22:13:20Z\",\"interval_s\":1.000000,\"since\":null,"
		     "\"total\":0,\"missed\":0,\"labels\":{},\"by\":null,\"transitions\":[]}\n",
		     render_json, &snap, &opts);

	/* OTHER is named; a duration in the overflow bucket has no bound: null. */
	snap.slots[TSH_SLOT_OTHER].count = 2;
	snap.slots[TSH_SLOT_OTHER].buckets[0] = 1;
	snap.slots[TSH_SLOT_OTHER].buckets[TSH_NBUCKETS - 1] = 1;
	snap.slots[TSH_SLOT_OTHER].sum_ns = 200000000000000ull;
	snap.missed = 9;
	CHECK_RENDER("{\"time\":\"2023-11-14T22:13:20Z\",\"interval_s\":1.000000,\"since\":null,"
		     "\"total\":2,\"missed\":9,\"labels\":{},\"by\":null,\"transitions\":["
		     "{\"old_state\":\"OTHER\",\"new_state\":\"OTHER\",\"count\":2,\"unknown\":0,"
		     "\"sum_ns\":200000000000000,\"p50_us\":1,\"p90_us\":null,\"p99_us\":null,"
		     "\"max_us\":null,\"buckets\":[{\"le_us\":1,\"count\":1},"
		     "{\"le_us\":null,\"count\":1}]}]}\n",
		     render_json, &snap, &opts);
}

/* Prometheus: label sets and the bucket lines of one pair, spelled out. */
#define P_SS_EST "{old_state=\"SYN_SENT\",new_state=\"ESTABLISHED\""
#define P_CLOSE_SS "{old_state=\"CLOSE\",new_state=\"SYN_SENT\""
#define P_BUCKET "tcpstatehist_state_duration_seconds_bucket"

#define P_HEADERS_COUNT                                                                            \
	"# HELP tcpstatehist_transitions_total TCP state transitions by old and new state, "       \
	"since attach.\n"                                                                          \
	"# TYPE tcpstatehist_transitions_total counter\n"
#define P_HEADERS_UNKNOWN                                                                          \
	"# HELP tcpstatehist_unknown_duration_transitions_total Transitions whose time in the "    \
	"old state is not known (first seen).\n"                                                   \
	"# TYPE tcpstatehist_unknown_duration_transitions_total counter\n"
#define P_HEADERS_HIST                                                                             \
	"# HELP tcpstatehist_state_duration_seconds Time spent in old_state before moving to "     \
	"new_state, known durations.\n"                                                            \
	"# TYPE tcpstatehist_state_duration_seconds histogram\n"
#define P_HEADERS_MISSED                                                                           \
	"# HELP tcpstatehist_missed_transitions_total Tracepoint hits the kernel skipped that no " \
	"program recorded.\n"                                                                      \
	"# TYPE tcpstatehist_missed_transitions_total counter\n"
#define P_HEADERS_ATTACH                                                                           \
	"# HELP tcpstatehist_attach_time_seconds When the counters started (Unix time); a change " \
	"means a reset.\n"                                                                         \
	"# TYPE tcpstatehist_attach_time_seconds gauge\n"

static const char sample_prometheus[] = P_HEADERS_COUNT
	"tcpstatehist_transitions_total" P_SS_EST "} 3\n"
	"tcpstatehist_transitions_total" P_CLOSE_SS "} 3\n" P_HEADERS_UNKNOWN
	"tcpstatehist_unknown_duration_transitions_total" P_SS_EST "} 0\n"
	"tcpstatehist_unknown_duration_transitions_total" P_CLOSE_SS
	"} 3\n" P_HEADERS_HIST P_BUCKET P_SS_EST ",le=\"0.000001\"} 0\n" P_BUCKET P_SS_EST
	",le=\"0.000002\"} 0\n" P_BUCKET P_SS_EST ",le=\"0.000004\"} 0\n" P_BUCKET P_SS_EST
	",le=\"0.000008\"} 1\n" P_BUCKET P_SS_EST ",le=\"0.000016\"} 1\n" P_BUCKET P_SS_EST
	",le=\"0.000032\"} 3\n" P_BUCKET P_SS_EST ",le=\"0.000064\"} 3\n" P_BUCKET P_SS_EST
	",le=\"0.000128\"} 3\n" P_BUCKET P_SS_EST ",le=\"0.000256\"} 3\n" P_BUCKET P_SS_EST
	",le=\"0.000512\"} 3\n" P_BUCKET P_SS_EST ",le=\"0.001024\"} 3\n" P_BUCKET P_SS_EST
	",le=\"0.002048\"} 3\n" P_BUCKET P_SS_EST ",le=\"0.004096\"} 3\n" P_BUCKET P_SS_EST
	",le=\"0.008192\"} 3\n" P_BUCKET P_SS_EST ",le=\"0.016384\"} 3\n" P_BUCKET P_SS_EST
	",le=\"0.032768\"} 3\n" P_BUCKET P_SS_EST ",le=\"0.065536\"} 3\n" P_BUCKET P_SS_EST
	",le=\"0.131072\"} 3\n" P_BUCKET P_SS_EST ",le=\"0.262144\"} 3\n" P_BUCKET P_SS_EST
	",le=\"0.524288\"} 3\n" P_BUCKET P_SS_EST ",le=\"1.048576\"} 3\n" P_BUCKET P_SS_EST
	",le=\"2.097152\"} 3\n" P_BUCKET P_SS_EST ",le=\"4.194304\"} 3\n" P_BUCKET P_SS_EST
	",le=\"8.388608\"} 3\n" P_BUCKET P_SS_EST ",le=\"16.777216\"} 3\n" P_BUCKET P_SS_EST
	",le=\"33.554432\"} 3\n" P_BUCKET P_SS_EST ",le=\"67.108864\"} 3\n" P_BUCKET P_SS_EST
	",le=\"134.217728\"} 3\n" P_BUCKET P_SS_EST ",le=\"268.435456\"} 3\n" P_BUCKET P_SS_EST
	",le=\"536.870912\"} 3\n" P_BUCKET P_SS_EST ",le=\"1073.741824\"} 3\n" P_BUCKET P_SS_EST
	",le=\"2147.483648\"} 3\n" P_BUCKET P_SS_EST ",le=\"4294.967296\"} 3\n" P_BUCKET P_SS_EST
	",le=\"8589.934592\"} 3\n" P_BUCKET P_SS_EST ",le=\"17179.869184\"} 3\n" P_BUCKET P_SS_EST
	",le=\"34359.738368\"} 3\n" P_BUCKET P_SS_EST ",le=\"68719.476736\"} 3\n" P_BUCKET P_SS_EST
	",le=\"137438.953472\"} 3\n" P_BUCKET P_SS_EST ",le=\"+Inf\"} 3\n"
	"tcpstatehist_state_duration_seconds_sum" P_SS_EST "} 0.000055000\n"
	"tcpstatehist_state_duration_seconds_count" P_SS_EST "} 3\n" P_BUCKET P_CLOSE_SS
	",le=\"0.000001\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.000002\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.000004\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.000008\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.000016\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.000032\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.000064\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.000128\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.000256\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.000512\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.001024\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.002048\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.004096\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.008192\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.016384\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.032768\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.065536\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.131072\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"0.262144\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"0.524288\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"1.048576\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"2.097152\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"4.194304\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"8.388608\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"16.777216\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"33.554432\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"67.108864\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"134.217728\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"268.435456\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"536.870912\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"1073.741824\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"2147.483648\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"4294.967296\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"8589.934592\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"17179.869184\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"34359.738368\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"68719.476736\"} 0\n" P_BUCKET P_CLOSE_SS
	",le=\"137438.953472\"} 0\n" P_BUCKET P_CLOSE_SS ",le=\"+Inf\"} 0\n"
	"tcpstatehist_state_duration_seconds_sum" P_CLOSE_SS "} 0.000000000\n"
	"tcpstatehist_state_duration_seconds_count" P_CLOSE_SS "} 0\n" P_HEADERS_MISSED
	"tcpstatehist_missed_transitions_total 2\n" P_HEADERS_ATTACH
	"tcpstatehist_attach_time_seconds 1699990000\n";

static void test_prometheus(void)
{
	static struct snapshot snap;
	struct render_opts opts = { .since_realtime = T_SINCE };

	sample_snapshot(&snap);
	CHECK_RENDER(sample_prometheus, render_prometheus, &snap, &opts);
}

static void test_prometheus_empty(void)
{
	static struct snapshot snap;
	struct render_opts opts = { .since_realtime = T_SINCE };

	memset(&snap, 0, sizeof(snap));
	CHECK_RENDER(P_HEADERS_COUNT P_HEADERS_UNKNOWN P_HEADERS_HIST P_HEADERS_MISSED
		     "tcpstatehist_missed_transitions_total 0\n" P_HEADERS_ATTACH
		     "tcpstatehist_attach_time_seconds 1699990000\n",
		     render_prometheus, &snap, &opts);
}

/*
 * Every bucket of the OTHER slot used (bucket b holds b + 1): each le is
 * exact, each value is the sum up to it, and _count equals the +Inf bucket.
 */
static void test_prometheus_buckets(void)
{
	static const char *const le[TSH_NBUCKETS] = {
		"0.000001",	"0.000002",	"0.000004",	 "0.000008",	"0.000016",
		"0.000032",	"0.000064",	"0.000128",	 "0.000256",	"0.000512",
		"0.001024",	"0.002048",	"0.004096",	 "0.008192",	"0.016384",
		"0.032768",	"0.065536",	"0.131072",	 "0.262144",	"0.524288",
		"1.048576",	"2.097152",	"4.194304",	 "8.388608",	"16.777216",
		"33.554432",	"67.108864",	"134.217728",	 "268.435456",	"536.870912",
		"1073.741824",	"2147.483648",	"4294.967296",	 "8589.934592", "17179.869184",
		"34359.738368", "68719.476736", "137438.953472", "+Inf",
	};
	static struct snapshot snap;
	struct render_opts opts = {};
	unsigned long long want = 0;
	char line[256], *out, *p;
	int ret = 1;

	memset(&snap, 0, sizeof(snap));
	for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
		snap.slots[TSH_SLOT_OTHER].buckets[b] = b + 1;
	snap.slots[TSH_SLOT_OTHER].count = 780 + 5;
	snap.slots[TSH_SLOT_OTHER].unknown = 5;
	snap.slots[TSH_SLOT_OTHER].sum_ns = 12345678901234ull;
	out = render(render_prometheus, &snap, &opts, &ret);
	CHECK_EQ_U64(0, ret);
	if (!out)
		return;
	p = out;
	for (unsigned int b = 0; b < TSH_NBUCKETS; b++) {
		want += b + 1;
		snprintf(line, sizeof(line),
			 P_BUCKET "{old_state=\"OTHER\",new_state=\"OTHER\",le=\"%s\"} %llu\n",
			 le[b], want);
		p = strstr(p, line);
		CHECK(p);
		if (!p) {
			printf("      missing, or out of order: %s", line);
			break;
		}
		p += strlen(line);
	}
	CHECK_EQ_U64(780, want);
	CHECK(strstr(out, "tcpstatehist_state_duration_seconds_count{old_state=\"OTHER\","
			  "new_state=\"OTHER\"} 780\n"));
	CHECK(strstr(out, "tcpstatehist_state_duration_seconds_sum{old_state=\"OTHER\","
			  "new_state=\"OTHER\"} 12345.678901234\n"));
	CHECK(strstr(out, "tcpstatehist_transitions_total{old_state=\"OTHER\","
			  "new_state=\"OTHER\"} 785\n"));
	CHECK(strstr(out, "tcpstatehist_unknown_duration_transitions_total{old_state=\"OTHER\","
			  "new_state=\"OTHER\"} 5\n"));
	CHECK(strstr(out, "tcpstatehist_attach_time_seconds 0\n"));
	free(out);
}

/* Each renderer reports a stream in error as -EIO. */
static void test_stream_errors(void)
{
	static const renderer_fn renderers[] = { render_text, render_json, render_prometheus };
	static struct snapshot sample, empty;
	struct render_opts opts = { .since_realtime = T_SINCE };

	sample_snapshot(&sample);
	memset(&empty, 0, sizeof(empty));
	for (unsigned int i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
		const struct snapshot *snaps[] = { &sample, &empty };

		for (unsigned int s = 0; s < 2; s++) {
			char buf[16];
			FILE *f = fmemopen(buf, sizeof(buf), "w");

			CHECK(f);
			if (f) {
				setvbuf(f, NULL, _IONBF, 0);
				CHECK(renderers[i](f, snaps[s], &opts) == -EIO);
				fclose(f);
			}
			f = fopen("/dev/full", "w");
			CHECK(f);
			if (f) {
				setvbuf(f, NULL, _IONBF, 0);
				CHECK(renderers[i](f, snaps[s], &opts) == -EIO);
				fclose(f);
			}
		}
	}
}

UNIT_TESTS(render_tests) = {
	{ "render: text", test_text },
	{ "render: text with -T and -m", test_text_options },
	{ "render: text, empty and OTHER", test_text_empty_and_other },
	{ "render: json", test_json },
	{ "render: json, empty and OTHER", test_json_empty_and_other },
	{ "render: prometheus", test_prometheus },
	{ "render: prometheus, empty", test_prometheus_empty },
	{ "render: prometheus buckets exact and cumulative", test_prometheus_buckets },
	{ "render: stream errors are -EIO", test_stream_errors },
	UNIT_END,
};
