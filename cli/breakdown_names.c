// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "args.h"
#include "breakdown_names.h"
#include "cgroups.h"

static void name_cgroups(struct breakdown *b)
{
	__u64 *ids = calloc(b->n ? b->n : 1, sizeof(*ids));
	char **paths = calloc(b->n ? b->n : 1, sizeof(*paths));

	if (ids && paths) {
		for (size_t i = 0; i < b->n; i++)
			ids[i] = b->keys[i].other ? 0 : b->keys[i].key;
		cgroup_paths(ids, b->n, paths);
		for (size_t i = 0; i < b->n; i++) {
			if (paths[i])
				snprintf(b->keys[i].name, sizeof(b->keys[i].name), "%s", paths[i]);
			free(paths[i]);
		}
	}
	free(ids);
	free(paths);
}

/* The `ip netns` name of each namespace that has one: its inode under NETNS_RUN_DIR. */
static void name_netns(struct breakdown *b)
{
	DIR *dir = opendir(NETNS_RUN_DIR);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		struct stat st;

		if (e->d_name[0] == '.' || fstatat(dirfd(dir), e->d_name, &st, 0))
			continue;
		for (size_t i = 0; i < b->n; i++) {
			struct key_counts *k = &b->keys[i];

			if (!k->other && k->key == st.st_ino && !k->alias[0])
				snprintf(k->alias, sizeof(k->alias), "%s", e->d_name);
		}
	}
	closedir(dir);
}

void breakdown_names(struct breakdown *b)
{
	for (size_t i = 0; i < b->n; i++)
		key_plain_name(&b->keys[i], b->keys[i].name, sizeof(b->keys[i].name));
	if (b->by == TSH_BY_CGROUP)
		name_cgroups(b);
	else if (b->by == TSH_BY_NETNS)
		name_netns(b);
}
