// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The trace renderers against the exact text they must produce. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "render_trace.h"
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

	if (!out)
		return NULL;
	CHECK_EQ_U64(0,
		     json ? render_trace_json(out, rec, opts) : render_trace_text(out, rec, opts));
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

static void test_write_error(void)
{
	struct tsh_trace_record rec = v4_record();
	FILE *out = fopen("/dev/full", "w");

	if (!out)
		return;
	setvbuf(out, NULL, _IONBF, 0);
	CHECK_EQ_U64(-EIO, render_trace_text(out, &rec, &plain));
	fclose(out);
}

UNIT_TESTS(render_trace_tests) = {
	{ "render trace: text columns, unknown duration, time of day", test_text },
	{ "render trace: -w and IPv6", test_text_wide_v6 },
	{ "render trace: header", test_header },
	{ "render trace: JSON record", test_json },
	{ "render trace: the counts at the end", test_end },
	{ "render trace: a write error", test_write_error },
	UNIT_END,
};
