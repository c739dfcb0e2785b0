// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Argument parsing. Every number goes through parse_ulong() or
 * parse_seconds(); every error is returned with a message, never exit()ed,
 * so that each error path can be unit-tested.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "args.h"
#include "breakdown.h"
#include "census.h"
#include "labels.h"
#include "pins.h"
#include "util.h"

enum long_only_option {
	OPT_PIN_PATH = 256,
	OPT_STATE_FILE,
	OPT_REPLACE,
	OPT_NO_AUDIT,
	OPT_OLDER_THAN,
	OPT_TOP,
	OPT_MIN_DURATION,
	OPT_FROM,
	OPT_TO,
	OPT_RING_SIZE,
	OPT_BY,
	OPT_MAX_KEYS,
	OPT_CGROUP,
	OPT_LABEL,
	OPT_WITH_SOCKETS,
};

struct option_rule {
	int val;
	enum option_group group;
};

static const struct option long_options[] = {
	{ "timestamp", no_argument, NULL, 'T' },
	{ "milliseconds", no_argument, NULL, 'm' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "lport", required_argument, NULL, 'L' },
	{ "rport", required_argument, NULL, 'D' },
	{ "netns", required_argument, NULL, 'N' },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "pin-path", required_argument, NULL, OPT_PIN_PATH },
	{ "state-file", required_argument, NULL, OPT_STATE_FILE },
	{ "replace", no_argument, NULL, OPT_REPLACE },
	{ "no-audit", no_argument, NULL, OPT_NO_AUDIT },
	{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "wide", no_argument, NULL, 'w' },
	{ "min-duration", required_argument, NULL, OPT_MIN_DURATION },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "by", required_argument, NULL, OPT_BY },
	{ "max-keys", required_argument, NULL, OPT_MAX_KEYS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "sockets", no_argument, NULL, OPT_WITH_SOCKETS },
	{ 0 },
};

static const struct option_rule option_rules[] = {
	{ 'T', OPTS_VIEW | OPTS_TIME },
	{ 'm', OPTS_VIEW },
	{ '4', OPTS_FILTER },
	{ '6', OPTS_FILTER },
	{ 'L', OPTS_FILTER },
	{ 'D', OPTS_FILTER },
	{ 'N', OPTS_FILTER },
	{ 'f', OPTS_FORMAT },
	{ 'o', OPTS_OUTPUT },
	{ 'v', OPTS_ANY },
	{ 'h', OPTS_ANY },
	{ 'V', OPTS_ANY },
	{ OPT_PIN_PATH, OPTS_PIN },
	{ OPT_STATE_FILE, OPTS_STATE },
	{ OPT_REPLACE, OPTS_REPLACE },
	{ OPT_NO_AUDIT, OPTS_AUDIT },
	{ OPT_OLDER_THAN, OPTS_CENSUS },
	{ OPT_TOP, OPTS_CENSUS },
	{ 'w', OPTS_TRACE },
	{ OPT_MIN_DURATION, OPTS_TRACE },
	{ OPT_FROM, OPTS_TRACE },
	{ OPT_TO, OPTS_TRACE },
	{ OPT_RING_SIZE, OPTS_TRACE },
	{ OPT_BY, OPTS_BY },
	{ OPT_MAX_KEYS, OPTS_BY },
	{ OPT_CGROUP, OPTS_CGROUP },
	{ OPT_LABEL, OPTS_LABEL },
	{ OPT_WITH_SOCKETS, OPTS_WITH_SOCKETS },
};

/* The parser's half of the command table (commands.h). */
struct command_rules {
	const char *name;
	unsigned int options; /* enum option_group bits */
};

#define COMMAND_RULES(id, name, run, options) [id] = { name, options },
static const struct command_rules commands[] = { TSH_COMMANDS(COMMAND_RULES) };
#undef COMMAND_RULES

int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts a sign and leading blanks; a count never has them. */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	double v;
	char *end;

	/* Digits or a leading dot only: no sign, hex, "inf" or "nan". */
	if (!s || !((*s >= '0' && *s <= '9') || *s == '.') || strpbrk(s, "xXpP"))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	/*
	 * A year is long enough for any interval and keeps timespec math safe; a
	 * microsecond is the precision the summaries print.
	 */
	if (!isfinite(v) || v < INTERVAL_MIN_S || v > INTERVAL_MAX_S)
		return -ERANGE;
	*out = v;
	return 0;
}

