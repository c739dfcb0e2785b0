// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pin layout. Everything is checked before anything is read: a pin set left
 * by another layout, or half a set left by a failed attach, is refused with
 * one line that says what to do, never misread.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pins.h"
#include "util.h"
#include "tcpstatehist.skel.h"

#define BPFFS_ROOT "/sys/fs/bpf"

const char *const pin_names[PIN_NOBJECTS] = {
	[PIN_MAIN_LINK] = "main_link",	     [PIN_RECOVER_LINK] = "recover_link",
	[PIN_COUNTERS] = "counters",	     [PIN_MAIN_PROG] = "main_prog",
	[PIN_RECOVER_PROG] = "recover_prog", [PIN_KEY_INDEX] = "key_index",
	[PIN_KEY_TABLES] = "key_tables",     [PIN_CENSUS_PROG] = "census_prog",
	[PIN_META] = "meta",
};

const struct prog_desc prog_table[NPROGS] = {
	[PROG_MAIN] = { "tsh_main", PIN_MAIN_PROG, PIN_MAIN_LINK },
	[PROG_RECOVER] = { "tsh_recover", PIN_RECOVER_PROG, PIN_RECOVER_LINK },
};

static void pin_path_of(char *buf, size_t len, const char *dir, enum pin_object obj)
{
	snprintf(buf, len, "%s/%s", dir, pin_names[obj]);
}

/* " --pin-path DIR" when dir is not the default, for the hints we print. */
static const char *pin_option(const char *dir, char *buf, size_t len)
{
	if (!strcmp(dir, DEFAULT_PIN_PATH))
		return "";
	snprintf(buf, len, " --pin-path %s", dir);
	return buf;
}

static bool is_bpffs(const char *path)
{
	struct statfs sf;

	return !statfs(path, &sf) && sf.f_type == BPF_FS_MAGIC;
}

/* True when dir is where a file system is mounted (a bpffs root, say); a symlink is not. */
static bool is_mount_point(const char *dir)
{
	char parent[PATH_MAX];
	struct stat st, up;

	if (snprintf(parent, sizeof(parent), "%s/..", dir) >= (int)sizeof(parent))
		return false;
	return !lstat(dir, &st) && S_ISDIR(st.st_mode) && !stat(parent, &up) &&
	       (st.st_dev != up.st_dev || st.st_ino == up.st_ino);
}

/* The longest name of ours under the pin directory, "recover_link". */
#define LONGEST_PIN_NAME 12

/* Every DIR/NAME must fit PATH_MAX: a cut name would pin under another name. */
static int check_length(const char *dir, char *err, size_t errlen)
{
	if (strlen(dir) + 1 + LONGEST_PIN_NAME < PATH_MAX)
		return 0;
	return set_err(err, errlen, -ENAMETOOLONG,
		       "--pin-path: path too long (at most %d characters)",
		       PATH_MAX - 2 - LONGEST_PIN_NAME);
}

/* 0, -ENOENT (err set) when missing, or another error for the wrong kind of path. */
static int check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (check_length(dir, err, errlen))
		return -ENAMETOOLONG;

	if (lstat(dir, &st)) {
		int ret = -errno;

		snprintf(err, errlen, "--pin-path %s: %s", dir, strerror(errno));
		return ret;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "--pin-path %s is a symlink (refused)", dir);
		return -ELOOP;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--pin-path %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (!is_bpffs(dir)) {
		snprintf(err, errlen, "--pin-path %s is not on a BPF filesystem (bpffs)", dir);
		return -EXDEV;
	}
	return 0;
}

static int prepare_dir(const char *dir, bool *created, char *err, size_t errlen)
{
	bool under_root = !strncmp(dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1);

	*created = false;
	if (check_length(dir, err, errlen))
		return -ENAMETOOLONG;
	if (under_root && !is_bpffs(BPFFS_ROOT) &&
	    mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		snprintf(err, errlen, "cannot mount bpffs at %s: %s", BPFFS_ROOT, strerror(errno));
		return -errno;
	}
	/* detach could not remove a mount point, and pins there would mix with others. */
	if (is_mount_point(dir))
		return set_err(err, errlen, -EBUSY,
			       "--pin-path %s is the root of a BPF filesystem: use a directory "
			       "under it, e.g. %s/tcpstatehist",
			       dir, dir);
	*created = !mkdir(dir, 0700);
	if (!*created && errno != EEXIST) {
		snprintf(err, errlen, "--pin-path %s: cannot create: %s", dir, strerror(errno));
		return -errno;
	}
	return check_dir(dir, err, errlen);
}

