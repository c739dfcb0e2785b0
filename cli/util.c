// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "util.h"

void clean_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	clean_line(err);
	return ret;
}

void format_utc(char *buf, size_t len, __u64 realtime_s)
{
	time_t t = realtime_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int lock_wait(int fd, int operation)
{
	while (flock(fd, operation))
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* ".NAME.XXXXXX" in path's directory; dirname() and basename() each on its own copy. */
static int temp_name(char *tmp, size_t len, const char *path)
{
	char *dir = strdup(path), *base = strdup(path);
	int ret = 0;

	if (!dir || !base)
		ret = -ENOMEM;
	else if (snprintf(tmp, len, "%s/.%s.XXXXXX", dirname(dir), basename(base)) >= (int)len)
		ret = -ENAMETOOLONG;
	free(base);
	free(dir);
	return ret;
}

int replace_file(const char *path, mode_t mode, file_writer write, const void *ctx, char *err,
		 size_t errlen)
{
	char tmp[4096];
	struct stat st;
	FILE *out;
	int fd, ret;

	if (!lstat(path, &st) && !S_ISREG(st.st_mode))
		return set_err(err, errlen, -EINVAL, "not a regular file (symlinks are refused)");
	ret = temp_name(tmp, sizeof(tmp), path);
	if (ret)
		return set_err(err, errlen, ret, "%s", strerror(-ret));
	fd = mkstemp(tmp);
	if (fd < 0)
		return set_err(err, errlen, -errno, "cannot create a temporary file beside it: %s",
			       strerror(errno));
	if (fchmod(fd, mode) || !(out = fdopen(fd, "w"))) {
		ret = set_err(err, errlen, -errno, "cannot open: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	errno = 0;
	if (write(out, ctx) || fflush(out) || fsync(fd)) {
		ret = errno ? -errno : -EIO;
		set_err(err, errlen, ret, "cannot write: %s", strerror(-ret));
		fclose(out);
		goto fail;
	}
	if (fclose(out)) {
		ret = set_err(err, errlen, -errno, "cannot write: %s", strerror(errno));
		goto fail;
	}
	if (rename(tmp, path)) {
		ret = set_err(err, errlen, -errno, "cannot replace: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return ret;
}
