// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * trace: a record per transition that passes the filters, read from the
 * programs' ring buffer. The programs submit without waking us; we poll the
 * ring on a short timer, or sooner when a quarter of it waits. At the end:
 * the records printed, those the full ring lost, and the transitions that
 * no program saw (missed), so that every transition is accounted for.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "audit.h"
#include "common.h"
#include "loader.h"
#include "render_trace.h"
#include "session.h"
#include "tcpstatehist.skel.h"

/* How long a record may wait in the ring at a low rate. */
#define POLL_MS 50
/* How long the last records and the counts may take to go out after a stop signal. */
#define STOP_OUTPUT_MS 1000

struct trace_batch {
	const struct config *cfg;
	const struct trace_opts *opts;
	FILE *out; /* a memory stream: written out when the batch is done */
	struct trace_tod tod;
	__u64 records;
};

static int take_record(void *ctx, void *data, size_t size)
{
	struct trace_batch *batch = ctx;
	struct tsh_trace_record rec = { 0 };

	/* A shorter record from a mismatched object: the fields it has. */
	memcpy(&rec, data, size < sizeof(rec) ? size : sizeof(rec));
	batch->records++;
	if (batch->cfg->format == FORMAT_JSON)
		return render_trace_json(batch->out, &rec, batch->opts);
	return render_trace_text(batch->out, &rec, batch->opts, &batch->tod);
}

struct trace_output {
	struct ring_buffer *ring;
	struct trace_batch batch;
	int stop_fd;
};

/*
 * Renders what the ring holds, with the header first or the counts last if
 * asked, then writes it: 0, -EINTR when stopped while the output was
 * stalled, or a negative errno with err filled in.
 */
static int flush_ring(struct trace_output *to, bool header, const struct trace_totals *totals,
		      int timeout_ms, char *err, size_t errlen)
{
	const struct config *cfg = to->batch.cfg;
	char *buf = NULL;
	size_t len = 0;
	int ret = 0;

	to->batch.out = open_memstream(&buf, &len);
	if (!to->batch.out)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	if (header && cfg->format == FORMAT_TEXT)
		ret = render_trace_header(to->batch.out, to->batch.opts);
	if (!ret && to->ring) {
		ret = ring_buffer__consume(to->ring);
		ret = ret < 0 ? ret : 0;
	}
	if (!ret && totals)
		ret = cfg->format == FORMAT_JSON ? render_trace_end_json(to->batch.out, totals)
						 : render_trace_end_text(to->batch.out, totals);
	if (fclose(to->batch.out) && !ret)
		ret = -ENOMEM;
	to->batch.out = NULL;
	if (ret) {
		free(buf);
		return set_err(err, errlen, ret, "cannot read the ring buffer: %s", strerror(-ret));
	}
	if (len)
		ret = write_stoppable(STDOUT_FILENO, to->stop_fd, timeout_ms, buf, len, err,
				      errlen);
	free(buf);
	return ret;
}

/* Records the full ring turned away: every CPU, every writer. */
static int read_lost(int map_fd, __u64 *lost, char *err, size_t errlen)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *values;

	*lost = 0;
	if (ncpus <= 0)
		return set_err(err, errlen, -EINVAL, "cannot count the CPUs");
	values = calloc(ncpus, sizeof(*values));
	if (!values)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	for (__u32 writer = 0; writer < TSH_NWRITERS; writer++) {
		if (bpf_map_lookup_elem(map_fd, &writer, values)) {
			free(values);
			return set_err(err, errlen, -errno, "cannot read the lost records: %s",
				       strerror(errno));
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			*lost += values[cpu];
	}
	free(values);
	return 0;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC: record times (monotonic) to wall-clock times. */
static __s64 realtime_offset_ns(void)
{
	struct timespec real, mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - mono.tv_sec) * 1000000000ll + (real.tv_nsec - mono.tv_nsec);
}

