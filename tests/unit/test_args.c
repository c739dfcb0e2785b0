// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The command line parser. getopt permutes argv, so every case builds a fresh
 * argv (a compound literal is a new array each time it is evaluated).
 */
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include "args.h"
#include "breakdown.h"
#include "pins.h"
#include "unit.h"

#define ARGV(...) ((char *[]){ "tcpstatehist", ##__VA_ARGS__, NULL })

/* The message must name the option or argument at fault. */
#define CHECK_CONTAINS(needle, haystack)                                                           \
	do {                                                                                       \
		const char *n_ = (needle), *h_ = (haystack);                                       \
		if (!strstr(h_, n_)) {                                                             \
			fprintf(stdout, "    %s:%d: %s does not contain '%s': '%s'\n", __FILE__,   \
				__LINE__, #haystack, n_, h_);                                      \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

/* argv is NULL-terminated; cfg and err are the caller's. */
static enum parse_result parse(char **argv, struct config *cfg, char *err, size_t errlen)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return parse_args(argc, argv, cfg, err, errlen);
}

/* The parse must fail with a message that contains both needles. */
#define CHECK_PARSE_ERROR(needle1, needle2, ...)                                                   \
	do {                                                                                       \
		struct config c_;                                                                  \
		char e_[256];                                                                      \
		CHECK_EQ_U64(PARSE_ERROR, parse(ARGV(__VA_ARGS__), &c_, e_, sizeof(e_)));          \
		CHECK_CONTAINS(needle1, e_);                                                       \
		CHECK_CONTAINS(needle2, e_);                                                       \
	} while (0)

#define CHECK_PARSE_OK(cfg, ...)                                                                   \
	do {                                                                                       \
		char e_[256];                                                                      \
		CHECK_EQ_U64(PARSE_OK, parse(ARGV(__VA_ARGS__), (cfg), e_, sizeof(e_)));           \
		CHECK_STR("", e_);                                                                 \
	} while (0)

static unsigned int portset_count(const struct tsh_portset *set)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < TSH_PORTSET_WORDS; w++)
		n += __builtin_popcountll(set->bits[w]);
	return n;
}

static void test_defaults(void)
{
	struct config cfg;

	CHECK_PARSE_OK(&cfg);
	CHECK_EQ_U64(CMD_LIVE, cfg.command);
	CHECK(!cfg.has_interval);
	CHECK(cfg.interval_s == 0);
	CHECK_EQ_U64(0, cfg.count);
	CHECK(!cfg.timestamp);
	CHECK(!cfg.milliseconds);
	CHECK(!cfg.verbose);
	CHECK_EQ_U64(0, cfg.family);
	CHECK(!cfg.lports.enabled);
	CHECK(!cfg.rports.enabled);
	CHECK_EQ_U64(0, portset_count(&cfg.lports.set));
	CHECK(!cfg.netns_path);
	CHECK_EQ_U64(FORMAT_TEXT, cfg.format);
	CHECK_STR(DEFAULT_PIN_PATH, cfg.pin_path);
	CHECK_STR("/sys/fs/bpf/tcpstatehist", cfg.pin_path);
	CHECK(!cfg.state_file);
	CHECK(!cfg.output);
	CHECK(!cfg.replace);
}

static void test_interval_and_count(void)
{
	struct config cfg;

	CHECK_PARSE_OK(&cfg, "5");
	CHECK(cfg.has_interval);
	CHECK(cfg.interval_s == 5.0);
	CHECK_EQ_U64(0, cfg.count);

	CHECK_PARSE_OK(&cfg, "0.5", "3");
	CHECK(cfg.has_interval);
	CHECK(cfg.interval_s == 0.5);
	CHECK_EQ_U64(3, cfg.count);

	CHECK_PARSE_OK(&cfg, ".25", "1000000000");
	CHECK(cfg.interval_s == 0.25);
	CHECK_EQ_U64(1000000000, cfg.count);

	/* getopt permutes: options may come after the positionals. */
	CHECK_PARSE_OK(&cfg, "1", "-T", "5", "-m");
	CHECK(cfg.interval_s == 1.0);
	CHECK_EQ_U64(5, cfg.count);
	CHECK(cfg.timestamp);
	CHECK(cfg.milliseconds);

	/* After "--", a positional that looks like an option. */
	CHECK_PARSE_OK(&cfg, "-v", "--", "2", "7");
	CHECK(cfg.verbose);
	CHECK(cfg.interval_s == 2.0);
	CHECK_EQ_U64(7, cfg.count);
}

