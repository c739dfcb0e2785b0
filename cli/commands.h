/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The command table: for each command its name, the function that runs it
 * and the options it accepts. The parser (args.c) reads the names and the
 * options, main.c the functions; each command lives in its cmd_*.c.
 */
#ifndef TSH_COMMANDS_H
#define TSH_COMMANDS_H

struct config;

/* Options come in groups; a command accepts some of them. */
enum option_group {
	OPTS_ANY = 0,		     /* -v, -h, -V: every command */
	OPTS_VIEW = 1 << 0,	     /* -T, -m */
	OPTS_FILTER = 1 << 1,	     /* -4, -6, -L, -D, -N */
	OPTS_FORMAT = 1 << 2,	     /* -f */
	OPTS_OUTPUT = 1 << 3,	     /* -o */
	OPTS_PIN = 1 << 4,	     /* --pin-path */
	OPTS_STATE = 1 << 5,	     /* --state-file */
	OPTS_REPLACE = 1 << 6,	     /* --replace */
	OPTS_AUDIT = 1 << 7,	     /* --no-audit */
	OPTS_CENSUS = 1 << 8,	     /* --older-than, --top */
	OPTS_LABEL = 1 << 9,	     /* --label */
	OPTS_WITH_SOCKETS = 1 << 10, /* --sockets */
	OPTS_BY = 1 << 11,	     /* --by, --max-keys */
	OPTS_CGROUP = 1 << 12,	     /* --cgroup */
	OPTS_TRACE = 1 << 13,	     /* --min-duration, --from, --to, -w, --ring-size */
	OPTS_TIME = 1 << 14,	     /* -T alone */
};

/*
 * X(ID, NAME, RUN, OPTIONS), one line per command. The live view comes
 * first: it is the default, named by no word on the command line (its name
 * is what error messages call it).
 */
/* clang-format off */
#define TSH_COMMANDS(X)                                                                            \
	X(CMD_LIVE, "live view", cmd_live,                                                         \
	  OPTS_VIEW | OPTS_FILTER | OPTS_FORMAT | OPTS_AUDIT | OPTS_LABEL | OPTS_BY | OPTS_CGROUP) \
	X(CMD_ATTACH, "attach", cmd_attach,                                                        \
	  OPTS_FILTER | OPTS_PIN | OPTS_REPLACE | OPTS_LABEL | OPTS_BY | OPTS_CGROUP)              \
	X(CMD_SNAPSHOT, "snapshot", cmd_snapshot,                                                  \
	  OPTS_VIEW | OPTS_FORMAT | OPTS_OUTPUT | OPTS_PIN | OPTS_STATE | OPTS_WITH_SOCKETS)       \
	X(CMD_STATUS, "status", cmd_status, OPTS_FORMAT | OPTS_PIN)                                \
	X(CMD_DETACH, "detach", cmd_detach, OPTS_PIN)                                              \
	X(CMD_SOCKETS, "sockets", cmd_sockets,                                                     \
	  OPTS_FILTER | OPTS_FORMAT | OPTS_OUTPUT | OPTS_PIN | OPTS_CENSUS | OPTS_CGROUP)         \
	X(CMD_TRACE, "trace", cmd_trace,                                                           \
	  OPTS_TIME | OPTS_FILTER | OPTS_FORMAT | OPTS_TRACE | OPTS_AUDIT | OPTS_CGROUP | OPTS_BY)
/* clang-format on */

#define COMMAND_ID(id, name, run, options) id,
enum tsh_command { TSH_COMMANDS(COMMAND_ID) CMD_COUNT };
#undef COMMAND_ID

/* Each runs its command and returns the exit status; only commands print. */
#define COMMAND_DECLARE(id, name, run, options) int run(const struct config *cfg);
TSH_COMMANDS(COMMAND_DECLARE)
#undef COMMAND_DECLARE

#endif /* TSH_COMMANDS_H */
