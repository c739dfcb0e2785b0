// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The census (sockets): counting, the oldest list, and its three renderers. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "census.h"
#include "render.h"
#include "unit.h"

static struct tsh_sock_record record(__u64 cookie, unsigned int state, unsigned int kind,
				     unsigned int source, __u64 age_ns)
{
	struct tsh_sock_record rec = {
		.cookie = cookie,
		.age_ns = age_ns,
		.family = AF_INET,
		.state = state,
		.kind = kind,
		.age_source = source,
		.sport = 8000,
		.dport = 40000 + cookie,
		.saddr = { 127, 0, 0, 1 },
		.daddr = { 127, 0, 0, 2 },
	};

	return rec;
}

/*
 * Four CLOSE_WAIT (ages 3 s, 1.5 s, 3 s and unknown), two FIN_WAIT2
 * timewait sockets (70 s, 50 s), one request socket (400 us), one LISTEN
 * of unknown age.
 */
static void fill(struct census *c)
{
	struct tsh_sock_record recs[] = {
		record(11, TSH_CLOSE_WAIT, TSH_SOCK_FULL, TSH_AGE_START, 3000000000ull),
		record(12, TSH_CLOSE_WAIT, TSH_SOCK_FULL, TSH_AGE_START, 1500000000ull),
		record(13, TSH_CLOSE_WAIT, TSH_SOCK_FULL, TSH_AGE_START, 3000000000ull),
		record(14, TSH_CLOSE_WAIT, TSH_SOCK_FULL, TSH_AGE_UNKNOWN, 0),
		record(21, TSH_FIN_WAIT2, TSH_SOCK_TIMEWAIT, TSH_AGE_TIMER, 70000000000ull),
		record(22, TSH_FIN_WAIT2, TSH_SOCK_TIMEWAIT, TSH_AGE_TIMER, 50000000000ull),
		record(31, TSH_SYN_RECV, TSH_SOCK_REQUEST, TSH_AGE_SYNACK, 400000),
		record(41, TSH_LISTEN, TSH_SOCK_FULL, TSH_AGE_UNKNOWN, 0),
	};

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		census_add(c, &recs[i]);
	census_finish(c);
}

static void test_counts(void)
{
	struct tsh_sock_record oldest[3];
	struct census c;

	census_init(&c, oldest, 3, 0);
	fill(&c);
	CHECK_EQ_U64(8, c.totals.sockets);
	CHECK_EQ_U64(4, c.totals.states[TSH_CLOSE_WAIT].count);
	CHECK_EQ_U64(1, c.totals.states[TSH_CLOSE_WAIT].unknown);
	CHECK_EQ_U64(7500000000ull, c.totals.states[TSH_CLOSE_WAIT].sum_ns);
	CHECK_EQ_U64(2,
		     c.totals.states[TSH_CLOSE_WAIT].buckets[tsh_duration_bucket(3000000000ull)]);
	CHECK_EQ_U64(1,
		     c.totals.states[TSH_CLOSE_WAIT].buckets[tsh_duration_bucket(1500000000ull)]);
	CHECK_EQ_U64(2, c.totals.states[TSH_FIN_WAIT2].count);
	CHECK_EQ_U64(1, c.totals.states[TSH_SYN_RECV].count);
	CHECK_EQ_U64(1, c.totals.states[TSH_LISTEN].unknown);
	/* The oldest three, oldest first; equal ages by cookie. */
	CHECK_EQ_U64(3, c.noldest);
	CHECK_EQ_U64(21, oldest[0].cookie);
	CHECK_EQ_U64(22, oldest[1].cookie);
	CHECK_EQ_U64(11, oldest[2].cookie);
}

