// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sockets: the census of TCP sockets now, per state, with how long each has
 * been in its state where that is known, and the oldest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "census_walk.h"
#include "cgroups.h"
#include "common.h"
#include "pins.h"

/*
 * The attached set, whose iterator knows its start times: an error for a
 * --pin-path given that holds no usable set; without --pin-path, a set at the
 * default path if there is one, else none and c says why.
 */
static int find_set(const struct config *cfg, struct pinned *set, bool *found, struct census *c,
		    char *err, size_t errlen)
{
	char why[ERR_LEN];
	int ret;

	*found = false;
	ret = pins_open_shared(cfg->pin_path, set, why, sizeof(why));
	if (!ret) {
		*found = true;
		return 0;
	}
	if (cfg->pin_path_given)
		return set_err(err, errlen, ret, "--pin-path %s: %s", cfg->pin_path, why);
	set_err(c->no_start_times, sizeof(c->no_start_times), 0, "ages of full sockets unknown: %s",
		why);
	return 0;
}

typedef int (*census_renderer)(FILE *out, const struct census *c);

struct census_job {
	census_renderer render;
	const struct census *census;
};

static int write_census(FILE *out, const void *ctx)
{
	const struct census_job *job = ctx;

	return job->render(out, job->census);
}

/* To stdout, or into -o FILE replaced atomically (for node_exporter's textfile collector). */
static int render_census(const struct config *cfg, const struct census *c, char *err, size_t errlen)
{
	static const census_renderer renderers[] = {
		[FORMAT_TEXT] = render_sockets_text,
		[FORMAT_JSON] = render_sockets_json,
		[FORMAT_PROMETHEUS] = render_sockets_prometheus,
	};
	struct census_job job = { renderers[cfg->format], c };
	char why[ERR_LEN];
	int ret;

	/* JSON carries the reason in a field; the other formats say it on stderr. */
	if (!c->start_times && cfg->format != FORMAT_JSON)
		p_err("%s", c->no_start_times);
	if (cfg->output) {
		ret = replace_file(cfg->output, 0644, write_census, &job, why, sizeof(why));
		if (ret)
			set_err(err, errlen, ret, "-o %s: %s", cfg->output, why);
		return ret;
	}
	errno = 0;
	if (job.render(stdout, c))
		return set_err(err, errlen, errno ? -errno : -EIO, "cannot write the output: %s",
			       strerror(errno ? errno : EIO));
	return output_flush(stdout, err, errlen);
}

/* The oldest sockets' cgroup paths, into paths (room for c->noldest). */
static void find_cgroups(struct census *c, char **paths)
{
	__u64 ids[CENSUS_TOP_MAX];

	for (unsigned int i = 0; i < c->noldest; i++)
		ids[i] = c->oldest[i].cgroup_id;
	cgroup_paths(ids, c->noldest, paths);
	c->cgroups = (const char *const *)paths;
}

int cmd_sockets(const struct config *cfg)
{
	struct tsh_sock_record *oldest;
	struct pinned set;
	struct config scope = *cfg;
	char **cgroups = NULL;
	char err[ERR_LEN] = "";
	struct census c;
	bool found;
	int ret;

	oldest = calloc(cfg->top, sizeof(*oldest));
	cgroups = calloc(cfg->top, sizeof(*cgroups));
	if (!oldest || !cgroups) {
		ret = set_err(err, sizeof(err), -ENOMEM, "out of memory");
		goto out;
	}
	pins_init(&set);
	census_init(&c, oldest, cfg->top, cfg->older_than_ns);
	if (cfg->cgroup_path) {
		ret = cgroup_of_path(cfg->cgroup_path, &scope.cgroup_id, &scope.cgroup_level, err,
				     sizeof(err));
		if (ret)
			goto out;
	}
	ret = find_set(cfg, &set, &found, &c, err, sizeof(err));
	if (ret)
		goto out;
	ret = census_walk(&scope, cfg->pin_path, found ? &set : NULL, &c, err, sizeof(err));
	if (ret)
		goto out;
	census_finish(&c);
	find_cgroups(&c, cgroups);
	ret = render_census(cfg, &c, err, sizeof(err));
out:
	pins_close(&set);
	for (unsigned long i = 0; cgroups && i < cfg->top; i++)
		free(cgroups[i]);
	free(cgroups);
	free(oldest);
	return command_exit(ret, err);
}