/* True when path still names the directory that fd holds. */
static bool same_dir(int fd, const char *path)
{
	struct stat held, named;

	return !fstat(fd, &held) && !lstat(path, &named) && held.st_dev == named.st_dev &&
	       held.st_ino == named.st_ino;
}

int pins_lock_dir(const char *dir, int operation, bool *created, char *err, size_t errlen)
{
	int fd, ret;

	for (;;) {
		/* Says why a symlink or a file is refused; open() would only say ENOTDIR. */
		ret = created ? prepare_dir(dir, created, err, errlen)
			      : check_dir(dir, err, errlen);
		if (ret) {
			/* A directory made here and refused (not on bpffs) is taken away. */
			if (created && *created)
				rmdir(dir);
			return ret;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue; /* removed since: check again */
		if (fd < 0)
			return set_err(err, errlen, -errno, "--pin-path %s: %s", dir,
				       strerror(errno));
		ret = lock_wait(fd, operation);
		if (ret) {
			close(fd);
			return set_err(err, errlen, ret, "--pin-path %s: cannot lock: %s", dir,
				       strerror(-ret));
		}
		/*
		 * detach removes the directory with the lock held: whoever waited
		 * behind it now holds a directory nobody can find, while the path
		 * may name a new one. Such a lock is worth nothing: start over.
		 */
		if (same_dir(fd, dir))
			return fd;
		close(fd);
	}
}

void pins_init(struct pinned *p)
{
	memset(p, 0, sizeof(*p));
	p->kernel.counters_fd = p->kernel.main_prog_fd = p->meta_fd = -1;
	p->kernel.key_index_fd = p->kernel.key_tables_fd = -1;
	p->census_fd = -1;
	for (int i = 0; i < NPROGS; i++)
		p->prog_fds[i] = -1;
}

int pins_open_shared(const char *dir, struct pinned *p, char *err, size_t errlen)
{
	int lock, ret;

	pins_init(p);
	lock = pins_lock_dir(dir, LOCK_SH, NULL, err, errlen);
	if (lock < 0 && lock != -ENOENT)
		return lock;
	ret = pins_open(dir, p, err, errlen);
	if (lock >= 0)
		close(lock);
	return ret;
}

/* Bit per pin_object that exists under dir. */
static unsigned int present_pins(const char *dir)
{
	unsigned int present = 0;
	char path[PATH_MAX];
	struct stat st;

	for (int i = 0; i < PIN_NOBJECTS; i++) {
		pin_path_of(path, sizeof(path), dir, i);
		if (!lstat(path, &st))
			present |= 1u << i;
	}
	return present;
}

bool pins_any(const char *dir)
{
	return present_pins(dir) != 0;
}

static int layout_error(const char *dir, unsigned int version, char *err, size_t errlen)
{
	char opt[4200];

	snprintf(err, errlen,
		 "pins at %s are layout v%u, this binary reads v%d: run 'tcpstatehist detach%s' "
		 "then attach",
		 dir, version, TSH_LAYOUT_VERSION, pin_option(dir, opt, sizeof(opt)));
	return -EPROTO;
}

static int get_pinned(const char *dir, enum pin_object obj, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	pin_path_of(path, sizeof(path), dir, obj);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
	}
	return fd;
}

/*
 * A map or a program, opened read-only: reading needs no more, and a
 * read-only bpffs (a monitoring container's) refuses a read-write open with
 * EROFS. A kernel that takes no flags for a program gets a plain open.
 */
static int get_pinned_rdonly(const char *dir, enum pin_object obj, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	int fd;

	pin_path_of(path, sizeof(path), dir, obj);
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0 && errno == EINVAL)
		return get_pinned(dir, obj, err, errlen);
	if (fd < 0) {
		fd = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
	}
	return fd;
}