static void test_older_than(void)
{
	struct tsh_sock_record oldest[10];
	struct census c;

	census_init(&c, oldest, 10, 2000000000ull);
	fill(&c);
	CHECK_EQ_U64(4, c.totals.sockets);
	CHECK_EQ_U64(2, c.totals.states[TSH_CLOSE_WAIT].count);
	CHECK_EQ_U64(0, c.totals.states[TSH_CLOSE_WAIT].unknown);
	CHECK_EQ_U64(2, c.totals.states[TSH_FIN_WAIT2].count);
	CHECK_EQ_U64(0, c.totals.states[TSH_SYN_RECV].count);
	CHECK_EQ_U64(0, c.totals.states[TSH_LISTEN].count);
	CHECK_EQ_U64(4, c.noldest);
	CHECK_EQ_U64(13, oldest[3].cookie);
}

static void test_top_zero_and_bad_state(void)
{
	struct tsh_sock_record rec = record(1, 99, TSH_SOCK_FULL, TSH_AGE_START, 5);
	struct census c;

	census_init(&c, NULL, 0, 0);
	census_add(&c, &rec);
	census_finish(&c);
	CHECK_EQ_U64(1, c.totals.states[0].count);
	CHECK_EQ_U64(0, c.noldest);
	CHECK_STR("UNKNOWN", census_state_name(99));
	CHECK_STR("unknown", census_kind_name(7));
	CHECK_STR("unknown", census_age_source_name(9));
}

static void test_endpoints(void)
{
	__u8 v6[16] = { [15] = 1 }, v4[16] = { 10, 0, 0, 1 };
	char buf[64];

	census_format_endpoint(buf, sizeof(buf), AF_INET6, v6, 443);
	CHECK_STR("[::1]:443", buf);
	census_format_endpoint(buf, sizeof(buf), AF_INET, v4, 80);
	CHECK_STR("10.0.0.1:80", buf);
	census_format_endpoint(buf, sizeof(buf), 0, v4, 80);
	CHECK_STR("?:80", buf);
}

static char *render(int (*fn)(FILE *, const struct census *), const struct census *c, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out) {
		*ret = -errno;
		return NULL;
	}
	*ret = fn(out, c);
	fclose(out);
	return buf;
}

#define CHECK_CENSUS_RENDER(want, fn, c)                                                           \
	do {                                                                                       \
		int r_ = 1;                                                                        \
		char *got_ = render((fn), (c), &r_);                                               \
		CHECK_EQ_U64(0, r_);                                                               \
		CHECK_STR((want), got_ ? got_ : "");                                               \
		free(got_);                                                                        \
	} while (0)

static const char golden_text[] =
	"TCP sockets: 8\n"
	"STATE             SOCKETS    UNKNOWN      P50      P90      MAX\n"
	"SYN_RECV                1          0    512us    512us    512us\n"
	"FIN_WAIT2               2          0    67.1s     134s     134s\n"
	"CLOSE_WAIT              4          1    4.19s    4.19s    4.19s\n"
	"LISTEN                  1          1        -        -        -\n"
	"\n"
	"SYN_RECV: 1 sockets, 0 of unknown age\n"
	"                    usecs (lo, hi] : count      distribution\n"
	"            256 -> 512             : 1          |***************************************"
	"*|\n"
	"\n"
	"FIN_WAIT2: 2 sockets, 0 of unknown age\n"
	"                    usecs (lo, hi] : count      distribution\n"
	"       33554432 -> 67108864        : 1          |***************************************"
	"*|\n"
	"       67108864 -> 134217728       : 1          |***************************************"
	"*|\n"
	"\n"
	"CLOSE_WAIT: 4 sockets, 1 of unknown age\n"
	"                    usecs (lo, hi] : count      distribution\n"
	"        1048576 -> 2097152         : 1          |********************                   "
	" |\n"
	"        2097152 -> 4194304         : 2          |***************************************"
	"*|\n"
	"\n"
	"LISTEN: 1 sockets, 1 of unknown age\n"
	"\n"
	"Oldest 2 of known age:\n"
	"AGE      STATE       KIND     COOKIE               LOCAL                  REMOTE        "
	"         CGROUP\n"
	"70s      FIN_WAIT2   timewait 21                   127.0.0.1:8000         127.0.0.2:4002"
	"1        -\n"
	"50s      FIN_WAIT2   timewait 22                   127.0.0.1:8000         127.0.0.2:4002"
	"2        /system.slice/app.service\n"
	"\n";
