/* Unit tests of the If-Schedule-Tag-Match parser (calendar/sched-tag.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sched-tag.h"

static bool listed(const char *value, const char *tag)
{
	return sched_tag_listed(value, strlen(value), tag);
}

static void test_match(void **state)
{
	(void)state;
	assert_true(listed("\"s-1\"", "\"s-1\""));
	assert_true(listed("\"a\", \"s-1\"", "\"s-1\""));
	assert_true(listed("  \"a\" ,\t\"s-1\"  ", "\"s-1\""));
	assert_true(listed(",,\"s-1\",", "\"s-1\""));
	assert_false(listed("\"s-12\"", "\"s-1\""));
	assert_false(listed("\"s-\"", "\"s-1\""));
	assert_false(listed("", "\"s-1\""));
	assert_false(listed("\"S-1\"", "\"s-1\""));	/* opaque: case matters */
}

static void test_weak_and_malformed(void **state)
{
	(void)state;
	assert_false(listed("W/\"s-1\"", "\"s-1\""));
	assert_true(listed("W/\"x\", \"s-1\"", "\"s-1\""));
	/* malformed anywhere: nothing matches */
	assert_false(listed("\"s-1\", bogus", "\"s-1\""));
	assert_false(listed("s-1", "s-1"));
	assert_false(listed("\"s-1", "\"s-1\""));
	assert_false(listed("\"s-1\" \"s-2\"", "\"s-1\""));
	assert_false(listed("\"s 1\"", "\"s 1\""));	/* no spaces inside a tag */
	assert_false(listed("*", "\"s-1\""));
	/* a length, not a NUL: the value may stop in the middle of a buffer */
	assert_true(sched_tag_listed("\"s-1\"garbage", 5, "\"s-1\""));
	assert_false(sched_tag_listed("\"s-1\"", 4, "\"s-1\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_weak_and_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
