// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "census_walk.h"
#include "loader.h"
#include "pins.h"
#include "sockets.skel.h"
#include "util.h"

/* Names as the kernel keeps them (at most 15 characters). */
static const char *const start_time_maps[] = { "start_slots", "state_since" };

/* The fd of the map called name among the program's maps, or a negative errno. */
static int prog_map_by_name(int prog_fd, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64], nmaps;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	nmaps = info.nr_map_ids < ARRAY_SIZE(ids) ? info.nr_map_ids : ARRAY_SIZE(ids);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = nmaps;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (__u32 i = 0; i < nmaps; i++) {
		struct bpf_map_info map = {};
		__u32 map_len = sizeof(map);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &map, &map_len) && !strcmp(map.name, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int start_times_open(const char *dir, struct start_times *st, char *err, size_t errlen)
{
	struct pinned p;
	int ret, fds[2] = { -1, -1 };

	st->slots_fd = st->since_fd = -1;
	ret = pins_open(dir, &p, err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = prog_map_by_name(p.prog_fds[PROG_MAIN], start_time_maps[i]);
		if (fds[i] < 0) {
			ret = set_err(err, errlen, fds[i],
				      "the set attached at %s has no %s map: %s", dir,
				      start_time_maps[i], strerror(-fds[i]));
			break;
		}
	}
	pins_close(&p);
	if (ret) {
		for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return ret;
	}
	st->slots_fd = fds[0];
	st->since_fd = fds[1];
	return 0;
}

void start_times_close(struct start_times *st)
{
	if (st->slots_fd >= 0)
		close(st->slots_fd);
	if (st->since_fd >= 0)
		close(st->since_fd);
	st->slots_fd = st->since_fd = -1;
}

static int fill_ports(int map_fd, __u32 key, const struct port_filter *pf, char *err, size_t errlen)
{
	if (pf->enabled && bpf_map_update_elem(map_fd, &key, &pf->set, BPF_ANY))
		return set_err(err, errlen, -errno, "cannot write the port filter: %s",
			       strerror(errno));
	return 0;
}

/*
 * Runs fn in the network namespace path names (ours if path is NULL), then
 * comes back: an iterator walks the sockets of the namespace its reader was in
 * when it created it, and /proc/sys/net shows the reader's namespace.
 */
static int in_netns(const char *path, int (*fn)(void *ctx), void *ctx, char *err, size_t errlen)
{
	int home, target, ret;

	if (!path)
		return fn(ctx);
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (home < 0 || target < 0 || setns(target, CLONE_NEWNET)) {
		ret = set_err(err, errlen, -errno, "-N %s: cannot enter the namespace: %s", path,
			      strerror(errno));
		goto out;
	}
	ret = fn(ctx);
	/* The command then exits: whatever fn made here goes with it. */
	if (setns(home, CLONE_NEWNET))
		ret = set_err(err, errlen, -errno, "cannot return to our network namespace: %s",
			      strerror(errno));
out:
	if (home >= 0)
		close(home);
	if (target >= 0)
		close(target);
	return ret;
}

static int create_iter(void *ctx)
{
	int fd = bpf_iter_create(*(int *)ctx);

	return fd < 0 ? -errno : fd;
}

/* The namespace's tcp_fin_timeout in seconds, 0 when it cannot be read. */
static int read_fin_timeout(void *ctx)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_fin_timeout", "re");
	unsigned int *secs = ctx;

	*secs = 0;
	if (f) {
		if (fscanf(f, "%u", secs) != 1)
			*secs = 0;
		fclose(f);
	}
	return 0;
}

/* The slots must be hashed as the iterator hashes them: a build with as many. */
static int check_slots(const struct bpf_map *ours, int fd, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return set_err(err, errlen, -errno,
			       "cannot read the attached set's start slots: %s", strerror(errno));
	if (info.max_entries != bpf_map__max_entries(ours) ||
	    info.value_size != bpf_map__value_size(ours))
		return set_err(err, errlen, -EINVAL,
			       "the attached set has %u start slots of %u bytes, this binary reads "
			       "%u of %u: use the binary that attached it",
			       info.max_entries, info.value_size, bpf_map__max_entries(ours),
			       bpf_map__value_size(ours));
	return 0;
}