/* The units of parse_duration, longest name first where one is a prefix of another. */
static const struct duration_unit {
	const char *name;
	__u64 ns;
} duration_units[] = {
	{ "us", 1000ull },	   { "ms", 1000000ull },	  { "s", 1000000000ull },
	{ "m", 60000000000ull }, { "h", 3600000000000ull },
};

#define DURATION_MAX_NS (366ull * 24 * 3600 * 1000000000ull)

int parse_duration(const char *s, __u64 *ns)
{
	unsigned long long whole = 0, frac = 0, scale = 1;
	const char *p = s;
	__u64 unit = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > DURATION_MAX_NS)
			return -ERANGE;
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		/* Nine decimals reach a nanosecond of an hour's unit; more are refused. */
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale >= 1000000000ull)
				return -EINVAL;
			frac = frac * 10 + (*p - '0');
			scale *= 10;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++)
		if (!strcmp(p, duration_units[i].name))
			unit = duration_units[i].ns;
	if (!unit)
		return -EINVAL;
	if (whole > DURATION_MAX_NS / unit)
		return -ERANGE;
	*ns = whole * unit + (__u64)((unsigned __int128)frac * unit / scale);
	if (*ns == 0 || *ns > DURATION_MAX_NS)
		return -ERANGE;
	return 0;
}

int parse_state_list(const char *s, __u32 *states)
{
	const char *p = s;

	*states = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		unsigned int state;

		for (state = 1; state < TSH_NSTATES; state++)
			if (tsh_state_names[state] && strlen(tsh_state_names[state]) == len &&
			    !strncasecmp(p, tsh_state_names[state], len))
				break;
		if (state == TSH_NSTATES)
			return -EINVAL;
		*states |= 1u << state;
		p += len;
		if (!*p)
			return 0;
		p++;
	}
}

int parse_port_list(const char *s, struct tsh_portset *set, char *err, size_t errlen)
{
	const char *p = s;

	memset(set, 0, sizeof(*set));
	if (!*s) {
		set_err(err, errlen, -EINVAL, "empty port list");
		return -EINVAL;
	}
	for (;;) {
		char item[16], *dash;
		size_t len = strcspn(p, ",");
		unsigned long lo, hi;

		if (len == 0) {
			set_err(err, errlen, -EINVAL, "empty element in port list '%s'", s);
			return -EINVAL;
		}
		if (len >= sizeof(item)) {
			set_err(err, errlen, -EINVAL, "invalid port '%.*s'", (int)len, p);
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		dash = strchr(item, '-');
		if (dash)
			*dash = '\0';
		if (parse_ulong(item, 1, 65535, &lo) ||
		    parse_ulong(dash ? dash + 1 : item, 1, 65535, &hi)) {
			if (dash)
				*dash = '-';
			set_err(err, errlen, -EINVAL, "invalid port '%s' (ports are 1-65535)",
				item);
			return -EINVAL;
		}
		if (lo > hi) {
			set_err(err, errlen, -EINVAL, "reversed port range '%lu-%lu'", lo, hi);
			return -EINVAL;
		}
		for (unsigned long port = lo; port <= hi; port++)
			set->bits[port / 64] |= 1ull << (port % 64);
		p += len;
		if (!*p)
			return 0;
		p++; /* the comma; a trailing one leaves an empty element */
	}
}

static const char *option_name(int val, char *buf, size_t len)
{
	for (const struct option *o = long_options; o->name; o++) {
		if (o->val != val)
			continue;
		if (val < 256)
			snprintf(buf, len, "-%c/--%s", val, o->name);
		else
			snprintf(buf, len, "--%s", o->name);
		return buf;
	}
	snprintf(buf, len, "-%c", val);
	return buf;
}

static bool option_allowed(int val, enum tsh_command cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_rules); i++)
		if (option_rules[i].val == val)
			return option_rules[i].group == OPTS_ANY ||
			       (option_rules[i].group & commands[cmd].options);
	return false;
}

/* The live view is named by no word: it is what remains. */
static enum tsh_command command_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (i != CMD_LIVE && !strcmp(name, commands[i].name))
			return i;
	return CMD_LIVE;
}