static void test_interval_errors(void)
{
	CHECK_PARSE_ERROR("INTERVAL", "'abc'", "abc");
	CHECK_PARSE_ERROR("INTERVAL", "'12abc'", "12abc");
	CHECK_PARSE_ERROR("INTERVAL", "'0'", "0");
	CHECK_PARSE_ERROR("INTERVAL", "'0.0'", "0.0");
	CHECK_PARSE_ERROR("INTERVAL", "''", "");
	CHECK_PARSE_ERROR("INTERVAL", "'inf'", "inf");
	CHECK_PARSE_ERROR("INTERVAL", "'nan'", "nan");
	CHECK_PARSE_ERROR("INTERVAL", "'0x10'", "0x10");
	CHECK_PARSE_ERROR("INTERVAL", "'1e999'", "1e999");
	CHECK_PARSE_ERROR("INTERVAL", "'99999999999999999999'", "99999999999999999999");
	/* getopt sees a negative number as an option; the message still names it. */
	CHECK_PARSE_ERROR("unknown option", "'-1'", "-1");
	CHECK_PARSE_ERROR("INTERVAL", "'-1'", "--", "-1");
	/* After "--" a word is never a subcommand. */
	CHECK_PARSE_ERROR("INTERVAL", "'attach'", "--", "attach");
}

static void test_count_errors(void)
{
	CHECK_PARSE_ERROR("COUNT", "'0'", "1", "0");
	CHECK_PARSE_ERROR("COUNT", "'1.5'", "1", "1.5");
	CHECK_PARSE_ERROR("COUNT", "'12abc'", "1", "12abc");
	CHECK_PARSE_ERROR("COUNT", "'abc'", "1", "abc");
	CHECK_PARSE_ERROR("COUNT", "'+3'", "1", "+3");
	CHECK_PARSE_ERROR("COUNT", "'1000000001'", "1", "1000000001");
	CHECK_PARSE_ERROR("COUNT", "'99999999999999999999'", "1", "99999999999999999999");
	CHECK_PARSE_ERROR("unknown option", "'-1'", "1", "-1");
	CHECK_PARSE_ERROR("COUNT", "'-1'", "1", "--", "-1");
	CHECK_PARSE_ERROR("unexpected argument", "'3'", "1", "2", "3");
}

static void test_parse_ulong(void)
{
	unsigned long v = 77;

	CHECK_EQ_U64(0, parse_ulong("0", 0, 10, &v));
	CHECK_EQ_U64(0, v);
	CHECK_EQ_U64(0, parse_ulong("10", 0, 10, &v));
	CHECK_EQ_U64(10, v);
	CHECK_EQ_U64(0, parse_ulong("007", 1, 10, &v));
	CHECK_EQ_U64(7, v);
	CHECK_EQ_U64(0, parse_ulong("18446744073709551615", 0, ULONG_MAX, &v));
	CHECK_EQ_U64(ULONG_MAX, v);

	/* Errors leave *out alone. */
	v = 77;
	CHECK(parse_ulong("11", 0, 10, &v) == -ERANGE);
	CHECK(parse_ulong("0", 1, 10, &v) == -ERANGE);
	CHECK(parse_ulong("99999999999999999999", 0, ULONG_MAX, &v) == -ERANGE);
	CHECK(parse_ulong("18446744073709551616", 0, ULONG_MAX, &v) == -ERANGE);
	CHECK(parse_ulong("", 0, 10, &v) == -EINVAL);
	CHECK(parse_ulong(NULL, 0, 10, &v) == -EINVAL);
	CHECK(parse_ulong("-1", 0, ULONG_MAX, &v) == -EINVAL);
	CHECK(parse_ulong("+1", 0, 10, &v) == -EINVAL);
	CHECK(parse_ulong(" 1", 0, 10, &v) == -EINVAL);
	CHECK(parse_ulong("1 ", 0, 10, &v) == -EINVAL);
	CHECK(parse_ulong("12abc", 0, 100, &v) == -EINVAL);
	CHECK(parse_ulong("0x10", 0, 100, &v) == -EINVAL);
	CHECK(parse_ulong("1.0", 0, 10, &v) == -EINVAL);
	CHECK_EQ_U64(77, v);
}

static void test_parse_seconds(void)
{
	double v = 77;

	CHECK_EQ_U64(0, parse_seconds("0.5", &v));
	CHECK(v == 0.5);
	CHECK_EQ_U64(0, parse_seconds(".25", &v));
	CHECK(v == 0.25);
	CHECK_EQ_U64(0, parse_seconds("10", &v));
	CHECK(v == 10.0);
	CHECK_EQ_U64(0, parse_seconds("0.001", &v));
	CHECK(v == 0.001);
	/* A year (366 days) at most. */
	CHECK_EQ_U64(0, parse_seconds("31622400", &v));
	CHECK(v == 31622400.0);

	CHECK_EQ_U64(0, parse_seconds("0.000001", &v));
	CHECK(v == 0.000001);

	v = 77;
	CHECK(parse_seconds("31622401", &v) == -ERANGE);
	CHECK(parse_seconds("1e-10", &v) == -ERANGE);
	CHECK(parse_seconds("0.0000009", &v) == -ERANGE);
	CHECK(parse_seconds("0", &v) == -ERANGE);
	CHECK(parse_seconds("0.0", &v) == -ERANGE);
	CHECK(parse_seconds("1e999", &v) == -ERANGE);
	CHECK(parse_seconds("-1", &v) == -EINVAL);
	CHECK(parse_seconds("+1", &v) == -EINVAL);
	CHECK(parse_seconds(" 1", &v) == -EINVAL);
	CHECK(parse_seconds("inf", &v) == -EINVAL);
	CHECK(parse_seconds("nan", &v) == -EINVAL);
	CHECK(parse_seconds("0x10", &v) == -EINVAL);
	CHECK(parse_seconds("1p3", &v) == -EINVAL);
	CHECK(parse_seconds(".", &v) == -EINVAL);
	CHECK(parse_seconds("", &v) == -EINVAL);
	CHECK(parse_seconds(NULL, &v) == -EINVAL);
	CHECK(parse_seconds("1s", &v) == -EINVAL);
	CHECK(parse_seconds("12abc", &v) == -EINVAL);
	CHECK(parse_seconds("1,5", &v) == -EINVAL);
	CHECK(v == 77);
}

