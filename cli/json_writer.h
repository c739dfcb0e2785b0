/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small JSON writer: it owns the commas between members and elements and
 * the escaping of strings, so that every JSON the tool prints has one rule
 * for each. Compact output (no spaces), in the order the caller writes it.
 */
#ifndef TSH_JSON_WRITER_H
#define TSH_JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	unsigned int depth;
	bool after_key;			    /* the next value completes a member */
	bool has_items[JSON_MAX_DEPTH + 1]; /* per open container: a comma is due */
};

void json_init(struct json_writer *w, FILE *out);

void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);

/* A member's name; the next call writes its value. */
void json_key(struct json_writer *w, const char *key);

/*
 * A string: '"' and '\' escaped, control bytes (and DEL) as \u00XX, every
 * other byte as it is, so UTF-8 passes through.
 */
void json_string(struct json_writer *w, const char *s);
void json_u64(struct json_writer *w, __u64 v);
/* A number with a fixed count of decimals; null when v is not finite. */
void json_fixed(struct json_writer *w, double v, int decimals);
void json_null(struct json_writer *w);
void json_bool(struct json_writer *w, bool v);

/* A member in one call. */
void json_key_string(struct json_writer *w, const char *key, const char *s);
void json_key_u64(struct json_writer *w, const char *key, __u64 v);
void json_key_null(struct json_writer *w, const char *key);

#endif /* TSH_JSON_WRITER_H */
