// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON writer: commas, escaping, and shapes that do not depend on the data. */
#include <math.h>
#include <stdlib.h>
#include "json_writer.h"
#include "unit.h"

/* Runs fill on a writer over a memory stream; the text it wrote (to free). */
static char *written(void (*fill)(struct json_writer *w))
{
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return strdup("");
	json_init(&w, out);
	fill(&w);
	fclose(out);
	return buf;
}

#define CHECK_JSON(want, fill)                                                                     \
	do {                                                                                       \
		char *got_ = written(fill);                                                        \
		CHECK_STR((want), got_);                                                           \
		free(got_);                                                                        \
	} while (0)

static void control_bytes(struct json_writer *w)
{
	json_string(w, "a\nb\tc\x01\x1f\x7f"
		       "d");
}

static void test_control_bytes(void)
{
	CHECK_JSON("\"a\\u000ab\\u0009c\\u0001\\u001f\\u007fd\"", control_bytes);
}

static void quotes(struct json_writer *w)
{
	json_begin_object(w);
	json_key_string(w, "say \"hi\"", "back\\slash \"quoted\"");
	json_end_object(w);
}

static void test_quotes_and_backslashes(void)
{
	CHECK_JSON("{\"say \\\"hi\\\"\":\"back\\\\slash \\\"quoted\\\"\"}", quotes);
}

static void unicode(struct json_writer *w)
{
	json_string(w, "/run/netns/caf\xc3\xa9-\xe2\x82\xac");
}

static void test_unicode_passes_through(void)
{
	CHECK_JSON("\"/run/netns/caf\xc3\xa9-\xe2\x82\xac\"", unicode);
}

static void one_element(struct json_writer *w)
{
	json_begin_object(w);
	json_key(w, "one");
	json_begin_array(w);
	json_u64(w, 7);
	json_end_array(w);
	json_key(w, "objects");
	json_begin_array(w);
	json_begin_object(w);
	json_key_u64(w, "n", 1);
	json_end_object(w);
	json_end_array(w);
	json_key(w, "none");
	json_begin_array(w);
	json_end_array(w);
	json_end_object(w);
}

static void test_array_of_one_stays_array(void)
{
	CHECK_JSON("{\"one\":[7],\"objects\":[{\"n\":1}],\"none\":[]}", one_element);
}

static void commas(struct json_writer *w)
{
	json_begin_array(w);
	json_u64(w, 1);
	json_null(w);
	json_bool(w, true);
	json_bool(w, false);
	json_begin_object(w);
	json_key_null(w, "a");
	json_key(w, "b");
	json_begin_object(w);
	json_end_object(w);
	json_key_u64(w, "c", 18446744073709551615ull);
	json_end_object(w);
	json_string(w, "");
	json_end_array(w);
}

static void test_commas(void)
{
	CHECK_JSON("[1,null,true,false,{\"a\":null,\"b\":{},\"c\":18446744073709551615},\"\"]",
		   commas);
}

static void numbers(struct json_writer *w)
{
	json_begin_array(w);
	json_fixed(w, 1.0, 3);
	json_fixed(w, 12.345, 1);
	json_fixed(w, NAN, 1);
	json_fixed(w, INFINITY, 3);
	json_end_array(w);
}

static void test_fixed_numbers(void)
{
	CHECK_JSON("[1.000,12.3,null,null]", numbers);
}

UNIT_TESTS(json_writer_tests) = {
	{ "json writer: control bytes escaped as \\u00XX", test_control_bytes },
	{ "json writer: quotes and backslashes escaped, in keys too", test_quotes_and_backslashes },
	{ "json writer: UTF-8 bytes passed through", test_unicode_passes_through },
	{ "json writer: an array of one element stays an array", test_array_of_one_stays_array },
	{ "json writer: commas between members and elements only", test_commas },
	{ "json writer: fixed decimals, null when not finite", test_fixed_numbers },
	UNIT_END,
};