static void test_port_list(void)
{
	struct tsh_portset set;
	char err[128];

	CHECK_EQ_U64(0, parse_port_list("80", &set, err, sizeof(err)));
	CHECK_EQ_U64(1, portset_count(&set));
	CHECK(portset_has(&set, 80));
	CHECK(!portset_has(&set, 79));
	CHECK(!portset_has(&set, 81));

	CHECK_EQ_U64(0, parse_port_list("80,443,8000-8100", &set, err, sizeof(err)));
	CHECK_EQ_U64(2 + 101, portset_count(&set));
	CHECK(portset_has(&set, 80));
	CHECK(portset_has(&set, 443));
	CHECK(portset_has(&set, 8000));
	CHECK(portset_has(&set, 8063));
	CHECK(portset_has(&set, 8064));
	CHECK(portset_has(&set, 8100));
	CHECK(!portset_has(&set, 0));
	CHECK(!portset_has(&set, 81));
	CHECK(!portset_has(&set, 442));
	CHECK(!portset_has(&set, 444));
	CHECK(!portset_has(&set, 7999));
	CHECK(!portset_has(&set, 8101));

	/* The set starts empty whatever it held. */
	memset(&set, 0xff, sizeof(set));
	CHECK_EQ_U64(0, parse_port_list("1,65535", &set, err, sizeof(err)));
	CHECK_EQ_U64(2, portset_count(&set));
	CHECK(portset_has(&set, 1));
	CHECK(portset_has(&set, 65535));

	CHECK_EQ_U64(0, parse_port_list("1-65535", &set, err, sizeof(err)));
	CHECK_EQ_U64(65535, portset_count(&set));
	CHECK(!portset_has(&set, 0));

	/* A one-port range and overlapping elements. */
	CHECK_EQ_U64(0, parse_port_list("22-22,20-25,25", &set, err, sizeof(err)));
	CHECK_EQ_U64(6, portset_count(&set));
	CHECK(portset_has(&set, 20));
	CHECK(portset_has(&set, 25));
	CHECK(!portset_has(&set, 19));
	CHECK(!portset_has(&set, 26));
}

#define CHECK_PORTS_ERROR(needle, list)                                                            \
	do {                                                                                       \
		struct tsh_portset s_;                                                             \
		char e_[128] = "";                                                                 \
		CHECK(parse_port_list((list), &s_, e_, sizeof(e_)) == -EINVAL);                    \
		CHECK_CONTAINS(needle, e_);                                                        \
	} while (0)

static void test_port_list_errors(void)
{
	CHECK_PORTS_ERROR("'0'", "0");
	CHECK_PORTS_ERROR("'65536'", "65536");
	CHECK_PORTS_ERROR("'0-80'", "0-80");
	CHECK_PORTS_ERROR("'80-65536'", "80-65536");
	CHECK_PORTS_ERROR("reversed port range '9000-8000'", "9000-8000");
	CHECK_PORTS_ERROR("empty element in port list '80,,443'", "80,,443");
	CHECK_PORTS_ERROR("empty element in port list '80,'", "80,");
	CHECK_PORTS_ERROR("empty element in port list ',80'", ",80");
	CHECK_PORTS_ERROR("empty element", ",");
	CHECK_PORTS_ERROR("empty port list", "");
	CHECK_PORTS_ERROR("'-80'", "-80");
	CHECK_PORTS_ERROR("'80-'", "80-");
	CHECK_PORTS_ERROR("'1-2-3'", "1-2-3");
	CHECK_PORTS_ERROR("'http'", "http");
	CHECK_PORTS_ERROR("'12abc'", "12abc");
	CHECK_PORTS_ERROR("' 80'", " 80");
	CHECK_PORTS_ERROR("'+80'", "+80");
	CHECK_PORTS_ERROR("'99999999999999999999'", "99999999999999999999");
	/* An element too long for the parser's buffer is still an error. */
	CHECK_PORTS_ERROR("'00000000000000080'", "00000000000000080");
}

