/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Labels: KEY=VALUE pairs the user gives (--label) so that several sets, say
 * one per service, stay apart in one Prometheus. They are kept as one text,
 * "KEY=VALUE\n" per label in the order given: the form the pinned meta
 * stores (TSH_META_LABELS_LEN), so attach hands it to every snapshot as is.
 */
#ifndef TSH_LABELS_H
#define TSH_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpstatehist.h"

#define LABELS_MAX 8
#define LABEL_NAME_MAX 64
#define LABEL_VALUE_MAX 128

struct label {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/*
 * Checks arg ("KEY=VALUE") and appends it to text (size bytes, NUL-ended).
 * KEY: a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not "__..."), none
 * of the names the tool writes itself, given once. VALUE: non-empty UTF-8
 * without control characters. 0, or -EINVAL with a one-line err.
 */
int labels_add(char *text, size_t size, const char *arg, char *err, size_t errlen);

/*
 * Iterates over text: *cursor starts at text; fills l and returns true while
 * a label is left. A text that does not parse (a damaged meta) ends early.
 */
bool labels_next(const char **cursor, struct label *l);

/* A label's name and value as strings. */
struct label_strings {
	char name[LABEL_NAME_MAX + 1];
	char value[LABEL_VALUE_MAX + 1];
};
void label_strings(const struct label *l, struct label_strings *out);

/* Whether text names at least one label. */
static inline bool labels_any(const char *text)
{
	return text && text[0];
}

#endif /* TSH_LABELS_H */
