// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Daemonless mode: attach and pin, snapshot from pins, status, detach. */
#include <stdlib.h>
#include "commands.h"

int run_attach(const struct config *cfg)
{
	(void)cfg;
	p_err("attach: not built yet");
	return EXIT_FAILURE;
}

int run_snapshot(const struct config *cfg)
{
	(void)cfg;
	p_err("snapshot: not built yet");
	return EXIT_FAILURE;
}

int run_status(const struct config *cfg)
{
	(void)cfg;
	p_err("status: not built yet");
	return EXIT_FAILURE;
}

int run_detach(const struct config *cfg)
{
	(void)cfg;
	p_err("detach: not built yet");
	return EXIT_FAILURE;
}
