// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * snapshot: the pinned counters, since attach or, with --state-file, since
 * the previous snapshot that used the file; to stdout or a file (-o).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "breakdown_names.h"
#include "census_walk.h"
#include "common.h"
#include "pins.h"
#include "statefile.h"

/* Text output says what the numbers cover; the renderer itself does not. */
static int render_text_snapshot(FILE *out, const struct snapshot *snap,
				const struct render_opts *opts)
{
	char since[UTC_LEN];

	if (opts->interval_s > 0) {
		fprintf(out, "Since the previous snapshot (%.3f s):\n", opts->interval_s);
	} else {
		format_utc(since, sizeof(since), opts->since_realtime);
		fprintf(out, "Since attach (%s):\n", since);
	}
	return render_text(out, snap, opts);
}

/* --sockets: the census's series after the counters', in one exposition. */
static int render_prometheus_census(FILE *out, const struct snapshot *snap,
				    const struct render_opts *opts)
{
	int ret = render_prometheus(out, snap, opts);

	return ret ? ret : render_sockets_prometheus(out, opts->census);
}

static renderer_fn snapshot_renderer(const struct config *cfg)
{
	if (cfg->with_sockets)
		return render_prometheus_census;
	return cfg->format == FORMAT_TEXT ? render_text_snapshot : renderer_for(cfg->format);
}

/*
 * --sockets: the census of the sockets the set watches (its family, ports
 * and namespace), aged from its start times, with its labels.
 */
static int census_of_set(const struct config *cfg, const struct pinned *p, struct census *c,
			 char *err, size_t errlen)
{
	struct config scope = {
		.family = p->meta.family,
		.netns_path = p->meta.netns_path[0] ? p->meta.netns_path : NULL,
		.cgroup_id = p->meta.cgroup_id,
		.cgroup_level = p->meta.cgroup_level,
	};
	char why[ERR_LEN];
	int ret = 0;

	census_init(c, NULL, 0, 0);
	if (p->meta.lports[0]) {
		scope.lports.enabled = true;
		ret = parse_port_list(p->meta.lports, &scope.lports.set, why, sizeof(why));
	}
	if (!ret && p->meta.rports[0]) {
		scope.rports.enabled = true;
		ret = parse_port_list(p->meta.rports, &scope.rports.set, why, sizeof(why));
	}
	if (ret)
		return set_err(err, errlen, ret, "--sockets: the set's port list: %s", why);
	ret = census_walk(&scope, cfg->pin_path, p, c, why, sizeof(why));
	if (ret)
		return set_err(err, errlen, ret, "--sockets: %s", why);
	census_finish(c);
	c->labels = p->meta.labels;
	return 0;
}

static int render_snapshot(const struct config *cfg, const struct snapshot *snap,
			   const struct render_opts *opts, char *err, size_t errlen)
{
	renderer_fn render = snapshot_renderer(cfg);

	if (cfg->output)
		return output_file(cfg->output, render, snap, opts, err, errlen);
	return output_stream(stdout, render, snap, opts, err, errlen);
}

/*
 * The previous state, if it is usable: *found false for a missing file and
 * for a state of an earlier attach at the same pins (the counters restarted:
 * report everything since attach). Another pin path's state is an error. A
 * state that a run saved before its output and never committed counts as
 * printed, so that no interval is ever printed twice; the warning says that
 * its interval may be missing (the gap).
 */
static int load_state(const struct config *cfg, const struct statefile_owner *owner,
		      struct reading *prev, bool *found, char *err, size_t errlen)
{
	struct statefile_owner was;
	char why[ERR_LEN], when[UTC_LEN];
	int ret;

