// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Runs every test table; reports "passed failed" to $TSH_RESULTS. */
#include <stdlib.h>
#include "unit.h"

int unit_failures;

/* tests.h, generated from tests/unit/test_*.c: UNIT_GROUP(name) for each table. */
#define UNIT_GROUP(group) extern const struct unit_test group[];
#include "tests.h"
#undef UNIT_GROUP

#define UNIT_GROUP(group) group,
static const struct unit_test *const groups[] = {
#include "tests.h"
};
#undef UNIT_GROUP

int main(void)
{
	int passed = 0, failed = 0;
	const char *results = getenv("TSH_RESULTS");

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (const struct unit_test *t = groups[g]; t->name; t++) {
			unit_failures = 0;
			t->fn();
			if (unit_failures) {
				failed++;
				printf("FAIL - %s\n", t->name);
			} else {
				passed++;
				printf("ok - %s\n", t->name);
			}
		}
	}
	if (results) {
		FILE *f = fopen(results, "a");

		if (f) {
			fprintf(f, "%d %d\n", passed, failed);
			fclose(f);
		}
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