/*
 * True when a link on the system runs the program: how a reader checks a
 * pinned link it cannot open (a link opens read-write only, which a
 * read-only bpffs refuses). Unknown (no right to list links) counts as yes.
 */
static bool prog_has_link(__u32 prog_id)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.prog_id == prog_id) {
			close(fd);
			return true;
		}
		close(fd);
	}
	return errno != ENOENT;
}

static int open_meta(const char *dir, struct pinned *p, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), key = 0;
	unsigned char *value;
	__u32 version;
	int ret;

	p->meta_fd = get_pinned_rdonly(dir, PIN_META, err, errlen);
	if (p->meta_fd < 0)
		return p->meta_fd;
	if (bpf_obj_get_info_by_fd(p->meta_fd, &info, &len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != 4 || info.value_size < 4 || info.max_entries != 1)
		return layout_error(dir, 0, err, errlen);
	value = calloc(1, info.value_size);
	if (!value) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = bpf_map_lookup_elem(p->meta_fd, &key, value);
	if (ret) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s/%s: %s", dir, pin_names[PIN_META],
			 strerror(errno));
		free(value);
		return ret;
	}
	/* The version is the first field of every layout's meta. */
	memcpy(&version, value, sizeof(version));
	if (version != TSH_LAYOUT_VERSION || info.value_size != sizeof(p->meta)) {
		free(value);
		return layout_error(dir, version, err, errlen);
	}
	memcpy(&p->meta, value, sizeof(p->meta));
	free(value);
	p->meta.lports[sizeof(p->meta.lports) - 1] = '\0';
	p->meta.rports[sizeof(p->meta.rports) - 1] = '\0';
	p->meta.netns_path[sizeof(p->meta.netns_path) - 1] = '\0';
	p->meta.labels[sizeof(p->meta.labels) - 1] = '\0';
	return 0;
}

static int open_counters(const char *dir, struct pinned *p, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	p->kernel.counters_fd = get_pinned_rdonly(dir, PIN_COUNTERS, err, errlen);
	if (p->kernel.counters_fd < 0)
		return p->kernel.counters_fd;
	if (bpf_obj_get_info_by_fd(p->kernel.counters_fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != 4 ||
	    info.value_size != sizeof(struct tsh_table) || info.max_entries != TSH_NWRITERS)
		return layout_error(dir, p->meta.layout_version, err, errlen);
	return 0;
}

/*
 * The breakdown's maps, checked against meta: max_keys index entries (one
 * without --by) and as many tables again plus the overflow's.
 */
static int open_key_maps(const char *dir, struct pinned *p, char *err, size_t errlen)
{
	struct bpf_map_info index = {}, tables = {};
	__u32 len = sizeof(index);
	int fd;

	fd = p->kernel.key_index_fd = get_pinned_rdonly(dir, PIN_KEY_INDEX, err, errlen);
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &index, &len) || index.type != BPF_MAP_TYPE_HASH ||
	    index.key_size != sizeof(__u64) || index.value_size != sizeof(__u32))
		return layout_error(dir, p->meta.layout_version, err, errlen);
	fd = p->kernel.key_tables_fd = get_pinned_rdonly(dir, PIN_KEY_TABLES, err, errlen);
	if (fd < 0)
		return fd;
	len = sizeof(tables);
	if (bpf_obj_get_info_by_fd(fd, &tables, &len) || tables.type != BPF_MAP_TYPE_ARRAY ||
	    tables.value_size != sizeof(struct tsh_key_table) || p->meta.by >= TSH_NBY ||
	    tables.max_entries != (p->meta.by ? index.max_entries + 1 : 1))
		return layout_error(dir, p->meta.layout_version, err, errlen);
	p->kernel.by = p->meta.by;
	p->max_keys = p->meta.by ? index.max_entries : 0;
	return 0;
}

