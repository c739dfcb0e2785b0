// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * attach and detach: load the programs and pin them with their maps, so that
 * they keep counting with no process left; unpin them. The pin layout lives
 * in pins.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "census_walk.h"
#include "common.h"
#include "cgroups.h"
#include "loader.h"
#include "pins.h"
#include "tcpstatehist.skel.h"

static int fill_meta(const struct config *cfg, struct tsh_meta *meta, char *err, size_t errlen)
{
	struct timespec now;
	int ret;

	memset(meta, 0, sizeof(*meta));
	meta->layout_version = TSH_LAYOUT_VERSION;
	meta->family = cfg->family;
	meta->by = cfg->by;
	if (cfg->netns_path &&
	    (ret = netns_inode(cfg->netns_path, &meta->netns_inode, err, errlen)))
		return ret;
	if (getrandom(&meta->attach_id, sizeof(meta->attach_id), 0) != sizeof(meta->attach_id))
		return set_err(err, errlen, -errno, "cannot get random bytes: %s", strerror(errno));
	clock_gettime(CLOCK_REALTIME, &now);
	meta->attach_realtime_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	if (cfg->lports.enabled)
		snprintf(meta->lports, sizeof(meta->lports), "%s", cfg->lports.spec);
	if (cfg->rports.enabled)
		snprintf(meta->rports, sizeof(meta->rports), "%s", cfg->rports.spec);
	/* The parser kept the labels within this size. */
	snprintf(meta->labels, sizeof(meta->labels), "%s", cfg->labels);
	/* status shows the path as given: one cut short would name nothing. */
	if (cfg->netns_path && strlen(cfg->netns_path) >= sizeof(meta->netns_path))
		return set_err(
			err, errlen, -ENAMETOOLONG,
			"-N %s: path too long for the attach record (at most %zu characters)",
			cfg->netns_path, sizeof(meta->netns_path) - 1);
	if (cfg->netns_path)
		snprintf(meta->netns_path, sizeof(meta->netns_path), "%s", cfg->netns_path);
	if (!cfg->cgroup_path)
		return 0;
	if (strlen(cfg->cgroup_path) >= sizeof(meta->cgroup_path))
		return set_err(
			err, errlen, -ENAMETOOLONG,
			"--cgroup %s: path too long for the attach record (at most %zu characters)",
			cfg->cgroup_path, sizeof(meta->cgroup_path) - 1);
	snprintf(meta->cgroup_path, sizeof(meta->cgroup_path), "%s", cfg->cgroup_path);
	return cgroup_of_path(cfg->cgroup_path, &meta->cgroup_id, &meta->cgroup_level, err,
			      errlen);
}

/* Refuses an existing set unless --replace; *replace when there is one to replace. */
static int check_existing(const struct config *cfg, bool *replace, char *err, size_t errlen)
{
	char why[ERR_LEN], when[UTC_LEN], filters[512];
	struct pinned old;
	int ret;

	*replace = false;
	if (!pins_any(cfg->pin_path))
		return 0;
	*replace = true;
	if (cfg->replace)
		return 0;
	ret = pins_open(cfg->pin_path, &old, why, sizeof(why));
	if (ret)
		return set_err(err, errlen, ret, "%s (or attach --replace)", why);
	format_utc(when, sizeof(when), pins_attach_seconds(&old.meta));
	describe_filters(&old.meta, filters, sizeof(filters));
	pins_close(&old);
	return set_err(err, errlen, -EEXIST,
		       "already attached at %s since %s (filters: %s): detach first, or attach "
		       "--replace",
		       cfg->pin_path, when, filters);
}

