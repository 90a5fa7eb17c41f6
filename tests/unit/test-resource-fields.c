/* Unit tests of proto/resource_fields.c: addresses, counts and bookers
 * lists as the resource commands and forms give them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "resource_fields.h"

static const char *why(const char *s)
{
	return res_address_why(s, strlen(s));
}

static void test_addresses(void **state)
{
	(void)state;
	assert_null(why("room1@example.test"));
	assert_null(why("a.b+c@x-y.example"));
	assert_null(why("O'Brien@Example.TEST"));
	assert_string_equal(why("room"), "no '@'");
	assert_string_equal(why("@example.test"), "empty local part");
	assert_string_equal(why(".a@example.test"), "misplaced '.' in the local part");
	assert_string_equal(why("a..b@example.test"), "misplaced '.' in the local part");
	assert_non_null(why("a b@example.test"));
	assert_non_null(why("a@"));
	assert_non_null(why("a@-x.test"));
	assert_non_null(why("a@x-.test"));
	assert_non_null(why("a@x..test"));
	assert_non_null(why("a@x.test."));
	assert_non_null(why("a@x_y.test"));
	char l65[80];
	memset(l65, 'a', 65);
	strcpy(l65 + 65, "@x.test");
	assert_string_equal(why(l65), "local part longer than 64 characters");
	char label[100] = "a@";
	memset(label + 2, 'b', 64);
	strcpy(label + 66, ".test");
	assert_string_equal(why(label), "bad domain label");
	/* length-bounded: what follows len is not read */
	assert_null(res_address_why("a@b.test,junk", 8));
}

static void test_counts(void **state)
{
	(void)state;
	unsigned n = 99;
	assert_true(res_parse_count("0", 10, &n) && n == 0);
	assert_true(res_parse_count("100000", 100000, &n) && n == 100000);
	assert_false(res_parse_count("100001", 100000, &n));
	assert_false(res_parse_count("", 10, &n));
	assert_false(res_parse_count("-1", 10, &n));
	assert_false(res_parse_count("+1", 10, &n));
	assert_false(res_parse_count("1 ", 10, &n));
	assert_false(res_parse_count("0x10", 100, &n));
	assert_false(res_parse_count("9999999999", 4000000000U, &n));
	assert_true(res_parse_count("000000007", 10, &n) && n == 7);
}

struct seen {
	char v[8][64];
	size_t n;
	size_t stop_at;
};

static int collect(const char *addr, size_t len, void *ctx)
{
	struct seen *s = ctx;
	if (s->n == s->stop_at)
		return 42;
	assert_true(len < 64 && s->n < 8);
	memcpy(s->v[s->n], addr, len);
	s->v[s->n++][len] = '\0';
	return 0;
}

static void test_bookers(void **state)
{
	(void)state;
	assert_true(res_bookers_everyone("everyone"));
	assert_true(res_bookers_everyone("  EveryOne  "));
	assert_false(res_bookers_everyone("everyone, ann@x.test"));
	assert_false(res_bookers_everyone(""));
	struct seen s = { .stop_at = 100 };
	assert_int_equal(res_bookers_each(" ann@x.test,bob@x.test;\n mailto:Sales@X.test\t,, ", collect,
					  &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0], "ann@x.test");
	assert_string_equal(s.v[1], "bob@x.test");
	assert_string_equal(s.v[2], "Sales@X.test");
	/* a bare "mailto:" is kept as it is (and refused as an address later) */
	memset(&s, 0, sizeof(s));
	s.stop_at = 100;
	assert_int_equal(res_bookers_each("mailto:", collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "mailto:");
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	assert_int_equal(res_bookers_each("a@x.test b@x.test", collect, &s), 42);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	s.stop_at = 100;
	assert_int_equal(res_bookers_each("", collect, &s), 0);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_bookers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
