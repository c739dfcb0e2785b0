// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A cgroup v2 id is the inode number of the cgroup's directory in cgroupfs
 * (kernfs on a 64-bit kernel), so the path is found by one walk of the
 * hierarchy, comparing inode numbers.
 */
#include <dirent.h>
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