static void test_port_options(void)
{
	struct config cfg;

	CHECK_PARSE_OK(&cfg, "-L", "80,443", "--rport=5432");
	CHECK(cfg.lports.enabled);
	CHECK_STR("80,443", cfg.lports.spec);
	CHECK_EQ_U64(2, portset_count(&cfg.lports.set));
	CHECK(portset_has(&cfg.lports.set, 443));
	CHECK(cfg.rports.enabled);
	CHECK_STR("5432", cfg.rports.spec);
	CHECK_EQ_U64(1, portset_count(&cfg.rports.set));
	CHECK(portset_has(&cfg.rports.set, 5432));

	CHECK_PARSE_OK(&cfg, "-L8000-8100");
	CHECK_EQ_U64(101, portset_count(&cfg.lports.set));
	CHECK(!cfg.rports.enabled);

	CHECK_PARSE_ERROR("-L/--lport", "'0'", "-L", "0");
	CHECK_PARSE_ERROR("-L/--lport", "'65536'", "-L", "65536");
	CHECK_PARSE_ERROR("-D/--rport", "'9000-8000'", "-D", "9000-8000");
	CHECK_PARSE_ERROR("-D/--rport", "empty element", "--rport", "80,,443");
	CHECK_PARSE_ERROR("-L/--lport", "empty port list", "-L", "");
	CHECK_PARSE_ERROR("-L/--lport", "given twice", "-L", "80", "-L", "443");
	CHECK_PARSE_ERROR("-D/--rport", "given twice", "-D", "80", "--rport", "443");
	CHECK_PARSE_ERROR("-L/--lport", "needs a value", "-L");
	CHECK_PARSE_ERROR("-L/--lport", "needs a value", "--lport");
	CHECK_PARSE_ERROR("-D/--rport", "needs a value", "5", "-D");
}

static void test_family_and_format(void)
{
	struct config cfg;

	CHECK_PARSE_OK(&cfg, "-4");
	CHECK_EQ_U64(AF_INET, cfg.family);
	CHECK_PARSE_OK(&cfg, "--ipv6");
	CHECK_EQ_U64(AF_INET6, cfg.family);
	CHECK_PARSE_OK(&cfg, "-4", "-4");
	CHECK_EQ_U64(AF_INET, cfg.family);
	CHECK_PARSE_ERROR("-4", "-6", "-4", "-6");
	CHECK_PARSE_ERROR("-4", "-6", "-6", "--ipv4");

	CHECK_PARSE_OK(&cfg, "-f", "text");
	CHECK_EQ_U64(FORMAT_TEXT, cfg.format);
	CHECK_PARSE_OK(&cfg, "-f", "json");
	CHECK_EQ_U64(FORMAT_JSON, cfg.format);
	CHECK_PARSE_OK(&cfg, "--format=prometheus");
	CHECK_EQ_U64(FORMAT_PROMETHEUS, cfg.format);
	CHECK_PARSE_ERROR("-f/--format", "'xml'", "-f", "xml");
	CHECK_PARSE_ERROR("-f/--format", "'JSON'", "--format", "JSON");
	CHECK_PARSE_ERROR("-f/--format", "''", "-f", "");
	CHECK_PARSE_ERROR("-f/--format", "needs a value", "-f");

	CHECK_PARSE_OK(&cfg, "-N", "/run/netns/a");
	CHECK_STR("/run/netns/a", cfg.netns_path);
	CHECK_PARSE_ERROR("-N/--netns", "empty path", "-N", "");
	/* A bare name is one made by `ip netns add`; a path is taken as it is. */
	CHECK_PARSE_OK(&cfg, "-N", "web");
	CHECK_STR("/run/netns/web", cfg.netns_path);
	CHECK_PARSE_OK(&cfg, "-N", "./web");
	CHECK_STR("./web", cfg.netns_path);
	CHECK_PARSE_ERROR("-N/--netns", "not a namespace name", "-N", "..");
	CHECK_PARSE_ERROR("-N/--netns", "given twice", "-N", "/a", "-N", "/b");
}

static void test_unknown_options(void)
{
	CHECK_PARSE_ERROR("unknown option", "'--bogus'", "--bogus");
	CHECK_PARSE_ERROR("unknown option", "'--bogus'", "5", "--bogus");
	CHECK_PARSE_ERROR("unknown option", "'-x'", "-x");
	CHECK_PARSE_ERROR("unknown option", "'-x'", "-Tx");
	CHECK_PARSE_ERROR("unknown option", "'-x'", "attach", "-x");
	CHECK_PARSE_ERROR("unknown option", "'--bogus'", "snapshot", "--bogus");
	/* A value for an option that takes none names the option, not a byte. */
	CHECK_PARSE_ERROR("takes no value", "'--replace'", "attach", "--replace=yes");
	CHECK_PARSE_ERROR("takes no value", "'--help'", "--help=x");
}

