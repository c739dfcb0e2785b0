// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The status renderers against the exact text they must produce. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "render.h"
#include "unit.h"

#define T_SINCE 1699990000 /* 2023-11-14T19:26:40Z */

/* The renderer's output as a string (to free); CHECKs that it returned 0. */
static char *rendered(int (*render)(FILE *, const struct status *), const struct status *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return strdup("");
	CHECK_EQ_U64(0, render(out, st));
	fclose(out);
	return buf;
}

#define CHECK_STATUS(want, render, st)                                                             \
	do {                                                                                       \
		char *got_ = rendered((render), (st));                                             \
		CHECK_STR((want), got_);                                                           \
		free(got_);                                                                        \
	} while (0)

/* Attached 100 s ago with -4 -L 80,443 -N, statistics over a 1 s window. */
static void sample_status(struct status *st)
{
	memset(st, 0, sizeof(*st));
	st->pin_path = "/sys/fs/bpf/tcpstatehist";
	st->attached = true;
	st->meta.layout_version = 3;
	st->meta.family = AF_INET;
	st->meta.attach_realtime_ns = T_SINCE * 1000000000ull + 5;
	strcpy(st->meta.lports, "80,443");
	strcpy(st->meta.netns_path, "/run/netns/a\"b");
	strcpy(st->meta.cgroup_path, "/sys/fs/cgroup/web.slice");
	strcpy(st->meta.labels, "service=web\nteam=a\"b\\c\n");
	st->now = T_SINCE + 100;
	st->transitions = 12;
	st->missed = 1;
	st->start_fallbacks = 2;
	st->start_reclaims = 3;
	st->memlock = 4096;
	st->stats_source = STATS_WINDOW;
	st->stats_window_s = 1;
	st->progs[PROG_MAIN] = (struct prog_cost){ "tsh_main", 10, 1234, 0 };
	st->progs[PROG_RECOVER] = (struct prog_cost){ "tsh_recover", 10, 500, 0 };
}

static const char sample_head[] =
	"attached:     yes, since 2023-11-14T19:26:40Z (100 s ago)\n"
	"pin path:     /sys/fs/bpf/tcpstatehist (layout v3)\n"
	"filters:      -4 -L 80,443 -N /run/netns/a\"b --cgroup /sys/fs/cgroup/web.slice\n"
	"breakdown:    none\n"
	"labels:       service=\"web\",team=\"a\\\"b\\\\c\"\n"
	"transitions:  12 counted, 1 missed\n"
	"start slots:  2 sockets fell back to socket storage (slot taken), 3 slots taken over "
	"from sockets gone\n"
	"map memory:   4096 bytes (memlock)\n";

static const char cost_header[] =
	"  program                runs    run time ns     avg ns  recursion misses\n";

static void test_text(void)
{
	static struct status st;
	char want[2048];

	sample_status(&st);
	snprintf(want, sizeof(want), "%s%s%s%s%s", sample_head,
		 "cost:         measured over 1 s (kernel.bpf_stats_enabled is 0)\n", cost_header,
		 "  tsh_main                 10           1234      123.4                 0\n",
		 "  tsh_recover              10            500       50.0                 0\n");
	CHECK_STATUS(want, render_status_text, &st);

	st.stats_source = STATS_CUMULATIVE;
	snprintf(want, sizeof(want), "%s%s%s%s%s", sample_head,
		 "cost:         since kernel.bpf_stats_enabled was set\n", cost_header,
		 "  tsh_main                 10           1234      123.4                 0\n",
		 "  tsh_recover              10            500       50.0                 0\n");
	CHECK_STATUS(want, render_status_text, &st);
}

static void test_text_unavailable(void)
{
	static struct status st;
	char want[2048];

	sample_status(&st);
	st.stats_source = STATS_UNAVAILABLE;
	strcpy(st.stats_error, "cannot enable BPF statistics: Operation not permitted");
	st.progs[PROG_MAIN].recursion_misses = 7;
	snprintf(want, sizeof(want), "%s%s%s%s%s", sample_head,
		 "cost:         unavailable (cannot enable BPF statistics: Operation not "
		 "permitted)\n",
		 cost_header,
		 "  tsh_main                  -              -          -                 7\n",
		 "  tsh_recover               -              -          -                 0\n");
	CHECK_STATUS(want, render_status_text, &st);
}