static const char golden_json[] =
	"{\"sockets\":8,\"older_than_ns\":null,\"start_times\":false,\"no_start_times\":\"nothing"
	" \\\"attached\\\"\",\"states\":[{\"state\":\"SYN_RECV\",\"count\":1,\"unknown\":0,\"sum_"
	"ns\":400000,\"p50_us\":512,\"p90_us\":512,\"p99_us\":512,\"max_us\":512,\"buckets\":[{\""
	"le_us\":512,\"count\":1}]},{\"state\":\"FIN_WAIT2\",\"count\":2,\"unknown\":0,\"sum_ns\""
	":120000000000,\"p50_us\":67108864,\"p90_us\":134217728,\"p99_us\":134217728,\"max_us\":1"
	"34217728,\"buckets\":[{\"le_us\":67108864,\"count\":1},{\"le_us\":134217728,\"count\":1}"
	"]},{\"state\":\"CLOSE_WAIT\",\"count\":4,\"unknown\":1,\"sum_ns\":7500000000,\"p50_us\":"
	"4194304,\"p90_us\":4194304,\"p99_us\":4194304,\"max_us\":4194304,\"buckets\":[{\"le_us\""
	":2097152,\"count\":1},{\"le_us\":4194304,\"count\":2}]},{\"state\":\"LISTEN\",\"count\":"
	"1,\"unknown\":1,\"sum_ns\":0,\"p50_us\":null,\"p90_us\":null,\"p99_us\":null,\"max_us\":"
	"null,\"buckets\":[]}],\"oldest\":[{\"cookie\":21,\"state\":\"FIN_WAIT2\",\"kind\":\"time"
	"wait\",\"family\":\"ipv4\",\"local\":\"127.0.0.1:8000\",\"remote\":\"127.0.0.2:40021\","
	"\"age_ns\":70000000000,\"age_source\":\"timer\",\"cgroup_id\":0,\"cgroup\":null},{\"cook"
	"ie\":22,\"state\":\"FIN_WAIT2\",\"kind\":\"timewait\",\"family\":\"ipv4\",\"local\":\"12"
	"7.0.0.1:8000\",\"remote\":\"127.0.0.2:40022\",\"age_ns\":50000000000,\"age_source\":\"ti"
	"mer\",\"cgroup_id\":0,\"cgroup\":null}]}\n";

static void test_render_text(void)
{
	struct tsh_sock_record oldest[2];
	const char *cgroups[] = { NULL, "/system.slice/app.service" };
	struct census c;

	census_init(&c, oldest, 2, 0);
	c.start_times = true;
	fill(&c);
	c.cgroups = cgroups;
	CHECK_CENSUS_RENDER(golden_text, render_sockets_text, &c);
}

static void test_render_json(void)
{
	struct tsh_sock_record oldest[2];
	struct census c;

	census_init(&c, oldest, 2, 0);
	fill(&c);
	snprintf(c.no_start_times, sizeof(c.no_start_times), "nothing \"attached\"");
	CHECK_CENSUS_RENDER(golden_json, render_sockets_json, &c);
}

