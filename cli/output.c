// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "commands.h"
#include "output.h"

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

static int fail(const char *path, const char *what, int err)
{
	p_err("-o %s: %s: %s", path, what, strerror(err));
	return -err;
}

int output_file(const char *path, renderer_fn render, const struct snapshot *snap,
		const struct render_opts *opts)
{
	char *copy = strdup(path), tmp[4096];
	struct stat st;
	FILE *out;
	int fd, ret;

	if (!copy)
		return fail(path, "cannot allocate", ENOMEM);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dirname(copy), basename(strcpy(copy, path)));
	free(copy);
	if (!lstat(path, &st) && !S_ISREG(st.st_mode))
		return fail(path, "not a regular file (symlinks are refused)", EINVAL);
	fd = mkstemp(tmp);
	if (fd < 0)
		return fail(path, "cannot create a temporary file beside it", errno);
	fchmod(fd, 0644);
	out = fdopen(fd, "w");
	if (!out) {
		ret = fail(path, "cannot open", errno);
		close(fd);
		unlink(tmp);
		return ret;
	}
	errno = 0;
	ret = render(out, snap, opts);
	if (ret || fflush(out) || fsync(fd)) {
		ret = fail(path, "cannot write", errno ? errno : EIO);
		fclose(out);
		unlink(tmp);
		return ret;
	}
	if (fclose(out)) {
		ret = fail(path, "cannot write", errno);
		unlink(tmp);
		return ret;
	}
	if (rename(tmp, path)) {
		ret = fail(path, "cannot replace", errno);
		unlink(tmp);
		return ret;
	}
	return 0;
}
