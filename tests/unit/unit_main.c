// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Runs every test table; reports "passed failed" to $TSH_RESULTS. */
#include <stdlib.h>
#include "unit.h"

int unit_failures;

extern const struct unit_test hist_tests[];
extern const struct unit_test args_tests[];
extern const struct unit_test snapshot_tests[];
extern const struct unit_test render_tests[];
extern const struct unit_test statefile_tests[];
extern const struct unit_test fuzz_regression_tests[];
extern const struct unit_test json_writer_tests[];

/* One group a line: each is added by a different change, so they must not conflict. */
/* clang-format off */
static const struct unit_test *const groups[] = {
	hist_tests,
	args_tests,
	snapshot_tests,
	render_tests,
	statefile_tests,
	fuzz_regression_tests,
	json_writer_tests,
};
/* clang-format on */

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
