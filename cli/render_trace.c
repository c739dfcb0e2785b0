// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Trace records as text, in the columns of the classic tcpstates (a socket
 * cookie where it prints a kernel address), or as JSON Lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "breakdown.h"
#include "json_writer.h"
#include "render_trace.h"
#include "snapshot.h"

#define ADDR_WIDTH 15
#define ADDR_WIDTH_WIDE 39
#define STATE_WIDTH 11
/* "%.3f\n" of the largest duration (2^64 ns), with room. */
#define DURATION_TEXT_MAX 32

static int stream_status(FILE *out)
{
	return ferror(out) ? -EIO : 0;
}

static void format_address(char *buf, size_t len, const struct tsh_trace_record *rec,
			   const __u8 *addr)
{
	if (!inet_ntop(rec->family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

static __u64 wall_clock_ns(const struct tsh_trace_record *rec, const struct trace_opts *opts)
{
	return rec->time_ns + opts->realtime_offset_ns;
}

/* The key column's width: a port's, a namespace inode's, a cgroup path's (longer ones push on). */
static size_t key_width(enum tsh_by by)
{
	return by == TSH_BY_CGROUP ? 24 : by == TSH_BY_NETNS ? 10 : 5;
}

int render_trace_header(FILE *out, const struct trace_opts *opts)
{
	int width = opts->wide ? ADDR_WIDTH_WIDE : ADDR_WIDTH;

	if (opts->time_of_day)
		fprintf(out, "%-8s ", "TIME");
	if (opts->by) {
		char title[8] = "";

		for (size_t i = 0; by_name(opts->by)[i] && i + 1 < sizeof(title); i++)
			title[i] = by_name(opts->by)[i] - 'a' + 'A';
		fprintf(out, "%-*s ", (int)key_width(opts->by), title);
	}
	fprintf(out, "%-12s %-7s %-16s %-*s %-5s %-*s %-5s %-11s -> %-11s %s\n", "COOKIE", "PID",
		"COMM", width, "LADDR", "LPORT", width, "RADDR", "RPORT", "OLDSTATE", "NEWSTATE",
		"MS");
	return stream_status(out);
}

/*
 * The text line is built by hand, one field after the other, into one buffer:
 * the reader renders every transition of a busy machine, and printf's
 * parsing per field was most of its CPU. The result is byte for byte what
 * the printf formats in the comments would give (the unit tests compare).
 */

/* s, then spaces up to width ("%-*s"), then the separator: the end. */
static char *put_padded(char *p, const char *s, size_t len, size_t width)
{
	memcpy(p, s, len);
	p += len;
	while (len++ < width)
		*p++ = ' ';
	*p++ = ' ';
	return p;
}

/* v in decimal into digits (at least 20 bytes, not terminated): the length. */
static size_t decimal(char *digits, __u64 v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = '0' + v % 10;
		v /= 10;
	} while (v);
	memcpy(digits, tmp + sizeof(tmp) - n, n);
	return n;
}

/* "%-*llu " */
static char *put_number(char *p, __u64 v, size_t width)
{
	char digits[20];

	return put_padded(p, digits, decimal(digits, v), width);
}

/* inet_ntop's text of an IPv4 address, which needs no library call. */
static size_t ipv4_text(char *buf, const __u8 *addr)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			buf[n++] = '.';
		n += decimal(buf + n, addr[i]);
	}
	return n;
}

static char *put_address(char *p, const struct tsh_trace_record *rec, const __u8 *addr,
			 size_t width)
{
	char text[INET6_ADDRSTRLEN];

	if (rec->family == AF_INET6) {
		format_address(text, sizeof(text), rec, addr);
		return put_padded(p, text, strlen(text), width);
	}
	return put_padded(p, text, ipv4_text(text, addr), width);
}

/*
 * At most max bytes of s, padded to width: a task may name itself anything, a
 * cgroup too, so no control byte reaches the terminal (a '?' instead).
 */
static char *put_safe(char *p, const char *s, size_t max, size_t width)
{
	char safe[TRACE_KEY_MAX];
	size_t len = 0;

	for (; len < max && len < sizeof(safe) && s[len]; len++)
		safe[len] = (unsigned char)s[len] < 0x20 || s[len] == 0x7f ? '?' : s[len];
	return put_padded(p, safe, len, width);
}

static char *put_state(char *p, unsigned int state)
{
	const char *name = state_name(state);

	return put_padded(p, name, strlen(name), STATE_WIDTH);
}

/*
 * "%.3f\n" of ns / 1e6: milliseconds rounded to the microsecond. Below 2^53
 * ns the double holds the quotient closely enough that only an exact half
 * microsecond can round differently; that case, and larger values, go
 * through printf.
 */
