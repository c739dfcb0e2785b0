// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * trace: a record per transition that passes the filters, read from the
 * programs' ring buffer. The programs submit without waking us; we poll the
 * ring on a short timer, or sooner when a quarter of it waits. At the end:
 * the records printed, those the full ring lost, and the transitions that
 * no program saw (missed), so that every transition is accounted for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "audit.h"
#include "cgroups.h"
#include "common.h"
#include "loader.h"
#include "render_trace.h"
#include "ring_reader.h"
#include "session.h"
#include "tcpstatehist.skel.h"

/* How long a record may wait in the ring at a low rate. */
#define POLL_MS 50
/* How long the last records and the counts may take to go out after a stop signal. */
#define STOP_OUTPUT_MS 1000
/* How long the end waits for a record that a program was still writing at its detach. */
#define LAST_RECORD_TRIES 100
#define LAST_RECORD_WAIT_US 1000
/* The stream's own buffer, before its bytes reach the batch's. */
#define STREAM_BUFFER (1 << 16)

/* --by: the text of the keys seen last, so that a cgroup's path is looked up once. */
#define KEYS_CACHED 64
struct trace_keys {
	size_t n, next;
	__u64 key[KEYS_CACHED];
	char text[KEYS_CACHED][TRACE_KEY_MAX];
};

/* A key's text: a port's or a namespace inode's number, a cgroup's path (its id once gone). */
static const char *key_text(struct trace_keys *keys, enum tsh_by by, __u64 key)
{
	char *path = NULL;
	size_t i;

	for (i = 0; i < keys->n; i++)
		if (keys->key[i] == key)
			return keys->text[i];
	i = keys->n < KEYS_CACHED ? keys->n++ : keys->next++ % KEYS_CACHED;
	keys->key[i] = key;
	snprintf(keys->text[i], sizeof(keys->text[i]), "%llu", (unsigned long long)key);
	if (by == TSH_BY_CGROUP) {
		cgroup_paths(&key, 1, &path);
		if (path)
			snprintf(keys->text[i], sizeof(keys->text[i]), "%s", path);
		free(path);
	}
	return keys->text[i];
}

/*
 * The output not yet written: text lines are rendered straight into it, and
 * the stream appends JSON lines, the header and the counts (flushed before
 * each direct append and each write, so the order stays). Kept from one
 * batch to the next, so that a busy trace allocates nothing per batch.
 */
struct trace_batch {
	const struct config *cfg;
	const struct trace_opts *opts;
	struct trace_tod tod;
	FILE *stream;
	char *buf;
	size_t len, cap;
	__u64 records;
	struct trace_keys *keys; /* with --by; PATH_MAX per key: on the heap */
};

static int reserve_output(struct trace_batch *batch, size_t room)
{
	size_t cap = batch->cap ? batch->cap : 1 << 16;
	char *buf;

	if (batch->cap - batch->len >= room)
		return 0;
	while (cap - batch->len < room)
		cap *= 2;
	buf = realloc(batch->buf, cap);
	if (!buf)
		return -ENOMEM;
	batch->buf = buf;
	batch->cap = cap;
	return 0;
}

static ssize_t append_output(void *cookie, const char *data, size_t size)
{
	struct trace_batch *batch = cookie;

	if (reserve_output(batch, size)) {
		errno = ENOMEM;
		return 0;
	}
	memcpy(batch->buf + batch->len, data, size);
	batch->len += size;
	return size;
}

static int open_output(struct trace_batch *batch, char *err, size_t errlen)
{
	if (batch->opts->by && !(batch->keys = calloc(1, sizeof(*batch->keys))))
		return set_err(err, errlen, -ENOMEM, "out of memory");
	batch->stream = fopencookie(batch, "w", (cookie_io_functions_t){ .write = append_output });
	if (!batch->stream || setvbuf(batch->stream, NULL, _IOFBF, STREAM_BUFFER))
		return set_err(err, errlen, -ENOMEM, "out of memory");
	return 0;
}

static void close_output(struct trace_batch *batch)
{
	if (batch->stream)
		fclose(batch->stream);
	free(batch->buf);
	free(batch->keys);
}

