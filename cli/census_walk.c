// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "census_walk.h"
#include "loader.h"
#include "pins.h"
#include "sockets.skel.h"
#include "util.h"

/*
 * The maps a walk writes and reads: the iterator's .bss (its settings and
 * what it counted) and its port lists.
 */
struct walk_maps {
	int bss_fd;
	int ports_fd;
};

/* ".bss": the suffix libbpf gives the name of an object's .bss map. */
static bool is_bss_name(const char *name)
{
	size_t len = strlen(name);

	return len >= 4 && !strcmp(name + len - 4, ".bss");
}

/*
 * The pinned iterator's maps, found through the program: its .bss must be
 * the one this binary writes.
 */
static int pinned_walk_maps(int prog_fd, struct walk_maps *m, char *err, size_t errlen)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16], nmaps;

	m->bss_fd = m->ports_fd = -1;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return set_err(err, errlen, -errno, "cannot read the set's census program: %s",
			       strerror(errno));
	nmaps = info.nr_map_ids < ARRAY_SIZE(ids) ? info.nr_map_ids : ARRAY_SIZE(ids);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = nmaps;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return set_err(err, errlen, -errno, "cannot read the set's census program: %s",
			       strerror(errno));
	for (__u32 i = 0; i < nmaps; i++) {
		struct bpf_map_info map = {};
		__u32 map_len = sizeof(map);
		int fd = bpf_map_get_fd_by_id(ids[i]), *slot = NULL;

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &map, &map_len)) {
			if (is_bss_name(map.name) &&
			    map.value_size == sizeof(struct sockets_bpf__bss))
				slot = &m->bss_fd;
			else if (!strcmp(map.name, "ports"))
				slot = &m->ports_fd;
		}
		if (slot && *slot < 0)
			*slot = fd;
		else
			close(fd);
	}
	if (m->bss_fd >= 0 && m->ports_fd >= 0)
		return 0;
	if (m->bss_fd >= 0)
		close(m->bss_fd);
	if (m->ports_fd >= 0)
		close(m->ports_fd);
	m->bss_fd = m->ports_fd = -1;
	return set_err(err, errlen, -EPROTO,
		       "the set's census program is not the one this binary runs: use the binary "
		       "that attached it, or attach again");
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

/*
 * Opens and loads the iterator: with the set's start-time maps (slots_fd,
 * since_fd), or with none (-1: every full socket's age unknown).
 */