static void test_port_list_kept_whole(void)
{
	char list[128] = "1";

	/* 1,1,1,... longer than the 63 characters status can show: refused. */
	for (size_t i = 1; i + 2 < sizeof(list); i += 2)
		memcpy(list + i, ",1", 3);
	CHECK_PARSE_ERROR("-L/--lport", "longer than 63", "-L", list);
	list[63] = '\0';
	if (list[62] == ',')
		list[62] = '\0';
	{
		struct config cfg;

		CHECK_PARSE_OK(&cfg, "-L", list);
		CHECK_STR(list, cfg.lports.spec);
	}
}

static void test_help_and_version(void)
{
	struct config cfg;
	char err[128];

	CHECK_EQ_U64(PARSE_HELP, parse(ARGV("-h"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(PARSE_HELP, parse(ARGV("--help"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(PARSE_HELP, parse(ARGV("5", "-h"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(PARSE_HELP, parse(ARGV("snapshot", "-h"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(PARSE_HELP, parse(ARGV("detach", "--help"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(PARSE_VERSION, parse(ARGV("-V"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(PARSE_VERSION, parse(ARGV("--version"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(PARSE_VERSION, parse(ARGV("status", "-V"), &cfg, err, sizeof(err)));
}

static void test_subcommands(void)
{
	struct config cfg;

	CHECK_PARSE_OK(&cfg, "attach");
	CHECK_EQ_U64(CMD_ATTACH, cfg.command);
	CHECK_STR(DEFAULT_PIN_PATH, cfg.pin_path);
	CHECK(!cfg.replace);

	CHECK_PARSE_OK(&cfg, "attach", "-L", "80", "-D", "5432", "-6", "-N", "/run/netns/x",
		       "--pin-path", "/sys/fs/bpf/x", "--replace", "-v");
	CHECK_EQ_U64(CMD_ATTACH, cfg.command);
	CHECK(portset_has(&cfg.lports.set, 80));
	CHECK(portset_has(&cfg.rports.set, 5432));
	CHECK_EQ_U64(AF_INET6, cfg.family);
	CHECK_STR("/run/netns/x", cfg.netns_path);
	CHECK_STR("/sys/fs/bpf/x", cfg.pin_path);
	CHECK(cfg.replace);
	CHECK(cfg.verbose);
	CHECK(!cfg.has_interval);

	/* Options before the subcommand: the first word that is no option or value names it. */
	CHECK_PARSE_OK(&cfg, "-v", "status");
	CHECK_EQ_U64(CMD_STATUS, cfg.command);
	CHECK(cfg.verbose);
	CHECK_PARSE_OK(&cfg, "-f", "json", "--pin-path", "/p", "status");
	CHECK_EQ_U64(CMD_STATUS, cfg.command);
	CHECK_EQ_U64(FORMAT_JSON, cfg.format);
	CHECK_STR("/p", cfg.pin_path);
	CHECK_PARSE_OK(&cfg, "-fjson", "--pin-path=/p", "snapshot", "-T");
	CHECK_EQ_U64(CMD_SNAPSHOT, cfg.command);
	CHECK(cfg.timestamp);
	CHECK_PARSE_OK(&cfg, "-N", "attach", "1");
	CHECK_EQ_U64(CMD_LIVE, cfg.command);
	CHECK_STR("/run/netns/attach", cfg.netns_path);

	CHECK_PARSE_OK(&cfg, "snapshot");
	CHECK_EQ_U64(CMD_SNAPSHOT, cfg.command);
	CHECK_EQ_U64(FORMAT_TEXT, cfg.format);
	CHECK_STR(DEFAULT_PIN_PATH, cfg.pin_path);

	CHECK_PARSE_OK(&cfg, "snapshot", "-f", "prometheus", "-o", "/tmp/x.prom", "--pin-path",
		       "/p");
	CHECK_EQ_U64(CMD_SNAPSHOT, cfg.command);
	CHECK_EQ_U64(FORMAT_PROMETHEUS, cfg.format);
	CHECK_STR("/tmp/x.prom", cfg.output);
	CHECK_STR("/p", cfg.pin_path);
	CHECK(!cfg.state_file);

	CHECK_PARSE_OK(&cfg, "snapshot", "--state-file", "/tmp/s", "-f", "json", "-T", "-m");
	CHECK_STR("/tmp/s", cfg.state_file);
	CHECK_EQ_U64(FORMAT_JSON, cfg.format);
	CHECK(cfg.timestamp);
	CHECK(cfg.milliseconds);

	CHECK_PARSE_OK(&cfg, "status", "-f", "json");
	CHECK_EQ_U64(CMD_STATUS, cfg.command);
	CHECK_EQ_U64(FORMAT_JSON, cfg.format);

	CHECK_PARSE_OK(&cfg, "detach", "--pin-path", "/q");
	CHECK_EQ_U64(CMD_DETACH, cfg.command);
	CHECK_STR("/q", cfg.pin_path);
}

static void test_options_that_do_not_apply(void)
{
	CHECK_PARSE_ERROR("-L/--lport", "'snapshot'", "snapshot", "-L", "80");
	CHECK_PARSE_ERROR("-D/--rport", "'status'", "status", "-D", "80");
	CHECK_PARSE_ERROR("-4/--ipv4", "'detach'", "detach", "-4");
	CHECK_PARSE_ERROR("-N/--netns", "'snapshot'", "snapshot", "-N", "/run/netns/a");
	CHECK_PARSE_ERROR("-T/--timestamp", "'status'", "status", "-T");
	CHECK_PARSE_ERROR("-m/--milliseconds", "'attach'", "attach", "-m");
	CHECK_PARSE_ERROR("-f/--format", "'attach'", "attach", "-f", "json");
	CHECK_PARSE_ERROR("-f/--format", "'detach'", "detach", "-f", "json");
	CHECK_PARSE_ERROR("-o/--output", "'attach'", "attach", "-o", "/tmp/x");
	CHECK_PARSE_ERROR("-o/--output", "'live view'", "-o", "/tmp/x");
	CHECK_PARSE_ERROR("--pin-path", "'live view'", "--pin-path", "/p");
	CHECK_PARSE_ERROR("--state-file", "'attach'", "attach", "--state-file", "/s");
	CHECK_PARSE_ERROR("--state-file", "'live view'", "--state-file", "/s");
	CHECK_PARSE_ERROR("--replace", "'snapshot'", "snapshot", "--replace");
	CHECK_PARSE_ERROR("--replace", "'live view'", "--replace");

	/* Positionals belong to the live view only. */
	CHECK_PARSE_ERROR("'5'", "'attach'", "attach", "5");
	CHECK_PARSE_ERROR("'5'", "'snapshot'", "snapshot", "5");
	CHECK_PARSE_ERROR("'x'", "'status'", "status", "x");
	CHECK_PARSE_ERROR("'1'", "'detach'", "detach", "-v", "1");
}

static void test_combinations(void)
{
	CHECK_PARSE_ERROR("--state-file", "prometheus", "snapshot", "--state-file", "F", "-f",
			  "prometheus");
	CHECK_PARSE_ERROR("--state-file", "prometheus", "snapshot", "-f", "prometheus",
			  "--state-file", "F");
	CHECK_PARSE_ERROR("status", "json", "status", "-f", "prometheus");
	CHECK_PARSE_ERROR("--pin-path", "empty path", "attach", "--pin-path", "");
	CHECK_PARSE_ERROR("--pin-path", "given twice", "detach", "--pin-path", "/a", "--pin-path",
			  "/b");
	CHECK_PARSE_ERROR("--state-file", "empty path", "snapshot", "--state-file", "");
	CHECK_PARSE_ERROR("-o/--output", "given twice", "snapshot", "-o", "/a", "-o", "/b");
	CHECK_PARSE_ERROR("--pin-path", "needs a value", "attach", "--pin-path");
}

static void test_small_error_buffer(void)
{
	struct config cfg;
	char err[12];

	memset(err, 'x', sizeof(err));
	CHECK_EQ_U64(PARSE_ERROR, parse(ARGV("-L", "0"), &cfg, err, 8));
	CHECK_EQ_U64(7, strlen(err));
	CHECK(err[8] == 'x');
}

static void test_parse_duration(void)
{
	__u64 ns = 0;

	CHECK_EQ_U64(0, parse_duration("500us", &ns));
	CHECK_EQ_U64(500000ull, ns);
	CHECK_EQ_U64(0, parse_duration("250ms", &ns));
	CHECK_EQ_U64(250000000ull, ns);
	CHECK_EQ_U64(0, parse_duration("2s", &ns));
	CHECK_EQ_U64(2000000000ull, ns);
	CHECK_EQ_U64(0, parse_duration("1m", &ns));
	CHECK_EQ_U64(60000000000ull, ns);
	CHECK_EQ_U64(0, parse_duration("1.5h", &ns));
	CHECK_EQ_U64(5400000000000ull, ns);
	CHECK_EQ_U64(0, parse_duration("0.000000001s", &ns));
	CHECK_EQ_U64(1, ns);
	CHECK_EQ_U64(0, parse_duration("8784h", &ns)); /* a leap year */
	CHECK_EQ_U64(-ERANGE, parse_duration("8785h", &ns));
	CHECK_EQ_U64(-ERANGE, parse_duration("0s", &ns));
	CHECK_EQ_U64(-ERANGE, parse_duration("0.0001us", &ns));
	CHECK_EQ_U64(-ERANGE, parse_duration("99999999999999999999999h", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("0.0000000001s", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("5", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("5x", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("5 s", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("5sec", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("-1s", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("+1s", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration(".5s", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("1.s", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("1e3ms", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("s", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration("", &ns));
	CHECK_EQ_U64(-EINVAL, parse_duration(NULL, &ns));
}

static void test_sockets_options(void)
{
	struct config cfg;
	char err[256];

	CHECK_EQ_U64(PARSE_OK, parse(ARGV("sockets"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(CMD_SOCKETS, cfg.command);
	CHECK_EQ_U64(10, cfg.top);
	CHECK_EQ_U64(0, cfg.older_than_ns);
	CHECK(!cfg.pin_path_given);
	CHECK_EQ_U64(PARSE_OK, parse(ARGV("sockets", "--older-than", "1m", "--top", "3", "-4",
					  "-L", "80", "--pin-path", "/x", "-f", "json"),
				     &cfg, err, sizeof(err)));
	CHECK_EQ_U64(60000000000ull, cfg.older_than_ns);
	CHECK_EQ_U64(3, cfg.top);
	CHECK(cfg.pin_path_given);
	CHECK_PARSE_ERROR("--older-than", "'5x'", "sockets", "--older-than", "5x");
	CHECK_PARSE_ERROR("--older-than", "twice", "sockets", "--older-than", "1s",
			  "--older-than", "2s");
	CHECK_PARSE_ERROR("--top", "'0'", "sockets", "--top", "0");
	CHECK_PARSE_ERROR("--top", "'1001'", "sockets", "--top", "1001");
	CHECK_PARSE_ERROR("--top", "does not apply", "snapshot", "--top", "3");
	CHECK_PARSE_ERROR("--state-file", "does not apply", "sockets", "--state-file", "/tmp/x");
}

static void test_trace_options(void)
{
	struct config cfg;

	CHECK_PARSE_OK(&cfg, "trace");
	CHECK_EQ_U64(CMD_TRACE, cfg.command);
	CHECK_EQ_U64(0, cfg.min_duration_ns);
	CHECK_EQ_U64(0, cfg.from_states);
	CHECK_EQ_U64(0, cfg.to_states);
	CHECK_EQ_U64(RING_KIB_DEFAULT, cfg.ring_kib);
	CHECK(!cfg.wide && !cfg.timestamp);
	CHECK_PARSE_OK(&cfg, "trace", "-T", "-w", "-6", "-L", "443", "--min-duration", "250ms",
		       "--from", "syn_sent,SYN_RECV", "--to", "ESTABLISHED", "--ring-size", "64",
		       "-f", "json");
	CHECK_EQ_U64(250000000ull, cfg.min_duration_ns);
	CHECK_EQ_U64(1u << TSH_SYN_SENT | 1u << TSH_SYN_RECV, cfg.from_states);
	CHECK_EQ_U64(1u << TSH_ESTABLISHED, cfg.to_states);
	CHECK_EQ_U64(64, cfg.ring_kib);
	CHECK(cfg.wide && cfg.timestamp);
	CHECK_EQ_U64(FORMAT_JSON, cfg.format);
	CHECK_PARSE_ERROR("--min-duration", "'5'", "trace", "--min-duration", "5");
	CHECK_PARSE_ERROR("--min-duration", "twice", "trace", "--min-duration", "1s",
			  "--min-duration", "2s");
	CHECK_PARSE_ERROR("--from", "'SYN'", "trace", "--from", "SYN");
	CHECK_PARSE_ERROR("--to", "'CLOSE,'", "trace", "--to", "CLOSE,");
	CHECK_PARSE_ERROR("--to", "'CLOSE,,LISTEN'", "trace", "--to", "CLOSE,,LISTEN");
	CHECK_PARSE_ERROR("--from", "twice", "trace", "--from", "CLOSE", "--from", "LISTEN");
	CHECK_PARSE_ERROR("--ring-size", "'3'", "trace", "--ring-size", "3");
	CHECK_PARSE_ERROR("--ring-size", "'48'", "trace", "--ring-size", "48");
	CHECK_PARSE_ERROR("--ring-size", "'2097152'", "trace", "--ring-size", "2097152");
	CHECK_PARSE_ERROR("trace", "text or json", "trace", "-f", "prometheus");
	CHECK_PARSE_OK(&cfg, "trace", "--by", "cgroup");
	CHECK_EQ_U64(TSH_BY_CGROUP, cfg.by);
	CHECK_PARSE_ERROR("--max-keys", "every key", "trace", "--by", "port", "--max-keys", "3");
	CHECK_PARSE_ERROR("--by lport", "both ports", "trace", "--by", "lport");
	CHECK_PARSE_ERROR("--by rport", "both ports", "trace", "--by", "rport");
	CHECK_PARSE_ERROR("-m", "does not apply", "trace", "-m");
	CHECK_PARSE_ERROR("'5'", "'trace'", "trace", "5");
	CHECK_PARSE_ERROR("-w", "does not apply", "-w");
	CHECK_PARSE_ERROR("--min-duration", "does not apply", "sockets", "--min-duration", "1s");
}

static void test_state_list(void)
{
	__u32 states;

	CHECK_EQ_U64(0, parse_state_list("CLOSE_WAIT", &states));
	CHECK_EQ_U64(1u << TSH_CLOSE_WAIT, states);
	CHECK_EQ_U64(0, parse_state_list("close,Close_Wait,BOUND_INACTIVE", &states));
	CHECK_EQ_U64(1u << TSH_CLOSE | 1u << TSH_CLOSE_WAIT | 1u << TSH_BOUND_INACTIVE, states);
	CHECK_EQ_U64(-EINVAL, parse_state_list("", &states));
	CHECK_EQ_U64(-EINVAL, parse_state_list(",CLOSE", &states));
	CHECK_EQ_U64(-EINVAL, parse_state_list("CLOSEX", &states));
	CHECK_EQ_U64(-EINVAL, parse_state_list("UNKNOWN", &states));
	CHECK_EQ_U64(-EINVAL, parse_state_list("CLOSE ", &states));
}

static void test_by(void)
{
	struct config cfg;
	char err[256];

	CHECK_EQ_U64(PARSE_OK, parse(ARGV("--by", "cgroup"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(TSH_BY_CGROUP, cfg.by);
	CHECK_EQ_U64(MAX_KEYS_DEFAULT, cfg.max_keys);
	CHECK_EQ_U64(PARSE_OK,
		     parse(ARGV("--by", "port", "--max-keys", "3"), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(TSH_BY_PORT, cfg.by);
	CHECK_EQ_U64(3, cfg.max_keys);
	CHECK_EQ_U64(PARSE_OK, parse(ARGV(), &cfg, err, sizeof(err)));
	CHECK_EQ_U64(TSH_BY_NONE, cfg.by);
	CHECK_EQ_U64(0, cfg.max_keys);
	CHECK_PARSE_ERROR("--by", "'pid'", "--by", "pid");
	CHECK_PARSE_ERROR("--by", "twice", "--by", "port", "--by", "lport");
	CHECK_PARSE_ERROR("--max-keys", "'0'", "--by", "port", "--max-keys", "0");
	CHECK_PARSE_ERROR("--max-keys", "'4097'", "--by", "port", "--max-keys", "4097");
	CHECK_PARSE_ERROR("--max-keys", "needs --by", "--max-keys", "3");
	CHECK_PARSE_ERROR("--by", "does not apply", "snapshot", "--by", "port");
	CHECK_PARSE_ERROR("--by", "does not apply", "sockets", "--by", "port");
	CHECK_EQ_U64(PARSE_OK, parse(ARGV("--cgroup", "/sys/fs/cgroup/a"), &cfg, err, sizeof(err)));
	CHECK_STR("/sys/fs/cgroup/a", cfg.cgroup_path);
	CHECK_PARSE_ERROR("--cgroup", "empty path", "--cgroup", "");
	CHECK_PARSE_ERROR("--cgroup", "twice", "--cgroup", "/a", "--cgroup", "/b");
	CHECK_PARSE_ERROR("--cgroup", "does not apply", "snapshot", "--cgroup", "/a");
	CHECK_PARSE_ERROR("--cgroup", "does not apply", "status", "--cgroup", "/a");
	CHECK_EQ_U64(PARSE_OK, parse(ARGV("attach", "--cgroup", "/sys/fs/cgroup/a"), &cfg, err,
				     sizeof(err)));
	CHECK_STR("/sys/fs/cgroup/a", cfg.cgroup_path);
	CHECK_EQ_U64(PARSE_OK, parse(ARGV("sockets", "--cgroup", "/b"), &cfg, err, sizeof(err)));
	CHECK_STR("/b", cfg.cgroup_path);
	CHECK_EQ_U64(PARSE_OK, parse(ARGV("trace", "--cgroup", "/c"), &cfg, err, sizeof(err)));
	CHECK_STR("/c", cfg.cgroup_path);
}

UNIT_TESTS(args_tests) = {
	{ "args: --by, --max-keys and --cgroup", test_by },
	{ "args: defaults", test_defaults },
	{ "args: INTERVAL and COUNT", test_interval_and_count },
	{ "args: bad INTERVAL named", test_interval_errors },
	{ "args: bad COUNT named", test_count_errors },
	{ "args: parse_ulong is strict", test_parse_ulong },
	{ "args: parse_seconds is strict", test_parse_seconds },
	{ "args: port lists set exactly their ports", test_port_list },
	{ "args: bad port lists named", test_port_list_errors },
	{ "args: -L and -D", test_port_options },
	{ "args: -4/-6, -f, -N", test_family_and_format },
	{ "args: unknown options named", test_unknown_options },
	{ "args: a port list is kept whole or refused", test_port_list_kept_whole },
	{ "args: -h and -V", test_help_and_version },
	{ "args: subcommands", test_subcommands },
	{ "args: options that do not apply to a command", test_options_that_do_not_apply },
	{ "args: option combinations", test_combinations },
	{ "args: error message fits a small buffer", test_small_error_buffer },
	{ "args: parse_duration is strict", test_parse_duration },
	{ "args: sockets options", test_sockets_options },
	{ "args: trace options", test_trace_options },
	{ "args: state lists are strict", test_state_list },
	UNIT_END,
};
