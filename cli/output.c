// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "output.h"
#include "util.h"

int output_stream(FILE *out, renderer_fn render, const struct snapshot *snap,
		  const struct render_opts *opts)
{
	int ret;

	errno = 0;
	ret = render(out, snap, opts);
	if (fflush(out) || ret) {
		ret = errno ? -errno : -EIO;
		if (ret != -EPIPE)
			p_err("cannot write the output: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int output_flush(FILE *out)
{
	int err;

	if (!fflush(out) && !ferror(out))
		return 0;
	/* An earlier, implicit flush may have failed: its errno is still the last one. */
	err = errno ? errno : EIO;
	if (err != EPIPE)
		p_err("cannot write the output: %s", strerror(err));
	return -err;
}

int output_exit_status(int ret)
{
	return ret && ret != -EPIPE ? EXIT_FAILURE : EXIT_SUCCESS;
}

struct render_job {
	renderer_fn render;
	const struct snapshot *snap;
	const struct render_opts *opts;
};

static int write_rendered(FILE *out, const void *ctx)
{
	const struct render_job *job = ctx;

	return job->render(out, job->snap, job->opts);
}

int output_file(const char *path, renderer_fn render, const struct snapshot *snap,
		const struct render_opts *opts)
{
	struct render_job job = { render, snap, opts };
	char err[ERR_LEN];
	int ret;

	ret = replace_file(path, 0644, write_rendered, &job, err, sizeof(err));
	if (ret)
		p_err("-o %s: %s", path, err);
	return ret;
}
