/* Unit tests for server/scan/dnsbl-query.c: DNSBL query names (RFC 5782),
 * answers that count, and the [dnsbl] lists option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dnsbl-query.h"

static void test_ip_query(void **state)
{
	(void)state;
	char q[512];
	assert_int_equal(dnsbl_ip_query("192.0.2.99", "bl.example", q, sizeof(q)), 0);
	assert_string_equal(q, "99.2.0.192.bl.example");
	/* RFC 5782 2.4: the nibbles of 2001:db8:1:2:3:4:567:89ab reversed */
	assert_int_equal(dnsbl_ip_query("2001:db8:1:2:3:4:567:89ab", "bl.example", q, sizeof(q)), 0);
	assert_string_equal(q, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");
	assert_int_equal(dnsbl_ip_query("::ffff:10.1.2.3", "z", q, sizeof(q)), 0);
	assert_string_equal(q, "3.2.1.10.z");
	assert_int_equal(dnsbl_ip_query("not-an-ip", "z", q, sizeof(q)), -1);
	assert_int_equal(dnsbl_ip_query("1.2.3.4", "z", q, 8), -1);
	assert_int_equal(dnsbl_domain_query("spam.example", "uribl.test", q, sizeof(q)), 0);
	assert_string_equal(q, "spam.example.uribl.test");
}

static void test_lists(void **state)
{
	(void)state;
	struct dnsbl_list l[DNSBL_MAX_LISTS];
	const char *error;
	int n = dnsbl_parse_lists(" zen.Spamhaus.org.=3.5, list.dnswl.org=-2 ,bl.test/127.0.0.4=1", "DNSBL",
				  l, DNSBL_MAX_LISTS, &error);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].zone, "zen.spamhaus.org");
	assert_true(l[0].weight == 3.5);
	assert_string_equal(l[0].test, "DNSBL_ZEN_SPAMHAUS_ORG");
	assert_true(l[1].weight == -2);
	assert_true(l[2].has_code);
	assert_string_equal(l[2].zone, "bl.test");
	unsigned char a2[4] = { 127, 0, 0, 2 }, a4[4] = { 127, 0, 0, 4 }, a1[4] = { 127, 0, 0, 1 },
		      other[4] = { 10, 0, 0, 2 }, err[4] = { 127, 255, 255, 254 };
	assert_true(dnsbl_answer_counts(&l[0], a2));
	assert_false(dnsbl_answer_counts(&l[0], a1));
	assert_false(dnsbl_answer_counts(&l[0], other));
	assert_false(dnsbl_answer_counts(&l[0], err));
	assert_false(dnsbl_answer_counts(&l[2], a2));
	assert_true(dnsbl_answer_counts(&l[2], a4));
	assert_int_equal(dnsbl_parse_lists("", "DNSBL", l, DNSBL_MAX_LISTS, &error), 0);
	assert_int_equal(dnsbl_parse_lists("zone", "DNSBL", l, DNSBL_MAX_LISTS, &error), -1);
	assert_int_equal(dnsbl_parse_lists("zone=x", "DNSBL", l, DNSBL_MAX_LISTS, &error), -1);
	assert_int_equal(dnsbl_parse_lists("zo ne=1", "DNSBL", l, DNSBL_MAX_LISTS, &error), -1);
	assert_int_equal(dnsbl_parse_lists("z/1.2.3=1", "DNSBL", l, DNSBL_MAX_LISTS, &error), -1);
	assert_int_equal(dnsbl_parse_lists("=1", "DNSBL", l, DNSBL_MAX_LISTS, &error), -1);
	assert_int_equal(dnsbl_parse_lists("a=1,b=2,c=3", "URIBL", l, 2, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_query),
		cmocka_unit_test(test_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
