// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the fuzzers (tests/fuzz/) and the error tests found, kept as unit
 * tests. Each input is also in tests/fuzz/corpus/TARGET/regress_*.
 */
#include "args.h"
#include "unit.h"

#define ARGV(...) ((char *[]){ "tcpstatehist", ##__VA_ARGS__, NULL })

static enum parse_result parse(char **argv, struct config *cfg, char *err, size_t errlen)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return parse_args(argc, argv, cfg, err, errlen);
}

static bool one_printable_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * fuzz_args, regress_newline_in_argument: an argument with a newline was
 * quoted as it was, and the one-line error became two lines.
 */
static void test_newline_in_argument(void)
{
	struct config cfg;
	char err[256];

	CHECK_EQ_U64(PARSE_ERROR,
		     parse(ARGV("\377\377s\377\377t\217\377\377\377\ns"), &cfg, err, sizeof(err)));
	CHECK(one_printable_line(err));
	CHECK(strstr(err, "INTERVAL") != NULL);
	CHECK_EQ_U64(PARSE_ERROR, parse(ARGV("-L", "80\n443"), &cfg, err, sizeof(err)));
	CHECK(one_printable_line(err));
	CHECK_EQ_U64(PARSE_ERROR, parse(ARGV("-f", "json\r\ntext"), &cfg, err, sizeof(err)));
	CHECK(one_printable_line(err));
	CHECK_EQ_U64(PARSE_ERROR, parse(ARGV("--bogus\x1b[2J"), &cfg, err, sizeof(err)));
	CHECK(one_printable_line(err));
}

/* test_errors.sh: -f twice was accepted, the last one winning. */
static void test_format_twice(void)
{
	struct config cfg;
	char err[256];

	CHECK_EQ_U64(PARSE_ERROR, parse(ARGV("-f", "json", "-f", "text"), &cfg, err, sizeof(err)));
	CHECK(strstr(err, "-f/--format given twice") != NULL);
	CHECK_EQ_U64(PARSE_ERROR, parse(ARGV("snapshot", "--format=json", "-f", "prometheus"), &cfg,
					err, sizeof(err)));
}

UNIT_TESTS(fuzz_regression_tests) = {
	{ "fuzz regressions: a newline in an argument stays one line", test_newline_in_argument },
	{ "fuzz regressions: -f twice is refused", test_format_twice },
	UNIT_END,
};
