// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Trace records as text, in the columns of the classic tcpstates (a socket
 * cookie where it prints a kernel address), or as JSON Lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <time.h>
#include "json_writer.h"
#include "render_trace.h"
#include "snapshot.h"

#define ADDR_WIDTH 15
#define ADDR_WIDTH_WIDE 39

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

int render_trace_header(FILE *out, const struct trace_opts *opts)
{
	int width = opts->wide ? ADDR_WIDTH_WIDE : ADDR_WIDTH;

	if (opts->time_of_day)
		fprintf(out, "%-8s ", "TIME");
	fprintf(out, "%-12s %-7s %-16s %-*s %-5s %-*s %-5s %-11s -> %-11s %s\n", "COOKIE", "PID",
		"COMM", width, "LADDR", "LPORT", width, "RADDR", "RPORT", "OLDSTATE", "NEWSTATE",
		"MS");
	return stream_status(out);
}

int render_trace_text(FILE *out, const struct tsh_trace_record *rec, const struct trace_opts *opts)
{
	int width = opts->wide ? ADDR_WIDTH_WIDE : ADDR_WIDTH;
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN], comm[TSH_TRACE_COMM_LEN + 1];

	if (opts->time_of_day) {
		time_t t = wall_clock_ns(rec, opts) / 1000000000ull;
		char when[16];
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(out, "%-8s ", when);
	}
	format_address(laddr, sizeof(laddr), rec, rec->laddr);
	format_address(raddr, sizeof(raddr), rec, rec->raddr);
	/* A task may name itself anything: no control byte reaches the terminal. */
	snprintf(comm, sizeof(comm), "%.*s", TSH_TRACE_COMM_LEN, rec->comm);
	for (char *c = comm; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	fprintf(out, "%-12llu %-7u %-16s %-*s %-5u %-*s %-5u %-11s -> %-11s ",
		(unsigned long long)rec->cookie, rec->pid, comm, width, laddr, rec->lport, width,
		raddr, rec->rport, state_name(rec->oldstate), state_name(rec->newstate));
	if (rec->duration_ns == TSH_TRACE_UNKNOWN)
		fputs("-\n", out);
	else
		fprintf(out, "%.3f\n", rec->duration_ns / 1e6);
	return stream_status(out);
}

int render_trace_json(FILE *out, const struct tsh_trace_record *rec, const struct trace_opts *opts)
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
