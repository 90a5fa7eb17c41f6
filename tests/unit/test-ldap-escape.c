/* Unit tests for directory/ldap-escape.c: RFC 4515 filter values (the
 * injection strings an attacker would send as an address), RFC 4514 DN
 * values, filter templates, the filter checker, and output limits. */
#include "autoconf.h"
#include "ldap-escape.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char *filter_value(const char *in, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(ldap_escape_filter_value(in, len, &b), 0);
	return b.data;
}

static char *dn_value(const char *in, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(ldap_escape_dn_value(in, len, &b), 0);
	return b.data;
}

static void check_filter(const char *in, size_t len, const char *want)
{
	char *got = filter_value(in, len);
	assert_string_equal(got, want);
	free(got);
}

static void check_dn(const char *in, size_t len, const char *want)
{
	char *got = dn_value(in, len);
	assert_string_equal(got, want);
	free(got);
}

static void test_filter_plain(void **state)
{
	check_filter("ann@example.test", 16, "ann@example.test");
	check_filter("first.last+tag@ex-ample.test", 28, "first.last+tag@ex-ample.test");
	check_filter("", 0, "");
}

static void test_filter_metacharacters(void **state)
{
	/* RFC 4515 section 3: '*', '(', ')', '\' and NUL must be escaped. */
	check_filter("*", 1, "\\2a");
	check_filter("(", 1, "\\28");
	check_filter(")", 1, "\\29");
	check_filter("\\", 1, "\\5c");
	check_filter("\0", 1, "\\00");
	check_filter("*)(uid=*", 8, "\\2a\\29\\28uid\\3d\\2a");
	check_filter("x)(|(mail=*", 11, "x\\29\\28\\7c\\28mail\\3d\\2a");
	check_filter("a\\2a", 4, "a\\5c2a");
	check_filter("ann@example.test\0*", 18, "ann@example.test\\00\\2a");
	/* Non-ASCII bytes are escaped too: no invalid UTF-8 reaches the server. */
	check_filter("j\xc3\xb8rn", 5, "j\\c3\\b8rn");
}

/* Whatever the input, the escaped value holds no filter metacharacter
 * except the backslash of an escape, and escapes are \XX. */
static void test_filter_every_byte(void **state)
{
	char in[256];
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	char *out = filter_value(in, sizeof(in));
	for (const char *p = out; *p != '\0'; p++) {
		assert_true(*p != '(' && *p != ')' && *p != '*');
		if (*p == '\\') {
			assert_non_null(strchr("0123456789abcdef", p[1]));
			assert_non_null(strchr("0123456789abcdef", p[2]));
			p += 2;
		}
	}
	free(out);
}

static void test_filter_limit(void **state)
{
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(ldap_escape_filter_value("abc", 3, &b), 0);
	/* "***" needs 9 more bytes: refused, and nothing is appended. */
	assert_int_equal(ldap_escape_filter_value("***", 3, &b), -1);
	assert_string_equal(b.data, "abc");
	assert_int_equal(b.len, 3);
	buf_free(&b);

	buf_init(&b, 2);
	assert_int_equal(ldap_escape_filter_value("*", 1, &b), -1);
	buf_free(&b);
}

static void test_dn(void **state)
{
	check_dn("Ann Smith", 9, "Ann Smith");
	check_dn("Smith, Ann", 10, "Smith\\, Ann");
	check_dn("a+b=c;d<e>f\"g\\h", 15, "a\\+b\\=c\\;d\\<e\\>f\\\"g\\\\h");
	check_dn("#hash", 5, "\\#hash");
	check_dn(" lead", 5, "\\ lead");
	check_dn("trail ", 6, "trail\\ ");
	check_dn("mid#dle", 7, "mid#dle");
	check_dn("nul\0x", 5, "nul\\00x");
	check_dn("\n", 1, "\\0a");
	check_dn(" ", 1, "\\ ");
	check_dn("", 0, "");
}

static void test_format(void **state)
{
	struct buf b;
	const char *error = NULL;
	buf_init(&b, 0);
	assert_int_equal(ldap_filter_format("(|(mail=%s)(mailAlternateAddress=%s))", "*)(uid=*", 8,
					    &b, &error), 0);
	assert_string_equal(b.data,
			    "(|(mail=\\2a\\29\\28uid\\3d\\2a)(mailAlternateAddress=\\2a\\29\\28uid\\3d\\2a))");
	assert_int_equal(ldap_filter_check(b.data, b.len, &error), 0);
	buf_reset(&b);
	assert_int_equal(ldap_filter_format("(cn=100%%)", "x", 1, &b, &error), 0);
	assert_string_equal(b.data, "(cn=100%)");
	buf_reset(&b);
	assert_int_equal(ldap_filter_format("(cn=%d)", "x", 1, &b, &error), -1);
	assert_non_null(strstr(error, "'%'"));
	buf_reset(&b);
	assert_int_equal(ldap_filter_format("(cn=%)", "x", 1, &b, &error), -1);
	buf_free(&b);

	buf_init(&b, 12);
	assert_int_equal(ldap_filter_format("(mail=%s)", "abcdefgh", 8, &b, &error), -1);
	assert_string_equal(error, "filter too long");
	buf_free(&b);
}

static void test_check(void **state)
{
	const char *error = NULL;
	const char *good[] = { "(a=b)", "(&(a=b)(|(c=d)(e=\\2a)))", "(cn=a\\29b)", "(x=*)" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(ldap_filter_check(good[i], strlen(good[i]), &error), 0);
	const char *bad[] = { "", "a=b", "(a=b", "(a=b))", "(a=b)(c=d)", "(a=\\2)", "(a=\\zz)",
			      "(a=b\\", ")(" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ldap_filter_check(bad[i], strlen(bad[i]), &error), -1);
	assert_int_equal(ldap_filter_check("(a=\0)", 5, &error), -1);
	assert_string_equal(error, "filter contains a NUL byte");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_plain),
		cmocka_unit_test(test_filter_metacharacters),
		cmocka_unit_test(test_filter_every_byte),
		cmocka_unit_test(test_filter_limit),
		cmocka_unit_test(test_dn),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
