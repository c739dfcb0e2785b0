/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A tiny test runner: CHECK records a failure and lets the test go on. */
#ifndef TSH_UNIT_H
#define TSH_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_failures; /* failures in the test that is running */

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stdout, "    %s:%d: CHECK(%s)\n", __FILE__, __LINE__, #cond);      \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_U64(want, got)                                                                    \
	do {                                                                                       \
		unsigned long long w_ = (want), g_ = (got);                                        \
		if (w_ != g_) {                                                                    \
			fprintf(stdout, "    %s:%d: %s: want %llu, got %llu\n", __FILE__,          \
				__LINE__, #got, w_, g_);                                           \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

#define CHECK_STR(want, got)                                                                       \
	do {                                                                                       \
		const char *w_ = (want), *g_ = (got);                                              \
		if (strcmp(w_, g_)) {                                                              \
			fprintf(stdout, "    %s:%d: %s:\n      want: %s\n      got:  %s\n",        \
				__FILE__, __LINE__, #got, w_, g_);                                 \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

/* Each test file defines one table; the Makefile lists them for unit_main.c. */
#define UNIT_TESTS(group) const struct unit_test group[]
#define UNIT_END                                                                                   \
	{                                                                                          \
		NULL, NULL                                                                         \
	}

#endif /* TSH_UNIT_H */