	ret = statefile_read(cfg->state_file, &was, &prev->snap, &prev->by, found, why,
			     sizeof(why));
	if (ret)
		return set_err(err, errlen, ret, "--state-file %s: %s%s", cfg->state_file, why,
			       ret == -EINVAL ? " (delete it to start over)" : "");
	if (!*found)
		return 0;
	if (strcmp(was.pin_path, owner->pin_path))
		return set_err(err, errlen, -EINVAL,
			       "--state-file %s: belongs to the pins at %s, not %s: use one state "
			       "file per pin path",
			       cfg->state_file, was.pin_path, owner->pin_path);
	if (was.attach_id != owner->attach_id) {
		*found = false;
		return 0;
	}
	if (was.pending) {
		format_utc(when, sizeof(when), prev->snap.taken_realtime);
		p_err("warning: --state-file %s: the previous run stopped before it committed "
		      "(killed, or a failed write): the interval it reported, up to %s, may be "
		      "missing from the output",
		      cfg->state_file, when);
	}
	return 0;
}

/* Saves snap as the state, pending (before the output) or committed (after it). */
static int save_state(const struct config *cfg, struct statefile_owner *owner,
		      const struct reading *r, bool pending, char *err, size_t errlen)
{
	char why[ERR_LEN];
	int ret;

	owner->pending = pending;
	ret = statefile_write(cfg->state_file, owner, &r->snap, &r->by, why, sizeof(why));
	if (ret)
		set_err(err, errlen, ret, "--state-file %s: %s%s", cfg->state_file, why,
			pending ? " (nothing printed)" : "");
	return ret;
}

/*
 * Renders into memory, then writes it to stdout; *written says how many bytes
 * went out, so that a failure before the first one can be undone.
 */
static int print_counted(const struct config *cfg, const struct snapshot *snap,
			 const struct render_opts *opts, size_t *written, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int ret = 0;

	*written = 0;
	mem = open_memstream(&buf, &len);
	if (!mem)
		return set_err(err, errlen, -errno, "out of memory");
	if (snapshot_renderer(cfg)(mem, snap, opts) | fclose(mem)) {
		free(buf);
		return set_err(err, errlen, -ENOMEM, "out of memory");
	}
	while (*written < len) {
		ssize_t n = write(STDOUT_FILENO, buf + *written, len - *written);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = set_err(err, errlen, -errno, "cannot write the output: %s",
				      strerror(errno));
			break;
		}
		*written += n;
	}
	free(buf);
	return ret;
}

/* Puts back the state as it was before this run: the previous one, or none. */
static void restore_state(const struct config *cfg, struct statefile_owner *owner,
			  const struct reading *prev, bool found)
{
	char why[ERR_LEN];

	if (found)
		save_state(cfg, owner, prev, false, why, sizeof(why));
	else
		unlink(cfg->state_file);
}