static int load_iterator(int slots_fd, int since_fd, struct sockets_bpf **out, char *err,
			 size_t errlen)
{
	struct sockets_bpf *obj = sockets_bpf__open();
	int ret;

	if (!obj)
		return set_err(err, errlen, -errno, "cannot open the socket iterator: %s",
			       strerror(errno));
	if (slots_fd >= 0) {
		ret = bpf_map__reuse_fd(obj->maps.start_slots, slots_fd);
		if (!ret)
			ret = bpf_map__reuse_fd(obj->maps.state_since, since_fd);
		if (ret) {
			set_err(err, errlen, ret, "cannot use the set's start times: %s",
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
	*out = obj;
	return 0;
fail:
	sockets_bpf__destroy(obj);
	return ret;
}

int census_prog_load(int slots_fd, int since_fd, char *err, size_t errlen)
{
	struct sockets_bpf *obj;
	int fd = load_iterator(slots_fd, since_fd, &obj, err, errlen);

	if (fd)
		return fd;
	fd = fcntl(bpf_program__fd(obj->progs.tsh_sockets), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		fd = set_err(err, errlen, -errno, "cannot keep the socket iterator: %s",
			     strerror(errno));
	sockets_bpf__destroy(obj);
	return fd;
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

/* The walk's settings: cfg's filters and options, in the namespace it walks. */
static int walk_settings(const struct config *cfg, bool start_times, const struct census *c,
			 struct tsh_census_settings *set, char *err, size_t errlen)
{
	memset(set, 0, sizeof(*set));
	set->family = cfg->family;
	set->lports = cfg->lports.enabled;
	set->rports = cfg->rports.enabled;
	set->cgroup_id = cfg->cgroup_id;
	set->cgroup_level = cfg->cgroup_level;
	set->older_than_ns = c->older_than_ns;
	set->top_max = c->top_max;
	set->start_times = start_times;
	return in_netns(cfg->netns_path, read_fin_timeout, &set->fin_timeout_s, err, errlen);
}

/*
 * One walk with the loaded iterator prog_fd: its settings and zeroed state
 * written, a link and an iterator made for this walk, the totals read back.
 */
static int run_walk(const struct config *cfg, int prog_fd, const struct walk_maps *m,
		    bool start_times, struct census *c, char *err, size_t errlen)
{
	struct sockets_bpf__bss *bss = calloc(1, sizeof(*bss));
	int fd = -1, link_fd = -1, ret;
	__u32 key = 0;

	if (!bss)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	ret = walk_settings(cfg, start_times, c, &bss->settings, err, errlen);
	if (ret)
		goto out;
	if (bpf_map_update_elem(m->bss_fd, &key, bss, BPF_ANY)) {
		ret = set_err(err, errlen, -errno, "cannot set up the socket walk: %s",
			      strerror(errno));
		goto out;
	}
	ret = fill_ports(m->ports_fd, TSH_PORTS_LOCAL, &cfg->lports, err, errlen);
	if (!ret)
		ret = fill_ports(m->ports_fd, TSH_PORTS_REMOTE, &cfg->rports, err, errlen);
	if (ret)
		goto out;
	link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, NULL);
	if (link_fd < 0) {
		ret = set_err(err, errlen, -errno, "cannot attach the socket iterator: %s",
			      strerror(errno));
		goto out;
	}
	fd = in_netns(cfg->netns_path, create_iter, &link_fd, err, errlen);
	if (fd < 0) {
		if (!err[0])
			set_err(err, errlen, fd, "cannot start the socket walk: %s", strerror(-fd));
		ret = fd;
		goto out;
	}
	c->start_times = start_times;
	ret = read_candidates(fd, c, err, errlen);
	/* The walk has ended: nothing writes the totals any more. */
	if (!ret && bpf_map_lookup_elem(m->bss_fd, &key, bss))
		ret = set_err(err, errlen, -errno, "cannot read the socket walk's totals: %s",
			      strerror(errno));
	if (!ret)
		c->totals = bss->totals;
out:
	if (fd >= 0)
		close(fd);
	if (link_fd >= 0)
		close(link_fd);
	free(bss);
	return ret;
}

/* With the set's iterator: one walk at a time, under an exclusive lock on dir. */
static int walk_set(const struct config *cfg, const char *dir, int prog_fd, struct census *c,
		    char *err, size_t errlen)
{
	struct walk_maps m;
	int lock, ret;

	lock = pins_lock_dir(dir, LOCK_EX, NULL, err, errlen);
	if (lock < 0)
		return lock;
	ret = pinned_walk_maps(prog_fd, &m, err, errlen);
	if (!ret) {
		ret = run_walk(cfg, prog_fd, &m, true, c, err, errlen);
		close(m.bss_fd);
		close(m.ports_fd);
	}
	close(lock);
	return ret;
}

int census_walk(const struct config *cfg, const char *dir, const struct pinned *set,
		struct census *c, char *err, size_t errlen)
{
	struct sockets_bpf *skel;
	struct walk_maps m;
	__u32 netns;
	int ret;

	if (cfg->netns_path && (ret = netns_inode(cfg->netns_path, &netns, err, errlen)))
		return ret;
	if (set)
		return walk_set(cfg, dir, set->census_fd, c, err, errlen);
	ret = load_iterator(-1, -1, &skel, err, errlen);
	if (ret)
		return ret;
	m.bss_fd = bpf_map__fd(skel->maps.bss);
	m.ports_fd = bpf_map__fd(skel->maps.ports);
	ret = run_walk(cfg, bpf_program__fd(skel->progs.tsh_sockets), &m, false, c, err, errlen);
	sockets_bpf__destroy(skel);
	return ret;
}
