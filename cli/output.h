/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Where rendered output goes: a stream, or a file replaced atomically. */
#ifndef TSH_OUTPUT_H
#define TSH_OUTPUT_H

#include <stdio.h>
#include "render.h"

/*
 * Renders to out and flushes. 0; -EPIPE, quietly, when the reader went away;
 * another negative errno, after printing why.
 */
int output_stream(FILE *out, renderer_fn render, const struct snapshot *snap,
		  const struct render_opts *opts);

/*
 * Renders into a temporary file beside path, syncs it and renames it over
 * path, so a reader sees the old file or the new one, never half of one. On
 * any failure path is left as it was. Refuses a path that is a symlink.
 */
int output_file(const char *path, renderer_fn render, const struct snapshot *snap,
		const struct render_opts *opts);

/* Flushes out: 0, or a negative errno after printing why (quietly for EPIPE). */
int output_flush(FILE *out);

/* Exit status for an output result: a reader that went away is not an error. */
int output_exit_status(int ret);

#endif /* TSH_OUTPUT_H */
