/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Subcommands and the few helpers they share with main. */
#ifndef TSH_COMMANDS_H
#define TSH_COMMANDS_H

#include "args.h"
#include "render.h"

struct command {
	const char *name;
	int (*run)(const struct config *cfg); /* returns the exit status */
};

int run_attach(const struct config *cfg);
int run_snapshot(const struct config *cfg);
int run_status(const struct config *cfg);
int run_detach(const struct config *cfg);

/* The one error printer: "tcpstatehist: message" on stderr. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

renderer_fn renderer_for(enum tsh_format format);

#endif /* TSH_COMMANDS_H */
