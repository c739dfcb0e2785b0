// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The trace renderers against the exact text they must produce. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "render_trace.h"
#include "snapshot.h"
#include "unit.h"

/* 2023-11-14T22:13:20Z as CLOCK_REALTIME, from a monotonic time of 5 s. */
#define T_REAL 1700000000000000000ull
#define T_MONO 5000000000ull

static struct tsh_trace_record v4_record(void)
{
	struct tsh_trace_record rec = {
		.time_ns = T_MONO + 123,
		.cookie = 4242,
		.duration_ns = 300206123,
		.pid = 77,
		.family = AF_INET,
		.lport = 59784,
		.rport = 80,
		.oldstate = TSH_ESTABLISHED,
		.newstate = TSH_FIN_WAIT1,
	};

	inet_pton(AF_INET, "10.0.0.1", rec.laddr);
	inet_pton(AF_INET, "192.168.100.200", rec.raddr);
	memcpy(rec.comm, "curl", 5);
	return rec;
}

static const struct trace_opts plain = { .realtime_offset_ns = T_REAL - T_MONO };

/* A renderer's output as a string (to free). */
static char *render_one(const struct tsh_trace_record *rec, const struct trace_opts *opts,
			bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct trace_tod tod = { 0 };

	if (!out)
		return NULL;
	CHECK_EQ_U64(0, json ? render_trace_json(out, rec, NULL, opts)
			     : render_trace_text(out, rec, NULL, opts, &tod));
	fclose(out);
	return buf;
}

static void test_text(void)
{
	struct tsh_trace_record rec = v4_record();
	struct trace_opts opts = plain;
	char *got;

	got = render_one(&rec, &opts, false);
	CHECK_STR(
		"4242         77      curl             10.0.0.1        59784 192.168.100.200 80    "
		"ESTABLISHED -> FIN_WAIT1   300.206\n",
		got);
	free(got);
	/* Unknown duration, a control byte in comm, the time of day. */
	rec.duration_ns = TSH_TRACE_UNKNOWN;
	memcpy(rec.comm, "a\tb", 4);
	opts.time_of_day = true;
	setenv("TZ", "EST5", 1);
	tzset();
	got = render_one(&rec, &opts, false);
	CHECK_STR("17:13:20 4242         77      a?b              10.0.0.1        59784 "
		  "192.168.100.200 80    ESTABLISHED -> FIN_WAIT1   -\n",
		  got);
	free(got);
}

static void test_text_wide_v6(void)
{
	struct tsh_trace_record rec = v4_record();
	struct trace_opts opts = plain;
	char *got;

	rec.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", rec.laddr);
	inet_pton(AF_INET6, "::1", rec.raddr);
	opts.wide = true;
	got = render_one(&rec, &opts, false);
	CHECK_STR(
		"4242         77      curl             2001:db8::1                             59784 "
		"::1                                     80    ESTABLISHED -> FIN_WAIT1   300.206\n",
		got);
	free(got);
}

/* --by: the key first in text (its column titled by the kind), a field named so in JSON. */
static void test_by_key(void)
{
	struct tsh_trace_record rec = v4_record();
	struct trace_opts opts = plain;
	char line[TRACE_LINE_MAX + TRACE_KEY_MAX], *buf = NULL;
	struct trace_tod tod = { 0 };
	size_t len = 0;
	FILE *out;

	opts.by = TSH_BY_PORT;
	len = render_trace_line(line, &rec, "80", &opts, &tod);
	line[len] = '\0';
	CHECK_STR("80    4242         77      curl             10.0.0.1        59784 "
		  "192.168.100.200 80    ESTABLISHED -> FIN_WAIT1   300.206\n",
		  line);
	opts.by = TSH_BY_CGROUP;
	len = render_trace_line(line, &rec, "/system.slice/a\tb.service", &opts, &tod);
	line[len] = '\0';
	CHECK_STR("/system.slice/a?b.service 4242         77      curl             10.0.0.1        "
		  "59784 192.168.100.200 80    ESTABLISHED -> FIN_WAIT1   300.206\n",
		  line);
	out = open_memstream(&buf, &len);
	CHECK_EQ_U64(0, render_trace_header(out, &opts));
	CHECK_EQ_U64(0, render_trace_json(out, &rec, "/a\"b", &opts));
	fclose(out);
	CHECK_STR(
		"CGROUP                   COOKIE       PID     COMM             LADDR           LPORT "
		"RADDR           RPORT OLDSTATE    -> NEWSTATE    MS\n"
		"{\"time_ns\":1700000000000000123,\"cookie\":4242,\"pid\":77,\"comm\":\"curl\","
		"\"family\":4,\"laddr\":\"10.0.0.1\",\"lport\":59784,"
		"\"raddr\":\"192.168.100.200\",\"rport\":80,\"old_state\":\"ESTABLISHED\","
		"\"new_state\":\"FIN_WAIT1\",\"cgroup\":\"/a\\\"b\",\"duration_us\":300206.123}\n",
		buf);
	free(buf);
}