static const char short_options[] = ":Tmw46L:D:N:f:o:vhV";

/* True when the option word (without its dashes) takes the next word as its value. */
static bool takes_next_word(const char *word)
{
	if (word[1] == '-') {
		size_t len = strcspn(word + 2, "=");

		if (word[2 + len] == '=')
			return false;
		for (const struct option *o = long_options; o->name; o++)
			if (strlen(o->name) == len && !strncmp(o->name, word + 2, len))
				return o->has_arg == required_argument;
		return false;
	}
	for (const char *c = word + 1; *c; c++) {
		const char *spec = strchr(short_options + 1, *c);

		/* The value is the rest of the word, or else the next word. */
		if (spec && *c != ':' && spec[1] == ':')
			return c[1] == '\0';
	}
	return false;
}

/*
 * A subcommand may follow options ("tcpstatehist -v status"): moves the
 * first word that is neither an option nor an option's value to argv[1] when
 * it names a command, keeping the order of the others.
 */
static void command_word_first(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *word = argv[i];

		if (!strcmp(word, "--"))
			return;
		if (word[0] == '-' && word[1]) {
			if (takes_next_word(word))
				i++;
			continue;
		}
		if (i > 1 && command_from_name(word) != CMD_LIVE) {
			memmove(argv + 2, argv + 1, (i - 1) * sizeof(*argv));
			argv[1] = word;
		}
		return;
	}
}

static int parse_format(const char *s, enum tsh_format *out)
{
	if (!strcmp(s, "text"))
		*out = FORMAT_TEXT;
	else if (!strcmp(s, "json"))
		*out = FORMAT_JSON;
	else if (!strcmp(s, "prometheus"))
		*out = FORMAT_PROMETHEUS;
	else
		return -EINVAL;
	return 0;
}

/* Options that take a path must not be given an empty one. */
static int take_path(const char *arg, const char **dst, const char *name, char *err, size_t errlen)
{
	if (!*arg) {
		set_err(err, errlen, -EINVAL, "%s: empty path", name);
		return -EINVAL;
	}
	if (*dst) {
		set_err(err, errlen, -EINVAL, "%s given twice", name);
		return -EINVAL;
	}
	*dst = arg;
	return 0;
}

/* -N PATH, or the NAME of a namespace made by `ip netns add NAME` (/run/netns/NAME). */
static int take_netns(const char *arg, struct config *cfg, const char *name, char *err,
		      size_t errlen)
{
	int ret = take_path(arg, &cfg->netns_path, name, err, errlen);

	if (ret || strchr(arg, '/'))
		return ret;
	if (!strcmp(arg, ".") || !strcmp(arg, "..") ||
	    snprintf(cfg->netns_named, sizeof(cfg->netns_named), NETNS_RUN_DIR "/%s", arg) >=
		    (int)sizeof(cfg->netns_named))
		return set_err(err, errlen, -EINVAL, "%s %s: not a namespace name", name, arg);
	cfg->netns_path = cfg->netns_named;
	return 0;
}

/* A duration option, given once (0 means not given: durations are positive). */
static int take_duration(const char *arg, __u64 *dst, const char *name, char *err, size_t errlen)
{
	if (*dst)
		return set_err(err, errlen, -EINVAL, "%s given twice", name);
	if (parse_duration(arg, dst))
		return set_err(err, errlen, -EINVAL,
			       "%s: invalid duration '%s' (a number and a unit: us, ms, s, m or h, "
			       "e.g. 250ms, 1m; at most a year)",
			       name, arg);
	return 0;
}

/* A whole number from 1 to max, given once (--top, --max-keys). */
static int take_count(const char *arg, unsigned long max, unsigned long *dst, const char *name,
		      char *err, size_t errlen)
{
	if (*dst)
		return set_err(err, errlen, -EINVAL, "%s given twice", name);
	if (parse_ulong(arg, 1, max, dst))
		return set_err(err, errlen, -EINVAL,
			       "%s: invalid count '%s': a whole number from 1 to %lu", name, arg,
			       max);
	return 0;
}

