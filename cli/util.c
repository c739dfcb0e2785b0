// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
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

/* What temp_name() adds: "/." and ".XXXXXX" to the name, "./" before one with no directory. */
#define TEMP_NAME_EXTRA 8
#define TEMP_PATH_EXTRA 10

/*
 * Room beside path for its temporary file: a name that fits NAME_MAX, a path
 * that fits PATH_MAX. Checked before anything is made (the state file's lock).
 */
static int check_temp_room(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	size_t name = strlen(slash ? slash + 1 : path);

	if (name + TEMP_NAME_EXTRA <= NAME_MAX && strlen(path) + TEMP_PATH_EXTRA < PATH_MAX)
		return 0;
	return set_err(err, errlen, -ENAMETOOLONG,
		       "path too long for a temporary file beside it (a name of at most %d "
		       "characters, a path of at most %d)",
		       NAME_MAX - TEMP_NAME_EXTRA, PATH_MAX - 1 - TEMP_PATH_EXTRA);
}

int check_file_path(const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path);
	struct stat st;

	if (lstat(path, &st)) {
		if (len && path[len - 1] == '/')
			return set_err(err, errlen, -EISDIR,
				       "names a directory (a trailing '/'), not a file");
		return check_temp_room(path, err, errlen);
	}
	if (S_ISLNK(st.st_mode))
		return set_err(err, errlen, -ELOOP, "is a symlink (refused)");
	if (S_ISDIR(st.st_mode))
		return set_err(err, errlen, -EISDIR, "is a directory");
	if (!S_ISREG(st.st_mode))
		return set_err(err, errlen, -EINVAL, "not a regular file");
	return check_temp_room(path, err, errlen);
}

/* ".NAME.XXXXXX": a temporary file of ours for path, as temp_name() makes them. */
static bool is_temp_of(const char *entry, const char *base)
{
	size_t len = strlen(base);

	if (entry[0] != '.' || strncmp(entry + 1, base, len) || entry[len + 1] != '.' ||
	    strlen(entry + len + 2) != 6)
		return false;
	for (const char *c = entry + len + 2; *c; c++)
		if (!isalnum((unsigned char)*c))
			return false;
	return true;
}

/*
 * Removes the temporary files a killed run left beside path. A writer holds
 * a flock on its temporary file until it is renamed: one whose lock can be
 * taken has no writer any more.
 */
static void remove_stale_temps(const char *path)
{
	char *dir = strdup(path), *base = strdup(path);
	const char *name;
	struct dirent *e;
	DIR *d = NULL;

	if (dir && base)
		d = opendir(dirname(dir));
	name = base ? basename(base) : NULL;
	while (d && (e = readdir(d))) {
		struct stat st;
		int fd;

		if (!is_temp_of(e->d_name, name))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) && !flock(fd, LOCK_EX | LOCK_NB))
			unlinkat(dirfd(d), e->d_name, 0);
		close(fd);
	}
	if (d)
		closedir(d);
	free(base);
	free(dir);
}

/*
 * A locked temporary file beside path, named in tmp. The lock marks it as
 * being written; one removed by remove_stale_temps() before we locked it is
 * made again.
 */
static int create_temp(char *tmp, size_t len, const char *path)
{
	for (int tries = 0; tries < 3; tries++) {
		struct stat st;
		int fd, ret;

		ret = temp_name(tmp, len, path);
		if (ret)
			return ret;
		fd = mkstemp(tmp);
		if (fd < 0)
			return -errno;
		if (!flock(fd, LOCK_EX | LOCK_NB) && !fstat(fd, &st) && st.st_nlink)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

int replace_file(const char *path, mode_t mode, file_writer write, const void *ctx, char *err,
		 size_t errlen)
{
	char tmp[4096];
	FILE *out;
	int fd, ret;

	ret = check_file_path(path, err, errlen);
	if (ret)
		return ret;
	remove_stale_temps(path);
	fd = create_temp(tmp, sizeof(tmp), path);
	if (fd == -ENAMETOOLONG)
		return set_err(err, errlen, fd, "path too long for a temporary file beside it");
	if (fd < 0)
		return set_err(err, errlen, fd, "cannot create a temporary file beside it: %s",
			       strerror(-fd));
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