/* Opens a pinned program and checks it is ours; *id gets its id. */
static int open_prog(const char *dir, enum pin_object obj, const char *name, __u32 *id, char *err,
		     size_t errlen)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = get_pinned_rdonly(dir, obj, err, errlen);

	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_PROG_TYPE_TRACING ||
	    strcmp(info.name, name)) {
		close(fd);
		return layout_error(dir, TSH_LAYOUT_VERSION, err, errlen);
	}
	*id = info.id;
	return fd;
}

/* A pinned link must hold the pinned program: otherwise nothing counts. */
static int check_link(const char *dir, enum pin_object obj, __u32 prog_id, char *err, size_t errlen)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = get_pinned(dir, obj, err, errlen), ret = 0;

	if ((fd == -EROFS || fd == -EACCES) && prog_has_link(prog_id))
		return 0;
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.prog_id != prog_id) {
		snprintf(err, errlen,
			 "%s/%s does not attach the pinned program: run 'tcpstatehist "
			 "detach' then attach",
			 dir, pin_names[obj]);
		ret = -EPROTO;
	}
	close(fd);
	return ret;
}

static void missing_list(unsigned int present, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < PIN_NOBJECTS && used < len; i++)
		if (!(present & (1u << i)))
			used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
					 pin_names[i]);
}

