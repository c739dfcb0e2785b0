// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpstatehist: time spent in each TCP state, per state transition.
 * Parses the command line and runs the command from the table (commands.h);
 * each command lives in its cmd_*.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "common.h"
#include "loader.h"

#ifndef TSH_VERSION
#define TSH_VERSION "0.1.0"
#endif

/* main's half of the command table: the function that runs each command. */
#define COMMAND_RUN(id, name, run, options) [id] = run,
static int (*const command_run[])(const struct config *cfg) = { TSH_COMMANDS(COMMAND_RUN) };
#undef COMMAND_RUN

/*
 * A closed stdin, stdout or stderr would be taken by our next open(): a lock
 * file or a BPF object would receive the output. Hold each with /dev/null,
 * read-only, so that a write to it still fails (EBADF) and is reported.
 */
static void hold_closed_std_fds(void)
{
	for (int fd = 0; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			open("/dev/null", O_RDONLY); /* the lowest free descriptor: fd */
}

int main(int argc, char **argv)
{
	char err[ERR_LEN] = "";
	struct config cfg;

	hold_closed_std_fds();
	switch (parse_args(argc, argv, &cfg, err, sizeof(err))) {
	case PARSE_HELP:
		print_usage(stdout, "tcpstatehist");
		return command_exit(output_flush(stdout, err, sizeof(err)), err);
	case PARSE_VERSION:
		printf("tcpstatehist %s (pinned layout %d)\n", TSH_VERSION, TSH_LAYOUT_VERSION);
		return command_exit(output_flush(stdout, err, sizeof(err)), err);
	case PARSE_ERROR:
		p_err("%s (try --help)", err);
		return 2;
	case PARSE_OK:
		break;
	}
	/* A reader that went away is reported as EPIPE from a write, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	loader_set_verbose(cfg.verbose);
	if (loader_check_open_files(&cfg, err, sizeof(err)) ||
	    (cfg.command != CMD_DETACH && loader_check_environment(err, sizeof(err)))) {
		p_err("%s", err);
		return EXIT_FAILURE;
	}
	return command_run[cfg.command](&cfg);
}
