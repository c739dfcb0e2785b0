// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A cgroup v2 id is the inode number of the cgroup's directory in cgroupfs
 * (kernfs on a 64-bit kernel), so the path is found by one walk of the
 * hierarchy, comparing inode numbers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mntent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "cgroups.h"

/* Deeper than any real hierarchy; bounds the recursion. */
#define CGROUP_MAX_DEPTH 32

struct cgroup_search {
	const __u64 *ids;
	size_t n;
	char **paths;
	size_t left; /* ids not found yet */
};

static void match(struct cgroup_search *s, __u64 ino, const char *path)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->ids[i] != ino || s->paths[i])
			continue;
		s->paths[i] = strdup(*path ? path : "/");
		if (s->paths[i])
			s->left--;
	}
}

/* at is the directory at path (relative to the root, "" for the root); closed here. */
static void walk(struct cgroup_search *s, int at, char *path, size_t len, int depth)
{
	DIR *dir = fdopendir(at);
	struct dirent *e;

	if (!dir) {
		close(at);
		return;
	}
	while (s->left && (e = readdir(dir))) {
		size_t add = strlen(e->d_name) + 1;
		struct stat st;
		int fd;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (len + add >= PATH_MAX || depth >= CGROUP_MAX_DEPTH)
			continue;
		fd = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st)) {
			close(fd);
			continue;
		}
		snprintf(path + len, PATH_MAX - len, "/%s", e->d_name);
		match(s, st.st_ino, path);
		walk(s, fd, path, len + add, depth + 1);
		path[len] = '\0';
	}
	closedir(dir);
}

/* The first cgroup2 mount, opened; or a negative errno. */
static int open_unified_root(void)
{
	FILE *mounts = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	int fd = -1;

	if (!mounts)
		return -1;
	while (fd < 0 && (m = getmntent(mounts)))
		if (!strcmp(m->mnt_type, "cgroup2"))
			fd = open(m->mnt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	endmntent(mounts);
	return fd;
}

void cgroup_paths(const __u64 *ids, size_t n, char **paths)
{
	struct cgroup_search s = { ids, n, paths, 0 };
	char path[PATH_MAX] = "";
	struct statfs fs;
	struct stat st;
	int fd;

	for (size_t i = 0; i < n; i++) {
		paths[i] = NULL;
		if (ids[i])
			s.left++;
	}
	if (!s.left)
		return;
	fd = open_unified_root();
	if (fd < 0)
		return;
	if (fstatfs(fd, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		return;
	}
	if (!fstat(fd, &st))
		match(&s, st.st_ino, path);
	walk(&s, fd, path, 0, 0);
}

/* The longest cgroup2 mount point that path (a real path) lies under; its length, or 0. */
static size_t unified_mount_of(const char *path)
{
	FILE *mounts = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	size_t best = 0;

	if (!mounts)
		return 0;
	while ((m = getmntent(mounts))) {
		size_t len = strlen(m->mnt_dir);

		if (strcmp(m->mnt_type, "cgroup2") || strncmp(path, m->mnt_dir, len))
			continue;
		if (!strcmp(m->mnt_dir, "/"))
			len = 0;
		if ((path[len] == '/' || !path[len]) && len >= best)
			best = len ? len : 1;
	}
	endmntent(mounts);
	return best;
}

int cgroup_of_path(const char *path, __u64 *id, __u32 *level, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct statfs fs;
	struct stat st;
	size_t root;

	if (!realpath(path, real) || stat(real, &st)) {
		snprintf(err, errlen, "--cgroup %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || statfs(real, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen, "--cgroup %s: not a cgroup v2 directory", path);
		return -EINVAL;
	}
	root = unified_mount_of(real);
	if (!root) {
		snprintf(err, errlen, "--cgroup %s: no cgroup2 mount holds it", path);
		return -EINVAL;
	}
	*id = st.st_ino;
	*level = 0;
	for (const char *c = real + root; *c; c++)
		if (*c == '/' && c[1])
			(*level)++;
	return 0;
}
