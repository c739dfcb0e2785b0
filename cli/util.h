/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The bottom layer: libc helpers that every other module may use and that use
 * nothing of ours but the shared header. Error messages, times, files.
 */
#ifndef TSH_UTIL_H
#define TSH_UTIL_H

#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The one size of an error buffer. A module that fails fills one (char *err,
 * size_t errlen) with a one-line message and returns a negative errno; only
 * the commands print it. Room for two quoted paths.
 */
#define ERR_LEN 8192

/* Formats a message into err, one line (see clean_line), and returns ret. */
int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Control characters become '?': a message quotes paths and arguments, one line. */
void clean_line(char *s);

/* "2023-11-14T22:13:20Z" */
#define UTC_LEN 32
void format_utc(char *buf, size_t len, __u64 realtime_s);

/*
 * Waits for a flock on fd (LOCK_EX or LOCK_SH), through signals: 0, or
 * -errno. The pin directory's lock and the state file's lock both wait:
 * overlapping runs take turns, none is lost.
 */
int lock_wait(int fd, int operation);

/*
 * 0 when path is missing or a regular file; otherwise says what it is ("is a
 * directory", "is a symlink (refused)", a trailing '/', "not a regular
 * file", too long for the temporary file beside it) and returns a negative
 * errno. Never opens it: a FIFO cannot block.
 */
int check_file_path(const char *path, char *err, size_t errlen);

/* Writes a file's whole content to out: 0, or non-zero with errno set. */
typedef int (*file_writer)(FILE *out, const void *ctx);

/*
 * Replaces path atomically: writes into a temporary file beside it (created
 * with mode), syncs it and renames it over path, so a reader sees the old
 * file or the new one, never half of one. On any failure path is left as it
 * was and no temporary file stays (one that a killed run left is removed by
 * the next). Refuses a path that is not a regular file (a symlink, a
 * directory, a trailing '/'). 0, or a negative errno with err filled in.
 */
int replace_file(const char *path, mode_t mode, file_writer write, const void *ctx, char *err,
		 size_t errlen);

#endif /* TSH_UTIL_H */
