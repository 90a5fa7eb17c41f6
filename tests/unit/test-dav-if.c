/* calendar/dav-if: the If header grammar (RFC 4918 10.4), its refusals,
 * and a trickle of every prefix of valid headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dav-if.h"

static void test_untagged(void **state)
{
	(void)state;
	struct dav_if h;
	const char *error = NULL;
	assert_int_equal(dav_if_parse("(<opaquelocktoken:a-b> [\"etag1\"]) "
				      "(Not <DAV:no-lock> [W/\"w\"])", &h, &error), 0);
	assert_int_equal(h.nlists, 2);
	assert_null(h.lists[0].tag);
	assert_int_equal(h.lists[0].nconds, 2);
	assert_false(h.lists[0].conds[0].not);
	assert_false(h.lists[0].conds[0].etag);
	assert_string_equal(h.lists[0].conds[0].value, "opaquelocktoken:a-b");
	assert_true(h.lists[0].conds[1].etag);
	assert_string_equal(h.lists[0].conds[1].value, "\"etag1\"");
	assert_true(h.lists[1].conds[0].not);
	assert_string_equal(h.lists[1].conds[0].value, "DAV:no-lock");
	assert_string_equal(h.lists[1].conds[1].value, "W/\"w\"");
	dav_if_free(&h);
}

static void test_tagged(void **state)
{
	(void)state;
	struct dav_if h;
	const char *error = NULL;
	assert_int_equal(dav_if_parse("<http://h/dav/files/a/x> (<urn:uuid:1>) (<urn:uuid:2>)"
				      "\t</dav/files/a/y>(Not[\"e\"])", &h, &error), 0);
	assert_int_equal(h.nlists, 3);
	assert_string_equal(h.lists[0].tag, "http://h/dav/files/a/x");
	assert_string_equal(h.lists[1].tag, "http://h/dav/files/a/x");
	assert_string_equal(h.lists[2].tag, "/dav/files/a/y");
	assert_true(h.lists[2].conds[0].not);
	assert_true(h.lists[2].conds[0].etag);
	dav_if_free(&h);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "   ", "()", "(<a>", "<a>", "<a> <b> (<c>)", "(<a>) <b> (<c>)", "<b> (<c>) (<d>",
		"(<>)", "(<a b>)", "([etag])", "([\"e\")", "(Nota <b>)", "(Not)", "x", "(<a>) x",
		"([\"e\"] junk)", "(<a\x01>)",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dav_if h;
		const char *error = NULL;
		assert_int_equal(dav_if_parse(bad[i], &h, &error), -1);
		assert_non_null(error);
		dav_if_free(&h);
	}
	/* past the bounds */
	char many[4096] = "";
	for (int i = 0; i < DAV_IF_MAX_LISTS + 1; i++)
		strcat(many, "(<a:b>)");
	struct dav_if h;
	const char *error = NULL;
	assert_int_equal(dav_if_parse(many, &h, &error), -1);
	dav_if_free(&h);
}

static void test_trickle(void **state)
{
	(void)state;
	/* every proper prefix of a valid header is refused or parses, never crashes */
	const char *full = "<http://h/p> (Not <urn:x> [W/\"e\"]) (<urn:y>)";
	size_t n = strlen(full);
	for (size_t i = 0; i <= n; i++) {
		char *pre = strndup(full, i);
		struct dav_if h;
		const char *error = NULL;
		int r = dav_if_parse(pre, &h, &error);
		assert_true(r == 0 || r == -1);
		if (i == n)
			assert_int_equal(r, 0);
		dav_if_free(&h);
		free(pre);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untagged),
		cmocka_unit_test(test_tagged),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_trickle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