static int load_iterator(const struct config *cfg, const struct start_times *st,
			 const struct census *c, struct sockets_bpf **skel, char *err,
			 size_t errlen)
{
	struct sockets_bpf *obj;
	unsigned int fin_timeout_s;
	int ret;

	ret = in_netns(cfg->netns_path, read_fin_timeout, &fin_timeout_s, err, errlen);
	if (ret)
		return ret;
	obj = sockets_bpf__open();
	if (!obj)
		return set_err(err, errlen, -errno, "cannot open the socket iterator: %s",
			       strerror(errno));
	obj->rodata->filter_family = cfg->family;
	obj->rodata->filter_lport = cfg->lports.enabled;
	obj->rodata->filter_rport = cfg->rports.enabled;
	obj->rodata->have_start_times = st != NULL;
	obj->rodata->fin_timeout_s = fin_timeout_s;
	obj->rodata->filter_cgroup_id = cfg->cgroup_id;
	obj->rodata->filter_cgroup_level = cfg->cgroup_level;
	obj->rodata->older_than_ns = c->older_than_ns;
	obj->rodata->top_max = c->top_max;
	if (st) {
		ret = check_slots(obj->maps.start_slots, st->slots_fd, err, errlen);
		if (ret)
			goto fail;
		ret = bpf_map__reuse_fd(obj->maps.start_slots, st->slots_fd);
		if (!ret)
			ret = bpf_map__reuse_fd(obj->maps.state_since, st->since_fd);
		if (ret) {
			set_err(err, errlen, ret, "cannot use the attached set's start times: %s",
				strerror(-ret));
			goto fail;
		}
	} else {
		/* Unused without an attached set: no 6 MiB array for nothing. */
		bpf_map__set_max_entries(obj->maps.start_slots, 1);
	}
	ret = sockets_bpf__load(obj);
	if (ret) {
		set_err(err, errlen, ret, "cannot load the socket iterator: %s (-v shows why)",
			strerror(-ret));
		goto fail;
	}
	ret = fill_ports(bpf_map__fd(obj->maps.ports), TSH_PORTS_LOCAL, &cfg->lports, err, errlen);
	if (!ret)
		ret = fill_ports(bpf_map__fd(obj->maps.ports), TSH_PORTS_REMOTE, &cfg->rports, err,
				 errlen);
	if (ret)
		goto fail;
	*skel = obj;
	return 0;
fail:
	sockets_bpf__destroy(obj);
	return ret;
}

/*
 * Reads the candidates for the oldest list, whole records; a read may end in
 * the middle of one. The iterator counts every socket itself.
 */
static int read_candidates(int fd, struct census *c, char *err, size_t errlen)
{
	enum { RECORDS_PER_READ = 4096 };
	size_t rec_size = sizeof(struct tsh_sock_record), have = 0;
	char *buf = malloc(RECORDS_PER_READ * rec_size);
	int ret = 0;

	if (!buf)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = read(fd, buf + have, RECORDS_PER_READ * rec_size - have);
		size_t whole;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = set_err(err, errlen, -errno, "cannot walk the sockets: %s",
				      strerror(errno));
			break;
		}
		if (n == 0) {
			if (have)
				ret = set_err(err, errlen, -EIO,
					      "the socket walk ended inside a record");
			break;
		}
		have += n;
		whole = have / rec_size * rec_size;
		for (size_t off = 0; off < whole; off += rec_size) {
			struct tsh_sock_record rec;

			memcpy(&rec, buf + off, rec_size);
			census_offer(c, &rec);
		}
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	free(buf);
	return ret;
}

int census_walk(const struct config *cfg, const struct start_times *st, struct census *c, char *err,
		size_t errlen)
{
	struct sockets_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int fd = -1, link_fd, ret;
	__u32 netns;

	if (cfg->netns_path && (ret = netns_inode(cfg->netns_path, &netns, err, errlen)))
		return ret;
	ret = load_iterator(cfg, st, c, &skel, err, errlen);
	if (ret)
		return ret;
	link = bpf_program__attach_iter(skel->progs.tsh_sockets, NULL);
	if (!link) {
		ret = set_err(err, errlen, -errno, "cannot attach the socket iterator: %s",
			      strerror(errno));
		goto out;
	}
	link_fd = bpf_link__fd(link);
	fd = in_netns(cfg->netns_path, create_iter, &link_fd, err, errlen);
	if (fd < 0) {
		if (!err[0])
			set_err(err, errlen, fd, "cannot start the socket walk: %s", strerror(-fd));
		ret = fd;
		goto out;
	}
	c->start_times = st != NULL;
	ret = read_candidates(fd, c, err, errlen);
	/* The walk has ended: nothing writes the totals any more. */
	if (!ret)
		c->totals = skel->bss->totals;
out:
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	sockets_bpf__destroy(skel);
	return ret;
}
