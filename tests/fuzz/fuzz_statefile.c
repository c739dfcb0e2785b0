// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: statefile_decode() on arbitrary bytes. What it accepts
 * must survive an encode and a decode unchanged, and a rejection comes with
 * a one-line message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "statefile.h"

static bool same_keys(const struct breakdown *a, const struct breakdown *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->keys[i].key != b->keys[i].key || a->keys[i].other != b->keys[i].other ||
		    memcmp(a->keys[i].slots, b->keys[i].slots, sizeof(a->keys[i].slots)))
			return false;
	return true;
}

static void decode_one(const uint8_t *data, size_t size)
{
	static struct snapshot snap;
	struct statefile_owner owner;
	struct breakdown by;
	char err[256];
	unsigned char *again;
	size_t len;
	int ret;

	memset(err, 'x', sizeof(err));
	ret = statefile_decode(data, size, &owner, &snap, &by, err, sizeof(err));
	if (ret) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0] || strchr(err, '\n'))
			abort();
		return;
	}
	if (!memchr(owner.pin_path, '\0', sizeof(owner.pin_path)))
		abort();
	len = statefile_size(by.n);
	again = malloc(len);
	if (!again) {
		breakdown_free(&by);
		return;
	}
	if (statefile_encode(&owner, &snap, &by, again, len))
		abort();
	/* Bytes after the path's NUL are not kept: compare the decoded meaning. */
	{
		static struct snapshot snap2;
		struct statefile_owner owner2;
		struct breakdown by2;

		if (statefile_decode(again, len, &owner2, &snap2, &by2, err, sizeof(err)) ||
		    memcmp(&snap, &snap2, sizeof(snap)) || owner.attach_id != owner2.attach_id ||
		    strcmp(owner.pin_path, owner2.pin_path) || !same_keys(&by, &by2))
			abort();
		breakdown_free(&by2);
	}
	breakdown_free(&by);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *fixed;

	decode_one(data, size);
	/* Most mutations break the checksum: also try each with a good one. */
	if (size <= 8 || size > 2 * statefile_size(4))
		return 0;
	fixed = malloc(size);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	statefile_seal(fixed, size);
	decode_one(fixed, size);
	free(fixed);
	return 0;
}