int pins_open(const char *dir, struct pinned *p, char *err, size_t errlen)
{
	unsigned int present = 0, all = (1u << PIN_NOBJECTS) - 1;
	char missing[128], opt[4200];
	__u32 ids[NPROGS], census_id;
	int ret;

	pins_init(p);
	ret = check_dir(dir, err, errlen);
	if (ret == -ENOENT || (!ret && !(present = present_pins(dir)))) {
		snprintf(err, errlen,
			 "nothing attached: no pins at %s (run 'tcpstatehist attach%s')", dir,
			 pin_option(dir, opt, sizeof(opt)));
		return -ENOENT;
	}
	if (ret)
		return ret;
	/* A different layout may name its pins differently: ask meta first. */
	if ((present & (1u << PIN_META)) && (ret = open_meta(dir, p, err, errlen)))
		goto fail;
	if (present != all) {
		missing_list(present, missing, sizeof(missing));
		snprintf(err, errlen,
			 "incomplete pin set at %s (missing %s): an attach failed or is under way; "
			 "run 'tcpstatehist detach%s'",
			 dir, missing, pin_option(dir, opt, sizeof(opt)));
		ret = -ESTALE;
		goto fail;
	}
	ret = open_counters(dir, p, err, errlen);
	if (!ret)
		ret = open_key_maps(dir, p, err, errlen);
	if (ret)
		goto fail;
	for (int i = 0; i < NPROGS; i++) {
		p->prog_fds[i] = open_prog(dir, prog_table[i].prog, prog_table[i].name, &ids[i],
					   err, errlen);
		if (p->prog_fds[i] < 0) {
			ret = p->prog_fds[i];
			goto fail;
		}
	}
	p->kernel.main_prog_fd = p->prog_fds[PROG_MAIN];
	p->census_fd = open_prog(dir, PIN_CENSUS_PROG, CENSUS_PROG_NAME, &census_id, err, errlen);
	if (p->census_fd < 0) {
		ret = p->census_fd;
		goto fail;
	}
	for (int i = 0; i < NPROGS; i++) {
		ret = check_link(dir, prog_table[i].link, ids[i], err, errlen);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	pins_close(p);
	return ret;
}

void pins_close(struct pinned *p)
{
	if (p->kernel.counters_fd >= 0)
		close(p->kernel.counters_fd);
	for (int i = 0; i < NPROGS; i++)
		if (p->prog_fds[i] >= 0)
			close(p->prog_fds[i]);
	if (p->meta_fd >= 0)
		close(p->meta_fd);
	if (p->census_fd >= 0)
		close(p->census_fd);
	if (p->kernel.key_index_fd >= 0)
		close(p->kernel.key_index_fd);
	if (p->kernel.key_tables_fd >= 0)
		close(p->kernel.key_tables_fd);
	p->kernel.counters_fd = p->kernel.main_prog_fd = p->meta_fd = -1;
	p->kernel.key_index_fd = p->kernel.key_tables_fd = p->census_fd = -1;
	for (int i = 0; i < NPROGS; i++)
		p->prog_fds[i] = -1;
}

unsigned int pins_prog_ids(const char *dir, __u32 ids[PINNED_PROGS])
{
	unsigned int n = 0;
	char path[PATH_MAX];

	for (int i = 0; i < PINNED_PROGS; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd;

		pin_path_of(path, sizeof(path), dir,
			    i < NPROGS ? prog_table[i].prog : PIN_CENSUS_PROG);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			ids[n++] = info.id;
		close(fd);
	}
	return n;
}

static int pin_meta(const char *path, const struct tsh_meta *meta)
{
	__u32 key = 0;
	int fd, ret = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tsh_meta", sizeof(key), sizeof(*meta), 1, NULL);
	if (fd < 0)
		return -errno;
	/* Frozen: no one rewrites an attach's identity behind its back. */
	if (bpf_map_update_elem(fd, &key, meta, BPF_ANY) || bpf_map_freeze(fd) ||
	    bpf_obj_pin(fd, path))
		ret = -errno;
	close(fd);
	return ret;
}

int pins_create(const char *dir, struct tcpstatehist_bpf *skel, int census_fd,
		const struct tsh_meta *meta, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int obj, ret = 0;

	for (obj = 0; obj < PIN_NOBJECTS && !ret; obj++) {
		pin_path_of(path, sizeof(path), dir, obj);
		switch (obj) {
		case PIN_MAIN_LINK:
			ret = bpf_link__pin(skel->links.tsh_main, path);
			break;
		case PIN_RECOVER_LINK:
			ret = bpf_link__pin(skel->links.tsh_recover, path);
			break;
		case PIN_COUNTERS:
			ret = bpf_map__pin(skel->maps.counters, path);
			break;
		case PIN_MAIN_PROG:
			ret = bpf_program__pin(skel->progs.tsh_main, path);
			break;
		case PIN_RECOVER_PROG:
			ret = bpf_program__pin(skel->progs.tsh_recover, path);
			break;
		case PIN_KEY_INDEX:
			ret = bpf_map__pin(skel->maps.key_index, path);
			break;
		case PIN_KEY_TABLES:
			ret = bpf_map__pin(skel->maps.key_tables, path);
			break;
		case PIN_CENSUS_PROG:
			ret = bpf_obj_pin(census_fd, path) ? -errno : 0;
			break;
		case PIN_META:
			ret = pin_meta(path, meta);
			break;
		}
	}
	if (!ret)
		return 0;
	snprintf(err, errlen, "cannot pin %s: %s", path, strerror(-ret));
	/* obj is one past the object that failed: unpin those before it. */
	for (obj -= 2; obj >= 0; obj--) {
		pin_path_of(path, sizeof(path), dir, obj);
		unlink(path);
	}
	return ret;
}

int pins_remove(const char *dir, bool remove_dir, char *err, size_t errlen)
{
	/* Meta first: from then on the set reads as incomplete, never as whole. */
	static const enum pin_object order[] = {
		PIN_META,	  PIN_RECOVER_LINK, PIN_MAIN_LINK,
		PIN_RECOVER_PROG, PIN_MAIN_PROG,    PIN_COUNTERS,
		PIN_KEY_INDEX,	  PIN_KEY_TABLES,   PIN_CENSUS_PROG,
	};
	char path[PATH_MAX];
	int removed = 0, ret;

	ret = check_dir(dir, err, errlen);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		pin_path_of(path, sizeof(path), dir, order[i]);
		if (!unlink(path))
			removed++;
		else if (errno != ENOENT) {
			ret = -errno;
			snprintf(err, errlen, "cannot unpin %s: %s", path, strerror(errno));
			return ret;
		}
	}
	if (remove_dir && !is_mount_point(dir) && rmdir(dir)) {
		ret = -errno;
		if (errno == ENOTEMPTY)
			snprintf(err, errlen,
				 "unpinned %d objects, but %s holds files that are not ours: left "
				 "in place",
				 removed, dir);
		else
			snprintf(err, errlen, "cannot remove %s: %s", dir, strerror(errno));
		return ret;
	}
	return removed;
}