static int take_ports(const char *arg, struct port_filter *pf, const char *name, char *err,
		      size_t errlen)
{
	char why[128];

	if (pf->enabled) {
		set_err(err, errlen, -EINVAL, "%s given twice; list every port in one option",
			name);
		return -EINVAL;
	}
	/* The list is kept as given, for status; it must fit whole. */
	if (strlen(arg) >= sizeof(pf->spec)) {
		set_err(err, errlen, -EINVAL, "%s: list longer than %zu characters; use ranges",
			name, sizeof(pf->spec) - 1);
		return -EINVAL;
	}
	if (parse_port_list(arg, &pf->set, why, sizeof(why))) {
		set_err(err, errlen, -EINVAL, "%s: %s", name, why);
		return -EINVAL;
	}
	pf->enabled = true;
	snprintf(pf->spec, sizeof(pf->spec), "%s", arg);
	return 0;
}

static int parse_positionals(int argc, char **argv, struct config *cfg, char *err, size_t errlen)
{
	if (argc == 0)
		return 0;
	if (cfg->command != CMD_LIVE) {
		set_err(err, errlen, -EINVAL, "unexpected argument '%s' for '%s'", argv[0],
			commands[cfg->command].name);
		return -EINVAL;
	}
	if (argc > 2) {
		set_err(err, errlen, -EINVAL,
			"unexpected argument '%s' (usage: [INTERVAL [COUNT]])", argv[2]);
		return -EINVAL;
	}
	if (parse_seconds(argv[0], &cfg->interval_s)) {
		set_err(err, errlen, -EINVAL,
			"invalid INTERVAL '%s': a number of seconds from %s to %s", argv[0],
			INTERVAL_MIN_TEXT, INTERVAL_MAX_TEXT);
		return -EINVAL;
	}
	cfg->has_interval = true;
	if (argc == 2 && parse_ulong(argv[1], 1, 1000000000UL, &cfg->count)) {
		set_err(err, errlen, -EINVAL,
			"invalid COUNT '%s': a whole number from 1 to 1000000000", argv[1]);
		return -EINVAL;
	}
	return 0;
}

static int check_combinations(struct config *cfg, char *err, size_t errlen)
{
	if (cfg->command == CMD_SNAPSHOT && cfg->state_file && cfg->format == FORMAT_PROMETHEUS) {
		set_err(err, errlen, -EINVAL,
			"--state-file does not apply to -f prometheus (Prometheus counters are "
			"cumulative since attach)");
		return -EINVAL;
	}
	if (cfg->with_sockets && cfg->format != FORMAT_PROMETHEUS) {
		set_err(err, errlen, -EINVAL,
			"--sockets needs -f prometheus (for text and JSON: tcpstatehist sockets)");
		return -EINVAL;
	}
	if (cfg->command == CMD_STATUS && cfg->format == FORMAT_PROMETHEUS) {
		set_err(err, errlen, -EINVAL, "status prints text or json");
		return -EINVAL;
	}
	cfg->pin_path_given = cfg->pin_path != NULL;
	if (!cfg->pin_path)
		cfg->pin_path = DEFAULT_PIN_PATH;
	if (cfg->command == CMD_SOCKETS && !cfg->top)
		cfg->top = CENSUS_TOP_DEFAULT;
	if (cfg->command == CMD_TRACE && cfg->format == FORMAT_PROMETHEUS) {
		set_err(err, errlen, -EINVAL, "trace prints text or json");
		return -EINVAL;
	}
	if (!cfg->ring_kib)
		cfg->ring_kib = RING_KIB_DEFAULT;
	if (cfg->max_keys && !cfg->by) {
		set_err(err, errlen, -EINVAL, "--max-keys needs --by");
		return -EINVAL;
	}
	if (cfg->command == CMD_TRACE && (cfg->by == TSH_BY_LPORT || cfg->by == TSH_BY_RPORT)) {
		set_err(err, errlen, -EINVAL,
			"--by %s: every trace record has both ports; trace takes port, cgroup or "
			"netns",
			by_name(cfg->by));
		return -EINVAL;
	}
	if (cfg->max_keys && cfg->command == CMD_TRACE) {
		set_err(err, errlen, -EINVAL, "--max-keys: trace prints every key as it is");
		return -EINVAL;
	}
	if (cfg->by && !cfg->max_keys)
		cfg->max_keys = MAX_KEYS_DEFAULT;
	return 0;
}