static void test_header(void)
{
	struct trace_opts opts = { .time_of_day = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	CHECK_EQ_U64(0, render_trace_header(out, &opts));
	fclose(out);
	CHECK_STR(
		"TIME     COOKIE       PID     COMM             LADDR           LPORT RADDR          "
		" RPORT OLDSTATE    -> NEWSTATE    MS\n",
		buf);
	free(buf);
}

static void test_json(void)
{
	struct tsh_trace_record rec = v4_record();
	char *got;

	got = render_one(&rec, &plain, true);
	CHECK_STR(
		"{\"time_ns\":1700000000000000123,\"cookie\":4242,\"pid\":77,\"comm\":\"curl\","
		"\"family\":4,\"laddr\":\"10.0.0.1\",\"lport\":59784,\"raddr\":\"192.168.100.200\","
		"\"rport\":80,\"old_state\":\"ESTABLISHED\",\"new_state\":\"FIN_WAIT1\","
		"\"duration_us\":300206.123}\n",
		got);
	free(got);
	/* Unknown duration: null; a quote in comm escaped; a state outside the table. */
	rec.duration_ns = TSH_TRACE_UNKNOWN;
	memcpy(rec.comm, "a\"b", 4);
	rec.newstate = 15;
	got = render_one(&rec, &plain, true);
	CHECK(got && strstr(got, "\"comm\":\"a\\\"b\""));
	CHECK(got && strstr(got, "\"new_state\":\"UNKNOWN\""));
	CHECK(got && strstr(got, "\"duration_us\":null}"));
	free(got);
}

static void test_end(void)
{
	struct trace_totals totals = { .records = 10, .lost = 2, .missed = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	CHECK_EQ_U64(0, render_trace_end_text(out, &totals));
	CHECK_EQ_U64(0, render_trace_end_json(out, &totals));
	fclose(out);
	CHECK_STR("records: 10\nlost: 2\nmissed: 1\n{\"records\":10,\"lost\":2,\"missed\":1}\n",
		  buf);
	free(buf);
}

/* The line as printf formats it: what the hand-built line must equal, byte for byte. */
static void reference_line(char *buf, size_t len, const struct tsh_trace_record *rec,
			   const struct trace_opts *opts)
{
	int width = opts->wide ? 39 : 15, af = rec->family == AF_INET6 ? AF_INET6 : AF_INET;
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN], comm[TSH_TRACE_COMM_LEN + 1];
	size_t n = 0;

	if (opts->time_of_day) {
		time_t t = (rec->time_ns + opts->realtime_offset_ns) / 1000000000ull;
		char when[16];
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		n += snprintf(buf + n, len - n, "%-8s ", when);
	}
	inet_ntop(af, rec->laddr, laddr, sizeof(laddr));
	inet_ntop(af, rec->raddr, raddr, sizeof(raddr));
	snprintf(comm, sizeof(comm), "%.*s", TSH_TRACE_COMM_LEN, rec->comm);
	for (char *c = comm; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	n += snprintf(buf + n, len - n, "%-12llu %-7u %-16s %-*s %-5u %-*s %-5u %-11s -> %-11s ",
		      (unsigned long long)rec->cookie, rec->pid, comm, width, laddr, rec->lport,
		      width, raddr, rec->rport, state_name(rec->oldstate),
		      state_name(rec->newstate));
	if (rec->duration_ns == TSH_TRACE_UNKNOWN)
		snprintf(buf + n, len - n, "-\n");
	else
		snprintf(buf + n, len - n, "%.3f\n", rec->duration_ns / 1e6);
}

/* A xorshift generator: the same records on every run. */
static __u64 next_random(__u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static const __u64 edge_durations[] = {
	0,
	1,
	499,
	500,
	501,
	999,
	1000,
	1499,
	1500,
	1501,
	999999,
	999500,
	1000000,
	2500,
	(1ull << 53) - 1,
	1ull << 53,
	(1ull << 53) + 500,
	TSH_TRACE_UNKNOWN - 1,
};

static void test_text_matches_printf(void)
{
	struct trace_opts opts = plain;
	struct trace_tod tod = { 0 };
	__u64 seed = 0x9e3779b97f4a7c15ull;
	char want[512], got[TRACE_LINE_MAX + 1];
	unsigned int mismatches = 0;

	setenv("TZ", "EST5EDT", 1);
	tzset();
	for (unsigned int i = 0; i < 200000; i++) {
		struct tsh_trace_record rec = v4_record();
		__u64 r = next_random(&seed);
		size_t len;

		rec.cookie = r >> (r & 63);
		rec.pid = next_random(&seed);
		rec.lport = r >> 16;
		rec.rport = r >> 32;
		rec.oldstate = r % 17;
		rec.newstate = (r >> 8) % 17;
		rec.family = (r >> 5) & 1 ? AF_INET6 : AF_INET;
		for (unsigned int b = 0; b < 16; b++) {
			rec.laddr[b] = (r >> 20) & 1 ? next_random(&seed) : b == 15;
			rec.raddr[b] = (r >> 21) & 1 ? next_random(&seed) & 0x0f : 0;
		}
		for (unsigned int c = 0; c < TSH_TRACE_COMM_LEN; c++)
			rec.comm[c] = (r >> 22) & 1 ? (char)next_random(&seed) : "loadgen"[c % 8];
		if (i < sizeof(edge_durations) / sizeof(edge_durations[0]))
			rec.duration_ns = edge_durations[i];
		else if ((r >> 40) % 8 == 0)
			rec.duration_ns = TSH_TRACE_UNKNOWN;
		else
			rec.duration_ns = next_random(&seed) >> ((r >> 43) % 64);
		/* Monotonic times over a few days, around a change of daylight saving time. */
		rec.time_ns = (next_random(&seed) % (4 * 86400ull)) * 1000000000ull;
		opts.realtime_offset_ns = 1699160000ll * 1000000000ll;
		opts.time_of_day = (r >> 50) & 1;
		opts.wide = (r >> 51) & 1;
		reference_line(want, sizeof(want), &rec, &opts);
		len = render_trace_line(got, &rec, NULL, &opts, &tod);
		got[len] = 0;
		if (strcmp(want, got) && mismatches++ < 3)
			CHECK_STR(want, got);
	}
	CHECK_EQ_U64(0, mismatches);
}

static void test_write_error(void)
{
	struct tsh_trace_record rec = v4_record();
	FILE *out = fopen("/dev/full", "w");
	struct trace_tod tod = { 0 };

	if (!out)
		return;
	setvbuf(out, NULL, _IONBF, 0);
	CHECK_EQ_U64(-EIO, render_trace_text(out, &rec, NULL, &plain, &tod));
	fclose(out);
}

UNIT_TESTS(render_trace_tests) = {
	{ "render trace: text columns, unknown duration, time of day", test_text },
	{ "render trace: -w and IPv6", test_text_wide_v6 },
	{ "render trace: the hand-built line is printf's, byte for byte",
	  test_text_matches_printf },
	{ "render trace: header", test_header },
	{ "render trace: --by, the key as a column and a field", test_by_key },
	{ "render trace: JSON record", test_json },
	{ "render trace: the counts at the end", test_end },
	{ "render trace: a write error", test_write_error },
	UNIT_END,
};