int cmd_attach(const struct config *cfg)
{
	struct tcpstatehist_bpf *skel = NULL;
	struct tsh_kernel kernel = { 0 };
	char err[ERR_LEN] = "", filters[512];
	bool replace, created = false;
	int lock = -1, census_fd = -1, ret;
	struct tsh_meta meta;

	ret = fill_meta(cfg, &meta, err, sizeof(err));
	if (ret)
		goto out;
	/* Two attaches, or an attach and a detach, take turns. */
	lock = pins_lock_dir(cfg->pin_path, LOCK_EX, &created, err, sizeof(err));
	if (lock < 0) {
		ret = lock;
		goto out;
	}
	ret = check_existing(cfg, &replace, err, sizeof(err));
	if (ret)
		goto out;
	ret = loader_load(cfg, &skel, &kernel, err, sizeof(err));
	/* The census's iterator, loaded once here, reads the set's start times. */
	if (!ret) {
		census_fd = census_prog_load(bpf_map__fd(skel->maps.start_slots),
					     bpf_map__fd(skel->maps.state_since), err, sizeof(err));
		ret = census_fd < 0 ? census_fd : 0;
	}
	if (!ret)
		ret = loader_attach(skel, err, sizeof(err));
	/* The new programs count before the old ones go: no gap, and no mix. */
	if (!ret && replace && (ret = pins_remove(cfg->pin_path, false, err, sizeof(err))) > 0)
		ret = 0;
	if (!ret)
		ret = pins_create(cfg->pin_path, skel, census_fd, &meta, err, sizeof(err));
	if (ret)
		goto out;
	/* The pins hold the links now; destroying the skeleton must not detach. */
	bpf_link__disconnect(skel->links.tsh_main);
	bpf_link__disconnect(skel->links.tsh_recover);
out:
	if (census_fd >= 0)
		close(census_fd);
	tcpstatehist_bpf__destroy(skel);
	/*
	 * A failed attach takes away the directory it made (empty: nothing was
	 * pinned), with the lock still held: nobody else can have pinned there.
	 */
	if (ret && created && lock >= 0)
		rmdir(cfg->pin_path);
	if (lock >= 0)
		close(lock);
	if (!ret) {
		describe_filters(&meta, filters, sizeof(filters));
		printf("attached: pins under %s (filters: %s", cfg->pin_path, filters);
		if (cfg->by)
			printf("; by %s, at most %lu keys", by_name(cfg->by), cfg->max_keys);
		printf(")\n");
		ret = output_flush(stdout, err, sizeof(err));
	}
	return command_exit(ret, err);
}

/*
 * The kernel frees a link and its program after the last reference goes,
 * a little later (deferred work, RCU). Waits, bounded, so that "nothing of
 * ours is left" holds when detach returns.
 */
static void wait_progs_freed(const __u32 *ids, unsigned int n)
{
	for (int tries = 0; tries < 500; tries++) {
		bool left = false;

		for (unsigned int i = 0; i < n; i++) {
			int fd = bpf_prog_get_fd_by_id(ids[i]);

			if (fd >= 0) {
				close(fd);
				left = true;
			}
		}
		if (!left)
			return;
		usleep(10000);
	}
}

int cmd_detach(const struct config *cfg)
{
	char err[ERR_LEN] = "";
	unsigned int nids;
	__u32 ids[PINNED_PROGS];
	struct pinned p;
	bool complete;
	int lock, ret;

	lock = pins_lock_dir(cfg->pin_path, LOCK_EX, NULL, err, sizeof(err));
	if (lock < 0) {
		ret = lock;
		if (lock == -ENOENT)
			set_err(err, sizeof(err), ret, "nothing attached: no pins at %s",
				cfg->pin_path);
		goto out;
	}
	complete = !pins_open(cfg->pin_path, &p, err, sizeof(err));
	if (complete)
		pins_close(&p);
	nids = pins_prog_ids(cfg->pin_path, ids);
	ret = pins_remove(cfg->pin_path, true, err, sizeof(err));
	close(lock);
	if (ret == 0)
		ret = set_err(err, sizeof(err), -ENOENT, "nothing attached: no pins at %s",
			      cfg->pin_path);
	if (ret < 0)
		goto out;
	wait_progs_freed(ids, nids);
	if (complete)
		printf("detached: removed %d pins and %s\n", ret, cfg->pin_path);
	else
		printf("detached: removed an incomplete or foreign-layout pin set (%d of %d pins) "
		       "and %s\n",
		       ret, PIN_NOBJECTS, cfg->pin_path);
	ret = output_flush(stdout, err, sizeof(err));
out:
	return command_exit(ret, err);
}