enum parse_result parse_args(int argc, char **argv, struct config *cfg, char *err, size_t errlen)
{
	bool format_given = false;
	char name[48];
	int first = 1, opt;

	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	command_word_first(argc, argv);
	if (argc > 1) {
		cfg->command = command_from_name(argv[1]);
		if (cfg->command != CMD_LIVE)
			first = 2;
	}
	/* getopt keeps its place in globals; optind = 0 makes it start over. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc - first + 1, argv + first - 1, short_options, long_options,
				  NULL)) != -1) {
		if (opt == '?') {
			const char *word = argv[first - 1 + optind - 1];

			/* getopt sets optopt for long options too: name the word. */
			if (!strncmp(word, "--", 2) && strchr(word, '='))
				set_err(err, errlen, -EINVAL, "option '%.*s' takes no value",
					(int)strcspn(word, "="), word);
			else if (!strncmp(word, "--", 2) || optopt <= 0 || optopt > 127)
				set_err(err, errlen, -EINVAL, "unknown option '%s'", word);
			else
				set_err(err, errlen, -EINVAL, "unknown option '-%c'", optopt);
			return PARSE_ERROR;
		}
		if (opt == ':') {
			set_err(err, errlen, -EINVAL, "option %s needs a value",
				option_name(optopt, name, sizeof(name)));
			return PARSE_ERROR;
		}
		if (!option_allowed(opt, cfg->command)) {
			set_err(err, errlen, -EINVAL, "option %s does not apply to '%s'",
				option_name(opt, name, sizeof(name)), commands[cfg->command].name);
			return PARSE_ERROR;
		}
		option_name(opt, name, sizeof(name));
		switch (opt) {
		case 'h':
			return PARSE_HELP;
		case 'V':
			return PARSE_VERSION;
		case 'T':
			cfg->timestamp = true;
			break;
		case 'm':
			cfg->milliseconds = true;
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case '4':
		case '6': {
			int family = opt == '4' ? AF_INET : AF_INET6;

			if (cfg->family && cfg->family != family) {
				set_err(err, errlen, -EINVAL, "-4 and -6 exclude each other");
				return PARSE_ERROR;
			}
			cfg->family = family;
			break;
		}
		case 'L':
			if (take_ports(optarg, &cfg->lports, name, err, errlen))
				return PARSE_ERROR;
			break;
		case 'D':
			if (take_ports(optarg, &cfg->rports, name, err, errlen))
				return PARSE_ERROR;
			break;
		case 'N':
			if (take_netns(optarg, cfg, name, err, errlen))
				return PARSE_ERROR;
			break;
		case 'o':
			if (take_path(optarg, &cfg->output, name, err, errlen))
				return PARSE_ERROR;
			break;
		case OPT_PIN_PATH:
			if (take_path(optarg, &cfg->pin_path, name, err, errlen))
				return PARSE_ERROR;
			break;
		case OPT_STATE_FILE:
			if (take_path(optarg, &cfg->state_file, name, err, errlen))
				return PARSE_ERROR;
			break;
		case OPT_NO_AUDIT:
			cfg->no_audit = true;
			break;
		case OPT_REPLACE:
			cfg->replace = true;
			break;
		case OPT_OLDER_THAN:
			if (take_duration(optarg, &cfg->older_than_ns, name, err, errlen))
				return PARSE_ERROR;
			break;
		case OPT_TOP:
			if (take_count(optarg, CENSUS_TOP_MAX, &cfg->top, name, err, errlen))
				return PARSE_ERROR;
			break;
		case 'w':
			cfg->wide = true;
			break;
		case OPT_MIN_DURATION:
			if (take_duration(optarg, &cfg->min_duration_ns, name, err, errlen))
				return PARSE_ERROR;
			break;
		case OPT_FROM:
		case OPT_TO: {
			__u32 *states = opt == OPT_FROM ? &cfg->from_states : &cfg->to_states;

			if (*states) {
				set_err(err, errlen, -EINVAL,
					"%s given twice; list every state in one option", name);
				return PARSE_ERROR;
			}
			if (parse_state_list(optarg, states)) {
				set_err(err, errlen, -EINVAL,
					"%s: invalid state list '%s' (state names such as SYN_SENT,"
					"CLOSE_WAIT)",
					name, optarg);
				return PARSE_ERROR;
			}
			break;
		}
		case OPT_RING_SIZE:
			if (cfg->ring_kib) {
				set_err(err, errlen, -EINVAL, "%s given twice", name);
				return PARSE_ERROR;
			}
			if (parse_ulong(optarg, RING_KIB_MIN, RING_KIB_MAX, &cfg->ring_kib) ||
			    (cfg->ring_kib & (cfg->ring_kib - 1))) {
				set_err(err, errlen, -EINVAL,
					"%s: invalid size '%s': KiB, a power of two from %d to %d",
					name, optarg, RING_KIB_MIN, RING_KIB_MAX);
				return PARSE_ERROR;
			}
			break;
		case OPT_CGROUP:
			if (take_path(optarg, &cfg->cgroup_path, name, err, errlen))
				return PARSE_ERROR;
			break;
		case OPT_BY:
			if (cfg->by) {
				set_err(err, errlen, -EINVAL, "%s given twice", name);
				return PARSE_ERROR;
			}
			if (parse_by(optarg, &cfg->by)) {
				set_err(err, errlen, -EINVAL,
					"%s: unknown key '%s' (port, lport, rport, cgroup or netns)",
					name, optarg);
				return PARSE_ERROR;
			}
			break;
		case OPT_MAX_KEYS:
			if (take_count(optarg, MAX_KEYS_MAX, &cfg->max_keys, name, err, errlen))
				return PARSE_ERROR;
			break;
		case OPT_WITH_SOCKETS:
			cfg->with_sockets = true;
			break;
		case OPT_LABEL:
			if (labels_add(cfg->labels, sizeof(cfg->labels), optarg, err, errlen))
				return PARSE_ERROR;
			break;
		case 'f':
			if (format_given) {
				set_err(err, errlen, -EINVAL, "%s given twice", name);
				return PARSE_ERROR;
			}
			format_given = true;
			if (parse_format(optarg, &cfg->format)) {
				set_err(err, errlen, -EINVAL,
					"%s: unknown format '%s' (text, json or prometheus)", name,
					optarg);
				return PARSE_ERROR;
			}
			break;
		}
	}
	if (parse_positionals(argc - first - optind + 1, argv + first - 1 + optind, cfg, err,
			      errlen) ||
	    check_combinations(cfg, err, errlen))
		return PARSE_ERROR;
	return PARSE_OK;
}