/* SIGINT, SIGTERM and SIGHUP blocked (block) or as they were; old keeps the mask. */
static void exit_signals(bool block, sigset_t *old)
{
	sigset_t set;

	if (!block) {
		sigprocmask(SIG_SETMASK, old, NULL);
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
}

/*
 * The output, then the state, as one step that a failure or a kill can only
 * cut short, never repeat: the new state is saved as pending before the
 * output and committed after it. A run stopped in between leaves the pending
 * state, which the next run takes as printed (a gap it reports, never a
 * double). If the pending state cannot be saved, nothing is printed; if the
 * output fails before anything went out (-o fails whole), the state is put
 * back as it was. The exit signals wait during the saves; a stream that
 * stalls can still be stopped (its pending state stays: a reported gap).
 */
static int output_and_commit(const struct config *cfg, struct statefile_owner *owner,
			     const struct reading *prev, bool found, const struct reading *next,
			     const struct snapshot *out, const struct render_opts *opts, char *err,
			     size_t errlen)
{
	size_t written = 0;
	sigset_t old;
	int ret;

	exit_signals(true, &old);
	ret = save_state(cfg, owner, next, true, err, errlen);
	if (ret)
		goto out;
	if (cfg->output) {
		ret = render_snapshot(cfg, out, opts, err, errlen);
	} else {
		exit_signals(false, &old);
		ret = print_counted(cfg, out, opts, &written, err, errlen);
		exit_signals(true, &old);
	}
	if (ret && !written) {
		restore_state(cfg, owner, prev, found);
		goto out;
	}
	if (!ret)
		ret = save_state(cfg, owner, next, false, err, errlen);
out:
	exit_signals(false, &old);
	return ret;
}

static int snapshot_pinned(const struct config *cfg, const struct pinned *p, char *err,
			   size_t errlen)
{
	struct render_opts opts = {
		.timestamp = cfg->timestamp,
		.milliseconds = cfg->milliseconds,
		.since_realtime = pins_attach_seconds(&p->meta),
		.filtered = p->meta.family || p->meta.lports[0] || p->meta.rports[0] ||
			    p->meta.netns_inode,
		.labels = p->meta.labels,
	};
	struct statefile_owner owner = {
		.attach_id = p->meta.attach_id,
		.attach_realtime_ns = p->meta.attach_realtime_ns,
	};
	struct reading prev = {}, cur = {}, next = {};
	struct breakdown by = {};
	struct snapshot out;
	struct census census;
	bool found = false;
	char *canonical;
	int ret;

	/* The state file keeps the whole canonical path: realpath() allocates it. */
	canonical = realpath(cfg->pin_path, NULL);
	if (!canonical)
		return set_err(err, errlen, -errno, "--pin-path %s: %s", cfg->pin_path,
			       strerror(errno));
	if (strlen(canonical) >= sizeof(owner.pin_path)) {
		free(canonical);
		return set_err(err, errlen, -ENAMETOOLONG, "--pin-path %s: path too long",
			       cfg->pin_path);
	}
	strcpy(owner.pin_path, canonical);
	free(canonical);
	if (cfg->state_file && (ret = load_state(cfg, &owner, &prev, &found, err, errlen)))
		goto out;
	ret = collect_reading(&p->kernel, &cur, 1, err, errlen);
	if (ret)
		goto out;
	if (cfg->with_sockets) {
		ret = census_of_set(cfg, p, &census, err, errlen);
		if (ret)
			goto out;
		opts.census = &census;
	}
	if (found) {
		snapshot_diff(&cur.snap, &prev.snap, &out);
		opts.interval_s = cur.snap.taken_ns > prev.snap.taken_ns
					  ? (cur.snap.taken_ns - prev.snap.taken_ns) / 1e9
					  : 0;
		/* 0 would mean "since attach" to the renderers. */
		if (opts.interval_s < 0.000001)
			opts.interval_s = 0.000001;
	} else {
		memset(&prev.snap, 0, sizeof(prev.snap));
		breakdown_free(&prev.by);
		out = cur.snap;
	}
	if (p->kernel.by) {
		ret = breakdown_diff(&cur.by, &prev.by, &by);
		if (ret) {
			set_err(err, errlen, ret, "out of memory");
			goto out;
		}
		breakdown_names(&by);
		breakdown_sort(&by);
		opts.by = &by;
	}
	if (!cfg->state_file) {
		ret = render_snapshot(cfg, &out, &opts, err, errlen);
		goto out;
	}
	/* The next state: cumulative, the keys as read (the kernel's, unsorted and unnamed). */
	next.snap = prev.snap;
	snapshot_advance(&next.snap, &cur.snap);
	next.by = cur.by;
	ret = output_and_commit(cfg, &owner, &prev, found, &next, &out, &opts, err, errlen);
out:
	breakdown_free(&by);
	breakdown_free(&prev.by);
	breakdown_free(&cur.by);
	return ret;
}

int cmd_snapshot(const struct config *cfg)
{
	char err[ERR_LEN] = "", why[ERR_LEN];
	struct pinned p;
	int lock = -1, ret;

	/*
	 * Read, collect, render, save: one run at a time per state file. The
	 * state lock comes first, the pins after it: a run that opened a set
	 * before it waited could find a state saved from a newer set (after an
	 * attach --replace) and report its old set's counts a second time.
	 */
	if (cfg->state_file) {
		lock = statefile_lock(cfg->state_file, why, sizeof(why));
		if (lock < 0) {
			ret = set_err(err, sizeof(err), lock, "--state-file %s: %s",
				      cfg->state_file, why);
			goto out;
		}
	}
	ret = pins_open_shared(cfg->pin_path, &p, err, sizeof(err));
	if (!ret)
		ret = snapshot_pinned(cfg, &p, err, sizeof(err));
	pins_close(&p);
out:
	if (lock >= 0)
		close(lock);
	return command_exit(ret, err);
}