static char *put_duration_ms(char *p, __u64 ns)
{
	__u64 us;

	if (ns == TSH_TRACE_UNKNOWN) {
		memcpy(p, "-\n", 2);
		return p + 2;
	}
	if (ns % 1000 == 500 || ns >= 1ull << 53)
		return p + snprintf(p, DURATION_TEXT_MAX, "%.3f\n", ns / 1e6);
	us = ns / 1000 + (ns % 1000 > 500);
	p += decimal(p, us / 1000);
	*p++ = '.';
	*p++ = '0' + us / 100 % 10;
	*p++ = '0' + us / 10 % 10;
	*p++ = '0' + us % 10;
	*p++ = '\n';
	return p;
}

/* "%H:%M:%S " in local time, from tod's cache while the second is the same. */
static char *put_time_of_day(char *p, __u64 wall_ns, struct trace_tod *tod)
{
	time_t t = wall_ns / 1000000000ull;

	if (!tod->valid || tod->sec != t) {
		struct tm tm;

		localtime_r(&t, &tm);
		tod->len = strftime(tod->text, sizeof(tod->text), "%H:%M:%S", &tm);
		tod->sec = t;
		tod->valid = true;
	}
	return put_padded(p, tod->text, tod->len, 8);
}

size_t render_trace_line(char *line, const struct tsh_trace_record *rec, const char *key,
			 const struct trace_opts *opts, struct trace_tod *tod)
{
	size_t width = opts->wide ? ADDR_WIDTH_WIDE : ADDR_WIDTH;
	char *p = line;

	if (opts->time_of_day)
		p = put_time_of_day(p, wall_clock_ns(rec, opts), tod);
	if (opts->by && key)
		p = put_safe(p, key, TRACE_KEY_MAX, key_width(opts->by));
	p = put_number(p, rec->cookie, 12);
	p = put_number(p, rec->pid, 7);
	p = put_safe(p, rec->comm, TSH_TRACE_COMM_LEN, TSH_TRACE_COMM_LEN); /* "%-16s " */
	p = put_address(p, rec, rec->laddr, width);
	p = put_number(p, rec->lport, 5);
	p = put_address(p, rec, rec->raddr, width);
	p = put_number(p, rec->rport, 5);
	p = put_state(p, rec->oldstate);
	memcpy(p, "-> ", 3);
	p = put_state(p + 3, rec->newstate);
	p = put_duration_ms(p, rec->duration_ns);
	return p - line;
}

int render_trace_text(FILE *out, const struct tsh_trace_record *rec, const char *key,
		      const struct trace_opts *opts, struct trace_tod *tod)
{
	char line[TRACE_LINE_MAX + TRACE_KEY_MAX];

	fwrite(line, 1, render_trace_line(line, rec, key, opts, tod), out);
	return stream_status(out);
}

int render_trace_json(FILE *out, const struct tsh_trace_record *rec, const char *key,
		      const struct trace_opts *opts)
{
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN], comm[TSH_TRACE_COMM_LEN + 1];
	struct json_writer w;

	format_address(laddr, sizeof(laddr), rec, rec->laddr);
	format_address(raddr, sizeof(raddr), rec, rec->raddr);
	snprintf(comm, sizeof(comm), "%.*s", TSH_TRACE_COMM_LEN, rec->comm);
	json_init(&w, out);
	json_begin_object(&w);
	json_key_u64(&w, "time_ns", wall_clock_ns(rec, opts));
	json_key_u64(&w, "cookie", rec->cookie);
	json_key_u64(&w, "pid", rec->pid);
	json_key_string(&w, "comm", comm);
	json_key_u64(&w, "family", rec->family == AF_INET6 ? 6 : 4);
	json_key_string(&w, "laddr", laddr);
	json_key_u64(&w, "lport", rec->lport);
	json_key_string(&w, "raddr", raddr);
	json_key_u64(&w, "rport", rec->rport);
	json_key_string(&w, "old_state", state_name(rec->oldstate));
	json_key_string(&w, "new_state", state_name(rec->newstate));
	if (opts->by && key)
		json_key_string(&w, by_name(opts->by), key);
	json_key(&w, "duration_us");
	if (rec->duration_ns == TSH_TRACE_UNKNOWN)
		json_null(&w);
	else
		json_fixed(&w, rec->duration_ns / 1e3, 3);
	json_end_object(&w);
	fputc('\n', out);
	return stream_status(out);
}

int render_trace_end_text(FILE *out, const struct trace_totals *totals)
{
	fprintf(out, "records: %llu\nlost: %llu\nmissed: %llu\n",
		(unsigned long long)totals->records, (unsigned long long)totals->lost,
		(unsigned long long)totals->missed);
	return stream_status(out);
}

int render_trace_end_json(FILE *out, const struct trace_totals *totals)
{
	struct json_writer w;

	json_init(&w, out);
	json_begin_object(&w);
	json_key_u64(&w, "records", totals->records);
	json_key_u64(&w, "lost", totals->lost);
	json_key_u64(&w, "missed", totals->missed);
	json_end_object(&w);
	fputc('\n', out);
	return stream_status(out);
}