static void test_text_no_filters_clock_behind(void)
{
	static struct status st;
	char *got;

	sample_status(&st);
	memset(&st.meta.lports, 0, sizeof(st.meta.lports));
	memset(&st.meta.netns_path, 0, sizeof(st.meta.netns_path));
	memset(&st.meta.cgroup_path, 0, sizeof(st.meta.cgroup_path));
	st.meta.family = 0;
	st.now = T_SINCE - 10; /* the clock went back: never a huge "ago" */
	got = rendered(render_status_text, &st);
	CHECK(strstr(got, "attached:     yes, since 2023-11-14T19:26:40Z (0 s ago)\n"));
	CHECK(strstr(got, "filters:      none\n"));
	free(got);
	st.meta.by = TSH_BY_CGROUP;
	st.max_keys = 64;
	got = rendered(render_status_text, &st);
	CHECK(strstr(got,
		     "breakdown:    by cgroup, at most 64 keys (later keys count as other)\n"));
	free(got);
	got = rendered(render_status_json, &st);
	CHECK(strstr(got, "\"by\":\"cgroup\",\"max_keys\":64,"));
	free(got);
}

static void test_not_attached(void)
{
	struct status st = { .pin_path = "/sys/fs/bpf/x\ny" };

	CHECK_STATUS("attached:     no (no pins at /sys/fs/bpf/x\ny)\n", render_status_text, &st);
	st.problem = "incomplete pin set";
	CHECK_STATUS("attached:     no (incomplete pin set)\n", render_status_text, &st);
	CHECK_STATUS("{\"attached\":false,\"pin_path\":\"/sys/fs/bpf/x\\u000ay\","
		     "\"error\":\"incomplete pin set\"}\n",
		     render_status_json, &st);
	st.problem = NULL;
	CHECK_STATUS("{\"attached\":false,\"pin_path\":\"/sys/fs/bpf/x\\u000ay\"}\n",
		     render_status_json, &st);
}

static void test_json(void)
{
	static struct status st;

	sample_status(&st);
	CHECK_STATUS(
		"{\"attached\":true,\"pin_path\":\"/sys/fs/bpf/tcpstatehist\",\"layout\":3,"
		"\"since\":\"2023-11-14T19:26:40Z\",\"filters\":{\"family\":\"ipv4\","
		"\"lports\":\"80,443\",\"rports\":null,\"netns\":\"/run/netns/a\\\"b\","
		"\"cgroup\":\"/sys/fs/cgroup/web.slice\"},"
		"\"by\":null,\"max_keys\":null,"
		"\"labels\":{\"service\":\"web\",\"team\":\"a\\\"b\\\\c\"},"
		"\"transitions\":12,\"missed\":1,\"start_fallbacks\":2,\"start_reclaims\":3,"
		"\"memlock_bytes\":4096,\"stats\":{\"source\":\"window\",\"window_s\":1,"
		"\"programs\":[{\"name\":\"tsh_main\",\"recursion_misses\":0,\"run_cnt\":10,"
		"\"run_time_ns\":1234,\"avg_ns\":123.4},{\"name\":\"tsh_recover\","
		"\"recursion_misses\":0,\"run_cnt\":10,\"run_time_ns\":500,\"avg_ns\":50.0}]}}\n",
		render_status_json, &st);
}

static void test_json_cumulative_and_unavailable(void)
{
	static struct status st;
	char *got;

	sample_status(&st);
	st.meta.family = AF_INET6;
	st.stats_source = STATS_CUMULATIVE;
	got = rendered(render_status_json, &st);
	CHECK(strstr(got, "\"family\":\"ipv6\""));
	CHECK(strstr(got, "\"stats\":{\"source\":\"cumulative\",\"window_s\":null,"));
	free(got);

	st.stats_source = STATS_UNAVAILABLE;
	st.progs[PROG_MAIN].run_cnt = 0;
	got = rendered(render_status_json, &st);
	CHECK(strstr(got, "\"stats\":{\"source\":null,\"window_s\":null,\"programs\":[{\"name\":"
			  "\"tsh_main\",\"recursion_misses\":0,\"run_cnt\":null,\"run_time_ns\":"
			  "null,\"avg_ns\":null},"));
	free(got);
}

static void test_stream_errors(void)
{
	static struct status st;
	FILE *f;

	sample_status(&st);
	f = fopen("/dev/full", "w");
	CHECK(f);
	if (f) {
		setvbuf(f, NULL, _IONBF, 0);
		CHECK(render_status_text(f, &st) == -EIO);
		CHECK(render_status_json(f, &st) == -EIO);
		fclose(f);
	}
}

UNIT_TESTS(render_status_tests) = {
	{ "render status: text", test_text },
	{ "render status: text, statistics unavailable", test_text_unavailable },
	{ "render status: text, no filters, clock behind", test_text_no_filters_clock_behind },
	{ "render status: not attached, text and json", test_not_attached },
	{ "render status: json", test_json },
	{ "render status: json, cumulative and unavailable", test_json_cumulative_and_unavailable },
	{ "render status: stream errors are -EIO", test_stream_errors },
	UNIT_END,
};
