// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: parse_args() on an argv made of the input's NUL-separated
 * words. The parser must never crash, never read past argv, and always leave
 * a one-line, NUL-terminated message when it reports an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words[MAX_WORDS + 2], *copy, err[256];
	struct config cfg;
	enum parse_result res;
	int argc = 0;

	/* A private, NUL-terminated copy: the parser may keep pointers into argv. */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	words[argc++] = "tcpstatehist";
	for (size_t i = 0; i <= size && argc <= MAX_WORDS;) {
		words[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	words[argc] = NULL;

	memset(err, 'x', sizeof(err));
	res = parse_args(argc, words, &cfg, err, sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		abort();
	if (res == PARSE_ERROR && (!err[0] || strchr(err, '\n')))
		abort();
	if (res == PARSE_OK) {
		if (cfg.command >= CMD_COUNT || cfg.format > FORMAT_PROMETHEUS || !cfg.pin_path)
			abort();
		if (cfg.has_interval && !(cfg.interval_s > 0))
			abort();
		if (cfg.command == CMD_SOCKETS && (cfg.top < 1 || cfg.top > 1000))
			abort();
		if (cfg.older_than_ns > 366ull * 24 * 3600 * 1000000000ull)
			abort();
		if (cfg.lports.enabled && !memchr(cfg.lports.spec, '\0', sizeof(cfg.lports.spec)))
			abort();
	}
	free(copy);
	return 0;
}
