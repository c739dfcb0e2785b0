// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* --label KEY=VALUE: checked once, here; kept as "KEY=VALUE\n" lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "labels.h"
#include "util.h"

/* The label names the tool writes itself: a user's label must not hide one. */
static const char *const reserved[] = {
	"old_state", "new_state", "le",	   "state",  "kind",
	"port",	     "lport",	  "rport", "cgroup", "netns",
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* Length of the UTF-8 sequence at s (1-4), 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	__u32 cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past Unicode's end. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static int check_name(const char *name, size_t len, const char *text, char *err, size_t errlen)
{
	struct label l;
	const char *cursor = text;

	if (!len)
		return set_err(err, errlen, -EINVAL, "--label '%s': no name before '='", name);
	if (len > LABEL_NAME_MAX)
		return set_err(err, errlen, -EINVAL, "--label '%.*s': name longer than %d",
			       (int)len, name, LABEL_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i], i == 0))
			return set_err(err, errlen, -EINVAL,
				       "--label '%.*s': a name is letters, digits and '_', "
				       "not starting with a digit",
				       (int)len, name);
	if (len >= 2 && name[0] == '_' && name[1] == '_')
		return set_err(err, errlen, -EINVAL,
			       "--label '%.*s': names starting with '__' are Prometheus'", (int)len,
			       name);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (strlen(reserved[i]) == len && !strncmp(reserved[i], name, len))
			return set_err(err, errlen, -EINVAL,
				       "--label '%.*s': tcpstatehist writes this label itself",
				       (int)len, name);
	while (labels_next(&cursor, &l))
		if (l.name_len == len && !strncmp(l.name, name, len))
			return set_err(err, errlen, -EINVAL, "--label '%.*s' given twice", (int)len,
				       name);
	return 0;
}

static int check_value(const char *arg, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);

	if (!len)
		return set_err(err, errlen, -EINVAL, "--label '%s': empty value", arg);
	if (len > LABEL_VALUE_MAX)
		return set_err(err, errlen, -EINVAL, "--label '%s': value longer than %d bytes",
			       arg, LABEL_VALUE_MAX);
	for (size_t i = 0, n; i < len; i += n) {
		unsigned char c = value[i];

		n = utf8_len((const unsigned char *)value + i);
		/* Not quoted: the bytes would not print either. */
		if (!n)
			return set_err(err, errlen, -EINVAL,
				       "--label '%.*s=...': value is not UTF-8",
				       (int)(value - 1 - arg), arg);
		if (c < 0x20 || c == 0x7f)
			return set_err(err, errlen, -EINVAL,
				       "--label '%s': control character in the value", arg);
	}
	return 0;
}

int labels_add(char *text, size_t size, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	size_t used = strlen(text), count = 0;
	struct label l;
	const char *cursor = text;
	int ret;

	if (!eq)
		return set_err(err, errlen, -EINVAL, "--label '%s': not KEY=VALUE", arg);
	ret = check_name(arg, eq - arg, text, err, errlen);
	if (ret)
		return ret;
	ret = check_value(arg, eq + 1, err, errlen);
	if (ret)
		return ret;
	while (labels_next(&cursor, &l))
		count++;
	if (count >= LABELS_MAX)
		return set_err(err, errlen, -EINVAL, "--label: at most %d labels", LABELS_MAX);
	if (used + strlen(arg) + 2 > size)
		return set_err(err, errlen, -EINVAL, "--label: the labels take more than %zu bytes",
			       size - 1);
	strcpy(text + used, arg);
	strcat(text + used, "\n");
	return 0;
}

void label_strings(const struct label *l, struct label_strings *out)
{
	snprintf(out->name, sizeof(out->name), "%.*s", (int)l->name_len, l->name);
	snprintf(out->value, sizeof(out->value), "%.*s", (int)l->value_len, l->value);
}

bool labels_next(const char **cursor, struct label *l)
{
	const char *s = *cursor, *eq, *nl;

	if (!s || !*s)
		return false;
	nl = strchr(s, '\n');
	eq = memchr(s, '=', nl ? (size_t)(nl - s) : strlen(s));
	if (!nl || !eq || eq == s)
		return false;
	l->name = s;
	l->name_len = eq - s;
	l->value = eq + 1;
	l->value_len = nl - eq - 1;
	*cursor = nl + 1;
	return true;
}
