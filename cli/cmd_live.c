// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The live view (the default command): loads its own programs, prints a
 * summary every INTERVAL, or one at the end, and detaches on exit.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <stdlib.h>
#include <time.h>
#include "audit.h"
#include "breakdown_names.h"
#include "common.h"
#include "loader.h"
#include "session.h"
#include "tcpstatehist.skel.h"

/* How long the partial interval may take to go out after a stop signal. */
#define STOP_OUTPUT_MS 1000

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

/*
 * The next deadline, one INTERVAL after the last. If that has passed already
 * (the process was stopped, or a stalled reader held it), the schedule starts
 * over from now: one summary covers the stall, and no burst of empty
 * intervals follows it, each taking one of COUNT.
 */
static void next_deadline(struct timespec *deadline, double interval_s)
{
	struct timespec now;

	advance(deadline, interval_s);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (deadline->tv_sec < now.tv_sec ||
	    (deadline->tv_sec == now.tv_sec && deadline->tv_nsec < now.tv_nsec)) {
		*deadline = now;
		advance(deadline, interval_s);
	}
}

static int print_summary(const struct config *cfg, int stop_fd, int timeout_ms,
			 const struct reading *now, const struct reading *before,
			 __u64 started_realtime, char *err, size_t errlen)
{
	const struct snapshot *cur = &now->snap, *prev = &before->snap;
	static const struct breakdown none;
	struct breakdown by = { 0 };
	int ret;

	struct render_opts opts = {
		.timestamp = cfg->timestamp,
		.milliseconds = cfg->milliseconds,
		.since_realtime = started_realtime,
		.filtered = cfg->family || cfg->lports.enabled || cfg->rports.enabled ||
			    cfg->netns_path || cfg->cgroup_path,
		.labels = cfg->labels,
	};
	struct snapshot interval;

	/* Prometheus wants counters cumulative since the start. */
	if (cfg->format == FORMAT_PROMETHEUS) {
		interval = *cur;
	} else {
		snapshot_diff(cur, prev, &interval);
		opts.interval_s = (cur->taken_ns - prev->taken_ns) / 1e9;
	}
	if (cfg->by) {
		ret = breakdown_diff(&now->by,
				     cfg->format == FORMAT_PROMETHEUS ? &none : &before->by, &by);
		if (ret)
			return set_err(err, errlen, ret, "out of memory");
		breakdown_names(&by);
		breakdown_sort(&by);
		opts.by = &by;
	}
	ret = output_stoppable(STDOUT_FILENO, stop_fd, timeout_ms, renderer_for(cfg->format),
			       &interval, &opts, err, errlen);
	breakdown_free(&by);
	return ret;
}

int cmd_live(const struct config *cfg)
{
	struct tcpstatehist_bpf *skel = NULL;
	struct tsh_kernel kernel = { 0 };
	struct audit audit = { 0 };
	struct reading prev = { 0 }, cur = { 0 };
	struct snapshot base;
	bool audit_warned = false;
	struct timespec deadline;
	char err[ERR_LEN] = "";
	sigset_t signals;
	__u64 started;
	int stop_fd, ret;

	block_exit_signals(&signals);
	/* Readable when an exit signal waits: ends an output that a stalled reader holds up. */
	stop_fd = signalfd(-1, &signals, SFD_CLOEXEC);
	if (stop_fd < 0)
		return command_exit(
			set_err(err, sizeof(err), -errno, "signalfd: %s", strerror(errno)), err);
	ret = loader_load(cfg, &skel, &kernel, err, sizeof(err));
	if (!ret)
		ret = loader_attach(skel, err, sizeof(err));
	if (!ret && !cfg->no_audit)
		ret = open_audit(&audit, &kernel, err, sizeof(err));
	if (!ret)
		ret = collect_reading(&kernel, &prev, COLLECT_TRIES_SETTLE, err, sizeof(err));
	if (ret)
		goto out;
	base = prev.snap;
	started = prev.snap.taken_realtime;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	for (unsigned long n = 0; !cfg->count || n < cfg->count; n++) {
		bool stop, last;

		if (cfg->has_interval)
			next_deadline(&deadline, cfg->interval_s);
		stop = wait_until(&signals, cfg->has_interval ? &deadline : NULL);
		last = stop || !cfg->has_interval || n + 1 == cfg->count;
		ret = collect_reading(&kernel, &cur, last ? COLLECT_TRIES_SETTLE : COLLECT_TRIES,
				      err, sizeof(err));
		if (ret)
			break;
		cur.snap.missed = snapshot_audited_missed(&cur.snap.kernel, &base.kernel, last);
		if (!audit_warned)
			audit_warned = warn_if_audit_hidden(&audit, &cur.snap, &base);
		/*
		 * After a stop signal (taken by the wait) the partial interval gets a
		 * second to go out: a stalled reader must not keep us.
		 */
		ret = print_summary(cfg, stop_fd, stop ? STOP_OUTPUT_MS : -1, &cur, &prev, started,
				    err, sizeof(err));
		if (ret == -EINTR) { /* stopped while the output was stalled */
			ret = 0;
			break;
		}
		if (ret)
			break;
		snapshot_advance(&prev.snap, &cur.snap);
		breakdown_free(&prev.by);
		prev.by = cur.by;
		cur.by = (struct breakdown){ 0 };
		if (stop || !cfg->has_interval)
			break;
	}
out:
	close(stop_fd);
	audit_close(&audit);
	breakdown_free(&prev.by);
	breakdown_free(&cur.by);
	tcpstatehist_bpf__destroy(skel);
	return command_exit(ret, err);
}