static void test_render_prometheus(void)
{
	struct tsh_sock_record oldest[2];
	struct census c;
	char *got;
	int ret;

	census_init(&c, oldest, 2, 0);
	fill(&c);
	got = render(render_sockets_prometheus, &c, &ret);
	CHECK_EQ_U64(0, ret);
	CHECK(got && strstr(got, "# TYPE tcpstatehist_sockets gauge\n"));
	CHECK(got && strstr(got, "\ntcpstatehist_sockets{state=\"CLOSE_WAIT\"} 4\n"));
	CHECK(got && strstr(got, "\ntcpstatehist_sockets{state=\"TIME_WAIT\"} 0\n"));
	CHECK(got && strstr(got, "\ntcpstatehist_sockets_unknown_age{state=\"CLOSE_WAIT\"} 1\n"));
	CHECK(got && strstr(got, "# TYPE tcpstatehist_socket_state_age_seconds histogram\n"));
	/* Cumulative: 1.5 s lies in (1.048576, 2.097152] s; the two 3 s in (2.097152, 4.194304]. */
	CHECK(got && strstr(got, "_bucket{state=\"CLOSE_WAIT\",le=\"1.048576\"} 0\n"));
	CHECK(got && strstr(got, "_bucket{state=\"CLOSE_WAIT\",le=\"2.097152\"} 1\n"));
	CHECK(got && strstr(got, "_bucket{state=\"CLOSE_WAIT\",le=\"4.194304\"} 3\n"));
	CHECK(got && strstr(got, "_bucket{state=\"CLOSE_WAIT\",le=\"+Inf\"} 3\n"));
	CHECK(got && strstr(got, "_sum{state=\"CLOSE_WAIT\"} 7.500000000\n"));
	CHECK(got && strstr(got, "_count{state=\"CLOSE_WAIT\"} 3\n"));
	/* No histogram for a state without a known age. */
	CHECK(got && !strstr(got, "_count{state=\"LISTEN\"}"));
	free(got);
}

/*
 * The iterator's filter (include/tsh_sockets.h) against counting every
 * record: for each list size, ages in random order with many ties, the
 * candidates that beat the heap's root must make the same oldest list as all
 * the records, and be few.
 */
static void test_candidates(void)
{
	static const unsigned int tops[] = { 1, 2, 7, 10, 100, TSH_CENSUS_TOP_MAX };
	static struct tsh_sock_record all[TSH_CENSUS_TOP_MAX], filtered[TSH_CENSUS_TOP_MAX];
	static struct tsh_census_heap heap;
	const unsigned int n = 20000;
	unsigned long long seed = 88172645463325252ull;

	for (size_t t = 0; t < sizeof(tops) / sizeof(tops[0]); t++) {
		unsigned int top = tops[t], candidates = 0;
		struct census every, some;

		memset(&heap, 0, sizeof(heap));
		census_init(&every, all, top, 0);
		census_init(&some, filtered, top, 0);
		for (unsigned int i = 0; i < n; i++) {
			struct tsh_sock_record rec;

			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			/*
			 * 5000 distinct ages: ties that only the cookie orders, and
			 * cookies out of the walk's order (7919 is prime to n).
			 */
			rec = record(1000 + (i * 7919ull) % n, TSH_ESTABLISHED, TSH_SOCK_FULL,
				     TSH_AGE_START, 1000 * (seed % 5000));
			census_add(&every, &rec);
			if (!tsh_census_may_beat(&heap, top, rec.age_ns) ||
			    !tsh_census_beats(&heap, top, rec.age_ns, rec.cookie))
				continue;
			tsh_census_heap_push(&heap, top, rec.age_ns, rec.cookie);
			census_offer(&some, &rec);
			candidates++;
		}
		census_finish(&every);
		census_finish(&some);
		CHECK_EQ_U64(top, heap.len);
		CHECK_EQ_U64(every.noldest, some.noldest);
		for (unsigned int i = 0; i < top; i++)
			CHECK_EQ_U64(all[i].cookie, filtered[i].cookie);
		/* The root is the youngest of the list. */
		CHECK_EQ_U64(all[top - 1].cookie, heap.cookie[0]);
		/* About top * (1 + ln(n / top)) in a random order; the list, not the walk. */
		CHECK(candidates < n / 4 || top == TSH_CENSUS_TOP_MAX);
	}
}

UNIT_TESTS(census_tests) = {
	{ "census: counts, unknown ages, the oldest", test_counts },
	{ "census: --older-than keeps known ages only", test_older_than },
	{ "census: no oldest list, a state outside the table", test_top_zero_and_bad_state },
	{ "census: the iterator's candidates make the exact oldest list", test_candidates },
	{ "census: endpoints as ss prints them", test_endpoints },
	{ "census: text", test_render_text },
	{ "census: json", test_render_json },
	{ "census: prometheus", test_render_prometheus },
	UNIT_END,
};
