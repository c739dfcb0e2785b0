// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the commands share: the atomic replace, the output, the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common.h"
#include "unit.h"

/* A fresh directory with a subdirectory "sub"; its path in dir. */
static void make_dirs(char *dir, size_t len)
{
	char sub[256];

	snprintf(dir, len, "/tmp/tsh-unit-common.XXXXXX");
	CHECK(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	CHECK(mkdir(sub, 0755) == 0);
}

static void remove_dirs(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

static char *file_text(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Names in dir, sorted, space-separated. */
static char *listing(const char *dir)
{
	static char buf[512];
	char cmd[300];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | tr '\\n' ' '", dir);
	p = popen(cmd, "r");
	if (p) {
		n = fread(buf, 1, sizeof(buf) - 1, p);
		pclose(p);
	}
	buf[n] = '\0';
	return buf;
}

static int write_hello(FILE *out, const void *ctx)
{
	return fputs(ctx, out) < 0;
}

static int write_fails(FILE *out, const void *ctx)
{
	(void)ctx;
	fputs("half", out);
	errno = ENOSPC;
	return -1;
}

static void test_replace_file_in_subdirectory(void)
{
	char dir[64], path[128], err[ERR_LEN];
	struct stat st;

	make_dirs(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sub/out.prom", dir);
	CHECK_EQ_U64(0, replace_file(path, 0644, write_hello, "one\n", err, sizeof(err)));
	CHECK_STR("one\n", file_text(path));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK_EQ_U64(0, replace_file(path, 0600, write_hello, "two\n", err, sizeof(err)));
	CHECK_STR("two\n", file_text(path));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK_STR("out.prom ", listing(path));
	remove_dirs(dir);
}

static void test_replace_file_relative(void)
{
	char dir[64], cwd[4096], err[ERR_LEN], path[128];

	make_dirs(dir, sizeof(dir));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK(chdir(dir) == 0);
	CHECK_EQ_U64(0, replace_file("sub/rel.json", 0644, write_hello, "{}\n", err, sizeof(err)));
	CHECK(chdir(cwd) == 0);
	snprintf(path, sizeof(path), "%s/sub/rel.json", dir);
	CHECK_STR("{}\n", file_text(path));
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK_STR("rel.json ", listing(path));
	remove_dirs(dir);
}

static void test_replace_file_failures_leave_the_old_file(void)
{
	char dir[64], path[128], link[128], err[ERR_LEN];

	make_dirs(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sub/out", dir);
	CHECK_EQ_U64(0, replace_file(path, 0644, write_hello, "old\n", err, sizeof(err)));
	CHECK(replace_file(path, 0644, write_fails, NULL, err, sizeof(err)) == -ENOSPC);
	CHECK_STR("cannot write: No space left on device", err);
	CHECK_STR("old\n", file_text(path));
	snprintf(link, sizeof(link), "%s/sub/link", dir);
	CHECK(symlink(path, link) == 0);
	CHECK(replace_file(link, 0644, write_hello, "new\n", err, sizeof(err)) == -ELOOP);
	CHECK_STR("is a symlink (refused)", err);
	CHECK_STR("old\n", file_text(path));
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK(replace_file(path, 0644, write_hello, "new\n", err, sizeof(err)) == -EISDIR);
	CHECK_STR("is a directory", err);
	snprintf(path, sizeof(path), "%s/sub/new/", dir);
	CHECK(replace_file(path, 0644, write_hello, "new\n", err, sizeof(err)) == -EISDIR);
	CHECK_STR("names a directory (a trailing '/'), not a file", err);
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK_STR("link out ", listing(path));
	snprintf(path, sizeof(path), "%s/missing/out", dir);
	CHECK(replace_file(path, 0644, write_hello, "x", err, sizeof(err)) == -ENOENT);
	CHECK_STR("cannot create a temporary file beside it: No such file or directory", err);
	remove_dirs(dir);
}

/* A path of exactly len characters under a directory that does not exist, names of 200 at most. */
static void long_path(char *path, size_t len)
{
	size_t used = snprintf(path, len + 1, "/tmp/tsh-unit-none");

	while (used < len) {
		size_t name = len - used - 1 < 200 ? len - used - 1 : 200;

		if (len - used - 1 - name == 1) /* no name of 0 characters next */
			name--;
		path[used++] = '/';
		memset(path + used, 'a', name);
		used += name;
	}
	path[used] = '\0';
}

/* ".NAME.XXXXXX" must fit beside path: a longer name is refused before anything is made. */
static void test_check_file_path_room_for_the_temporary(void)
{
	char path[PATH_MAX + 16], err[ERR_LEN];

	snprintf(path, sizeof(path), "/tmp/%0*d", NAME_MAX - 8, 0);
	CHECK_EQ_U64(0, check_file_path(path, err, sizeof(err)));
	snprintf(path, sizeof(path), "/tmp/%0*d", NAME_MAX - 7, 0);
	CHECK(check_file_path(path, err, sizeof(err)) == -ENAMETOOLONG);
	CHECK_STR("path too long for a temporary file beside it (a name of at most 247 characters, "
		  "a path of at most 4085)",
		  err);
	/* Names that fit, in a path at the limit, then one character over it. */
	long_path(path, PATH_MAX - 1 - 10);
	CHECK_EQ_U64(0, check_file_path(path, err, sizeof(err)));
	long_path(path, PATH_MAX - 10);
	CHECK(check_file_path(path, err, sizeof(err)) == -ENAMETOOLONG);
}

/*
 * A temporary file a killed run left (no lock) is removed by the next
 * replace; one that a live writer holds locked, and files that only look
 * alike, stay.
 */
static void test_replace_file_removes_stale_temps(void)
{
	char dir[64], path[128], name[160], err[ERR_LEN];
	int live;

	make_dirs(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sub/out", dir);
	snprintf(name, sizeof(name), "%s/sub/.out.AbC123", dir);
	close(open(name, O_CREAT | O_WRONLY, 0600));
	snprintf(name, sizeof(name), "%s/sub/.out.live99", dir);
	live = open(name, O_CREAT | O_WRONLY, 0600);
	CHECK(flock(live, LOCK_EX) == 0);
	snprintf(name, sizeof(name), "%s/sub/.out.toolong1", dir);
	close(open(name, O_CREAT | O_WRONLY, 0600));
	snprintf(name, sizeof(name), "%s/sub/.outx.AbC123", dir);
	close(open(name, O_CREAT | O_WRONLY, 0600));
	CHECK_EQ_U64(0, replace_file(path, 0644, write_hello, "new\n", err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK_STR(".out.live99 .out.toolong1 .outx.AbC123 out ", listing(path));
	close(live);
	remove_dirs(dir);
}

static int render_nothing(FILE *out, const struct snapshot *snap, const struct render_opts *opts)
{
	(void)snap;
	(void)opts;
	return fputs("rendered\n", out) < 0 ? -EIO : 0;
}

static void test_output_file_names_the_option(void)
{
	static struct snapshot snap;
	struct render_opts opts = {};
	char err[ERR_LEN];

	CHECK(output_file("/nonexistent-dir/x.prom", render_nothing, &snap, &opts, err,
			  sizeof(err)) == -ENOENT);
	CHECK_STR("-o /nonexistent-dir/x.prom: cannot create a temporary file beside it: No such "
		  "file or directory",
		  err);
}

static void test_output_stream_errors(void)
{
	static struct snapshot snap;
	struct render_opts opts = {};
	char err[ERR_LEN];
	FILE *f = fopen("/dev/full", "w");

	CHECK(f);
	if (!f)
		return;
	CHECK(output_stream(f, render_nothing, &snap, &opts, err, sizeof(err)) == -ENOSPC);
	CHECK_STR("cannot write the output: No space left on device", err);
	fclose(f);
}

static void test_set_err_one_line(void)
{
	char err[ERR_LEN];

	CHECK(set_err(err, sizeof(err), -EINVAL, "bad '%s'", "a\nb\x7f") == -EINVAL);
	CHECK_STR("bad 'a?b?'", err);
	CHECK(set_err(err, 8, -E2BIG, "%s", "longer than eight") == -E2BIG);
	CHECK_STR("longer ", err);
}

static void test_command_exit(void)
{
	CHECK_EQ_U64(EXIT_SUCCESS, command_exit(0, ""));
	CHECK_EQ_U64(EXIT_SUCCESS, command_exit(-EPIPE, "cannot write the output: Broken pipe"));
	CHECK_EQ_U64(EXIT_FAILURE, command_exit(-ENOENT, ""));
}

UNIT_TESTS(common_tests) = {
	{ "common: replace_file into a subdirectory", test_replace_file_in_subdirectory },
	{ "common: replace_file by a relative path", test_replace_file_relative },
	{ "common: failed replaces leave the old file",
	  test_replace_file_failures_leave_the_old_file },
	{ "common: replace_file removes what a killed run left", test_replace_file_removes_stale_temps },
	{ "common: a path with no room for its temporary file is refused",
	  test_check_file_path_room_for_the_temporary },
	{ "common: -o errors name the option", test_output_file_names_the_option },
	{ "common: output_stream reports the write error", test_output_stream_errors },
	{ "common: set_err keeps one line", test_set_err_one_line },
	{ "common: exit status, EPIPE is success", test_command_exit },
	UNIT_END,
};