static int take_record(void *ctx, const void *data, size_t size)
{
	struct trace_batch *batch = ctx;
	struct tsh_trace_record rec = { 0 };
	const char *key = NULL;

	/* A shorter record from a mismatched object: the fields it has. */
	memcpy(&rec, data, size < sizeof(rec) ? size : sizeof(rec));
	batch->records++;
	if (batch->opts->by)
		key = key_text(batch->keys, batch->opts->by, rec.key);
	if (batch->cfg->format == FORMAT_JSON)
		return render_trace_json(batch->stream, &rec, key, batch->opts);
	if (reserve_output(batch, TRACE_LINE_MAX + TRACE_KEY_MAX))
		return -ENOMEM;
	batch->len +=
		render_trace_line(batch->buf + batch->len, &rec, key, batch->opts, &batch->tod);
	return 0;
}

struct trace_output {
	struct ring_reader ring;
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
	FILE *out = to->batch.stream;
	int ret = 0;

	if (header && cfg->format == FORMAT_TEXT)
		ret = render_trace_header(out, to->batch.opts);
	if (!ret && fflush(out))
		ret = -ENOMEM;
	if (!ret)
		ret = ring_reader_drain(&to->ring, take_record, &to->batch);
	if (!ret && totals)
		ret = cfg->format == FORMAT_JSON ? render_trace_end_json(out, totals)
						 : render_trace_end_text(out, totals);
	if (!ret && fflush(out))
		ret = -ENOMEM;
	if (ret)
		return set_err(err, errlen, ret, "cannot read the ring buffer: %s", strerror(-ret));
	if (to->batch.len)
		ret = write_stoppable(STDOUT_FILENO, to->stop_fd, timeout_ms, to->batch.buf,
				      to->batch.len, err, errlen);
	to->batch.len = 0;
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
	struct signalfd_siginfo info;
	int ret;

	for (;;) {
		ret = ring_reader_wait(&to->ring, POLL_MS);
		if (ret)
			return set_err(err, errlen, ret, "epoll_wait: %s", strerror(-ret));
		if (read(to->stop_fd, &info, sizeof(info)) == sizeof(info))
			return 0; /* taken, so that only a second signal cuts the last output short */
		if (errno != EAGAIN)
			return set_err(err, errlen, -errno, "signalfd: %s", strerror(errno));
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
	/* A program may still be finishing a record that it reserved before the detach. */
	for (int i = 0; i < LAST_RECORD_TRIES && !ring_reader_empty(&to->ring); i++) {
		ret = flush_ring(to, false, NULL, STOP_OUTPUT_MS, err, errlen);
		if (ret)
			return ret;
		usleep(LAST_RECORD_WAIT_US);
	}
	if (!ret)
		ret = flush_ring(to, false, NULL, STOP_OUTPUT_MS, err, errlen);
	if (ret)
		return ret;
	totals.records = to->batch.records;
	return flush_ring(to, false, &totals, STOP_OUTPUT_MS, err, errlen);
}

int cmd_trace(const struct config *cfg)
{
	struct trace_opts opts = { .time_of_day = cfg->timestamp,
				   .wide = cfg->wide,
				   .by = cfg->by };
	struct trace_output to = { .ring = { .epoll_fd = -1 },
				   .batch = { .cfg = cfg, .opts = &opts } };
	struct tcpstatehist_bpf *skel = NULL;
	struct tsh_kernel kernel = { 0 };
	struct audit audit = { 0 };
	char err[ERR_LEN] = "";
	struct snapshot base;
	sigset_t signals;
	int ret;

	block_exit_signals(&signals);
	/* Readable when an exit signal waits: ends the wait, or a write that a stalled reader holds up. */
	to.stop_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
	if (to.stop_fd < 0)
		return command_exit(
			set_err(err, sizeof(err), -errno, "signalfd: %s", strerror(errno)), err);
	ret = loader_load(cfg, &skel, &kernel, err, sizeof(err));
	if (!ret)
		ret = ring_reader_open(&to.ring, bpf_map__fd(skel->maps.trace_ring),
				       bpf_map__max_entries(skel->maps.trace_ring), to.stop_fd, err,
				       sizeof(err));
	if (!ret)
		ret = open_output(&to.batch, err, sizeof(err));
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
	ring_reader_close(&to.ring);
	close_output(&to.batch);
	close(to.stop_fd);
	audit_close(&audit);
	tcpstatehist_bpf__destroy(skel);
	return command_exit(ret, err);
}
