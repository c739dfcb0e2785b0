// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

void p_err(const char *fmt, ...)
{
	char msg[ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clean_line(msg);
	fprintf(stderr, "tcpstatehist: %s\n", msg);
}

renderer_fn renderer_for(enum tsh_format format)
{
	static const renderer_fn renderers[] = {
		[FORMAT_TEXT] = render_text,
		[FORMAT_JSON] = render_json,
		[FORMAT_PROMETHEUS] = render_prometheus,
	};

	return renderers[format];
}

int output_stream(FILE *out, renderer_fn render, const struct snapshot *snap,
		  const struct render_opts *opts, char *err, size_t errlen)
{
	int ret;

	errno = 0;
	ret = render(out, snap, opts);
	if (fflush(out) || ret) {
		ret = errno ? -errno : -EIO;
		return set_err(err, errlen, ret, "cannot write the output: %s", strerror(-ret));
	}
	return 0;
}

/* Writes what fd takes now, at most PIPE_BUF: never more than a writable pipe holds. */
static int write_piece(int fd, const char *buf, size_t len, size_t *done)
{
	ssize_t n = write(fd, buf + *done, len - *done < PIPE_BUF ? len - *done : PIPE_BUF);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	*done += n;
	return 0;
}

int write_stoppable(int fd, int stop_fd, int timeout_ms, const char *buf, size_t len, char *err,
		    size_t errlen)
{
	size_t done = 0;
	int ret = 0;

	while (!ret && done < len) {
		struct pollfd fds[2] = { { .fd = fd, .events = POLLOUT },
					 { .fd = stop_fd, .events = POLLIN } };

		int n = poll(fds, 2, timeout_ms);

		if (n < 0)
			ret = errno == EINTR ? 0 : -errno;
		else if (n == 0)
			ret = -EINTR;
		else if (fds[0].revents) /* a reader that keeps up gets the whole output */
			ret = write_piece(fd, buf, len, &done);
		else
			ret = -EINTR;
	}
	if (ret && ret != -EINTR)
		set_err(err, errlen, ret, "cannot write the output: %s", strerror(-ret));
	return ret;
}

int output_stoppable(int fd, int stop_fd, int timeout_ms, renderer_fn render,
		     const struct snapshot *snap, const struct render_opts *opts, char *err,
		     size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int ret;

	mem = open_memstream(&buf, &len);
	if (!mem)
		return set_err(err, errlen, -errno, "out of memory");
	if (render(mem, snap, opts) | fclose(mem)) {
		free(buf);
		return set_err(err, errlen, -ENOMEM, "out of memory");
	}
	ret = write_stoppable(fd, stop_fd, timeout_ms, buf, len, err, errlen);
	free(buf);
	return ret;
}

int output_flush(FILE *out, char *err, size_t errlen)
{
	int ret;

	if (!fflush(out) && !ferror(out))
		return 0;
	/* An earlier, implicit flush may have failed: its errno is still the last one. */
	ret = errno ? -errno : -EIO;
	return set_err(err, errlen, ret, "cannot write the output: %s", strerror(-ret));
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
		const struct render_opts *opts, char *err, size_t errlen)
{
	struct render_job job = { render, snap, opts };
	char why[ERR_LEN];
	int ret;

	ret = replace_file(path, 0644, write_rendered, &job, why, sizeof(why));
	if (ret)
		set_err(err, errlen, ret, "-o %s: %s", path, why);
	return ret;
}

int command_exit(int ret, const char *err)
{
	if (!ret || ret == -EPIPE)
		return EXIT_SUCCESS;
	if (err[0])
		p_err("%s", err);
	return EXIT_FAILURE;
}
