// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * snapshot: the pinned counters, since attach or, with --state-file, since
 * the previous snapshot that used the file; to stdout or a file (-o).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

static int render_snapshot(const struct config *cfg, const struct snapshot *snap,
			   const struct render_opts *opts, char *err, size_t errlen)
{
	renderer_fn render =
		cfg->format == FORMAT_TEXT ? render_text_snapshot : renderer_for(cfg->format);

	if (cfg->output)
		return output_file(cfg->output, render, snap, opts, err, errlen);
	return output_stream(stdout, render, snap, opts, err, errlen);
}

/*
 * The previous state, if it is usable: *found false for a missing file and
 * for a state of an earlier attach at the same pins (the counters restarted:
 * report everything since attach). Another pin path's state is an error.
 */
static int load_state(const struct config *cfg, const struct statefile_owner *owner,
		      struct snapshot *prev, bool *found, char *err, size_t errlen)
{
	struct statefile_owner was;
	char why[ERR_LEN];
	int ret;

	ret = statefile_read(cfg->state_file, &was, prev, found, why, sizeof(why));
	if (ret)
		return set_err(err, errlen, ret, "--state-file %s: %s (delete it to start over)",
			       cfg->state_file, why);
	if (!*found)
		return 0;
	if (strcmp(was.pin_path, owner->pin_path))
		return set_err(err, errlen, -EINVAL,
			       "--state-file %s: belongs to the pins at %s, not %s: use one state "
			       "file per pin path",
			       cfg->state_file, was.pin_path, owner->pin_path);
	if (was.attach_id != owner->attach_id)
		*found = false;
	return 0;
}

static int snapshot_pinned(const struct config *cfg, const struct pinned *p, char *err,
			   size_t errlen)
{
	struct render_opts opts = {
		.timestamp = cfg->timestamp,
		.milliseconds = cfg->milliseconds,
		.since_realtime = pins_attach_seconds(&p->meta),
	};
	struct statefile_owner owner = {
		.attach_id = p->meta.attach_id,
		.attach_realtime_ns = p->meta.attach_realtime_ns,
	};
	struct snapshot prev = {}, cur, out;
	bool found = false;
	char why[ERR_LEN];
	int ret;

	if (!realpath(cfg->pin_path, owner.pin_path) ||
	    strlen(owner.pin_path) >= sizeof(owner.pin_path))
		return set_err(err, errlen, -EINVAL, "--pin-path %s: %s", cfg->pin_path,
			       strerror(errno ? errno : ENAMETOOLONG));
	if (cfg->state_file && (ret = load_state(cfg, &owner, &prev, &found, err, errlen)))
		return ret;
	ret = collect_snapshot(&p->kernel, &cur, 1, err, errlen);
	if (ret)
		return ret;
	if (found) {
		snapshot_diff(&cur, &prev, &out);
		opts.interval_s =
			cur.taken_ns > prev.taken_ns ? (cur.taken_ns - prev.taken_ns) / 1e9 : 0;
		/* 0 would mean "since attach" to the renderers. */
		if (opts.interval_s < 0.001)
			opts.interval_s = 0.001;
	} else {
		memset(&prev, 0, sizeof(prev));
		out = cur;
	}
	/* Output first: a failed write leaves the state as it was, nothing is lost. */
	ret = render_snapshot(cfg, &out, &opts, err, errlen);
	if (ret || !cfg->state_file)
		return ret;
	snapshot_advance(&prev, &cur);
	ret = statefile_write(cfg->state_file, &owner, &prev, why, sizeof(why));
	if (ret)
		set_err(err, errlen, ret, "--state-file %s: %s", cfg->state_file, why);
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
