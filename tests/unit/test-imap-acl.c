/* Unit tests for proto/imap_acl.c: rights with modifiers and the obsolete
 * c and d (RFC 4314 2.1.1) in and out, and which identifiers are accepted
 * (lower-cased) or refused. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "imap_acl.h"

static char *written(unsigned bits, bool obsolete, struct buf *b)
{
	buf_reset(b);
	imap_acl_rights_write(b, bits, obsolete);
	return b->data != NULL ? b->data : "";
}

static void test_rights(void **state)
{
	(void)state;
	char mode;
	unsigned bits;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(imap_acl_rights_parse("alr", &mode, &bits), 0);
	assert_int_equal(mode, '=');
	assert_string_equal(written(bits, false, &b), "lra");
	assert_int_equal(imap_acl_rights_parse("+ww", &mode, &bits), 0);
	assert_int_equal(mode, '+');
	assert_string_equal(written(bits, false, &b), "w");
	assert_int_equal(imap_acl_rights_parse("-", &mode, &bits), 0);
	assert_int_equal(mode, '-');
	assert_int_equal(bits, 0);
	assert_int_equal(imap_acl_rights_parse("", &mode, &bits), 0);
	assert_int_equal(bits, 0);
	/* c = k x, d = e t */
	assert_int_equal(imap_acl_rights_parse("c", &mode, &bits), 0);
	assert_string_equal(written(bits, false, &b), "kx");
	assert_string_equal(written(bits, true, &b), "kxc");
	assert_int_equal(imap_acl_rights_parse("d", &mode, &bits), 0);
	assert_string_equal(written(bits, true, &b), "ted");
	assert_string_equal(written(IMAP_ACL_RIGHTS_ALL, true, &b), "lrswipkxteacd");
	assert_string_equal(written(1u << 6, true, &b), "k");	/* k alone is no c */
	for (const char *bad = "zLR0 +-*\x80"; *bad != '\0'; bad++) {
		char in[3] = { 'l', *bad, '\0' };
		assert_int_equal(imap_acl_rights_parse(in, &mode, &bits), -1);
	}
	assert_int_equal(imap_acl_rights_parse("+-l", &mode, &bits), -1);
	assert_int_equal(imap_acl_rights_bits("lrswipkxtea"), IMAP_ACL_RIGHTS_ALL);
	assert_int_equal(imap_acl_rights_bits("lz?a"), 1u | 1u << 10);
	buf_free(&b);
}

static int ident(const char *in, char *out)
{
	return imap_acl_identifier_parse(in, strlen(in), out, IMAP_ACL_IDENTIFIER_MAX + 1);
}

static void test_identifiers(void **state)
{
	(void)state;
	char out[IMAP_ACL_IDENTIFIER_MAX + 1];
	static const char *const good[][2] = {
		{ "anyone", "anyone" }, { "Authenticated", "authenticated" },
		{ "-anyone", "-anyone" }, { "Bob@Example.COM", "bob@example.com" },
		{ "-bob@example.com", "-bob@example.com" }, { "$Sales@example.com", "$sales@example.com" },
		{ "-$sales@example.com", "-$sales@example.com" }, { "a.b+c@x.y", "a.b+c@x.y" },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ident(good[i][0], out), 0);
		assert_string_equal(out, good[i][1]);
	}
	static const char *const bad[] = {
		"", "-", "$", "nobody", "owner", "@example.com", "bob@", "bob@@x", "a@b@c",
		"--bob@x.y", "-$-x@y.z", "$$x@y.z", "bob @x.y", "bob@x.y\t", "\"bob\"@x.y",
		"b\\ob@x.y", "anyone2", "$anyone",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ident(bad[i], out), -1);
	/* an embedded NUL, a length past the maximum, an output too small */
	assert_int_equal(imap_acl_identifier_parse("bob@x.y\0z", 9, out, sizeof(out)), -1);
	char longid[400];
	memset(longid, 'a', sizeof(longid));
	memcpy(longid + 300, "@example.com", 12);
	assert_int_equal(imap_acl_identifier_parse(longid, 330, out, sizeof(out)), -1);
	assert_int_equal(imap_acl_identifier_parse("bob@x.y", 7, out, 7), -1);
	assert_int_equal(imap_acl_identifier_parse("bob@x.y", 7, out, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rights),
		cmocka_unit_test(test_identifiers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
