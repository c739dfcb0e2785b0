// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: parse_port_list(). Accepted lists set only ports 1-65535;
 * a rejected list comes with a one-line message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsh_portset set;
	char *s, err[128];
	int ret;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(err, 'x', sizeof(err));
	ret = parse_port_list(s, &set, err, sizeof(err));
	if (ret) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0] || strchr(err, '\n'))
			abort();
	} else {
		/* Port 0 is never in an accepted set, and something is. */
		bool any = false;

		if (portset_has(&set, 0))
			abort();
		for (unsigned int i = 0; i < sizeof(set.bits) / sizeof(set.bits[0]); i++)
			any |= set.bits[i] != 0;
		if (!any)
			abort();
	}
	free(s);
	return 0;
}