void print_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %1$s [OPTIONS] [INTERVAL [COUNT]]\n"
		"       %1$s attach [FILTERS] [--by KEY [--max-keys N]] [--pin-path DIR] [--replace]\n"
		"               [--label KEY=VALUE]...\n"
		"       %1$s snapshot [--pin-path DIR] [-f text|json|prometheus] [--state-file FILE] "
		"[-o FILE]\n"
		"               [--sockets]\n"
		"       %1$s status [--pin-path DIR] [-f text|json]\n"
		"       %1$s detach [--pin-path DIR]\n"
		"       %1$s sockets [FILTERS] [--older-than DUR] [--top N] [-f text|json|prometheus]\n"
		"               [-o FILE] [--pin-path DIR]\n"
		"       %1$s trace [FILTERS] [--min-duration DUR] [--from STATES] [--to STATES]\n"
		"               [-T] [-w] [-f text|json] [--ring-size KIB] [--by KEY]\n"
		"\n"
		"Time spent in each TCP state, per state transition, aggregated in the kernel.\n"
		"Without INTERVAL: trace until Ctrl-C, then print one summary. With INTERVAL\n"
		"(seconds, fractions allowed): a summary every INTERVAL, COUNT times.\n"
		"\n"
		"Options:\n"
		"  -T, --timestamp        time of day on each summary (trace: on each record)\n"
		"  -m, --milliseconds     histograms in milliseconds (default: microseconds)\n"
		"  -4, --ipv4             IPv4 sockets only\n"
		"  -6, --ipv6             IPv6 sockets only\n"
		"  -L, --lport LIST       local ports only, e.g. 80,443,8000-8100\n"
		"  -D, --rport LIST       remote ports only\n"
		"  -N, --netns NS         sockets of one network namespace only: a path\n"
		"                         (/proc/PID/ns/net) or an `ip netns` NAME\n"
		"      --cgroup PATH      sockets of one cgroup v2 and its descendants only\n"
		"                         (a directory under the cgroup2 mount)\n"
		"  -f, --format FORMAT    text (default), json (one object per line), prometheus\n"
		"  -o, --output FILE      snapshot, sockets: replace FILE atomically with the output\n"
		"      --pin-path DIR     where attach pins (default %2$s)\n"
		"      --state-file FILE  snapshot: only what changed since the last snapshot\n"
		"                         that used FILE\n"
		"      --sockets          snapshot -f prometheus: the census of the set's sockets\n"
		"                         too (the series of sockets -f prometheus)\n"
		"      --replace          attach: replace an existing attachment\n"
		"      --label KEY=VALUE  live view, attach: add the label to every Prometheus\n"
		"                         series and JSON summary (repeatable; attach stores it)\n"
		"      --older-than DUR   sockets: only sockets known to have been in their state\n"
		"                         at least DUR (500us, 250ms, 2s, 1m, 1h)\n"
		"      --top N            sockets: list the N oldest (default %3$d, at most %4$d)\n"
		"      --min-duration DUR trace: only transitions whose known time in the old\n"
		"                         state is at least DUR (filtered in the kernel)\n"
		"      --from STATES      trace: only transitions out of these states\n"
		"                         (SYN_SENT,SYN_RECV: kernel names, any case)\n"
		"      --to STATES        trace: only transitions into these states\n"
		"  -w, --wide             trace: address columns wide enough for IPv6\n"
		"      --ring-size KIB    trace: ring buffer size, a power of two (default %7$d)\n"
		"      --by KEY           live view, attach: also count per KEY: port (the server's),\n"
		"                         lport, rport, cgroup or netns; trace: each record's\n"
		"                         port, cgroup or netns\n"
		"      --max-keys N       with --by: keys with counts of their own (default %5$d,\n"
		"                         at most %6$d); later keys count as \"other\"\n"
		"      --no-audit         live view, trace: do not count the tracepoint's hits with perf\n"
		"                         (cheaper; missed then omits events the kernel gave\n"
		"                         to no program, see tcpstatehist(8))\n"
		"  -v, --verbose          libbpf debug output\n"
		"  -h, --help             this help\n"
		"  -V, --version          version\n"
		"\n"
		"A port filter keeps a transition when the socket's port at that moment is in the\n"
		"list. A client's CLOSE->SYN_SENT has no local port yet (unless it bound one):\n"
		"see tcpstatehist(8).\n"
		"\n"
		"Examples:\n"
		"  %1$s                   trace until Ctrl-C, then summarize\n"
		"  %1$s 10                a summary every 10 seconds\n"
		"  %1$s -T 1 5            five 1-second summaries with the time of day\n"
		"  %1$s -L 80,443 -m 60   local ports 80 and 443, in milliseconds\n"
		"  %1$s -f json 1         JSON Lines, one object per second\n"
		"  %1$s --by port 10      per service port too: a table per port, largest first,\n"
		"                         e.g. \"port 443: 1200 transitions\", then \"port other\"\n"
		"  %1$s attach -D 5432    keep counting in the kernel, no process left\n"
		"  %1$s attach -L 443 --pin-path /sys/fs/bpf/tsh-web --label service=web\n"
		"                         one set per service, apart in Prometheus\n"
		"  %1$s snapshot -f prometheus -o /var/lib/prometheus/node-exporter/tcpstatehist.prom\n"
		"  %1$s sockets --older-than 1m\n"
		"                         the leak finder: sockets stuck in a state for a minute\n"
		"                         or more (ages need an attach; see tcpstatehist(8))\n"
		"  %1$s trace --from SYN_SENT --min-duration 200ms\n"
		"                         which connections were slow: handshakes of 200 ms\n"
		"                         or more, one line each, as they happen\n"
		"  %1$s trace -T -f json  every transition, one JSON object each\n",
		prog, DEFAULT_PIN_PATH, CENSUS_TOP_DEFAULT, CENSUS_TOP_MAX, MAX_KEYS_DEFAULT,
		MAX_KEYS_MAX, RING_KIB_DEFAULT);
}
