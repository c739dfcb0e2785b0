// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpstatehist: time spent in each TCP state, per state transition.
 * Subcommands are dispatched from a table; the live view is the default.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "args.h"
#include "audit.h"
#include "commands.h"
#include "loader.h"
#include "output.h"
#include "render.h"
#include "tcpstatehist.skel.h"

#ifndef TSH_VERSION
#define TSH_VERSION "0.1.0"
#endif

void p_err(const char *fmt, ...)
{
	char msg[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote paths and arguments: a newline in one must not split the line. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	fprintf(stderr, "tcpstatehist: %s\n", msg);
}

renderer_fn renderer_for(enum tsh_format format)
{
	static const renderer_fn renderers[] = {
		[FORMAT_TEXT] = render_text,
		[FORMAT_JSON] = render_json,
		[FORMAT_PROMETHEUS] = render_prometheus,
	};

	return renderers[format];
}

/*
 * Signals that end the live view arrive through sigtimedwait(), never a
 * handler: blocked from the start, one that comes during load or a read waits
 * until the current step is done, so the programs are always detached.
 */
static void block_exit_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigprocmask(SIG_BLOCK, set, NULL);
}

/* Sleeps until the deadline; true if a signal asked us to stop first. */
static bool wait_until(const sigset_t *set, const struct timespec *deadline)
{
	for (;;) {
		struct timespec now, left;
		int sig;

		if (!deadline) {
			sig = sigwaitinfo(set, NULL);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = deadline->tv_sec - now.tv_sec;
			left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			if (left.tv_sec < 0)
				return false;
			sig = sigtimedwait(set, NULL, &left);
		}
		if (sig > 0)
			return true;
		if (errno == EAGAIN)
			return false;
		/* EINTR from a signal we do not wait for (SIGSTOP/SIGCONT): go on. */
	}
}

static void advance(struct timespec *t, double seconds)
{
	long long ns = (long long)(seconds * 1e9);

	t->tv_sec += ns / 1000000000LL;
	t->tv_nsec += ns % 1000000000LL;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int print_summary(const struct config *cfg, const struct snapshot *cur,
			 const struct snapshot *prev, __u64 started_realtime)
{
	struct render_opts opts = {
		.timestamp = cfg->timestamp,
		.milliseconds = cfg->milliseconds,
		.since_realtime = started_realtime,
	};
	struct snapshot interval;

	/* Prometheus wants counters cumulative since the start. */
	if (cfg->format == FORMAT_PROMETHEUS)
		return output_stream(stdout, renderer_for(cfg->format), cur, &opts);
	snapshot_diff(cur, prev, &interval);
	opts.interval_s = (cur->taken_ns - prev->taken_ns) / 1e9;
	return output_stream(stdout, renderer_for(cfg->format), &interval, &opts);
}

static int run_live(const struct config *cfg)
{
	struct tcpstatehist_bpf *skel = NULL;
	struct audit audit = { 0 };
	struct snapshot prev, cur, base;
	bool audit_warned = false;
	struct tsh_kernel kernel;
	struct timespec deadline;
	sigset_t signals;
	char err[256];
	int ret;

	block_exit_signals(&signals);
	ret = loader_load(cfg, &skel, &kernel, err, sizeof(err));
	if (!ret)
		ret = loader_attach(skel, err, sizeof(err));
	if (!ret && !cfg->no_audit && !(ret = audit_open(&audit, err, sizeof(err))))
		kernel.audit = &audit;
	if (!ret)
		ret = collect_snapshot(&kernel, &prev, COLLECT_TRIES_SETTLE, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		audit_close(&audit);
		tcpstatehist_bpf__destroy(skel);
		return EXIT_FAILURE;
	}
	base = prev;
	__u64 started = prev.taken_realtime;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	for (unsigned long n = 0; !cfg->count || n < cfg->count; n++) {
		bool stop, last;

		if (cfg->has_interval)
			advance(&deadline, cfg->interval_s);
		stop = wait_until(&signals, cfg->has_interval ? &deadline : NULL);
		last = stop || !cfg->has_interval || n + 1 == cfg->count;
		ret = collect_snapshot(&kernel, &cur, last ? COLLECT_TRIES_SETTLE : COLLECT_TRIES, err,
				       sizeof(err));
		if (ret) {
			p_err("%s", err);
			break;
		}
		cur.missed = snapshot_audited_missed(&cur.kernel, &base.kernel, last);
		if (!audit_warned && snapshot_audit_blind(&cur.kernel, &base.kernel)) {
			p_err("warning: another program hides sock:inet_sock_set_state from perf "
			      "(tcpstates?): missed omits events the kernel gave to no program");
			audit_warned = true;
		}
		ret = print_summary(cfg, &cur, &prev, started);
		if (ret)
			break;
		snapshot_advance(&prev, &cur);
		if (stop || !cfg->has_interval)
			break;
	}
	audit_close(&audit);
	tcpstatehist_bpf__destroy(skel);
	return output_exit_status(ret);
}

static const struct command commands[] = {
	[CMD_LIVE] = { "live", run_live },
	[CMD_ATTACH] = { "attach", run_attach },
	[CMD_SNAPSHOT] = { "snapshot", run_snapshot },
	[CMD_STATUS] = { "status", run_status },
	[CMD_DETACH] = { "detach", run_detach },
};

/*
 * A closed stdin, stdout or stderr would be taken by our next open(): a lock
 * file or a BPF object would receive the output. Hold each with /dev/null,
 * read-only, so that a write to it still fails (EBADF) and is reported.
 */
static void hold_closed_std_fds(void)
{
	for (int fd = 0; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			open("/dev/null", O_RDONLY); /* the lowest free descriptor: fd */
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[256];

	hold_closed_std_fds();
	switch (parse_args(argc, argv, &cfg, err, sizeof(err))) {
	case PARSE_HELP:
		print_usage(stdout, "tcpstatehist");
		return output_exit_status(output_flush(stdout));
	case PARSE_VERSION:
		printf("tcpstatehist %s (pinned layout %d)\n", TSH_VERSION, TSH_LAYOUT_VERSION);
		return output_exit_status(output_flush(stdout));
	case PARSE_ERROR:
		p_err("%s (try --help)", err);
		return 2;
	case PARSE_OK:
		break;
	}
	/* A reader that went away is reported as EPIPE from a write, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	loader_set_verbose(cfg.verbose);
	if (cfg.command != CMD_DETACH && loader_check_environment(err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_FAILURE;
	}
	return commands[cfg.command].run(&cfg);
}