/* Until a stop signal: 0, -EINTR (stopped during a stalled write), or an error. */
static int follow_ring(struct trace_output *to, char *err, size_t errlen)
{
	struct pollfd fds[2] = { { .fd = ring_buffer__epoll_fd(to->ring), .events = POLLIN },
				 { .fd = to->stop_fd, .events = POLLIN } };
	int ret;

	for (;;) {
		if (poll(fds, 2, POLL_MS) < 0 && errno != EINTR)
			return set_err(err, errlen, -errno, "poll: %s", strerror(errno));
		if (fds[1].revents) {
			struct signalfd_siginfo info;

			/* Taken, so that only a second signal cuts the last output short. */
			if (read(to->stop_fd, &info, sizeof(info)) < 0)
				return set_err(err, errlen, -errno, "signalfd: %s",
					       strerror(errno));
			return 0;
		}
		ret = flush_ring(to, false, NULL, -1, err, errlen);
		if (ret)
			return ret;
	}
}

/*
 * The end: the counts are read while the programs are still attached (the
 * audit counts every event, ours or not, until the end), then the programs
 * are detached, recover first (the main one alone loses nothing), and
 * whatever the ring still holds is printed before the counts.
 */
static int finish_trace(struct trace_output *to, struct tcpstatehist_bpf *skel,
			const struct tsh_kernel *kernel, const struct snapshot *base, char *err,
			size_t errlen)
{
	struct trace_totals totals = { 0 };
	struct snapshot end;
	int ret;

	ret = collect_snapshot(kernel, &end, COLLECT_TRIES_SETTLE, err, errlen);
	if (ret)
		return ret;
	totals.missed = snapshot_audited_missed(&end.kernel, &base->kernel, true);
	if (kernel->audit)
		warn_if_audit_hidden(kernel->audit, &end, base);
	bpf_link__destroy(skel->links.tsh_recover);
	skel->links.tsh_recover = NULL;
	bpf_link__destroy(skel->links.tsh_main);
	skel->links.tsh_main = NULL;
	ret = read_lost(bpf_map__fd(skel->maps.trace_lost), &totals.lost, err, errlen);
	if (!ret)
		ret = flush_ring(to, false, NULL, STOP_OUTPUT_MS, err, errlen);
	if (ret)
		return ret;
	totals.records = to->batch.records;
	return flush_ring(to, false, &totals, STOP_OUTPUT_MS, err, errlen);
}

int cmd_trace(const struct config *cfg)
{
	struct trace_opts opts = { .time_of_day = cfg->timestamp, .wide = cfg->wide };
	struct trace_output to = { .batch = { .cfg = cfg, .opts = &opts } };
	struct tcpstatehist_bpf *skel = NULL;
	struct tsh_kernel kernel = { 0 };
	struct audit audit = { 0 };
	char err[ERR_LEN] = "";
	struct snapshot base;
	sigset_t signals;
	int ret;

	block_exit_signals(&signals);
	/* Readable when an exit signal waits: ends the wait, or a write that a stalled reader holds up. */
	to.stop_fd = signalfd(-1, &signals, SFD_CLOEXEC);
	if (to.stop_fd < 0)
		return command_exit(
			set_err(err, sizeof(err), -errno, "signalfd: %s", strerror(errno)), err);
	ret = loader_load(cfg, &skel, &kernel, err, sizeof(err));
	if (!ret) {
		to.ring = ring_buffer__new(bpf_map__fd(skel->maps.trace_ring), take_record,
					   &to.batch, NULL);
		if (!to.ring)
			ret = set_err(err, sizeof(err), -errno, "cannot open the ring buffer: %s",
				      strerror(errno));
	}
	if (!ret)
		ret = loader_attach(skel, err, sizeof(err));
	if (!ret && !cfg->no_audit)
		ret = open_audit(&audit, &kernel, err, sizeof(err));
	if (!ret)
		ret = collect_snapshot(&kernel, &base, COLLECT_TRIES_SETTLE, err, sizeof(err));
	if (ret)
		goto out;
	opts.realtime_offset_ns = realtime_offset_ns();
	ret = flush_ring(&to, true, NULL, -1, err, sizeof(err));
	if (!ret)
		ret = follow_ring(&to, err, sizeof(err));
	if (!ret)
		ret = finish_trace(&to, skel, &kernel, &base, err, sizeof(err));
	if (ret == -EINTR) /* stopped while the output was stalled */
		ret = 0;
out:
	ring_buffer__free(to.ring);
	close(to.stop_fd);
	audit_close(&audit);
	tcpstatehist_bpf__destroy(skel);
	return command_exit(ret, err);
}
