/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every command uses: the one error printer, the renderer of a format,
 * the output (a stream, or a file replaced atomically) and the exit status.
 * No kernel here: the unit tests link it.
 */
#ifndef TSH_COMMON_H
#define TSH_COMMON_H

#include <stdio.h>
#include "args.h"
#include "render.h"
#include "util.h"

/* The one error printer: "tcpstatehist: message" on stderr, one line. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

renderer_fn renderer_for(enum tsh_format format);

/*
 * Renders to out and flushes: 0, or a negative errno with err filled in
 * (-EPIPE when the reader went away).
 */
int output_stream(FILE *out, renderer_fn render, const struct snapshot *snap,
		  const struct render_opts *opts, char *err, size_t errlen);

/*
 * Renders into memory, then writes it to fd in pieces of at most PIPE_BUF,
 * each when poll() says fd takes it: a reader that stalls never blocks us
 * in write(). Gives up with -EINTR when fd takes nothing while stop_fd is
 * readable (a signalfd of the exit signals), or for timeout_ms (-1: no
 * limit). 0, or a negative errno with err filled in.
 */
int output_stoppable(int fd, int stop_fd, int timeout_ms, renderer_fn render,
		     const struct snapshot *snap, const struct render_opts *opts, char *err,
		     size_t errlen);

/*
 * Writes buf to fd as output_stoppable() does: in pieces, each when poll()
 * says fd takes it; -EINTR when stop_fd is readable while fd takes nothing,
 * or after timeout_ms (-1: no limit).
 */
int write_stoppable(int fd, int stop_fd, int timeout_ms, const char *buf, size_t len, char *err,
		    size_t errlen);

/* Renders into path, replaced atomically (replace_file), mode 0644. */
int output_file(const char *path, renderer_fn render, const struct snapshot *snap,
		const struct render_opts *opts, char *err, size_t errlen);

/* Flushes out: 0, or a negative errno with err filled in. */
int output_flush(FILE *out, char *err, size_t errlen);

/*
 * A command's exit status from its result: success for 0 and for -EPIPE (a
 * reader that went away is not an error); otherwise prints err, if any, and
 * returns failure.
 */
int command_exit(int ret, const char *err);

#endif /* TSH_COMMON_H */
